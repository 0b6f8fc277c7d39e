"""The demo tenant: one client and one key, created once, plus each service's sample data."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

import ai_platform.services
from ai_platform.config import Settings
from ai_platform.db.models import Client
from ai_platform.governance.keys import ADMIN_SCOPE, DEFAULT_SCOPES, parse_prefix
from ai_platform.governance.tenants import create_client, find_client_by_name, issue_key

DEMO_CLIENT = "demo"


async def _key_still_valid(session: AsyncSession, settings: Settings, key: str) -> bool:
    from sqlalchemy import select

    from ai_platform.db.models import ApiKey
    from ai_platform.governance.keys import verify_key

    prefix = parse_prefix(key)
    if prefix is None:
        return False
    row = await session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    return (
        row is not None
        and row.revoked_at is None
        and verify_key(settings.secret_key.get_secret_value(), key, row.key_hash)
    )


async def seed_demo(
    session: AsyncSession, settings: Settings, known_key: str | None
) -> dict[str, Any]:
    """Ensure the demo client, a working demo key and the sample data exist.

    ``known_key`` is the key saved by an earlier run; a new one is issued (and
    returned with ``new_key=True``) only when it is missing or no longer valid.
    """
    client: Client | None = await find_client_by_name(session, DEMO_CLIENT)
    if client is None:
        client = await create_client(session, DEMO_CLIENT)
    key = known_key or ""
    new_key = False
    if not key or not await _key_still_valid(session, settings, key):
        issued = await issue_key(
            session,
            settings.secret_key.get_secret_value(),
            client.id,
            name="demo",
            scopes=[*DEFAULT_SCOPES, ADMIN_SCOPE],
        )
        key = issued.plaintext
        new_key = True
    seeded = await seed_services(session, settings, client.id)
    return {"client_id": client.id, "key": key, "new_key": new_key, "seeded": seeded}


async def seed_services(session: AsyncSession, settings: Settings, client_id: str) -> list[str]:
    """Call ``seed_demo(session, settings, client_id)`` of every service that has a ``demo``."""
    seeded = []
    for info in pkgutil.iter_modules(ai_platform.services.__path__):
        try:
            module = importlib.import_module(f"ai_platform.services.{info.name}.demo")
        except ModuleNotFoundError as exc:
            if exc.name != f"ai_platform.services.{info.name}.demo":
                raise
            continue
        await module.seed_demo(session, settings, client_id)
        seeded.append(info.name)
    return seeded
