"""Usage queries over the ledger, aggregated in the database (flush, never commit)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Select, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from ai_platform.db.models import ApiKey, Client, UsageRecord


class utc_day(FunctionElement[date]):
    """The UTC calendar day of a timestamp, on every supported database.

    Rendered without bound parameters, so PostgreSQL accepts the same expression in
    SELECT and GROUP BY.
    """

    type = Date()
    name = "utc_day"
    inherit_cache = True


@compiles(utc_day, "postgresql")
def _utc_day_postgresql(element: utc_day, compiler: Any, **kw: Any) -> str:
    # timestamptz -> UTC wall time, whatever the session's TimeZone is; a cast to date
    # is cheaper per row than to_char().
    return f"CAST(({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'UTC' AS DATE)"


@compiles(utc_day, "sqlite")
def _utc_day_sqlite(element: utc_day, compiler: Any, **kw: Any) -> str:
    # SQLAlchemy stores SQLite datetimes as 'YYYY-MM-DD HH:MM:SS.ffffff' text, in UTC here.
    return f"date({compiler.process(element.clauses, **kw)})"


@compiles(utc_day)
def _utc_day_default(element: utc_day, compiler: Any, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS DATE)"


@dataclass(frozen=True, slots=True)
class LedgerFilter:
    since: datetime | None = None
    until: datetime | None = None
    """Exclusive."""
    client_id: str | None = None
    service: str | None = None
    correlation_id: str | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        out: list[ColumnElement[bool]] = []
        if self.since is not None:
            out.append(UsageRecord.created_at >= self.since)
        if self.until is not None:
            out.append(UsageRecord.created_at < self.until)
        if self.client_id is not None:
            out.append(UsageRecord.client_id == self.client_id)
        if self.service is not None:
            out.append(UsageRecord.service == self.service)
        if self.correlation_id is not None:
            out.append(UsageRecord.correlation_id == self.correlation_id)
        return out


@dataclass(frozen=True, slots=True)
class Aggregate:
    key: str | None
    client_name: str | None
    requests: int
    errors: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    avg_latency_ms: float | None


def _measures() -> list[Any]:
    r = UsageRecord
    return [
        func.count().label("requests"),
        func.coalesce(func.sum(case((r.status_code >= 400, 1), else_=0)), 0).label("errors"),
        func.coalesce(func.sum(r.prompt_tokens), 0).label("prompt_tokens"),
        func.coalesce(func.sum(r.completion_tokens), 0).label("completion_tokens"),
        func.coalesce(func.sum(r.cost_usd), 0).label("cost_usd"),
        func.avg(r.latency_ms).label("avg_latency_ms"),
    ]


def _aggregate(row: Any, key: str | None, client_name: str | None = None) -> Aggregate:
    return Aggregate(
        key=key,
        client_name=client_name,
        requests=int(row.requests),
        errors=int(row.errors),
        prompt_tokens=int(row.prompt_tokens),
        completion_tokens=int(row.completion_tokens),
        # Numeric sums come back as Decimal (PostgreSQL) or float (SQLite): 10 places
        # is the ledger's own precision and hides SQLite's binary-float noise.
        cost_usd=round(float(row.cost_usd), 10),
        avg_latency_ms=None if row.avg_latency_ms is None else round(float(row.avg_latency_ms), 3),
    )


async def usage_by(
    session: AsyncSession, group_by: str, where: LedgerFilter, *, limit: int
) -> list[Aggregate]:
    """One aggregate per group, at most ``limit`` of them (ask for one more to detect more)."""
    r = UsageRecord
    cost = func.coalesce(func.sum(r.cost_usd), 0)
    query: Select[Any]
    if group_by == "client":
        # Aggregate first, then name the (few) groups: joining every ledger row to
        # clients before grouping costs 3x on SQLite.
        groups = (
            select(r.client_id.label("key"), *_measures())
            .where(*where.conditions())
            .group_by(r.client_id)
            .subquery()
        )
        query = (
            select(groups, Client.name.label("client_name"))
            .outerjoin(Client, Client.id == groups.c.key)
            .order_by(groups.c.cost_usd.desc(), groups.c.key)
            .limit(limit)
        )
        return [_aggregate(row, row.key, row.client_name) for row in await session.execute(query)]
    if group_by == "service":
        query = select(r.service.label("key"), *_measures()).group_by(r.service)
        query = query.order_by(cost.desc(), r.service)
    elif group_by == "model":
        query = select(r.model.label("key"), *_measures()).group_by(r.model)
        query = query.order_by(cost.desc(), r.model.asc().nulls_last())
    elif group_by == "day":
        day = utc_day(r.created_at)
        query = select(day.label("key"), *_measures()).group_by(day).order_by(day)
    else:
        raise ValueError(f"unknown grouping {group_by!r}")
    query = query.where(*where.conditions()).limit(limit)
    rows = (await session.execute(query)).all()
    return [_aggregate(row, None if row.key is None else str(row.key)) for row in rows]


async def usage_totals(session: AsyncSession, where: LedgerFilter) -> Aggregate:
    row = (await session.execute(select(*_measures()).where(*where.conditions()))).one()
    return _aggregate(row, None)


async def ledger_page(
    session: AsyncSession,
    where: LedgerFilter,
    *,
    limit: int,
    before_id: int | None = None,
) -> list[UsageRecord]:
    """Newest first by ledger id (the order rows were written); keyset-paginated."""
    query = select(UsageRecord).where(*where.conditions())
    if before_id is not None:
        query = query.where(UsageRecord.id < before_id)
    query = query.order_by(UsageRecord.id.desc()).limit(limit)
    return list(await session.scalars(query))


async def ledger_record(session: AsyncSession, request_id: str) -> UsageRecord | None:
    result: UsageRecord | None = await session.scalar(
        select(UsageRecord).where(UsageRecord.request_id == request_id)
    )
    return result


async def active_key_count(session: AsyncSession, client_id: str, now: datetime) -> int:
    query = select(func.count()).where(
        ApiKey.client_id == client_id,
        ApiKey.revoked_at.is_(None),
        or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > now),
    )
    return int(await session.scalar(query) or 0)


async def spend_since(session: AsyncSession, client_id: str, since: datetime) -> Aggregate:
    return await usage_totals(session, LedgerFilter(since=since, client_id=client_id))
