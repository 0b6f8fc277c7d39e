"""Request and resource identifiers, and the shapes an incoming id must have.

Resource ids are ``<prefix>_<32 hex>`` (``doc_…``, ``cli_…``). An id that arrives in
a path, a query or a body is checked for shape before it reaches a query: a known
prefix, then at most 40 characters in all (the width of the id columns) of ASCII
letters, digits, ``_`` and ``-``. A value of another shape (``%00``, a stray prefix,
a thousand characters) is a 422 envelope; a well-shaped id that names nothing is the
route's 404.
"""

from __future__ import annotations

import re
import secrets
import uuid
from typing import Annotated

from pydantic import StringConstraints

# Incoming X-Request-ID values are echoed into logs and headers, so only ids of a
# safe shape are trusted: 8-64 characters of letters, digits, '-', '_' and '.'.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{7,63}$")

MAX_ID_CHARS = 40
"""Width of every ``<prefix>_…`` id column."""


def new_request_id() -> str:
    return "req_" + secrets.token_hex(12)


def is_valid_request_id(value: str) -> bool:
    return bool(_REQUEST_ID.match(value))


def new_id(prefix: str) -> str:
    """A sortable-enough random id with a readable prefix (``doc_…``, ``cli_…``)."""
    return f"{prefix}_{uuid.uuid4().hex}"


def id_pattern(prefix: str) -> str:
    """The regular expression an incoming ``<prefix>_…`` id must match."""
    return rf"^{re.escape(prefix)}_[A-Za-z0-9_-]+$"


def _shape(prefix: str) -> StringConstraints:
    return StringConstraints(max_length=MAX_ID_CHARS, pattern=id_pattern(prefix))


ClientIdStr = Annotated[str, _shape("cli")]
KeyIdStr = Annotated[str, _shape("key")]
DocumentIdStr = Annotated[str, _shape("doc")]
ConversationIdStr = Annotated[str, _shape("conv")]
TicketIdStr = Annotated[str, _shape("tkt")]
ResearchIdStr = Annotated[str, _shape("rsch")]

RequestIdStr = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
]
"""A request id or correlation id as the ledger stores it (server-made ``req_…``)."""
