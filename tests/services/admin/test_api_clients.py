"""Client administration through the API, and its effect on authentication."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from ai_platform.config import Settings
from ai_platform.db.models import UsageRecord
from ai_platform.gateway.app import create_app
from tests.services.admin.conftest import assert_error, commit_rows, data
from tests.support import Tenant, make_tenant, running_app

CLIENTS = "/api/v1/admin/clients"


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


async def test_create_read_and_defaults(settings: Settings, admin: Tenant) -> None:
    name = unique("acme")
    async with running_app(create_app(settings)) as client:
        created = data(
            await client.post(
                CLIENTS,
                json={"name": f"  {name} ", "rpm_limit": 120, "monthly_budget_usd": 250.5},
                headers=admin.headers,
            ),
            201,
        )
        read = data(await client.get(f"{CLIENTS}/{created['id']}", headers=admin.headers))
    assert created["name"] == name  # trimmed
    assert (created["rpm_limit"], created["tpd_limit"], created["monthly_budget_usd"]) == (
        120,
        None,
        250.5,
    )
    assert created["effective"] == {
        "rpm_limit": 120,
        "tpd_limit": settings.default_tpd,
        "monthly_budget_usd": 250.5,
    }
    assert created["active"] is True and created["id"].startswith("cli_")
    assert read["created_at"].endswith(("Z", "+00:00"))
    assert {k: read[k] for k in created} == created
    assert (
        read["active_keys"],
        read["month_to_date_requests"],
        read["month_to_date_cost_usd"],
    ) == (
        0,
        0,
        0.0,
    )


async def test_bad_bodies_are_refused_and_create_nothing(settings: Settings, admin: Tenant) -> None:
    name = unique("bad")
    async with running_app(create_app(settings)) as client:
        for body in (
            {"name": name, "rpm_limit": 0},
            {"name": name, "monthly_budget_usd": -1},
            {"name": name, "tpd_limit": "lots"},
            {"name": "   "},
            {"name": name, "colour": "blue"},
            {},
        ):
            assert_error(
                await client.post(CLIENTS, json=body, headers=admin.headers),
                422,
                "validation_error",
            )
        malformed = await client.post(
            CLIENTS,
            content=b'{"name": ',
            headers={**admin.headers, "content-type": "application/json"},
        )
        assert_error(malformed, 400, "invalid_json")
        everyone = data(await client.get(f"{CLIENTS}?limit=200", headers=admin.headers))
        offset = 200
        names = {c["name"] for c in everyone["items"]}
        while offset < everyone["total"]:
            page = data(
                await client.get(f"{CLIENTS}?limit=200&offset={offset}", headers=admin.headers)
            )
            names |= {c["name"] for c in page["items"]}
            offset += 200
    assert name not in names


async def test_duplicate_name_is_409(settings: Settings, admin: Tenant) -> None:
    name = unique("twice")
    async with running_app(create_app(settings)) as client:
        data(await client.post(CLIENTS, json={"name": name}, headers=admin.headers), 201)
        again = await client.post(CLIENTS, json={"name": name}, headers=admin.headers)
    assert_error(again, 409, "conflict")


async def test_list_pages_in_creation_order(settings: Settings, admin: Tenant) -> None:
    async with running_app(create_app(settings)) as client:
        ids = [
            data(
                await client.post(CLIENTS, json={"name": unique(f"p{i}")}, headers=admin.headers),
                201,
            )["id"]
            for i in range(3)
        ]
        first = data(await client.get(f"{CLIENTS}?limit=2", headers=admin.headers))
        total = first["total"]
        # The three newest clients are the last three of the listing.
        tail = data(
            await client.get(f"{CLIENTS}?limit=2&offset={total - 3}", headers=admin.headers)
        )
        last = data(
            await client.get(f"{CLIENTS}?limit=2&offset={total - 1}", headers=admin.headers)
        )
        for bad in ("limit=0", "limit=201", "offset=-1", "limit=ten"):
            assert_error(
                await client.get(f"{CLIENTS}?{bad}", headers=admin.headers), 422, "validation_error"
            )
    assert (first["limit"], first["offset"], len(first["items"])) == (2, 0, 2)
    assert total >= 4  # the admin's own client and these three
    assert [c["id"] for c in tail["items"]] == ids[:2]
    assert [c["id"] for c in last["items"]] == ids[2:]


async def test_read_unknown_client_is_404(settings: Settings, admin: Tenant) -> None:
    async with running_app(create_app(settings)) as client:
        resp = await client.get(f"{CLIENTS}/cli_nope", headers=admin.headers)
        too_long = await client.get(f"{CLIENTS}/{'x' * 41}", headers=admin.headers)
    assert_error(resp, 404, "not_found")
    assert_error(too_long, 422, "validation_error")


async def test_read_reports_month_to_date_spend_and_active_keys(
    settings: Settings, admin: Tenant
) -> None:
    tenant = await make_tenant(settings)
    now = datetime.now(UTC)
    last_month = datetime(now.year - (now.month == 1), (now.month - 2) % 12 + 1, 15, tzinfo=UTC)
    rows = [
        UsageRecord(
            request_id=f"req_{uuid.uuid4().hex}",
            client_id=tenant.client_id,
            service="agent",
            route="/x",
            model="gpt-4o",
            prompt_tokens=10,
            completion_tokens=5,
            cost_usd=Decimal(cost),
            latency_ms=1.0,
            status_code=200,
            outcome="ok",
            flagged=False,
            created_at=when,
        )
        for cost, when in (("0.25", now), ("0.125", now), ("9", last_month))
    ]
    await commit_rows(settings, rows)
    async with running_app(create_app(settings)) as client:
        detail = data(await client.get(f"{CLIENTS}/{tenant.client_id}", headers=admin.headers))
    assert detail["month_to_date_requests"] == 2
    assert detail["month_to_date_cost_usd"] == 0.375
    assert detail["active_keys"] == 1


async def test_patch_is_partial_and_applies_at_once(cached_settings: Settings) -> None:
    settings = cached_settings
    admin = await make_tenant(settings, admin=True, rpm=100_000)
    tenant = await make_tenant(settings, rpm=30, budget_usd=10)
    url = f"{CLIENTS}/{tenant.client_id}"
    async with running_app(create_app(settings)) as client:
        before = data(await client.get("/api/v1/me", headers=tenant.headers))  # now cached
        budget = data(
            await client.patch(url, json={"monthly_budget_usd": 99.5}, headers=admin.headers)
        )
        reset = data(await client.patch(url, json={"rpm_limit": None}, headers=admin.headers))
        after = data(await client.get("/api/v1/me", headers=tenant.headers))
        empty = await client.patch(url, json={}, headers=admin.headers)
        null_name = await client.patch(url, json={"name": None}, headers=admin.headers)
        unknown = await client.patch(
            f"{CLIENTS}/cli_nope", json={"rpm_limit": 5}, headers=admin.headers
        )
        admin_name = data(await client.get("/api/v1/me", headers=admin.headers))["name"]
        taken = await client.patch(url, json={"name": admin_name}, headers=admin.headers)
        final = data(await client.get(url, headers=admin.headers))
    assert (before["rpm_limit"], before["monthly_budget_usd"]) == (30, 10.0)
    assert (budget["rpm_limit"], budget["monthly_budget_usd"]) == (30, 99.5)
    assert reset["rpm_limit"] is None and reset["monthly_budget_usd"] == 99.5
    assert reset["effective"]["rpm_limit"] == settings.default_rpm
    assert (after["rpm_limit"], after["monthly_budget_usd"]) == (settings.default_rpm, 99.5)
    assert budget["updated_at"] >= budget["created_at"]
    assert_error(empty, 422, "validation_error")
    assert_error(null_name, 422, "validation_error")
    assert_error(unknown, 404, "not_found")
    assert_error(taken, 409, "conflict")
    assert (final["rpm_limit"], final["monthly_budget_usd"]) == (None, 99.5)


async def test_deactivate_stops_every_key_and_activate_restores_them(
    cached_settings: Settings,
) -> None:
    settings = cached_settings
    admin = await make_tenant(settings, admin=True, rpm=100_000)
    tenant = await make_tenant(settings)
    async with running_app(create_app(settings)) as client:
        second = data(
            await client.post(f"{CLIENTS}/{tenant.client_id}/keys", json={}, headers=admin.headers),
            201,
        )
        keys = [tenant.key, second["key"]]
        for key in keys:  # both lookups are now cached for five minutes
            assert (await client.get("/api/v1/me", headers={"X-API-Key": key})).status_code == 200
        off = data(
            await client.post(f"{CLIENTS}/{tenant.client_id}/deactivate", headers=admin.headers)
        )
        refused = [await client.get("/api/v1/me", headers={"X-API-Key": k}) for k in keys]
        new_key = await client.post(
            f"{CLIENTS}/{tenant.client_id}/keys", json={}, headers=admin.headers
        )
        active_only = data(
            await client.get(f"{CLIENTS}?include_inactive=false&limit=200", headers=admin.headers)
        )
        on = data(
            await client.post(f"{CLIENTS}/{tenant.client_id}/activate", headers=admin.headers)
        )
        restored = [await client.get("/api/v1/me", headers={"X-API-Key": k}) for k in keys]
    assert off["active"] is False and on["active"] is True
    for resp in refused:
        assert_error(resp, 401, "unauthorized")
    assert_error(new_key, 409, "conflict")
    assert tenant.client_id not in {c["id"] for c in active_only["items"]}
    assert [r.status_code for r in restored] == [200, 200]


async def test_a_client_cannot_deactivate_itself(settings: Settings, admin: Tenant) -> None:
    async with running_app(create_app(settings)) as client:
        resp = await client.post(f"{CLIENTS}/{admin.client_id}/deactivate", headers=admin.headers)
        still = await client.get(f"{CLIENTS}/{admin.client_id}", headers=admin.headers)
        missing = await client.post(f"{CLIENTS}/cli_nope/deactivate", headers=admin.headers)
    assert_error(resp, 409, "conflict")
    assert data(still)["active"] is True
    assert_error(missing, 404, "not_found")
