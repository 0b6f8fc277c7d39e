"""API keys: random, shown once, stored as an HMAC-SHA256 hash with a lookup prefix.

A key looks like ``aip_<prefix>_<secret>``. The prefix (public, unique) finds the
row; the HMAC of the whole key under the server's ``SECRET_KEY`` is compared in
constant time, so a stolen database alone cannot be used to forge or recover keys.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

KEY_PREFIX = "aip"
ADMIN_SCOPE = "admin"
DEFAULT_SCOPES = ("services",)


@dataclass(frozen=True, slots=True)
class NewKey:
    plaintext: str
    prefix: str
    key_hash: str


def hash_key(secret_key: str, plaintext: str) -> str:
    return hmac.new(secret_key.encode(), plaintext.encode(), hashlib.sha256).hexdigest()


def generate_key(secret_key: str) -> NewKey:
    prefix = secrets.token_hex(6)
    plaintext = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    return NewKey(plaintext=plaintext, prefix=prefix, key_hash=hash_key(secret_key, plaintext))


def parse_prefix(plaintext: str) -> str | None:
    """The lookup prefix of a well-formed key, or None."""
    parts = plaintext.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or len(parts[1]) != 12 or len(parts[2]) < 20:
        return None
    return parts[1]


def verify_key(secret_key: str, plaintext: str, key_hash: str) -> bool:
    return hmac.compare_digest(hash_key(secret_key, plaintext), key_hash)
