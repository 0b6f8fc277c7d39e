"""Settings fail fast, naming the variable, and refuse development secrets in production."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from ai_platform.config import Settings


def test_defaults_are_the_embedded_first_run() -> None:
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert s.database_url.startswith("sqlite+aiosqlite:///")
    assert s.redis_url is None and s.embedded_simulator
    assert (s.default_rpm, s.default_tpd, s.api_key_header) == (60, 500_000, "X-API-Key")


def test_default_secret_refused_outside_development() -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(_env_file=None, environment="production")  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="SERVICE_IDENTITY_SECRET"):
        Settings(_env_file=None, environment="production", secret_key="x" * 40)  # type: ignore[call-arg]
    ok = Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="production",
        secret_key="x" * 40,
        service_identity_secret="y" * 40,
    )
    assert ok.environment == "production"


def test_service_settings_nest_and_keep_their_flat_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SERVICES__KNOWLEDGE__URL", "http://knowledge:8001/")
    monkeypatch.setenv("SERVICES__AGENT__TIMEOUT_S", "7.5")
    monkeypatch.setenv("KNOWLEDGE_EMBEDDINGS", "false")
    monkeypatch.setenv("RESEARCH__LEASE_S", "12")
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert s.services.knowledge.url == "http://knowledge:8001"
    assert s.services.agent.url is None and s.services.agent.timeout_s == 7.5
    assert list(s.services.remote()) == ["knowledge"]
    assert s.knowledge.embeddings is False and s.knowledge.default_mode == "fulltext"
    assert s.research.lease_s == 12.0
    assert s.served is None


def test_service_urls_and_selection_are_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SERVICES__RESEARCH__URL", "research:8003")
    with pytest.raises(ValidationError, match="http"):
        Settings(_env_file=None)  # type: ignore[call-arg]
    monkeypatch.delenv("SERVICES__RESEARCH__URL")
    with pytest.raises(ValidationError, match="SERVE_SERVICES: unknown service"):
        Settings(_env_file=None, serve_services="knowledge,billing")  # type: ignore[call-arg]
    s = Settings(_env_file=None, serve_services=" agent , knowledge")  # type: ignore[call-arg]
    assert s.served == frozenset({"agent", "knowledge"})


def test_invalid_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEFAULT_RPM", "lots")
    with pytest.raises(ValidationError) as info:
        Settings(_env_file=None)  # type: ignore[call-arg]
    assert "default_rpm" in str(info.value)


def test_database_url_is_normalised_to_async_driver() -> None:
    s = Settings(_env_file=None, database_url="postgresql://u@h/db")  # type: ignore[call-arg]
    assert s.database_url == "postgresql+asyncpg://u@h/db"
    with pytest.raises(ValidationError, match="database_url"):
        Settings(_env_file=None, database_url="mysql://u@h/db")  # type: ignore[call-arg]


def test_env_file_is_read(
    tmp_path: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = tmp_path / ".env"  # type: ignore[operator]
    env.write_text("DEFAULT_RPM=7\nSERVICE_NAME=from-env-file\n")
    s = Settings(_env_file=str(env))  # type: ignore[call-arg]
    assert (s.default_rpm, s.service_name) == (7, "from-env-file")
