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

One ``aiohttp.ClientSession`` per process: pooled keep-alive connections to every
service (httpx's client slows down as concurrency rises; see docs/architecture.md).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import aiohttp
from multidict import CIMultiDict
from starlette.requests import Request
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ai_platform.config import ServiceEndpoint, ServiceName
from ai_platform.core.errors import AIServiceError, ServiceUnavailableError, UpstreamTimeoutError
from ai_platform.core.logging import client_id_var, service_var
from ai_platform.gateway.errors import error_response
from ai_platform.governance.headers import limit_headers
from ai_platform.governance.identity import IDENTITY_HEADER, IdentitySigner

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


@dataclass(frozen=True, slots=True)
class Upstream:
    name: str
    url: str
    timeout: aiohttp.ClientTimeout


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
        self.upstreams: dict[str, Upstream] = {
            name: Upstream(
                name,
                str(endpoint.url),
                aiohttp.ClientTimeout(
                    total=None, connect=endpoint.connect_timeout_s, sock_read=endpoint.timeout_s
                ),
            )
            for name, endpoint in endpoints.items()
            if endpoint.url
        }
        self.signer = signer
        self._drop_request = HOP_BY_HOP | {
            "host",
            api_key_header.lower(),
            IDENTITY_HEADER.lower(),
            "x-request-id",
            "traceparent",
        }
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=30, ttl_dns_cache=60)
            # Bytes pass through untouched: no decompression, no added Accept-Encoding.
            self._session = aiohttp.ClientSession(
                connector=connector, auto_decompress=False, skip_auto_headers=("User-Agent",)
            )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("the service proxy is not started")
        return self._session

    def mounts(self) -> list[Mount]:
        """One mount per proxied service, at its ``/api/v1/<service>`` prefix."""
        return [
            Mount(f"/api/v1/{name}", app=ProxyApp(self, name), name=f"proxy_{name}")
            for name in self.upstreams
        ]

    def readiness(self, name: str) -> ReadyCheck:
        return ReadyCheck(self, name)

    async def ready(self, name: str) -> None:
        upstream = self.upstreams[name]
        timeout = aiohttp.ClientTimeout(total=READY_TIMEOUT_S)
        async with self.session.get(upstream.url + "/health/ready", timeout=timeout) as resp:
            await resp.read()
            if resp.status != 200:
                raise RuntimeError(f"{name} service is not ready ({resp.status})")

    async def forward(
        self, name: str, platform: PlatformState, scope: Scope, receive: Receive, send: Send
    ) -> None:
        upstream = self.upstreams[name]
        state = scope.setdefault("state", {})
        state["service"] = name
        service_var.set(name)
        incoming = CIMultiDict(
            (k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]
        )
        client = await platform.auth.authenticate(incoming.get(platform.settings.api_key_header))
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

        headers = CIMultiDict(
            (k, v) for k, v in incoming.items() if k.lower() not in self._drop_request
        )
        headers[IDENTITY_HEADER] = self.signer.sign(
            client, request_id, correlation_id=state.get("correlation_id")
        )
        headers["X-Request-ID"] = request_id
        headers["traceparent"] = traceparent(incoming.get("traceparent"))
        forwarded_for = scope.get("client")
        if forwarded_for:
            prior = incoming.get("x-forwarded-for")
            headers["X-Forwarded-For"] = (
                f"{prior}, {forwarded_for[0]}" if prior else str(forwarded_for[0])
            )

        path = scope.get("raw_path") or scope["path"].encode()
        url = upstream.url + path.decode("latin-1")
        if scope.get("query_string"):
            url += "?" + scope["query_string"].decode("latin-1")

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

        started = False
        try:
            async with self.session.request(
                scope["method"],
                url,
                headers=headers,
                data=body,
                allow_redirects=False,
                timeout=upstream.timeout,
            ) as resp:
                out_headers = [
                    (k.lower(), v)
                    for k, v in resp.raw_headers
                    if k.lower() not in _RESPONSE_DROP_RAW
                ]
                await send(
                    {
                        "type": "http.response.start",
                        "status": resp.status,
                        "headers": [*out_headers, *limit_extra],
                    }
                )
                started = True
                async for chunk in resp.content.iter_any():
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        except aiohttp.ConnectionTimeoutError as exc:
            # No connection within the connect timeout: as down as a refused one.
            logger.warning("%s service unreachable: connect timed out", name)
            raise ServiceUnavailableError(
                f"the {name} service is unavailable; retry shortly",
                headers={"Retry-After": "1"},
            ) from exc
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            if started:
                raise
            logger.warning("%s service timed out", name)
            raise UpstreamTimeoutError(f"the {name} service did not answer in time") from exc
        except aiohttp.ClientError as exc:
            if started:
                raise
            logger.warning("%s service unreachable: %s", name, exc)
            raise ServiceUnavailableError(
                f"the {name} service is unavailable; retry shortly",
                headers={"Retry-After": "1"},
            ) from exc


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
