"""A loop that retries forever logs an outage once and its recovery once."""

from __future__ import annotations

import logging
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from ai_platform.core.logging import OutageLog, one_line
from ai_platform.harness.waiting import wait_for
from ai_platform.services.research import repository
from ai_platform.services.research.config import ResearchSettings
from ai_platform.services.research.runner import LocalRunner

LOGGER = "ai_platform.test.outage"


class Collect(logging.Handler):
    """Records straight from the logger: the platform's loggers do not propagate once
    its logging is configured, so pytest's caplog may not see them."""

    def __init__(self, name: str) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.logger = logging.getLogger(name)

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def at(self, level: int) -> list[logging.LogRecord]:
        return [r for r in self.records if r.levelno == level]

    def __enter__(self) -> Collect:
        self._level = self.logger.level
        self.logger.addHandler(self)
        self.logger.setLevel(logging.DEBUG)
        return self

    def __exit__(self, *exc: object) -> None:
        self.logger.removeHandler(self)
        self.logger.setLevel(self._level)


def test_an_outage_is_one_error_then_one_recovery() -> None:
    with Collect(LOGGER) as log:
        outage = OutageLog(log.logger, "polling")
        outage.succeeded()
        assert not log.records
        for _ in range(50):
            outage.failed(ConnectionRefusedError(111, "Connect call failed"))
        [error] = log.at(logging.ERROR)
        assert "polling failed: ConnectionRefusedError" in error.getMessage()
        assert error.exc_info is None  # a lost connection needs no traceback
        assert len(log.at(logging.DEBUG)) == 49
        outage.succeeded()
        outage.succeeded()
    [recovered] = log.at(logging.WARNING)
    assert "polling recovered after 50 failed attempts" in recovered.getMessage()
    assert not outage.failing


def test_a_bug_keeps_its_traceback_once() -> None:
    with Collect(LOGGER) as log:
        outage = OutageLog(log.logger, "polling")
        for _ in range(3):
            outage.failed(KeyError("task"))
    [error] = log.at(logging.ERROR)
    assert error.exc_info is not None and "KeyError" in error.getMessage()


def test_one_line_shows_the_drivers_error() -> None:
    wrapped = OperationalError("SELECT 1", {}, ConnectionRefusedError("refused\nmore detail"))
    assert one_line(wrapped) == "ConnectionRefusedError: refused"


async def test_the_research_poller_reports_a_lost_database_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    state = {"calls": 0, "down": True}

    class Session:
        async def __aenter__(self) -> Session:
            return self

        async def __aexit__(self, *exc: object) -> None:
            return None

    def sessionmaker() -> Session:
        state["calls"] += 1
        if state["down"]:
            raise OperationalError("SELECT", {}, ConnectionRefusedError("connection refused"))
        return Session()

    async def no_jobs(*_args: Any, **_kwargs: Any) -> list[str]:
        return []

    monkeypatch.setattr(repository, "claimable_jobs", no_jobs)
    platform = SimpleNamespace(settings=None, sessionmaker=sessionmaker, governor=None)
    runner = LocalRunner(platform, ResearchSettings(poll_interval_s=0.001))
    with Collect("ai_platform.research") as log:
        await runner.start()
        try:
            await wait_for(lambda: state["calls"] >= 20, what="20 polls")
            state["down"] = False
            calls = state["calls"]
            await wait_for(lambda: state["calls"] >= calls + 5, what="polls after recovery")
        finally:
            await runner.stop()
    [error] = log.at(logging.ERROR)
    assert error.exc_info is None and "connection refused" in error.getMessage()
    [recovered] = log.at(logging.WARNING)
    assert recovered.getMessage().startswith(
        f"looking for research jobs recovered after {calls} failed attempts"
    )
