"""Column types shared by every ORM model (core and services)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Numeric
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

Money = Numeric(18, 10)
"""US dollars, to 1e-10: the ledger's precision (budget counters use the same unit)."""


class UTCDateTime(TypeDecorator[datetime]):
    """``DateTime(timezone=True)`` that always hands back an aware UTC datetime.

    PostgreSQL stores ``timestamptz`` and returns aware values; SQLite stores text
    without a zone and returns naive ones. Every value is converted to UTC on the way
    in (a naive one is taken to be UTC already), so a naive value read back from
    SQLite is UTC and gets the zone attached. The schema is plain
    ``DateTime(timezone=True)``, as the migrations create it.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)

    def process_result_value(self, value: Any | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)


def as_utc(value: datetime) -> datetime:
    """The same instant in UTC; a naive value is taken to be UTC already."""
    if not isinstance(value, datetime):
        raise TypeError(f"expected a datetime, got {type(value).__name__}")
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
