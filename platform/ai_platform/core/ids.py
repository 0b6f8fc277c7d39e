"""Request and resource identifiers."""

from __future__ import annotations

import re
import secrets
import uuid

# Incoming X-Request-ID values are echoed into logs and headers, so only ids of a
# safe shape are trusted: 8-64 characters of letters, digits, '-', '_' and '.'.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{7,63}$")


def new_request_id() -> str:
    return "req_" + secrets.token_hex(12)


def is_valid_request_id(value: str) -> bool:
    return bool(_REQUEST_ID.match(value))


def new_id(prefix: str) -> str:
    """A sortable-enough random id with a readable prefix (``doc_…``, ``cli_…``)."""
    return f"{prefix}_{uuid.uuid4().hex}"
