"""API keys through the admin API: shown once, listed by prefix, rotation and revocation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from ai_platform.config import Settings
from ai_platform.db.engine import create_engine, create_sessionmaker
from ai_platform.db.models import ApiKey
from ai_platform.gateway.app import create_app
from tests.services.admin.conftest import assert_error, data
from tests.support import Tenant, make_tenant, running_app


def keys_url(client_id: str) -> str:
    return f"/api/v1/admin/clients/{client_id}/keys"


async def stored_hashes(settings: Settings, client_id: str) -> list[str]:
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            return list(
                await session.scalars(select(ApiKey.key_hash).where(ApiKey.client_id == client_id))
            )
    finally:
        await engine.dispose()


async def test_issue_shows_the_key_once_and_it_works(settings: Settings, admin: Tenant) -> None:
    tenant = await make_tenant(settings)
    async with running_app(create_app(settings)) as client:
        plain = data(
            await client.post(
                keys_url(tenant.client_id),
                json={"name": "prod", "expires_in_days": 30},
                headers=admin.headers,
            ),
            201,
        )
        power = data(
            await client.post(
                keys_url(tenant.client_id), json={"admin": True}, headers=admin.headers
            ),
            201,
        )
        me = data(await client.get("/api/v1/me", headers={"X-API-Key": plain["key"]}))
        plain_admin = await client.get("/api/v1/admin/prices", headers={"X-API-Key": plain["key"]})
        power_admin = await client.get("/api/v1/admin/prices", headers={"X-API-Key": power["key"]})
    assert plain["key"].startswith(f"aip_{plain['prefix']}_")
    assert (plain["name"], plain["scopes"], plain["admin"], plain["status"]) == (
        "prod",
        ["services"],
        False,
        "active",
    )
    assert plain["client_id"] == tenant.client_id and plain["replaces"] is None
    expires = datetime.fromisoformat(plain["expires_at"])
    assert abs(expires - (datetime.now(UTC) + timedelta(days=30))) < timedelta(minutes=5)
    assert (power["scopes"], power["admin"], power["expires_at"]) == (
        ["admin", "services"],
        True,
        None,
    )
    assert (me["client_id"], me["key_id"]) == (tenant.client_id, plain["id"])
    assert_error(plain_admin, 403, "forbidden")
    assert power_admin.status_code == 200


async def test_bad_key_requests(settings: Settings, admin: Tenant) -> None:
    tenant = await make_tenant(settings)
    async with running_app(create_app(settings)) as client:
        for body in (
            {"expires_in_days": 0},
            {"expires_in_days": 4000},
            {"admin": "maybe"},
            {"name": ""},
            {"scopes": ["admin"]},
        ):
            resp = await client.post(keys_url(tenant.client_id), json=body, headers=admin.headers)
            assert_error(resp, 422, "validation_error")
        missing = await client.post(keys_url("cli_nope"), json={}, headers=admin.headers)
        listed = data(await client.get(keys_url(tenant.client_id), headers=admin.headers))
    assert_error(missing, 404, "not_found")
    assert len(listed) == 1  # only the tenant's original key


async def test_list_shows_prefixes_never_keys_or_hashes(settings: Settings, admin: Tenant) -> None:
    tenant = await make_tenant(settings)
    async with running_app(create_app(settings)) as client:
        issued = data(
            await client.post(
                keys_url(tenant.client_id), json={"name": "b"}, headers=admin.headers
            ),
            201,
        )
        resp = await client.get(keys_url(tenant.client_id), headers=admin.headers)
        unknown = await client.get(keys_url("cli_nope"), headers=admin.headers)
    listed = data(resp)
    assert [k["id"] for k in listed] == [tenant.key_id, issued["id"]]
    assert all(
        set(k)
        == {
            "id",
            "client_id",
            "name",
            "prefix",
            "scopes",
            "admin",
            "status",
            "created_at",
            "expires_at",
            "revoked_at",
        }
        for k in listed
    )
    assert listed[1]["prefix"] == issued["prefix"]
    for secret in (tenant.key, issued["key"], *await stored_hashes(settings, tenant.client_id)):
        assert secret not in resp.text
    assert_error(unknown, 404, "not_found")


async def test_revoke_takes_effect_on_the_next_call(cached_settings: Settings) -> None:
    settings = cached_settings
    admin = await make_tenant(settings, admin=True, rpm=100_000)
    tenant = await make_tenant(settings)
    url = f"{keys_url(tenant.client_id)}/{tenant.key_id}/revoke"
    async with running_app(create_app(settings)) as client:
        assert (await client.get("/api/v1/me", headers=tenant.headers)).status_code == 200
        revoked = data(await client.post(url, headers=admin.headers))
        after = await client.get("/api/v1/me", headers=tenant.headers)
        again = data(await client.post(url, headers=admin.headers))
        listed = data(await client.get(keys_url(tenant.client_id), headers=admin.headers))
    assert revoked["status"] == "revoked" and revoked["revoked_at"] is not None
    assert_error(after, 401, "unauthorized")
    assert again["revoked_at"] == revoked["revoked_at"]  # idempotent
    assert [k["status"] for k in listed] == ["revoked"]


async def test_rotate_replaces_the_key(cached_settings: Settings) -> None:
    settings = cached_settings
    admin = await make_tenant(settings, admin=True, rpm=100_000)
    tenant = await make_tenant(settings)
    base = keys_url(tenant.client_id)
    async with running_app(create_app(settings)) as client:
        assert (await client.get("/api/v1/me", headers=tenant.headers)).status_code == 200
        new = data(await client.post(f"{base}/{tenant.key_id}/rotate", headers=admin.headers), 201)
        old_after = await client.get("/api/v1/me", headers=tenant.headers)
        new_after = data(await client.get("/api/v1/me", headers={"X-API-Key": new["key"]}))
        twice = await client.post(f"{base}/{tenant.key_id}/rotate", headers=admin.headers)
        listed = data(await client.get(base, headers=admin.headers))
    assert new["replaces"] == tenant.key_id and new["id"] != tenant.key_id
    assert new["key"] != tenant.key and new["scopes"] == ["services"]
    assert_error(old_after, 401, "unauthorized")
    assert new_after["key_id"] == new["id"]
    assert_error(twice, 409, "conflict")  # a revoked key is not brought back by rotation
    assert [(k["id"], k["status"]) for k in listed] == [
        (tenant.key_id, "revoked"),
        (new["id"], "active"),
    ]


async def test_keys_are_addressed_through_their_own_client(
    settings: Settings, admin: Tenant
) -> None:
    mine = await make_tenant(settings)
    other = await make_tenant(settings)
    async with running_app(create_app(settings)) as client:
        wrong = f"{keys_url(other.client_id)}/{mine.key_id}"
        revoke = await client.post(f"{wrong}/revoke", headers=admin.headers)
        rotate = await client.post(f"{wrong}/rotate", headers=admin.headers)
        unknown = await client.post(
            f"{keys_url(mine.client_id)}/key_nope/revoke", headers=admin.headers
        )
        still = await client.get("/api/v1/me", headers=mine.headers)
    assert_error(revoke, 404, "not_found")
    assert_error(rotate, 404, "not_found")
    assert_error(unknown, 404, "not_found")
    assert still.status_code == 200
