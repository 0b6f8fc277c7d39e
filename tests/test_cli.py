"""The ai-platform command: clients, keys, demo, machine-readable output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ai_platform.cli import app
from ai_platform.config import get_settings

runner = CliRunner()


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/cli.db")
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield tmp_path  # type: ignore[misc]
    get_settings.cache_clear()


def invoke(*args: str) -> dict:  # type: ignore[type-arg]
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.output.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_clients_and_keys_round_trip(cli_env: Path) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    client = invoke("clients", "create", "acme", "--rpm", "5", "--budget-usd", "2.5", "--json")
    assert client["rpm_limit"] == 5 and client["monthly_budget_usd"] == 2.5
    key = invoke("keys", "create", "--client", client["id"], "--admin", "--json")
    assert key["key"].startswith("aip_") and "admin" in key["scopes"]
    listed = invoke("keys", "list", "--client", client["id"], "--json")
    assert [k["prefix"] for k in listed] == [key["prefix"]]
    assert key["key"] not in json.dumps(listed)
    revoked = invoke("keys", "revoke", key["id"], "--json")
    assert revoked["revoked_at"]
    duplicate = runner.invoke(app, ["clients", "create", "acme"])
    assert duplicate.exit_code == 1 and "conflict" in duplicate.output


def test_demo_is_idempotent_and_keeps_its_key(cli_env: Path) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    first = invoke("demo", "--json")
    second = invoke("demo", "--json")
    assert first["key"] == second["key"] and not second["new_key"]
    assert (cli_env / "data" / "demo_api_key").read_text().strip() == first["key"]


def test_invalid_settings_exit_with_the_variable_named(
    cli_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEFAULT_RPM", "zero")
    get_settings.cache_clear()
    result = runner.invoke(app, ["clients", "list"])
    assert result.exit_code == 2
    assert "default_rpm" in result.output
