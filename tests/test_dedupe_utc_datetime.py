"""UTCDateTime: every ORM datetime column reads back as an aware UTC datetime, on both
backends, and the schema it maps to is the migrations' ``DateTime(timezone=True)``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import DateTime, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from ai_platform.core.ids import new_id
from ai_platform.db.base import Base
from ai_platform.db.engine import create_engine
from ai_platform.db.models import ApiKey, Client
from ai_platform.db.registry import metadata
from ai_platform.db.types import UTCDateTime, as_utc

KOLKATA = timezone(timedelta(hours=5, minutes=30))


@pytest.fixture
async def conn(db_url: str) -> AsyncIterator[AsyncConnection]:
    """A connection inside a transaction that is rolled back: nothing is left behind."""
    engine = create_engine(db_url)
    try:
        async with engine.connect() as connection:
            transaction = await connection.begin()
            try:
                yield connection
            finally:
                await transaction.rollback()
    finally:
        await engine.dispose()


async def _client(conn: AsyncConnection, **values: Any) -> str:
    client_id = new_id("cli")
    now = datetime.now(UTC)
    row = {"created_at": now, "updated_at": now, **values}
    await conn.execute(
        insert(Client).values(id=client_id, name=f"utc-{client_id}", active=True, **row)
    )
    return client_id


async def _times(conn: AsyncConnection, client_id: str) -> tuple[datetime, datetime]:
    row = (
        await conn.execute(
            select(Client.created_at, Client.updated_at).where(Client.id == client_id)
        )
    ).one()
    return row[0], row[1]


def test_every_datetime_column_is_utc_aware() -> None:
    columns = [c for t in metadata.tables.values() for c in t.columns]
    stamps = [c for c in columns if isinstance(c.type, DateTime | UTCDateTime)]
    assert stamps, "no datetime columns found"
    assert all(isinstance(c.type, UTCDateTime) for c in stamps), [
        f"{c.table.name}.{c.name}" for c in stamps if not isinstance(c.type, UTCDateTime)
    ]
    assert Base.type_annotation_map[datetime].__class__ is UTCDateTime


def test_as_utc() -> None:
    naive = datetime(2025, 6, 1, 12, 0)
    assert as_utc(naive) == datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
    shifted = as_utc(datetime(2025, 6, 1, 17, 30, tzinfo=KOLKATA))
    assert shifted.tzinfo is UTC and shifted == datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
    with pytest.raises(TypeError):
        as_utc("2025-06-01")  # type: ignore[arg-type]


async def test_a_naive_datetime_reads_back_as_aware_utc(conn: AsyncConnection) -> None:
    naive = datetime(2025, 6, 1, 12, 0, 0, 123456)
    client_id = await _client(conn, created_at=naive, updated_at=naive)
    created, updated = await _times(conn, client_id)
    assert created.tzinfo is not None and created.utcoffset() == timedelta(0)
    assert created == naive.replace(tzinfo=UTC) == updated


async def test_a_naive_value_written_by_raw_sql_on_sqlite_reads_back_aware(
    conn: AsyncConnection,
) -> None:
    if conn.dialect.name != "sqlite":
        pytest.skip("raw naive text only means UTC on SQLite")
    client_id = await _client(conn)
    await conn.execute(
        text("UPDATE clients SET created_at = '2025-01-02 03:04:05.000000' WHERE id = :id"),
        {"id": client_id},
    )
    raw = (
        await conn.execute(text("SELECT created_at FROM clients WHERE id = :id"), {"id": client_id})
    ).scalar_one()
    assert isinstance(raw, str)  # SQLite keeps no zone: the column type must add it
    created, _ = await _times(conn, client_id)
    assert created == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert created.utcoffset() == timedelta(0)


async def test_a_non_utc_value_is_stored_as_the_same_instant_in_utc(
    conn: AsyncConnection,
) -> None:
    local = datetime(2025, 6, 1, 17, 30, tzinfo=KOLKATA)  # 12:00 UTC
    client_id = await _client(conn, created_at=local)
    created, _ = await _times(conn, client_id)
    assert created == local  # the same instant
    assert created.utcoffset() == timedelta(0)
    assert (created.hour, created.minute) == (12, 0)
    # Filters compare instants too, whatever zone the parameter is in.
    found = await conn.scalar(
        select(Client.id).where(Client.id == client_id, Client.created_at == local)
    )
    assert found == client_id
    before = await conn.scalar(
        select(Client.id).where(
            Client.id == client_id,
            Client.created_at > datetime(2025, 6, 1, 11, 59, tzinfo=UTC),
            Client.created_at < datetime(2025, 6, 1, 12, 1, tzinfo=UTC),
        )
    )
    assert before == client_id


async def test_nullable_datetimes_stay_none_and_are_aware_when_set(
    conn: AsyncConnection,
) -> None:
    client_id = await _client(conn)
    expires = datetime(2030, 1, 1, tzinfo=KOLKATA)
    never, later = new_id("key"), new_id("key")
    for n, (key_id, expires_at) in enumerate([(never, None), (later, expires)]):
        await conn.execute(
            insert(ApiKey).values(
                id=key_id,
                client_id=client_id,
                name="k",
                prefix=new_id("p")[-16:],
                key_hash=f"{n:064d}",
                scopes=[],
                created_at=datetime.now(UTC),
                expires_at=expires_at,
            )
        )
    rows = await conn.execute(
        select(ApiKey.id, ApiKey.expires_at).where(ApiKey.client_id == client_id)
    )
    got: dict[str, datetime | None] = {row[0]: row[1] for row in rows}
    assert got[never] is None
    at = got[later]
    assert at is not None and at == expires and at.utcoffset() == timedelta(0)


async def test_the_schema_matches_the_migrations(conn: AsyncConnection) -> None:
    """UTCDateTime's impl is the migrations' DateTime(timezone=True): no type drift."""

    def diff(sync_conn: Any) -> list[Any]:
        context = MigrationContext.configure(sync_conn, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    changes = await conn.run_sync(diff)
    flat = [c for change in changes for c in (change if isinstance(change, list) else [change])]
    type_changes = [c for c in flat if c[0] == "modify_type"]
    assert type_changes == []
