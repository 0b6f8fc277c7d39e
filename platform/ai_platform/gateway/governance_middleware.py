"""Pure-ASGI governance piece: rate-limit headers on every governed response, the
response's real status in the ledger, and a last-chance ``finish()``.

It sits inside ``RequestContextMiddleware`` and reads the request's governed context
(``scope["state"]["governed"]``, put there by the ``governed`` dependency):

- on ``http.response.start`` it adds the ``X-RateLimit-*`` headers (unless an error
  response already carries them), records the status the client gets, and
  checkpoints the request's usage in the ledger's log before the first byte leaves;
- when the app returns, a context that was never finished is finished here. That is
  the streamed response whose body never ran or was torn down after the client left
  (its generator is closed later, by the garbage collector, if at all): it is
  ledgered as ``client_disconnected`` and its reservations are released.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ai_platform.governance.context import RequestContext
from ai_platform.governance.headers import context_headers


class GovernanceMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        completed = False

        async def send_wrapper(message: Message) -> None:
            nonlocal completed
            if message["type"] == "http.response.start":
                ctx = state.get("governed")
                if isinstance(ctx, RequestContext):
                    if ctx.outcome == "ok":
                        ctx.status_code = message["status"]
                    # The client is about to get an answer: its usage so far is logged
                    # first, so a crash from here on cannot lose it.
                    ctx.governor.checkpoint(ctx)
                    extra = context_headers(ctx)
                    if extra:
                        present = {name for name, _ in message.get("headers", ())}
                        message["headers"] = [
                            *message.get("headers", ()),
                            *(h for h in extra if h[0] not in present),
                        ]
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                completed = True
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            ctx = state.get("governed")
            if isinstance(ctx, RequestContext) and not ctx.finished:
                if not completed and ctx.outcome == "ok":
                    ctx.disconnected()
                await ctx.finish()
