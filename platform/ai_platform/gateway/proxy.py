"""The gateway's service proxy: ``/api/v1/<service>/…`` forwarded to a service process.

A raw ASGI app mounted at the service's prefix, inside the gateway's middleware (request
id, timing, metrics, body-size limit). For each call it

- authenticates the API key and counts the request against the client's per-minute
  limit (a refusal is ledgered here, since the service never sees it);
- forwards the request with a short-lived signed identity instead of the key, the
  gateway's request id and a W3C ``traceparent``, hop-by-hop headers dropped, the
  body streamed up as it arrives;
- streams the response down chunk by chunk as the service writes it (an SSE stream
  passes through event by event), with the gateway's rate-limit headers.

The service settles budgets and writes the request's one ledger row, keyed by the
gateway's request id; the gateway writes none for a forwarded call. A service that
does not answer is a 503 envelope for that service only (504 when it is too slow).

One ``UpstreamPool`` per service (``gateway.upstream``): keep-alive connections, one
write per request and the response streamed as it arrives, with a fraction of a
general client's cost per request.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ai_platform.config import ServiceEndpoint, ServiceName
from ai_platform.core.errors import AIServiceError, ServiceUnavailableError, UpstreamTimeoutError
from ai_platform.core.logging import client_id_var, service_var
from ai_platform.gateway.errors import error_response
from ai_platform.gateway.upstream import (
    UpstreamConnectError,
    UpstreamError,
    UpstreamPool,
    UpstreamReadTimeout,
)
from ai_platform.governance.headers import limit_headers
from ai_platform.governance.identity import IDENTITY_HEADER, IDENTITY_HEADER_RAW, IdentitySigner

if TYPE_CHECKING:
    from ai_platform.gateway.state import PlatformState

logger = logging.getLogger("ai_platform.proxy")

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)
# Made again by the gateway for its own answer (its middleware adds them).
_RESPONSE_DROP = HOP_BY_HOP | {
    "date",
    "server",
    "x-request-id",
    "x-correlation-id",
    "x-processing-time-ms",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
}
_RESPONSE_DROP_RAW = frozenset(h.encode() for h in _RESPONSE_DROP)
READY_TIMEOUT_S = 2.0


def traceparent(incoming: str | None) -> str:
    """The caller's W3C ``traceparent`` when well formed, else a new trace."""
    if incoming is not None:
        parts = incoming.strip().split("-")
        if len(parts) == 4 and [len(p) for p in parts] == [2, 32, 16, 2]:
            try:
                int("".join(parts), 16)
            except ValueError:
                pass
            else:
                return incoming.strip().lower()
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"


class ServiceProxy:
    """Forwards to the services configured with a URL; one per gateway process."""

    def __init__(
        self,
        endpoints: Mapping[ServiceName, ServiceEndpoint],
        signer: IdentitySigner,
        *,
        api_key_header: str,
    ) -> None:
        self.upstreams: dict[str, UpstreamPool] = {
            name: UpstreamPool(
                str(endpoint.url),
                connect_timeout_s=endpoint.connect_timeout_s,
                read_timeout_s=endpoint.timeout_s,
            )
            for name, endpoint in endpoints.items()
            if endpoint.url
        }
        self.signer = signer
        self._api_key_header = api_key_header.lower().encode()
        self._drop_request = frozenset(
            h.encode()
            for h in HOP_BY_HOP
            | {
                "host",
                "content-length",
                # The gateway has the whole body or streams it: the service has nothing
                # to wait for, and its "100 Continue" would only be skipped.
                "expect",
                api_key_header.lower(),
                IDENTITY_HEADER.lower(),
                "x-request-id",
                "traceparent",
                "x-forwarded-for",
            }
        )

    async def aclose(self) -> None:
        for pool in self.upstreams.values():
            await pool.aclose()

    def mounts(self) -> list[Mount]:
        """One mount per proxied service, at its ``/api/v1/<service>`` prefix."""
        return [
            Mount(f"/api/v1/{name}", app=ProxyApp(self, name), name=f"proxy_{name}")
            for name in self.upstreams
        ]

    def readiness(self, name: str) -> ReadyCheck:
        return ReadyCheck(self, name)

    async def ready(self, name: str) -> None:
        async with asyncio.timeout(READY_TIMEOUT_S):
            resp = await self.upstreams[name].request("GET", b"/health/ready", [], b"")
            try:
                async for _ in resp.chunks():
                    pass
            finally:
                resp.release()
        if resp.status != 200:
            raise RuntimeError(f"{name} service is not ready ({resp.status})")

    async def forward(
        self, name: str, platform: PlatformState, scope: Scope, receive: Receive, send: Send
    ) -> None:
        upstream = self.upstreams[name]
        state = scope.setdefault("state", {})
        state["service"] = name
        service_var.set(name)
        key: str | None = None
        incoming_trace: str | None = None
        prior_forwarded: bytes | None = None
        headers: list[tuple[bytes, bytes]] = []
        drop = self._drop_request
        for raw_name, value in scope["headers"]:
            lowered = raw_name.lower()
            if lowered == self._api_key_header:
                key = value.decode("latin-1")
            elif lowered == b"traceparent":
                incoming_trace = value.decode("latin-1")
            elif lowered == b"x-forwarded-for":
                prior_forwarded = value
            if lowered not in drop:
                headers.append((lowered, value))
        client = await platform.auth.authenticate(key)
        state["client_id"] = client.id
        state["client"] = client
        client_id_var.set(client.id)
        request_id = str(state.get("request_id", "unknown"))
        route = f"/api/v1/{name}"
        # Counts the request against the per-minute limit; a refusal is ledgered and
        # raised here (429 envelope), and the service never sees it.
        ctx = await platform.governor.begin(
            client, name, route, request_id, state.get("correlation_id")
        )
        if ctx.span is not None:
            platform.governor.tracing.end_request(
                ctx.span,
                status_code=0,
                outcome="forwarded",
                tokens_in=0,
                tokens_out=0,
                cost_usd=0.0,
            )
            ctx.span = None

        identity = self.signer.sign(client, request_id, correlation_id=state.get("correlation_id"))
        headers += (
            (IDENTITY_HEADER_RAW, identity.encode("latin-1")),
            (b"x-request-id", request_id.encode("latin-1")),
            (b"traceparent", traceparent(incoming_trace).encode("latin-1")),
        )
        peer = scope.get("client")
        if peer:
            address = str(peer[0]).encode("latin-1")
            forwarded = prior_forwarded + b", " + address if prior_forwarded else address
            headers.append((b"x-forwarded-for", forwarded))

        target: bytes = scope.get("raw_path") or scope["path"].encode()
        if scope.get("query_string"):
            target += b"?" + scope["query_string"]

        first = await receive()
        body: bytes | AsyncIterator[bytes]
        if first.get("more_body"):
            body = _stream_body(first.get("body", b""), receive)
        else:
            body = first.get("body", b"")

        limit_extra: list[tuple[bytes, bytes]] = []
        if ctx.requests_limit is not None:
            limit_extra = [
                (k.lower().encode(), v.encode()) for k, v in limit_headers(ctx.requests_limit)
            ]

        try:
            resp = await upstream.request(scope["method"], target, headers, body)
        except UpstreamConnectError as exc:
            logger.warning("%s service unreachable: %s", name, exc)
            raise ServiceUnavailableError(
                f"the {name} service is unavailable; retry shortly",
                headers={"Retry-After": "1"},
            ) from exc
        except UpstreamReadTimeout as exc:
            logger.warning("%s service timed out", name)
            raise UpstreamTimeoutError(f"the {name} service did not answer in time") from exc
        except UpstreamError as exc:
            logger.warning("%s service failed: %s", name, exc)
            raise ServiceUnavailableError(
                f"the {name} service is unavailable; retry shortly",
                headers={"Retry-After": "1"},
            ) from exc
        try:
            out_headers = [
                (k, v) for k, v in resp.headers if k.lower() not in _RESPONSE_DROP_RAW
            ]
            await send(
                {
                    "type": "http.response.start",
                    "status": resp.status,
                    "headers": [*out_headers, *limit_extra],
                }
            )
            async for chunk in resp.chunks():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            resp.release()


async def _stream_body(first: bytes, receive: Receive) -> AsyncIterator[bytes]:
    if first:
        yield first
    while True:
        message: Message = await receive()
        if message["type"] == "http.disconnect":
            raise asyncio.CancelledError("client disconnected while sending its body")
        chunk = message.get("body", b"")
        if chunk:
            yield chunk
        if not message.get("more_body"):
            return


class ProxyApp:
    """The ASGI app mounted for one proxied service."""

    def __init__(self, proxy: ServiceProxy, name: str) -> None:
        self.proxy = proxy
        self.name = name
        self.route_path = f"/api/v1/{name}/{{path}}"

    @property
    def path(self) -> str:
        # Read by the metrics and access log as the route's template.
        return self.route_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["route"] = self
        platform: PlatformState = scope["app"].state.platform
        await self.proxy.forward(self.name, platform, scope, receive, send)


@dataclass(frozen=True, slots=True)
class ReadyCheck:
    proxy: ServiceProxy
    name: str

    async def __call__(self) -> None:
        await self.proxy.ready(self.name)


class ProxyFastPath:
    """Forwards a proxied service's requests before FastAPI's router.

    The mounts stay on the router (what lists them as routes), but a request under a
    proxied prefix is forwarded here, inside the platform's own middleware and before
    FastAPI's routing and exception layers: the hop is what the split shape adds, so
    it should cost no more than it must (``benchmarks/proxy_hop.py``). An error before
    the response starts is the usual envelope; after it, the connection is cut.
    """

    def __init__(self, app: ASGIApp, proxy: ServiceProxy) -> None:
        self.app = app
        self.prefixes = [(f"/api/v1/{name}", ProxyApp(proxy, name)) for name in proxy.upstreams]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            for prefix, target in self.prefixes:
                if path.startswith(prefix) and path[len(prefix) : len(prefix) + 1] in ("", "/"):
                    await self._forward(target, scope, receive, send)
                    return
        await self.app(scope, receive, send)

    @staticmethod
    async def _forward(target: ProxyApp, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            await target(scope, receive, tracked)
        except AIServiceError as exc:
            if started:
                raise
            response = error_response(
                Request(scope), exc.status_code, exc.error_code, exc.message, exc.details,
                exc.headers,
            )  # fmt: skip
            await response(scope, receive, send)
