"""``GET /api/v1/usage`` and ``/api/v1/usage/recent``: what the dashboard shows a client
key. The admin report's numbers, over the caller's own requests only."""

from __future__ import annotations

from datetime import date
from typing import Any

from ai_platform.config import Settings
from ai_platform.gateway.app import create_app
from tests.services.admin.conftest import KnownLedger, assert_error, commit_rows, data, days
from tests.support import make_tenant, running_app

# Committed rows stay in the database: these days belong to this module alone.
FIRST = date(2003, 5, 6)


def keyed(report: dict[str, Any]) -> dict[str | None, tuple[Any, ...]]:
    return {
        r["key"]: (r["requests"], r["errors"], r["total_tokens"], r["cost_usd"])
        for r in report["rows"]
    }


async def test_a_client_sees_only_its_own_usage(settings: Settings) -> None:
    alice = await make_tenant(settings)
    bob = await make_tenant(settings)
    admin = await make_tenant(settings, admin=True, rpm=100_000)
    ledger = KnownLedger(alice.client_id, bob.client_id, FIRST)
    await commit_rows(settings, ledger.rows())
    d1, d2, d3 = days(FIRST)
    window = {"start": str(d1), "end": str(d3)}
    async with running_app(create_app(settings)) as http:

        async def own(tenant: Any, path: str = "/api/v1/usage", **query: Any) -> Any:
            resp = await http.get(path, params={**window, **query}, headers=tenant.headers)
            return data(resp)

        alice_services = await own(alice, group_by="service")
        alice_days = await own(alice, group_by="day")
        bob_models = await own(bob, group_by="model")
        alice_agent = await own(alice, group_by="model", service="agent")
        # A client key cannot widen its view with the admin report's client filter.
        smuggled = await http.get(
            "/api/v1/usage",
            params={**window, "group_by": "service", "client_id": bob.client_id},
            headers=alice.headers,
        )
        as_admin = data(
            await http.get(
                "/api/v1/admin/usage",
                params={**window, "group_by": "service", "client_id": alice.client_id},
                headers=admin.headers,
            )
        )
        recent = await own(alice, "/api/v1/usage/recent", limit=2)
        older = await own(
            alice, "/api/v1/usage/recent", limit=2, before_id=recent["next_before_id"]
        )

    assert keyed(alice_services) == {
        "agent": (1, 1, 1500, 0.0125),
        "knowledge": (2, 0, 450, 0.004),
    }
    assert alice_services["totals"]["requests"] == 3
    assert alice_services["totals"]["cost_usd"] == 0.0165
    assert alice_services["client_id"] == alice.client_id
    # The same report the admin gets for this client, row for row.
    assert {k: v for k, v in alice_services.items() if k != "client_id"} == {
        k: v for k, v in as_admin.items() if k != "client_id"
    }
    assert list(keyed(alice_days)) == [str(d1), str(d2)]
    assert keyed(bob_models) == {
        "gpt-4o": (1, 0, 10, 0.0001),
        None: (1, 1, 0, 0.0),
        "text-embedding-3-small": (1, 0, 40, 0.0000008),
    }
    assert keyed(alice_agent) == {"gpt-4o": (1, 1, 1500, 0.0125)}
    assert data(smuggled)["totals"] == alice_services["totals"]

    items = recent["items"] + older["items"]
    assert [r["client_id"] for r in items] == [alice.client_id] * 3
    ids = [r["id"] for r in items]
    assert ids == sorted(ids, reverse=True)
    assert older["next_before_id"] is None
    assert {"latency_ms", "flagged", "status_code"} <= set(items[0])


async def test_bad_usage_parameters_are_4xx_envelopes(settings: Settings) -> None:
    tenant = await make_tenant(settings)
    async with running_app(create_app(settings)) as http:

        async def get(path: str, query: str, headers: dict[str, str] | None = None) -> Any:
            return await http.get(
                f"{path}?{query}", headers=tenant.headers if headers is None else headers
            )

        for query in (
            "start=2024-01-01",
            "group_by=week",
            "group_by=day&start=2024-13-01",
            "group_by=day&limit=0",
            "group_by=day&limit=1001",
            "group_by=day&service=Not%20a%20service",
        ):
            body = assert_error(await get("/api/v1/usage", query), 422, "validation_error")
            assert body["error"]["details"], query
        for query in ("before_id=0", "limit=201", "end=yesterday"):
            assert_error(await get("/api/v1/usage/recent", query), 422, "validation_error")
        backwards = await get("/api/v1/usage", "group_by=day&start=2024-02-01&end=2024-01-31")
        recent_backwards = await get("/api/v1/usage/recent", "start=2024-02-01&end=2024-01-31")
        anonymous = await get("/api/v1/usage", "group_by=day", headers={})
        wrong_key = await get("/api/v1/usage/recent", "", headers={"X-API-Key": "aip_x_y"})
    assert "after end" in assert_error(backwards, 400, "bad_request")["error"]["message"]
    assert_error(recent_backwards, 400, "bad_request")
    assert_error(anonymous, 401, "unauthorized")
    assert_error(wrong_key, 401, "unauthorized")
