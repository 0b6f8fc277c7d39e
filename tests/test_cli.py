"""The ai-platform command: clients, keys, demo, machine-readable output."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import click
import pytest
import typer
from sqlalchemy.engine.url import make_url
from typer.testing import CliRunner

from ai_platform.cli import app
from ai_platform.config import get_settings
from ai_platform.harness.ports import free_port
from ai_platform.harness.processes import ServerProcess
from ai_platform.harness.waiting import wait_for_sync

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


def test_demo_banner_names_the_port_the_server_was_given(cli_env: Path) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    result = runner.invoke(app, ["demo", "--port", "8100"])
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:8100/api/v1/me" in result.output
    assert ":8000" not in result.output
    assert invoke("demo", "--host", "0.0.0.0", "--port", "9", "--json")["base_url"] == (
        "http://0.0.0.0:9"
    )


def test_tables_show_whole_ids_and_json_has_iso_times(cli_env: Path) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    client = invoke("clients", "create", "a client whose name is long enough to wrap", "--json")
    key = invoke("keys", "create", "--client", client["id"], "--expires-days", "3", "--json")
    for width in ("60", "80", "160"):
        listed = runner.invoke(app, ["clients", "list"], env={"COLUMNS": width})
        assert client["id"] in listed.output, listed.output
        keys = runner.invoke(
            app, ["keys", "list", "--client", client["id"]], env={"COLUMNS": width}
        )
        assert key["id"] in keys.output and key["prefix"] in keys.output, keys.output
        assert "datetime.datetime" not in keys.output
    [row] = invoke("keys", "list", "--client", client["id"], "--json")
    assert datetime.fromisoformat(row["expires_at"]) == datetime.fromisoformat(key["expires_at"])
    assert "T" in row["expires_at"] and row["revoked_at"] is None
    revoked = invoke("keys", "revoke", key["id"], "--json")
    assert datetime.fromisoformat(revoked["revoked_at"]).tzinfo is not None
    shown = invoke("clients", "show", client["id"], "--json")
    assert shown["id"] == client["id"] and [k["status"] for k in shown["keys"]] == ["revoked"]


def _commands(command: click.Command, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [path]
    for name, sub in getattr(command, "commands", {}).items():
        found += _commands(sub, (*path, name))
    return found


def test_help_names_values_instead_of_python_types(cli_env: Path) -> None:
    paths = _commands(typer.main.get_command(app))
    assert ("keys", "create") in paths and ("screen",) in paths
    for path in paths:
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0, result.output
        assert not re.search(r"<(str|bool|int|float|int range)>", result.output), (
            path,
            result.output,
        )
    assert "CLIENT_ID" in runner.invoke(app, ["keys", "create", "--help"]).output


def test_admin_scope_is_explained_where_keys_are_made(cli_env: Path) -> None:
    text = " ".join(
        runner.invoke(app, ["keys", "create", "--help"], env={"COLUMNS": "300"}).output.split()
    )
    assert "platform-wide" in text and "every client" in text


def test_an_unreachable_database_is_one_line_unless_debugging(
    cli_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing listens on a port just handed out and released.
    url = f"postgresql+asyncpg://postgres:hunter2@127.0.0.1:{free_port()}/nothing"
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    for args in (["db", "upgrade"], ["clients", "list"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 1
        lines = result.output.strip().splitlines()
        assert len(lines) == 2 and "Traceback" not in result.output, result.output
        assert "cannot reach the database" in lines[0] and "DATABASE_URL" in lines[0]
        assert "connection refused" in lines[0] and "hunter2" not in result.output
        assert "--debug" in lines[1]
    debugging = runner.invoke(app, ["--debug", "db", "upgrade"])
    assert isinstance(debugging.exception, OSError)


def test_a_failed_migration_is_one_line(cli_env: Path) -> None:
    with sqlite3.connect(cli_env / "cli.db") as db:
        db.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        db.execute("INSERT INTO alembic_version VALUES ('0123456789ab')")
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 1
    first = result.output.strip().splitlines()[0]
    assert first.startswith("error: migration failed") and "0123456789ab" in first


def test_serve_logs_where_it_listens(cli_env: Path) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    port = free_port()
    log = cli_env / "serve.log"
    env = {"DATABASE_URL": os.environ["DATABASE_URL"], "DATA_DIR": os.environ["DATA_DIR"]}
    command = [sys.executable, "-m", "ai_platform.cli", "serve", "--port", str(port)]
    with ServerProcess(
        "platform", command, port=port, env=env, log_path=log, cwd=cli_env
    ) as server:
        process = server.process
        wait_for_sync(
            lambda: f"listening on http://127.0.0.1:{port}" in log.read_text(),
            what="the listening line",
        )
    # Stopped with SIGINT (Ctrl+C): a clean exit, no traceback, no "Aborted!".
    assert process is not None and process.returncode == 0, log.read_text()
    assert "Traceback" not in log.read_text() and "Aborted" not in log.read_text()


MAKEFILE = Path(__file__).resolve().parents[1] / "Makefile"


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_help_lists_every_target() -> None:
    targets = set(re.findall(r"^([a-z][a-z-]*):", MAKEFILE.read_text(), flags=re.MULTILINE))
    assert {"run", "test", "lab", "load", "eval", "help"} <= targets
    out = subprocess.run(
        ["make", "-s", "-f", str(MAKEFILE), "help"], capture_output=True, text=True, check=True
    ).stdout
    listed = {line.split()[1] for line in out.splitlines() if line.startswith("make ")}
    assert listed == targets
    assert "http://127.0.0.1:8000" in out and "$(" not in out


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_lab_allows_root_only_as_root() -> None:
    out = subprocess.run(
        ["make", "-n", "-f", str(MAKEFILE), "-W", ".venv/.dev-installed", "lab"],
        capture_output=True,
        text=True,
        check=True,
        cwd=MAKEFILE.parent,
    ).stdout
    [lab] = [line for line in out.splitlines() if "jupyter lab" in line]
    assert ("--allow-root" in lab) == (os.geteuid() == 0)


def test_a_lost_redis_is_named_with_its_setting(
    cli_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from redis.exceptions import ConnectionError as RedisConnectionError

    from ai_platform.cli import _explain

    monkeypatch.setenv("REDIS_URL", "redis://:s3cret@127.0.0.1:1/0")
    get_settings.cache_clear()
    try:
        raise RedisConnectionError("Error 111 connecting to 127.0.0.1:1.")
    except RedisConnectionError as exc:
        line = _explain(exc, get_settings(), "the worker")
    assert line.startswith("cannot reach Redis at redis://") and line.endswith("(REDIS_URL)")
    assert "s3cret" not in line and "Error 111" in line


def test_readme_examples_use_files_that_ship() -> None:
    readme = (MAKEFILE.parent / "README.md").read_text()
    uploads = re.findall(r"=@([\w./-]+)", readme)
    assert uploads, "the README uploads a sample image"
    for name in uploads:
        assert (MAKEFILE.parent / name).read_bytes().startswith(b"\x89PNG"), name
    assert "docs/design-brief.md" in readme


@pytest.mark.postgres
def test_a_missing_postgres_database_says_how_to_fix_it(
    cli_env: Path, monkeypatch: pytest.MonkeyPatch, postgres_url: str
) -> None:
    missing = make_url(postgres_url)
    missing = missing.set(database=f"{missing.database}_missing")
    monkeypatch.setenv("DATABASE_URL", missing.render_as_string(hide_password=False))
    get_settings.cache_clear()
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 1
    first = result.output.strip().splitlines()[0]
    assert f'database "{missing.database}" does not exist' in first
    assert "createdb" in first and "Traceback" not in result.output
