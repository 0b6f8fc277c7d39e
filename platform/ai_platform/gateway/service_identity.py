"""Pure-ASGI guard of a service process: only calls forwarded by the gateway get in.

Every ``/api/`` call must carry a valid signed identity (``governance.identity``); a
call without one, with a forged or expired one, or with one already used
(``governance.replay``) is a 401 envelope before any route runs (a 503 when the store
of used identities cannot be reached). A verified call takes the gateway's request
id, so the envelope, the logs and the ledger row carry the id the client was given;
the dependencies read the caller from ``scope["state"]["identity"]`` instead of
looking up an API key. Health and metrics stay open for probes and scrapers.
"""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Receive, Scope, Send

from ai_platform.core.errors import ServiceUnavailableError, UnauthorizedError
from ai_platform.core.logging import request_id_var
from ai_platform.gateway.middleware import send_error
from ai_platform.governance.identity import IDENTITY_HEADER_RAW, IdentitySigner
from ai_platform.governance.replay import SeenIdentities

logger = logging.getLogger(__name__)

GUARDED_PREFIX = "/api/"


class GatewayIdentityMiddleware:
    def __init__(self, app: ASGIApp, *, signer: IdentitySigner, seen: SeenIdentities) -> None:
        self.app = app
        self.signer = signer
        self.seen = seen

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(GUARDED_PREFIX):
            await self.app(scope, receive, send)
            return
        header = None
        for name, value in scope["headers"]:
            if name == IDENTITY_HEADER_RAW:
                header = value
                break
        try:
            identity = self.signer.verify(header)
        except UnauthorizedError as exc:
            await send_error(send, scope, 401, exc.error_code, exc.message)
            return
        try:
            first = await self.seen.first_use(identity.signature, identity.expires_at)
        except Exception:
            logger.exception("the store of used gateway identities is unreachable")
            code = ServiceUnavailableError.error_code
            await send_error(send, scope, 503, code, "cannot check the gateway identity now")
            return
        if not first:
            code = UnauthorizedError.error_code
            await send_error(send, scope, 401, code, "gateway identity already used")
            return
        state = scope.setdefault("state", {})
        state["request_id"] = identity.request_id
        state["correlation_id"] = identity.correlation_id
        state["identity"] = identity
        token = request_id_var.set(identity.request_id)
        try:
            await self.app(scope, receive, send)
        finally:
            request_id_var.reset(token)
