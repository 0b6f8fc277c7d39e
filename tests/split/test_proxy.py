"""The gateway's proxy against a stand-in service: what it forwards, what it drops, what
the client gets back, and a slow service's 504."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import orjson
import pytest
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ai_platform.config import ServiceEndpoint, Settings
from ai_platform.gateway.app import create_app
from ai_platform.gateway.proxy import traceparent
from ai_platform.governance.identity import IDENTITY_HEADER, IdentitySigner
from ai_platform.harness.serving import serve_in_background
from tests.support import make_tenant, running_app

SECRET = "proxy-test-secret-" + "x" * 20
TRACE = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


async def echo(request: Request) -> Response:
    body = await request.body()
    seen = {k.lower(): v for k, v in request.headers.items()}
    return JSONResponse(
        {"headers": seen, "body": body.decode(), "query": request.url.query},
        status_code=418,
        headers={"X-RateLimit-Limit": "1", "X-Upstream": "yes", "Keep-Alive": "timeout=5"},
    )


async def slow(request: Request) -> Response:
    await asyncio.sleep(5)
    return Response(b"late")


UPSTREAM = Starlette(
    routes=[
        Route("/api/v1/knowledge/echo/{rest:path}", echo, methods=["POST"]),
        Route("/api/v1/knowledge/slow", slow),
    ]
)


@pytest.fixture
async def upstream() -> AsyncIterator[str]:
    async with serve_in_background(UPSTREAM, lifespan="off") as url:
        yield url


def _gateway(settings: Settings, url: str) -> Settings:
    services = settings.services.model_copy(
        update={"knowledge": ServiceEndpoint(url=url, timeout_s=0.5)}
    )
    return settings.model_copy(
        update={"services": services, "service_identity_secret": SecretStr(SECRET)}
    )


async def test_the_proxy_forwards_identity_not_key_and_relays_the_answer(
    sqlite_settings: Settings, upstream: str
) -> None:
    settings = _gateway(sqlite_settings, upstream)
    tenant = await make_tenant(settings, rpm=77)
    async with running_app(create_app(settings)) as http:
        reply = await http.post(
            "/api/v1/knowledge/echo/a%20b?x=1&y=two",
            content=b'{"hello": "world"}',
            headers={
                **tenant.headers,
                "Content-Type": "application/json",
                "traceparent": TRACE,
                "X-Request-ID": "caller-corr-1",
                "Connection": "keep-alive",
                IDENTITY_HEADER: "forged-by-the-client",
            },
        )
    assert reply.status_code == 418  # the service's status, as it was
    seen = orjson.loads(reply.content)
    forwarded = seen["headers"]
    assert seen["body"] == '{"hello": "world"}' and seen["query"] == "x=1&y=two"
    assert tenant.header.lower() not in forwarded  # the key stays in the gateway
    assert forwarded["traceparent"] == TRACE
    assert forwarded["content-type"] == "application/json"
    # The identity is the gateway's own, for this request and this caller.
    identity = IdentitySigner(SECRET).verify(forwarded[IDENTITY_HEADER.lower()])
    assert identity.client.id == tenant.client_id and identity.client.rpm_limit == 77
    assert identity.request_id == reply.headers["x-request-id"]
    assert forwarded["x-request-id"] == identity.request_id
    assert identity.correlation_id == "caller-corr-1"
    # Back to the client: the service's own headers, the gateway's limit headers.
    assert reply.headers["x-upstream"] == "yes"
    assert reply.headers["x-ratelimit-limit"] == "77"
    assert "keep-alive" not in reply.headers


async def test_a_service_that_stops_answering_is_a_504(
    sqlite_settings: Settings, upstream: str
) -> None:
    settings = _gateway(sqlite_settings, upstream)
    tenant = await make_tenant(settings)
    async with running_app(create_app(settings)) as http:
        reply = await http.get("/api/v1/knowledge/slow", headers=tenant.headers)
    assert reply.status_code == 504
    assert reply.json()["error"]["code"] == "upstream_timeout"
    assert reply.json()["metadata"]["request_id"] == reply.headers["x-request-id"]


def test_traceparent_is_kept_when_valid_and_started_otherwise() -> None:
    assert traceparent(TRACE) == TRACE
    for bad in (None, "", "00-xyz-b7ad6b7169203331-01", "00-" + "g" * 32 + "-" + "1" * 16 + "-01"):
        made = traceparent(bad).split("-")
        assert [len(p) for p in made] == [2, 32, 16, 2] and made[0] == "00"
