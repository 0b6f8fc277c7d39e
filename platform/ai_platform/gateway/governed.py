"""``governed(service)``: the dependency that puts a route under governance.

    KnowledgeCtx = Annotated[RequestContext, Depends(governed("knowledge"))]

    @router.post("/search")
    async def search(body: SearchRequest, ctx: KnowledgeCtx) -> APIResponse[...]:
        await ctx.screen(body.query)
        ...

It authenticates the key, opens the request's governance context (rate limit), yields
it to the route and, when the route ends, settles usage and writes the ledger row.
A streamed route calls ``ctx.defer_finish()`` and finishes the context itself when
its stream ends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import Request

from ai_platform.core.logging import service_var
from ai_platform.gateway.deps import ClientDep, PlatformDep
from ai_platform.gateway.middleware import route_of
from ai_platform.gateway.responses import request_usage
from ai_platform.governance.context import RequestContext
from ai_platform.governance.governor import LEDGERED_BY_CALLER
from ai_platform.governance.identity import Identity


def governed(service: str) -> Callable[..., Any]:
    async def dependency(
        request: Request, client: ClientDep, platform: PlatformDep
    ) -> AsyncIterator[RequestContext]:
        state = request.scope.setdefault("state", {})
        state["service"] = service
        service_var.set(service)
        ctx = await platform.governor.begin(
            client,
            service,
            route_of(request.scope),
            state.get("request_id", "unknown"),
            state.get("correlation_id"),
        )
        ctx.usage = request_usage(request)
        identity = state.get("identity")
        if isinstance(identity, Identity) and identity.nested:
            # Another service's call for a request it ledgers itself.
            ctx.extra[LEDGERED_BY_CALLER] = True
        state["governed"] = ctx
        try:
            yield ctx
        except BaseException as exc:
            ctx.fail(exc)
            if not ctx.deferred:
                await ctx.finish()
            raise
        if not ctx.deferred:
            await ctx.finish()

    dependency.__name__ = f"governed_{service}"
    return dependency
