"""A caller's X-Request-ID is a correlation id: stored on its own rows, searchable by
that caller only (and by admins), never the ledger's key."""

from __future__ import annotations

import pytest

from ai_platform.config import Settings
from ai_platform.gateway.app import create_app
from tests.support import make_tenant, running_app

TRACE = {"X-Request-ID": "trace-from-a-proxy-7"}


async def test_each_tenant_finds_only_its_own_rows_by_correlation_id(settings: Settings) -> None:
    caller = await make_tenant(settings, rpm=1_000)
    other = await make_tenant(settings, rpm=1_000)
    admin = await make_tenant(settings, admin=True, rpm=1_000)
    app = create_app(settings)
    async with running_app(app) as client:
        sent = []
        for tenant in (caller, caller, other):
            resp = await client.post(
                "/api/v1/agent/chat",
                json={"message": "What is the returns window?"},
                headers={**tenant.headers, **TRACE},
            )
            assert resp.status_code == 200, resp.text
            assert resp.headers["x-correlation-id"] == TRACE["X-Request-ID"]
            sent.append(resp.headers["x-request-id"])
        await app.state.platform.governor.ledger.flush()

        async def own(tenant_headers: dict[str, str], **query: str) -> list[dict[str, object]]:
            resp = await client.get("/api/v1/usage/requests", params=query, headers=tenant_headers)
            assert resp.status_code == 200, resp.text
            rows: list[dict[str, object]] = resp.json()["data"]
            return rows

        mine = await own(caller.headers, correlation_id=TRACE["X-Request-ID"])
        assert sorted(str(r["request_id"]) for r in mine) == sorted(sent[:2])
        assert all(float(str(r["cost_usd"])) > 0 for r in mine)
        theirs = await own(other.headers, correlation_id=TRACE["X-Request-ID"])
        assert [r["request_id"] for r in theirs] == [sent[2]]
        # Another tenant's request id finds nothing for this caller.
        assert await own(caller.headers, request_id=sent[2]) == []
        assert [r["request_id"] for r in await own(other.headers, request_id=sent[2])] == [
            sent[2]
        ]

        everyone = await client.get(
            "/api/v1/admin/usage/requests",
            params={"correlation_id": TRACE["X-Request-ID"]},
            headers=admin.headers,
        )
        assert everyone.status_code == 200, everyone.text
        found = {i["request_id"] for i in everyone.json()["data"]["items"]}
        assert set(sent) <= found

        missing = await client.get("/api/v1/usage/requests", headers=caller.headers)
        assert missing.status_code == 400


@pytest.mark.parametrize("bad", ["has space", "x" * 65, "\u00e9t\u00e9"])
async def test_a_malformed_search_id_is_a_422(sqlite_settings: Settings, bad: str) -> None:
    tenant = await make_tenant(sqlite_settings)
    async with running_app(create_app(sqlite_settings)) as client:
        resp = await client.get(
            "/api/v1/usage/requests", params={"correlation_id": bad}, headers=tenant.headers
        )
    assert resp.status_code == 422
