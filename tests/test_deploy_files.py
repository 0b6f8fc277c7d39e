"""docker-compose.yml cannot run here (no Docker engine), so check what it says instead:
every command it runs exists, and every variable it sets is a real setting."""

from __future__ import annotations

from pathlib import Path

import yaml
from typer.main import get_command

from ai_platform.cli import app as cli_app
from ai_platform.config import Settings

ROOT = Path(__file__).resolve().parents[1]
# Read by other programs than Settings.
FOREIGN_VARS = {"PROMETHEUS_MULTIPROC_DIR", "WORKERS"}


def compose() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())  # type: ignore[no-any-return]


def test_compose_commands_are_real_cli_commands() -> None:
    commands = set(get_command(cli_app).commands)  # type: ignore[attr-defined]
    for name, service in compose()["services"].items():
        command = service.get("command")
        if isinstance(command, list) and command[0] == "ai-platform":
            assert command[1] in commands, f"{name}: ai-platform {command[1]} does not exist"


def test_compose_environment_names_real_settings() -> None:
    fields = {f.upper() for f in Settings.model_fields}
    for name, service in compose()["services"].items():
        env = service.get("environment") or {}
        if name in ("postgres", "redis"):
            continue
        unknown = set(env) - fields - FOREIGN_VARS
        assert not unknown, f"{name}: unknown settings {unknown}"
        if env:
            Settings(  # the production values must pass validation
                _env_file=None,  # type: ignore[call-arg]
                **{k.lower(): v for k, v in env.items() if k not in FOREIGN_VARS}
                | {"secret_key": "x" * 40},
            )


def test_dockerfile_serves_the_gateway_app() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert "ai_platform.gateway.app:app" in text
    assert "constraints.txt" in text


def test_env_example_names_real_settings() -> None:
    fields = {f.upper() for f in Settings.model_fields}
    for line in (ROOT / ".env.example").read_text().splitlines():
        line = line.lstrip("# ").strip()
        if "=" in line and line.split("=", 1)[0].isupper() and " " not in line.split("=")[0]:
            assert line.split("=", 1)[0] in fields, line
