"""Administration: clients and keys through ``governance.tenants``; usage from the ledger.

Changes that affect authentication (revoke, rotate, deactivate, new limits) return
the key prefixes whose cached lookups must be dropped once the change is committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from ai_platform.config import Settings
from ai_platform.core.errors import BadRequestError, ConflictError, NotFoundError
from ai_platform.db.models import ApiKey, Client, UsageRecord
from ai_platform.governance import tenants
from ai_platform.governance.budget import month_start
from ai_platform.governance.keys import ADMIN_SCOPE, DEFAULT_SCOPES
from ai_platform.llm.pricing import PriceTable
from ai_platform.services.admin import repository
from ai_platform.services.admin.repository import Aggregate, LedgerFilter
from ai_platform.services.admin.schemas import (
    ClientCreate,
    ClientDetail,
    ClientOut,
    ClientUpdate,
    EffectiveLimits,
    IssuedKeyOut,
    KeyCreate,
    KeyOut,
    KeyStatus,
    LedgerPage,
    LedgerRecord,
    Page,
    PriceTableOut,
    UsageGroup,
    UsageReport,
    UsageRow,
    UsageTotals,
)

T = TypeVar("T")

MAX_ACTIVE_KEYS = 50
"""Per client: a leaked-key clean-up should never face an unbounded list."""


@dataclass(frozen=True, slots=True)
class Changed(Generic[T]):
    """A result, and the key prefixes to forget from the auth cache after the commit."""

    value: T
    prefixes: tuple[str, ...] = ()


# -- clients ---------------------------------------------------------------------------


def client_out(client: Client, settings: Settings) -> ClientOut:
    budget = None if client.monthly_budget_usd is None else float(client.monthly_budget_usd)
    limits = tenants.effective_limits(client, settings)  # as authentication resolves them
    return ClientOut(
        id=client.id,
        name=client.name,
        rpm_limit=client.rpm_limit,
        tpd_limit=client.tpd_limit,
        monthly_budget_usd=budget,
        allowed_models=client.allowed_models,
        effective=EffectiveLimits(
            rpm_limit=limits.rpm_limit,
            tpd_limit=limits.tpd_limit,
            monthly_budget_usd=limits.monthly_budget_usd,
        ),
        active=client.active,
        created_at=client.created_at,
        updated_at=client.updated_at,
    )


async def create_client(session: AsyncSession, settings: Settings, body: ClientCreate) -> ClientOut:
    client = await tenants.create_client(
        session,
        body.name,
        rpm=body.rpm_limit,
        tpd=body.tpd_limit,
        budget_usd=body.monthly_budget_usd,
        allowed_models=body.allowed_models,
    )
    return client_out(client, settings)


async def list_clients(
    session: AsyncSession,
    settings: Settings,
    *,
    limit: int,
    offset: int,
    include_inactive: bool,
) -> Page[ClientOut]:
    total = await tenants.count_clients(session, include_inactive=include_inactive)
    clients = await tenants.list_clients(
        session, include_inactive=include_inactive, limit=limit, offset=offset
    )
    return Page[ClientOut](
        items=[client_out(c, settings) for c in clients], total=total, limit=limit, offset=offset
    )


async def read_client(session: AsyncSession, settings: Settings, client_id: str) -> ClientDetail:
    client = await tenants.get_client(session, client_id)
    now = datetime.now(UTC)
    spend = await repository.spend_since(session, client_id, month_start(now))
    return ClientDetail(
        **client_out(client, settings).model_dump(),
        active_keys=await repository.active_key_count(session, client_id, now),
        month_to_date_requests=spend.requests,
        month_to_date_cost_usd=spend.cost_usd,
    )


async def _prefixes(session: AsyncSession, client_id: str) -> tuple[str, ...]:
    return tuple(k.prefix for k in await tenants.list_keys(session, client_id))


async def update_client(
    session: AsyncSession, settings: Settings, client_id: str, body: ClientUpdate
) -> Changed[ClientOut]:
    changes = {field: getattr(body, field) for field in body.model_fields_set}
    client = await tenants.update_client(session, client_id, changes)
    # Cached lookups carry the old limits; forgetting them applies the new ones at once.
    return Changed(client_out(client, settings), await _prefixes(session, client_id))


async def set_active(
    session: AsyncSession,
    settings: Settings,
    client_id: str,
    active: bool,
    *,
    acting_client_id: str,
) -> Changed[ClientOut]:
    if not active and client_id == acting_client_id:
        raise ConflictError(
            "a client cannot deactivate itself: the key making this request would stop working"
        )
    client = await tenants.set_client_active(session, client_id, active)
    return Changed(client_out(client, settings), await _prefixes(session, client_id))


# -- keys ------------------------------------------------------------------------------


def key_status(key: ApiKey, now: datetime) -> KeyStatus:
    if key.revoked_at is not None:
        return "revoked"
    if key.expires_at is not None and key.expires_at <= now:
        return "expired"
    return "active"


def key_out(key: ApiKey, now: datetime) -> KeyOut:
    scopes = sorted(key.scopes)
    return KeyOut(
        id=key.id,
        client_id=key.client_id,
        name=key.name,
        prefix=key.prefix,
        scopes=scopes,
        admin=ADMIN_SCOPE in scopes,
        status=key_status(key, now),
        created_at=key.created_at,
        expires_at=key.expires_at,
        revoked_at=key.revoked_at,
    )


def issued_out(issued: tenants.IssuedKey, replaces: str | None = None) -> IssuedKeyOut:
    listed = key_out(issued.key, datetime.now(UTC))
    return IssuedKeyOut(**listed.model_dump(), key=issued.plaintext, replaces=replaces)


async def _live_client(session: AsyncSession, client_id: str) -> Client:
    client = await tenants.get_client(session, client_id)
    if not client.active:
        raise ConflictError(f"client {client_id} is deactivated; activate it first")
    return client


async def issue_key(
    session: AsyncSession, settings: Settings, client_id: str, body: KeyCreate
) -> IssuedKeyOut:
    await _live_client(session, client_id)
    if await repository.active_key_count(session, client_id, datetime.now(UTC)) >= MAX_ACTIVE_KEYS:
        raise ConflictError(
            f"client {client_id} already has {MAX_ACTIVE_KEYS} active keys; revoke some first"
        )
    scopes = [*DEFAULT_SCOPES, *([ADMIN_SCOPE] if body.admin else [])]
    expires = (
        None
        if body.expires_in_days is None
        else datetime.now(UTC) + timedelta(days=body.expires_in_days)
    )
    issued = await tenants.issue_key(
        session,
        settings.secret_key.get_secret_value(),
        client_id,
        name=body.name,
        scopes=scopes,
        expires_at=expires,
    )
    return issued_out(issued)


async def list_keys(session: AsyncSession, client_id: str) -> list[KeyOut]:
    await tenants.get_client(session, client_id)
    now = datetime.now(UTC)
    return [key_out(k, now) for k in await tenants.list_keys(session, client_id)]


async def rotate_key(
    session: AsyncSession, settings: Settings, client_id: str, key_id: str
) -> Changed[IssuedKeyOut]:
    await _live_client(session, client_id)
    old = await tenants.get_key(session, key_id, client_id)
    if old.revoked_at is not None:
        # Rotating a revoked key would quietly bring its access back.
        raise ConflictError(f"key {key_id} is revoked; issue a new key instead")
    issued = await tenants.rotate_key(
        session, settings.secret_key.get_secret_value(), key_id, client_id
    )
    return Changed(issued_out(issued, replaces=old.id), (old.prefix,))


async def revoke_key(session: AsyncSession, client_id: str, key_id: str) -> Changed[KeyOut]:
    key = await tenants.revoke_key(session, key_id, client_id)
    return Changed(key_out(key, datetime.now(UTC)), (key.prefix,))


# -- usage -----------------------------------------------------------------------------


def day_window(start: date | None, end: date | None) -> tuple[datetime | None, datetime | None]:
    """``[start 00:00 UTC, end + 1 day 00:00 UTC)``: both days included."""
    if start is not None and end is not None and start > end:
        raise BadRequestError(
            f"start ({start.isoformat()}) is after end ({end.isoformat()})",
            details={"start": start.isoformat(), "end": end.isoformat()},
        )
    since = None if start is None else datetime.combine(start, time.min, UTC)
    until = None if end is None else datetime.combine(end + timedelta(days=1), time.min, UTC)
    return since, until


def _totals(agg: Aggregate) -> UsageTotals:
    return UsageTotals(
        requests=agg.requests,
        errors=agg.errors,
        prompt_tokens=agg.prompt_tokens,
        completion_tokens=agg.completion_tokens,
        total_tokens=agg.prompt_tokens + agg.completion_tokens,
        cost_usd=agg.cost_usd,
        avg_latency_ms=agg.avg_latency_ms,
    )


async def usage_report(
    session: AsyncSession,
    group_by: UsageGroup,
    *,
    start: date | None,
    end: date | None,
    client_id: str | None,
    service: str | None,
    limit: int,
) -> UsageReport:
    since, until = day_window(start, end)
    where = LedgerFilter(since=since, until=until, client_id=client_id, service=service)
    groups = await repository.usage_by(session, group_by, where, limit=limit + 1)
    totals = await repository.usage_totals(session, where)
    return UsageReport(
        group_by=group_by,
        start=start,
        end=end,
        client_id=client_id,
        service=service,
        rows=[
            UsageRow(key=g.key, client_name=g.client_name, **_totals(g).model_dump())
            for g in groups[:limit]
        ],
        totals=_totals(totals),
        truncated=len(groups) > limit,
    )


def ledger_out(row: UsageRecord) -> LedgerRecord:
    return LedgerRecord(
        id=row.id,
        request_id=row.request_id,
        correlation_id=row.correlation_id,
        client_id=row.client_id,
        service=row.service,
        route=row.route,
        model=row.model,
        prompt_tokens=row.prompt_tokens,
        completion_tokens=row.completion_tokens,
        cost_usd=round(float(row.cost_usd), 10),
        latency_ms=row.latency_ms,
        status_code=row.status_code,
        outcome=row.outcome,
        flagged=row.flagged,
        created_at=row.created_at,
    )


async def ledger(
    session: AsyncSession,
    *,
    client_id: str | None,
    service: str | None,
    start: date | None,
    end: date | None,
    before_id: int | None,
    limit: int,
    correlation_id: str | None = None,
) -> LedgerPage:
    since, until = day_window(start, end)
    where = LedgerFilter(
        since=since,
        until=until,
        client_id=client_id,
        service=service,
        correlation_id=correlation_id,
    )
    rows = await repository.ledger_page(session, where, limit=limit + 1, before_id=before_id)
    items = [ledger_out(r) for r in rows[:limit]]
    more = len(rows) > limit
    return LedgerPage(items=items, next_before_id=items[-1].id if more and items else None)


async def ledger_entry(session: AsyncSession, request_id: str) -> LedgerRecord:
    row = await repository.ledger_record(session, request_id)
    if row is None:
        raise NotFoundError(
            f"no ledger row for request {request_id} (the ledger writes rows in batches,"
            " shortly after each request ends)"
        )
    return ledger_out(row)


# -- prices ----------------------------------------------------------------------------


def price_table_out(table: PriceTable) -> PriceTableOut:
    return PriceTableOut.model_validate(table.as_dict())
