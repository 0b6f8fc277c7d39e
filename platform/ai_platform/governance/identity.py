"""The gateway's signed identity: how a service process knows a call came through it.

In the split shape the gateway authenticates the API key and applies the request
limit, then forwards the call with a short-lived identity header a service verifies
instead of the key::

    X-Platform-Identity: <base64url(JSON payload)>.<base64url(HMAC-SHA256(payload))>

The payload carries what a service needs to govern the call (the client, its key, its
scopes and limits), the gateway's request id (which keys the ledger row) and an
expiry a few tens of seconds out. ``nested`` marks a call one service makes to
another on behalf of a request that is already being ledgered by the caller: the
callee settles budgets for its own LLM calls but writes no ledger row of its own.

The secret is ``SERVICE_IDENTITY_SECRET``, the same in the gateway and every service.
Each identity carries a random nonce, so no two signatures are alike: a service
accepts each signature once (``governance.replay``), and a header read off the wire
is refused when it comes again.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

import orjson

from ai_platform.core.errors import UnauthorizedError
from ai_platform.governance.auth import ClientInfo

IDENTITY_HEADER = "X-Platform-Identity"
IDENTITY_HEADER_RAW = IDENTITY_HEADER.lower().encode()
DEFAULT_TTL_S = 45.0
MAX_HEADER_BYTES = 4096
"""Longer than any identity we sign: refused before decoding."""


@dataclass(frozen=True, slots=True)
class Identity:
    """A verified identity: the caller and the request it belongs to."""

    client: ClientInfo
    request_id: str
    expires_at: float
    correlation_id: str | None = None
    nested: bool = False
    signature: str = ""
    """The header's signature part: unique to this identity (see ``governance.replay``)."""


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _unb64(data: bytes) -> bytes:
    return base64.urlsafe_b64decode(data + b"=" * (-len(data) % 4))


class IdentitySigner:
    """Signs and verifies identities with one shared secret."""

    def __init__(self, secret: str, *, ttl_s: float = DEFAULT_TTL_S) -> None:
        if not secret:
            raise ValueError("the identity secret must not be empty")
        self._key = secret.encode()
        self.ttl_s = ttl_s

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()

    def sign(
        self,
        client: ClientInfo,
        request_id: str,
        *,
        correlation_id: str | None = None,
        nested: bool = False,
        now: float | None = None,
    ) -> str:
        expires_at = (time.time() if now is None else now) + self.ttl_s
        body: dict[str, object] = {
            "c": client.id,
            "n": client.name,
            "k": client.key_id,
            "s": sorted(client.scopes),
            "l": [client.rpm_limit, client.tpd_limit, client.monthly_budget_usd],
            "r": request_id,
            "e": round(expires_at, 3),
            "u": secrets.token_urlsafe(9),  # the nonce: no two signatures alike
        }
        if correlation_id is not None:
            body["x"] = correlation_id
        if nested:
            body["z"] = 1
        payload = _b64(orjson.dumps(body))
        return (payload + b"." + _b64(self._mac(payload))).decode("ascii")

    def verify(self, header: str | bytes | None, *, now: float | None = None) -> Identity:
        """The identity in ``header``; ``UnauthorizedError`` when missing, forged or expired."""
        if not header:
            raise UnauthorizedError(
                "this service answers only calls forwarded by the gateway "
                f"(missing {IDENTITY_HEADER})"
            )
        raw = header.encode("latin-1") if isinstance(header, str) else header
        if len(raw) > MAX_HEADER_BYTES or raw.count(b".") != 1:
            raise UnauthorizedError("invalid gateway identity")
        payload, _, signature = raw.partition(b".")
        try:
            given = _unb64(signature)
        except ValueError as exc:
            raise UnauthorizedError("invalid gateway identity") from exc
        if not hmac.compare_digest(given, self._mac(payload)):
            raise UnauthorizedError("invalid gateway identity")
        try:
            body = orjson.loads(_unb64(payload))
            rpm, tpd, budget = body["l"]
            identity = Identity(
                client=ClientInfo(
                    id=str(body["c"]),
                    name=str(body["n"]),
                    key_id=str(body["k"]),
                    scopes=frozenset(str(s) for s in body["s"]),
                    rpm_limit=int(rpm),
                    tpd_limit=int(tpd),
                    monthly_budget_usd=float(budget),
                ),
                request_id=str(body["r"]),
                expires_at=float(body["e"]),
                correlation_id=None if body.get("x") is None else str(body["x"]),
                nested=bool(body.get("z")),
                signature=signature.decode("ascii"),
            )
        except (ValueError, KeyError, TypeError) as exc:
            # Signed by someone holding the secret, yet malformed: still refused.
            raise UnauthorizedError("invalid gateway identity") from exc
        if identity.expires_at <= (time.time() if now is None else now):
            raise UnauthorizedError("gateway identity expired")
        return identity
