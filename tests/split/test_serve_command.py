"""``ai-platform serve``: the service selection, workers from WEB_CONCURRENCY, and no
migration unless asked (the uvicorn server is replaced by a recorder)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from typer.testing import CliRunner

from ai_platform import cli
from ai_platform.cli import app
from ai_platform.config import get_settings

runner = CliRunner()


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    calls: list[dict[str, Any]] = []

    def record(target: str, **kwargs: Any) -> None:
        selection = os.environ.get("SERVE_SERVICES")
        calls.append({"target": target, "SERVE_SERVICES": selection, **kwargs})

    class Recorder:
        """Stands in for the one-process server: records what it would serve."""

        started = True

        def __init__(self, config: uvicorn.Config) -> None:
            record(str(config.app), port=config.port, workers=config.workers)

        def run(self) -> None:
            return None

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/serve.db")
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("SERVE_SERVICES", raising=False)
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    monkeypatch.setattr(uvicorn, "run", record)
    monkeypatch.setattr(cli, "AnnouncingServer", Recorder, raising=False)
    get_settings.cache_clear()
    yield calls
    # serve exports the selection for its workers; do not leak it into other tests.
    os.environ.pop("SERVE_SERVICES", None)
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
    get_settings.cache_clear()


def test_services_are_selected_for_the_workers_and_validated(
    served: list[dict[str, Any]],
) -> None:
    result = runner.invoke(app, ["serve", "--services", "agent, knowledge", "--port", "8001"])
    assert result.exit_code == 0, result.output
    (call,) = served
    assert call["SERVE_SERVICES"] == "agent,knowledge"
    assert call["target"] == "ai_platform.gateway.app:app"
    assert (call["port"], call["workers"]) == (8001, 1)

    refused = runner.invoke(app, ["serve", "--services", "knowledge,billing"])
    assert refused.exit_code == 2
    assert "billing" in refused.output
    assert len(served) == 1  # nothing started


def test_workers_default_to_web_concurrency_and_serve_does_not_migrate(
    served: list[dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    assert runner.invoke(app, ["serve"]).exit_code == 0
    assert served[-1]["workers"] == 3
    assert served[-1]["SERVE_SERVICES"] is None  # the gateway
    assert not (tmp_path / "serve.db").exists()  # no migration without --migrate

    assert runner.invoke(app, ["serve", "--workers", "1", "--migrate"]).exit_code == 0
    assert served[-1]["workers"] == 1
    assert (tmp_path / "serve.db").exists()
