"""Metrics helpers: the multiprocess directory and the HTTP observer."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ai_platform.governance import metrics


def _files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_prepare_multiprocess_dir_empties_and_exports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(metrics.MULTIPROC_ENV, raising=False)
    target = tmp_path / "prom"
    target.mkdir()
    (target / "counter_123.db").write_bytes(b"stale samples of a previous run")
    chosen = metrics.prepare_multiprocess_dir(target)
    assert chosen == str(target)
    assert _files(target) == []
    assert os.environ[metrics.MULTIPROC_ENV] == str(target)


def test_prepare_multiprocess_dir_makes_one_when_none_is_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(metrics.MULTIPROC_ENV, raising=False)
    chosen = Path(metrics.prepare_multiprocess_dir())
    assert chosen.is_dir() and _files(chosen) == []
    chosen.rmdir()


def test_observe_http_counts_by_route_template() -> None:
    before = metrics.HTTP_REQUESTS.labels("GET", "/items/{item_id}", "404")._value.get()
    metrics.observe_http("GET", "/items/{item_id}", 404, 0.003)
    after = metrics.HTTP_REQUESTS.labels("GET", "/items/{item_id}", "404")._value.get()
    assert after == before + 1
    text = metrics.render().decode()
    assert (
        'ai_platform_http_requests_total{method="GET",route="/items/{item_id}",status="404"}'
        in text
    )
