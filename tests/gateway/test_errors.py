"""Every error leaves as the error envelope with the request id."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter
from pydantic import BaseModel, Field

from ai_platform.config import Settings
from ai_platform.gateway.app import create_app
from tests.support import make_settings, make_tenant, running_app


class Item(BaseModel):
    name: str = Field(min_length=1)
    quantity: int


probe = APIRouter(prefix="/probe")


@probe.post("/items")
async def create_item(item: Item) -> dict[str, int]:
    return {"quantity": item.quantity}


@probe.get("/boom")
async def boom() -> None:
    raise RuntimeError("secret internals")


@pytest.fixture
async def client(sqlite_url: str, tmp_path: Path) -> httpx.AsyncClient:
    settings = make_settings(sqlite_url, tmp_path, max_body_bytes=2048)
    app = create_app(settings)
    app.include_router(probe)
    async with running_app(app) as c:
        yield c  # type: ignore[misc]


def assert_envelope(resp: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["status"] == "error"
    assert body["error"]["code"] == code
    assert body["metadata"]["request_id"] == resp.headers["x-request-id"]
    assert body["metadata"]["request_id"].startswith("req_")
    assert "x-processing-time-ms" in resp.headers
    return body  # type: ignore[no-any-return]


async def test_unknown_route_is_404_envelope(client: httpx.AsyncClient) -> None:
    assert_envelope(await client.get("/nope"), 404, "not_found")


async def test_wrong_method_is_405_envelope(client: httpx.AsyncClient) -> None:
    resp = await client.delete("/probe/items")
    assert_envelope(resp, 405, "method_not_allowed")
    assert resp.headers["allow"] == "POST"


async def test_malformed_json_is_400(client: httpx.AsyncClient) -> None:
    resp = await client.post(
        "/probe/items", content=b'{"name": "a",', headers={"content-type": "application/json"}
    )
    assert_envelope(resp, 400, "invalid_json")


async def test_wrong_types_are_422_with_field_details(client: httpx.AsyncClient) -> None:
    resp = await client.post("/probe/items", json={"name": "", "quantity": "many"})
    body = assert_envelope(resp, 422, "validation_error")
    locs = {tuple(d["loc"]) for d in body["error"]["details"]}  # type: ignore[index]
    assert locs == {("body", "name"), ("body", "quantity")}


async def test_oversized_body_is_413_before_the_app_reads_it(client: httpx.AsyncClient) -> None:
    resp = await client.post("/probe/items", content=b"x" * 4096)
    body = assert_envelope(resp, 413, "payload_too_large")
    assert body["error"]["details"] == {"limit_bytes": 2048}  # type: ignore[index]


async def test_oversized_chunked_body_is_413(client: httpx.AsyncClient) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(8):
            yield b"y" * 512

    resp = await client.post(
        "/probe/items", content=chunks(), headers={"content-type": "application/json"}
    )
    assert_envelope(resp, 413, "payload_too_large")


async def test_unhandled_exception_is_500_without_trace(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    logging.getLogger("ai_platform.errors").propagate = True
    with caplog.at_level(logging.ERROR, logger="ai_platform.errors"):
        resp = await client.get("/probe/boom")
    body = assert_envelope(resp, 500, "internal_error")
    assert "secret internals" not in resp.text
    record = next(r for r in caplog.records if r.name == "ai_platform.errors")
    assert record.exc_info is not None
    assert body["metadata"]["request_id"]  # type: ignore[index]


async def test_missing_key_is_401_with_www_authenticate(client: httpx.AsyncClient) -> None:
    resp = await client.get("/api/v1/me")
    assert_envelope(resp, 401, "unauthorized")
    assert resp.headers["www-authenticate"].startswith("ApiKey")


async def test_incoming_request_id_is_a_correlation_id_never_the_request_id(
    client: httpx.AsyncClient,
) -> None:
    good = await client.get("/health", headers={"X-Request-ID": "trace-1234abcd"})
    assert good.headers["x-request-id"].startswith("req_")
    assert good.headers["x-correlation-id"] == "trace-1234abcd"
    again = await client.get("/health", headers={"X-Request-ID": "trace-1234abcd"})
    assert again.headers["x-request-id"] != good.headers["x-request-id"]
    bad = await client.get("/health", headers={"X-Request-ID": "<script>alert(1)</script>"})
    assert bad.headers["x-request-id"].startswith("req_")
    assert "x-correlation-id" not in bad.headers


async def test_success_envelope_metadata(sqlite_settings: Settings) -> None:
    tenant = await make_tenant(sqlite_settings)
    async with running_app(create_app(sqlite_settings)) as client:
        resp = await client.get("/api/v1/me", headers=tenant.headers)
    assert resp.status_code == 200
    body = resp.json()
    assert body["status"] == "success"
    assert body["data"]["client_id"] == tenant.client_id
    meta = body["metadata"]
    assert meta["request_id"] == resp.headers["x-request-id"]
    assert meta["timestamp"].endswith(("Z", "+00:00"))
    assert meta["tokens_used"] == 0


async def test_openapi_lists_error_responses(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    me = spec["paths"]["/api/v1/me"]["get"]["responses"]
    assert {"401", "403", "413", "500"} <= set(me)
    schema_ref = me["401"]["content"]["application/json"]["schema"]["$ref"]
    assert schema_ref.endswith("/ErrorResponse")
