"""Async engine and session factory for SQLite (aiosqlite) or PostgreSQL (asyncpg)."""

from __future__ import annotations

import socket
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine.url import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def ensure_sqlite_dir(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers run beside the single writer; busy_timeout makes writers queue
    # instead of failing with "database is locked" when several processes share a file.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    if url.startswith("sqlite"):
        ensure_sqlite_dir(url)
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 10})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(
        url, echo=echo, pool_size=10, max_overflow=20, pool_pre_ping=True, pool_recycle=1800
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def redact_url(url: str) -> str:
    """The URL with its password masked, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # a URL too malformed to parse shows nothing of itself
        return "<unparseable URL>"


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def connection_failure(exc: BaseException) -> str | None:
    """Why the database could not be reached or opened, in one line with what to check;
    None when ``exc`` is not such a failure (a failing query, a migration bug)."""
    try:
        from asyncpg import exceptions as pg  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - asyncpg is a dependency
        pg = None
    for error in _chain(exc):
        if pg is not None and isinstance(error, pg.InvalidCatalogNameError):
            return f"{error}: create it (createdb) or correct the database name in the URL"
        if pg is not None and isinstance(
            error, pg.InvalidAuthorizationSpecificationError | pg.InvalidPasswordError
        ):
            return f"{error}: check the user and password in the URL"
        if isinstance(error, socket.gaierror):
            return f"the host name does not resolve ({error.strerror}): check the host in the URL"
        if isinstance(error, ConnectionRefusedError):
            return "connection refused: is the server running, on that host and port?"
        if isinstance(error, ConnectionError | TimeoutError):
            reason = str(error) or type(error).__name__
            return f"{reason}: is the server running and reachable?"
        if isinstance(error, OSError) and error.filename is not None:
            return f"{error.strerror}: {error.filename}"
        if isinstance(error, sqlite3.OperationalError) and "unable to open" in str(error):
            return f"{error}: check that the file's directory exists and is writable"
    return None
