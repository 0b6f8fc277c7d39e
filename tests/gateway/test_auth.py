"""API-key authentication on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text

from ai_platform.config import Settings
from ai_platform.db.engine import create_engine, create_sessionmaker
from ai_platform.db.models import ApiKey
from ai_platform.gateway.app import create_app
from ai_platform.governance.tenants import issue_key, revoke_key, rotate_key
from tests.support import make_tenant, running_app


async def test_valid_key_authenticates(settings: Settings) -> None:
    tenant = await make_tenant(settings)
    async with running_app(create_app(settings)) as client:
        resp = await client.get("/api/v1/me", headers=tenant.headers)
    assert resp.status_code == 200
    assert resp.json()["data"]["client_id"] == tenant.client_id


async def test_unknown_malformed_revoked_and_expired_keys_are_401(settings: Settings) -> None:
    tenant = await make_tenant(settings)
    engine = create_engine(settings.database_url)
    secret = settings.secret_key.get_secret_value()
    async with create_sessionmaker(engine)() as session:
        revoked = await issue_key(session, secret, tenant.client_id)
        await revoke_key(session, revoked.key.id)
        expired = await issue_key(
            session, secret, tenant.client_id, expires_at=datetime.now(UTC) - timedelta(minutes=1)
        )
        await session.commit()
    await engine.dispose()
    forged = tenant.key[:-4] + ("AAAA" if not tenant.key.endswith("AAAA") else "BBBB")
    async with running_app(create_app(settings)) as client:
        for key in ("nonsense", forged, revoked.plaintext, expired.plaintext):
            resp = await client.get("/api/v1/me", headers={"X-API-Key": key})
            assert resp.status_code == 401, key
            assert resp.json()["error"]["code"] == "unauthorized"


async def test_rotation_revokes_old_key(settings: Settings) -> None:
    tenant = await make_tenant(settings)
    engine = create_engine(settings.database_url)
    async with create_sessionmaker(engine)() as session:
        new = await rotate_key(session, settings.secret_key.get_secret_value(), tenant.key_id)
        await session.commit()
    await engine.dispose()
    async with running_app(create_app(settings)) as client:
        old = await client.get("/api/v1/me", headers=tenant.headers)
        fresh = await client.get("/api/v1/me", headers={"X-API-Key": new.plaintext})
    assert (old.status_code, fresh.status_code) == (401, 200)


async def test_no_plaintext_key_in_database(settings: Settings) -> None:
    tenant = await make_tenant(settings)
    engine = create_engine(settings.database_url)
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT * FROM api_keys"))).all()
    async with create_sessionmaker(engine)() as session:
        stored = await session.scalar(select(ApiKey).where(ApiKey.id == tenant.key_id))
    await engine.dispose()
    secret_part = tenant.key.split("_", 2)[2]
    dump = repr(rows)
    assert tenant.key not in dump and secret_part not in dump
    assert stored is not None and stored.key_hash != tenant.key and len(stored.key_hash) == 64


async def test_key_header_name_is_configurable(settings: Settings) -> None:
    custom = settings.model_copy(update={"api_key_header": "X-Custom-Key"})
    tenant = await make_tenant(custom)
    async with running_app(create_app(custom)) as client:
        default_header = await client.get("/api/v1/me", headers={"X-API-Key": tenant.key})
        custom_header = await client.get("/api/v1/me", headers={"X-Custom-Key": tenant.key})
    assert (default_header.status_code, custom_header.status_code) == (401, 200)
    assert "X-Custom-Key" in default_header.headers["www-authenticate"]
