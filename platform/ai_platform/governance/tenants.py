"""Clients (tenants) and their API keys: the repository the CLI and admin API share.

Functions flush, never commit: the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ai_platform.config import Settings
from ai_platform.core.errors import ConflictError, NotFoundError
from ai_platform.core.ids import new_id
from ai_platform.db.base import utcnow
from ai_platform.db.models import ApiKey, Client
from ai_platform.governance.keys import DEFAULT_SCOPES, generate_key


@dataclass(frozen=True, slots=True)
class IssuedKey:
    key: ApiKey
    plaintext: str


@dataclass(frozen=True, slots=True)
class Limits:
    """The limits that apply to a client: its own, or the settings defaults where unset."""

    rpm_limit: int
    tpd_limit: int
    monthly_budget_usd: float


def effective_limits(client: Client, settings: Settings) -> Limits:
    """Resolve a client's limits against the defaults: the one rule that authentication,
    research workers and the admin API all apply."""
    budget = client.monthly_budget_usd
    return Limits(
        rpm_limit=client.rpm_limit or settings.default_rpm,
        tpd_limit=client.tpd_limit or settings.default_tpd,
        monthly_budget_usd=float(settings.default_monthly_budget_usd if budget is None else budget),
    )


async def create_client(
    session: AsyncSession,
    name: str,
    *,
    rpm: int | None = None,
    tpd: int | None = None,
    budget_usd: Decimal | float | None = None,
    allowed_models: list[str] | None = None,
) -> Client:
    if await session.scalar(select(Client.id).where(Client.name == name)):
        raise ConflictError(f"a client named {name!r} already exists")
    client = Client(
        id=new_id("cli"),
        name=name,
        rpm_limit=rpm,
        tpd_limit=tpd,
        monthly_budget_usd=None if budget_usd is None else Decimal(str(budget_usd)),
        active=True,
        allowed_models=allowed_models,
    )
    session.add(client)
    await session.flush()
    return client


async def get_client(session: AsyncSession, client_id: str) -> Client:
    client = await session.get(Client, client_id)
    if client is None:
        raise NotFoundError(f"client {client_id} not found")
    return client


async def find_client_by_name(session: AsyncSession, name: str) -> Client | None:
    result: Client | None = await session.scalar(select(Client).where(Client.name == name))
    return result


async def list_clients(
    session: AsyncSession,
    *,
    include_inactive: bool = True,
    limit: int | None = None,
    offset: int = 0,
) -> list[Client]:
    query = select(Client).order_by(Client.created_at, Client.id)
    if not include_inactive:
        query = query.where(Client.active.is_(True))
    if limit is not None:
        query = query.limit(limit)
    if offset:
        query = query.offset(offset)
    return list(await session.scalars(query))


async def count_clients(session: AsyncSession, *, include_inactive: bool = True) -> int:
    query = select(func.count()).select_from(Client)
    if not include_inactive:
        query = query.where(Client.active.is_(True))
    return int(await session.scalar(query) or 0)


UPDATABLE_CLIENT_FIELDS = frozenset(
    {"name", "rpm_limit", "tpd_limit", "monthly_budget_usd", "allowed_models"}
)


async def update_client(
    session: AsyncSession, client_id: str, changes: Mapping[str, Any]
) -> Client:
    """Apply a partial update; a ``None`` limit or budget falls back to the settings default."""
    unknown = set(changes) - UPDATABLE_CLIENT_FIELDS
    if unknown:
        raise ValueError(f"not updatable: {', '.join(sorted(unknown))}")
    client = await get_client(session, client_id)
    name = changes.get("name")
    if name is not None and name != client.name:
        taken = await session.scalar(
            select(Client.id).where(Client.name == name, Client.id != client_id)
        )
        if taken:
            raise ConflictError(f"a client named {name!r} already exists")
        client.name = name
    if "rpm_limit" in changes:
        client.rpm_limit = changes["rpm_limit"]
    if "tpd_limit" in changes:
        client.tpd_limit = changes["tpd_limit"]
    if "monthly_budget_usd" in changes:
        budget = changes["monthly_budget_usd"]
        client.monthly_budget_usd = None if budget is None else Decimal(str(budget))
    if "allowed_models" in changes:
        models = changes["allowed_models"]
        client.allowed_models = None if models is None else list(models)
    await session.flush()
    return client


async def set_client_active(session: AsyncSession, client_id: str, active: bool) -> Client:
    """Activate or deactivate a client; a deactivated client's keys stop authenticating."""
    client = await get_client(session, client_id)
    if client.active != active:
        client.active = active
        await session.flush()
    return client


async def issue_key(
    session: AsyncSession,
    secret_key: str,
    client_id: str,
    *,
    name: str = "default",
    scopes: list[str] | None = None,
    expires_at: datetime | None = None,
) -> IssuedKey:
    await get_client(session, client_id)
    new = generate_key(secret_key)
    key = ApiKey(
        id=new_id("key"),
        client_id=client_id,
        name=name,
        prefix=new.prefix,
        key_hash=new.key_hash,
        scopes=sorted(set(scopes or DEFAULT_SCOPES)),
        expires_at=expires_at,
    )
    session.add(key)
    await session.flush()
    return IssuedKey(key=key, plaintext=new.plaintext)


async def list_keys(session: AsyncSession, client_id: str) -> list[ApiKey]:
    query = select(ApiKey).where(ApiKey.client_id == client_id).order_by(ApiKey.created_at)
    return list(await session.scalars(query))


async def get_key(session: AsyncSession, key_id: str, client_id: str | None = None) -> ApiKey:
    key = await session.get(ApiKey, key_id)
    if key is None or (client_id is not None and key.client_id != client_id):
        raise NotFoundError(f"key {key_id} not found")
    return key


async def revoke_key(session: AsyncSession, key_id: str, client_id: str | None = None) -> ApiKey:
    key = await get_key(session, key_id, client_id)
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        await session.flush()
    return key


async def rotate_key(
    session: AsyncSession, secret_key: str, key_id: str, client_id: str | None = None
) -> IssuedKey:
    """Revoke a key and issue a replacement with the same name, scopes and expiry."""
    old = await revoke_key(session, key_id, client_id)
    return await issue_key(
        session,
        secret_key,
        old.client_id,
        name=old.name,
        scopes=list(old.scopes),
        expires_at=old.expires_at,
    )
