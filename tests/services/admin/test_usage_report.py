"""Usage reports aggregated in SQL, checked against a ledger with known numbers."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ai_platform.core.errors import BadRequestError, NotFoundError
from ai_platform.services.admin import service
from ai_platform.services.admin.schemas import UsageReport
from tests.services.admin.conftest import D1, D2, D3, KnownLedger


def table(report: UsageReport) -> dict[str | None, dict[str, Any]]:
    return {row.key: row.model_dump(exclude={"key", "client_name"}) for row in report.rows}


def agg(
    requests: int, errors: int, prompt: int, completion: int, cost: float, latency: float | None
) -> dict[str, Any]:
    return {
        "requests": requests,
        "errors": errors,
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "cost_usd": cost,
        "avg_latency_ms": latency,
    }


async def report(session: AsyncSession, group_by: str, **kw: Any) -> UsageReport:
    values: dict[str, Any] = {
        "start": D1,
        "end": D3,
        "client_id": None,
        "service": None,
        "limit": 1000,
    }
    values.update(kw)
    return await service.usage_report(session, group_by, **values)  # type: ignore[arg-type]


@pytest.fixture
async def ledger(session: AsyncSession, known: KnownLedger) -> KnownLedger:
    session.add_all(known.rows())
    await session.flush()
    return known


async def test_group_by_client(session: AsyncSession, ledger: KnownLedger) -> None:
    result = await report(session, "client")
    assert [r.key for r in result.rows] == [ledger.client_a, ledger.client_b]  # cost, descending
    assert table(result) == {
        ledger.client_a: agg(3, 1, 1300, 650, 0.0165, 300.0),
        ledger.client_b: agg(3, 1, 50, 0, 0.0001008, 20.667),
    }
    # No clients rows exist for these ids: the outer join keeps their usage.
    assert [r.client_name for r in result.rows] == [None, None]
    assert result.totals.model_dump() == agg(6, 2, 1350, 650, 0.0166008, 160.333)
    assert result.truncated is False


async def test_group_by_service(session: AsyncSession, ledger: KnownLedger) -> None:
    result = await report(session, "service")
    assert [r.key for r in result.rows] == ["agent", "knowledge", "admin"]
    assert table(result) == {
        "agent": agg(2, 1, 1010, 500, 0.0126, 275.0),
        "knowledge": agg(3, 0, 340, 150, 0.0040008, 136.667),
        "admin": agg(1, 1, 0, 0, 0.0, 2.0),
    }


async def test_group_by_model_keeps_requests_without_a_model(
    session: AsyncSession, ledger: KnownLedger
) -> None:
    result = await report(session, "model")
    assert [r.key for r in result.rows] == ["gpt-4o", "gpt-4o-mini", "text-embedding-3-small", None]
    assert table(result) == {
        "gpt-4o": agg(2, 1, 1010, 500, 0.0126, 275.0),
        "gpt-4o-mini": agg(2, 0, 300, 150, 0.004, 200.0),
        "text-embedding-3-small": agg(1, 0, 40, 0, 0.0000008, 10.0),
        None: agg(1, 1, 0, 0, 0.0, 2.0),
    }


async def test_group_by_day_uses_utc_days(session: AsyncSession, ledger: KnownLedger) -> None:
    result = await report(session, "day")
    assert [r.key for r in result.rows] == ["2001-02-03", "2001-02-04", "2001-02-05"]
    assert table(result) == {
        "2001-02-03": agg(2, 0, 300, 150, 0.004, 200.0),
        "2001-02-04": agg(2, 1, 1010, 500, 0.0126, 275.0),
        "2001-02-05": agg(2, 1, 40, 0, 0.0000008, 6.0),
    }


async def test_day_grouping_ignores_the_session_time_zone(
    session: AsyncSession, ledger: KnownLedger
) -> None:
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("only PostgreSQL has a session time zone")
    # Tokyo is UTC+9: a local-time bucketing would move the 23:59 row to the next day.
    await session.execute(text("SET TIME ZONE 'Asia/Tokyo'"))
    result = await report(session, "day")
    assert [(r.key, r.requests) for r in result.rows] == [
        ("2001-02-03", 2),
        ("2001-02-04", 2),
        ("2001-02-05", 2),
    ]


async def test_date_filters_include_both_days_and_nothing_else(
    session: AsyncSession, ledger: KnownLedger
) -> None:
    first = await report(session, "day", start=D1, end=D1)
    # 23:59:59.5 is in; 00:00:00 of the next day is out.
    assert [(r.key, r.requests) for r in first.rows] == [("2001-02-03", 2)]
    middle = await report(session, "service", start=D2, end=D2)
    assert table(middle) == {"agent": agg(2, 1, 1010, 500, 0.0126, 275.0)}
    # Open-ended ranges reach whatever else the database holds: look at our clients only.
    a, b = ledger.client_a, ledger.client_b
    tail = await report(session, "service", start=D2, end=None, client_id=a)
    assert table(tail) == {"agent": agg(1, 1, 1000, 500, 0.0125, 500.0)}
    assert (await report(session, "day", start=D2, end=None, client_id=b)).totals.requests == 3
    head = await report(session, "day", start=None, end=D1, client_id=a)
    assert [(r.key, r.requests) for r in head.rows] == [("2001-02-03", 2)]
    assert (await report(session, "day", start=None, end=D1, client_id=b)).rows == []


async def test_client_and_service_filters(session: AsyncSession, ledger: KnownLedger) -> None:
    b = await report(session, "service", client_id=ledger.client_b)
    assert table(b) == {
        "agent": agg(1, 0, 10, 0, 0.0001, 50.0),
        "knowledge": agg(1, 0, 40, 0, 0.0000008, 10.0),
        "admin": agg(1, 1, 0, 0, 0.0, 2.0),
    }
    knowledge = await report(session, "client", service="knowledge")
    assert table(knowledge) == {
        ledger.client_a: agg(2, 0, 300, 150, 0.004, 200.0),
        ledger.client_b: agg(1, 0, 40, 0, 0.0000008, 10.0),
    }


async def test_limit_truncates_rows_but_not_totals(
    session: AsyncSession, ledger: KnownLedger
) -> None:
    result = await report(session, "service", limit=2)
    assert [r.key for r in result.rows] == ["agent", "knowledge"]
    assert result.truncated is True
    assert result.totals.requests == 6


async def test_empty_range_gives_zero_totals(session: AsyncSession, ledger: KnownLedger) -> None:
    result = await report(session, "day", start=date(1990, 1, 1), end=date(1990, 1, 2))
    assert result.rows == []
    assert result.totals.model_dump() == agg(0, 0, 0, 0, 0.0, None)


async def test_start_after_end_is_rejected(session: AsyncSession) -> None:
    with pytest.raises(BadRequestError, match="after end"):
        await report(session, "day", start=D2, end=D1)


async def test_ledger_pages_newest_first(session: AsyncSession, ledger: KnownLedger) -> None:
    seen: list[str] = []
    before: int | None = None
    for _ in range(4):
        page = await service.ledger(
            session,
            client_id=ledger.client_a,
            service=None,
            start=None,
            end=None,
            before_id=before,
            limit=2,
        )
        seen.extend(item.route for item in page.items)
        costs = [item.cost_usd for item in page.items]
        if before is None:
            # Inserted in order knowledge, knowledge, agent: newest (highest id) first.
            assert costs == [0.0125, 0.0025]
        before = page.next_before_id
        if before is None:
            break
    assert len(seen) == 3
    agent_only = await service.ledger(
        session, client_id=None, service="agent", start=D1, end=D3, before_id=None, limit=50
    )
    assert {(i.client_id, i.status_code) for i in agent_only.items} == {
        (ledger.client_a, 502),
        (ledger.client_b, 200),
    }
    assert agent_only.next_before_id is None


async def test_ledger_entry_by_request_id(session: AsyncSession, known: KnownLedger) -> None:
    row = known.rows()[1]
    session.add(row)
    await session.flush()
    entry = await service.ledger_entry(session, row.request_id)
    assert (entry.prompt_tokens, entry.completion_tokens, entry.cost_usd) == (200, 100, 0.0025)
    assert entry.created_at.tzinfo is not None
    assert entry.created_at.isoformat().startswith("2001-02-03T23:59:59.5")
    with pytest.raises(NotFoundError):
        await service.ledger_entry(session, "req_does_not_exist")
