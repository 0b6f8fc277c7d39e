"""Knowledge fixtures: the running platform, tenants, and corpus helpers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from ai_platform.config import Settings
from ai_platform.gateway.app import create_app
from ai_platform.services.knowledge.demo import corpus
from tests.support import Tenant, make_tenant, running_app

BASE = "/api/v1/knowledge"


@dataclass
class KB:
    """A running platform and a tenant to call it as."""

    http: httpx.AsyncClient
    tenant: Tenant
    settings: Settings
    app: FastAPI

    async def post(self, path: str, tenant: Tenant | None = None, **kw: Any) -> httpx.Response:
        return await self.http.post(BASE + path, headers=(tenant or self.tenant).headers, **kw)

    async def get(self, path: str, tenant: Tenant | None = None, **kw: Any) -> httpx.Response:
        return await self.http.get(BASE + path, headers=(tenant or self.tenant).headers, **kw)

    async def delete(self, path: str, tenant: Tenant | None = None) -> httpx.Response:
        return await self.http.delete(BASE + path, headers=(tenant or self.tenant).headers)

    async def ingest(self, documents: list[dict[str, Any]], tenant: Tenant | None = None) -> Any:
        resp = await self.post("/ingest", tenant, json={"documents": documents})
        assert resp.status_code == 201, resp.text
        return resp.json()["data"]

    async def ingest_corpus(self, tenant: Tenant | None = None) -> dict[str, str]:
        """The Northwind corpus; returns corpus id → document id."""
        records = [{k: r[k] for k in ("title", "text", "source", "metadata")} for r in corpus()]
        data = await self.ingest(records, tenant)
        return {r["id"]: d["document_id"] for r, d in zip(corpus(), data["documents"], strict=True)}

    async def search(self, query: str, tenant: Tenant | None = None, **kw: Any) -> list[Any]:
        resp = await self.post("/search", tenant, json={"query": query, **kw})
        assert resp.status_code == 200, resp.text
        hits: list[Any] = resp.json()["data"]
        return hits


@pytest.fixture
async def kb(settings: Settings) -> AsyncIterator[KB]:
    tenant = await make_tenant(settings)
    app = create_app(settings)
    async with running_app(app) as http:
        yield KB(http=http, tenant=tenant, settings=settings, app=app)


def assert_error(resp: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    body: dict[str, Any] = resp.json()
    assert body["status"] == "error"
    assert body["error"]["code"] == code
    return body
