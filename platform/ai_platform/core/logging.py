"""Structured JSON logs that carry the request id, client id and service."""

from __future__ import annotations

import logging
import sys
import time
from contextvars import ContextVar
from typing import Any

import orjson

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
client_id_var: ContextVar[str | None] = ContextVar("client_id", default=None)
service_var: ContextVar[str | None] = ContextVar("service", default=None)

_RESERVED = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    converter = time.gmtime  # type: ignore[assignment]

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, var in (
            ("request_id", request_id_var),
            ("client_id", client_id_var),
            ("service", service_var),
        ):
            value = var.get()
            if value is not None:
                entry[key] = value
        for key, value in record.__dict__.items():
            if key not in _RESERVED and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def configure_logging(level: str = "INFO") -> None:
    """Route the platform's and uvicorn's logs through one JSON handler on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    for name in ("ai_platform", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level.upper())
        logger.propagate = False
    # The platform writes its own access line with request id and client id.
    logging.getLogger("uvicorn.access").disabled = True


def _is_connection_failure(exc: BaseException) -> bool:
    current: BaseException | None = exc
    while current is not None:
        if isinstance(current, OSError | TimeoutError):
            return True
        # SQLAlchemy's OperationalError/InterfaceError, redis' and asyncpg's connection
        # errors, named so without importing each driver here.
        if any(
            word in type(current).__name__
            for word in ("Connection", "Operational", "Interface", "CannotConnect")
        ):
            return True
        current = current.__cause__ or current.__context__
    return False


def one_line(exc: BaseException) -> str:
    """An exception as ``Type: first line``; a driver's own error rather than the
    SQLAlchemy wrapper around it."""
    orig = getattr(exc, "orig", None)
    error = orig if isinstance(orig, BaseException) else exc
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__


class OutageLog:
    """For a loop that retries forever (a poller, a sweeper): one line when it starts
    failing, one when it works again, and nothing in between but debug records.

    A lost database or Redis is logged without a traceback (it says nothing the message
    does not); any other first failure keeps its traceback, once.
    """

    def __init__(self, logger: logging.Logger, what: str) -> None:
        self._logger = logger
        self._what = what
        self._failures = 0
        self._since = 0.0

    @property
    def failing(self) -> bool:
        return self._failures > 0

    def failed(self, exc: BaseException) -> None:
        self._failures += 1
        if self._failures > 1:
            self._logger.debug("%s still failing: %s", self._what, one_line(exc), exc_info=exc)
            return
        self._since = time.monotonic()
        connection = _is_connection_failure(exc)
        self._logger.error(
            "%s failed: %s; retrying, and logging again only when it recovers",
            self._what,
            one_line(exc),
            exc_info=None if connection else exc,
        )

    def succeeded(self) -> None:
        if not self._failures:
            return
        self._logger.warning(
            "%s recovered after %d failed attempts over %.0f s",
            self._what,
            self._failures,
            time.monotonic() - self._since,
        )
        self._failures = 0
