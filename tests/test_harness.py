"""The shared harness (``ai_platform.harness``): percentiles, tables, waiting, ports,
child-process servers and tenants. Servers in this process are covered by
``tests/test_notebook_helpers.py`` (the lessons use the same ``serve_in_background``)."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import time
from pathlib import Path

import pytest

import ai_platform.harness.ports as ports
from ai_platform.config import Settings
from ai_platform.gateway.app import create_app
from ai_platform.harness.ports import free_port
from ai_platform.harness.processes import ROOT, ServerProcess, child_env
from ai_platform.harness.stats import Summary, percentile
from ai_platform.harness.tables import fmt_number, markdown_table
from ai_platform.harness.tenants import tenant_for
from ai_platform.harness.waiting import WaitTimeout, wait_for, wait_for_sync
from tests.support import make_settings, running_app

# -- percentiles: linear between closest ranks, as numpy.percentile(..., method="linear")


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([1, 2, 3, 4], 50, 2.5),  # position 1.5: halfway between 2 and 3
        ([1, 2, 3, 4], 25, 1.75),  # position 0.75
        ([1, 2, 3, 4], 0, 1.0),
        ([1, 2, 3, 4], 100, 4.0),
        ([15, 20, 35, 40, 50], 40, 29.0),  # position 1.6: 20 + 0.6 * (35 - 20)
        ([50, 15, 40, 20, 35], 40, 29.0),  # order of the input does not matter
        ([10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 95, 95.5),  # position 8.55
        ([10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 99, 99.1),  # position 8.91
        ([7], 95, 7.0),
        ([3, 3, 3], 50, 3.0),
    ],
)
def test_percentile_hand_computed(values: list[float], q: float, expected: float) -> None:
    assert percentile(values, q) == pytest.approx(expected)


def test_percentile_agrees_with_numpy_default() -> None:
    numpy = pytest.importorskip("numpy")
    samples = [0.8, 12.5, 3.25, 3.25, 99.0, 41.0, 7.75, 0.01, 18.0, 64.5, 5.0]
    for q in (0, 1, 5, 10, 25, 33.3, 50, 66.7, 75, 90, 95, 99, 100):
        assert percentile(samples, q) == pytest.approx(float(numpy.percentile(samples, q)))


def test_percentile_refuses_no_values_and_q_out_of_range() -> None:
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)
    with pytest.raises(ValueError, match=r"0\.\.100"):
        percentile([1.0], 101)
    with pytest.raises(ValueError, match=r"0\.\.100"):
        percentile([1.0], -1)


def test_summary_of_a_sample_and_scaled() -> None:
    values = [0.1, 0.2, 0.3, 0.4, 1.0]
    summary = Summary.of(values)
    assert summary.count == 5
    assert summary.mean == pytest.approx(0.4)
    assert summary.p50 == pytest.approx(0.3)
    assert summary.p95 == pytest.approx(0.88)  # position 3.8: 0.4 + 0.8 * 0.6
    assert summary.p99 == pytest.approx(0.976)  # position 3.96
    assert summary.max == 1.0
    assert summary.p50 <= summary.p95 <= summary.p99 <= summary.max

    in_ms = summary.scaled(1000)
    assert in_ms.count == 5
    assert (in_ms.mean, in_ms.p50, in_ms.p95, in_ms.p99, in_ms.max) == pytest.approx(
        (400, 300, 880, 976, 1000)
    )
    with pytest.raises(ValueError, match="no values"):
        Summary.of([])


# -- tables -----------------------------------------------------------------------------


def test_markdown_table_aligns_and_escapes_pipes() -> None:
    table = markdown_table(["service", "p50 ms", "note"], [["agent", 12.5, "a|b"]], align="lrc")
    assert table == ("| service | p50 ms | note |\n| --- | --: | :-: |\n| agent | 12.5 | a\\|b |\n")
    assert markdown_table(["a"], []) == "| a |\n| --- |\n"


@pytest.mark.parametrize("align", ["lr", "lrcc", "lrx"])
def test_markdown_table_refuses_a_bad_align(align: str) -> None:
    with pytest.raises(ValueError, match="one letter"):
        markdown_table(["a", "b", "c"], [], align=align)


def test_fmt_number() -> None:
    assert fmt_number(None) == "–"
    assert fmt_number(1234567) == "1,234,567"
    assert fmt_number(1234.5678, 2) == "1,234.57"
    assert fmt_number(True) == "True"
    assert fmt_number("x") == "x"


# -- waiting ----------------------------------------------------------------------------


async def test_wait_for_returns_the_first_truthy_value() -> None:
    seen: list[int] = []

    def check() -> list[int] | None:
        seen.append(len(seen))
        return list(seen) if len(seen) >= 3 else None

    assert await wait_for(check, timeout_s=30, interval_s=0.001) == [0, 1, 2]
    assert len(seen) == 3  # stops polling once the condition holds


async def test_wait_for_accepts_an_async_check() -> None:
    ready = asyncio.Event()
    asyncio.get_running_loop().call_soon(ready.set)

    async def check() -> str | None:
        await asyncio.sleep(0)
        return "ready" if ready.is_set() else None

    assert await wait_for(check, timeout_s=30, interval_s=0.001) == "ready"


async def test_wait_for_raises_naming_what_it_waited_for() -> None:
    with pytest.raises(WaitTimeout, match="the flusher writing 3 rows") as info:
        await wait_for(
            lambda: 0, timeout_s=0.05, interval_s=0.01, what="the flusher writing 3 rows"
        )
    assert isinstance(info.value, AssertionError)  # a test failure, not an error
    assert "last: 0" in str(info.value)


def test_wait_for_sync_returns_and_raises() -> None:
    started = time.monotonic()
    assert wait_for_sync(lambda: time.monotonic() - started > 0.01 and "done", interval_s=0.005)
    with pytest.raises(WaitTimeout, match="never"):
        wait_for_sync(lambda: None, timeout_s=0.05, interval_s=0.01, what="never")


# -- ports and child processes -------------------------------------------------------------


def test_free_port_can_be_bound() -> None:
    port = free_port()
    assert 0 < port < 65536
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_free_port_is_below_the_range_outgoing_connections_take_ports_from() -> None:
    top = ports._ephemeral_start()
    assert all(free_port() < top for _ in range(20))


def test_free_port_skips_a_port_in_use(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        taken = held.getsockname()[1]
        real = ports.random.SystemRandom.randrange
        picks = [taken]

        def pick(self: object, low: int, high: int) -> int:
            return picks.pop() if picks else real(self, low, high)  # type: ignore[arg-type]

        monkeypatch.setattr(ports, "_ephemeral_start", lambda: 65535)
        monkeypatch.setattr(ports.random.SystemRandom, "randrange", pick)
        assert ports.free_port() != taken
        assert not picks  # the port in use was tried first


def test_child_env_makes_the_repository_importable_and_can_drop_platform_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LLM_BASE_URL", "http://elsewhere/v1")
    inherited = child_env({"EXTRA": "1"})
    assert inherited["LLM_BASE_URL"] == "http://elsewhere/v1"
    assert inherited["EXTRA"] == "1" and inherited["PYTHONUNBUFFERED"] == "1"
    paths = inherited["PYTHONPATH"].split(os.pathsep)
    assert str(ROOT / "platform") in paths and (ROOT / "platform" / "ai_platform").is_dir()
    assert "LLM_BASE_URL" not in child_env(clean=True)


def test_server_process_raises_when_the_process_exits_during_startup(tmp_path: Path) -> None:
    log = tmp_path / "dead.log"
    server = ServerProcess(
        "dead-on-arrival",
        [sys.executable, "-c", "import sys; print('bye'); sys.exit(3)"],
        port=free_port(),
        log_path=log,
        startup_timeout_s=60,
    )
    with pytest.raises(RuntimeError, match="dead-on-arrival exited with 3 during startup"):
        server.start()
    assert "bye" in log.read_text()
    server.stop()  # nothing left to stop; must not raise


def test_server_process_serves_until_stopped(tmp_path: Path) -> None:
    port = free_port()
    command = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    with ServerProcess("http.server", command, port=port, health_path="/", cwd=tmp_path) as server:
        assert server.url == f"http://127.0.0.1:{port}"
        process = server.process
        assert process is not None and process.poll() is None
    assert server.process is None
    assert process.poll() is not None  # stopped with its group when the block ended


# -- tenants ------------------------------------------------------------------------------


async def test_tenant_for_makes_a_working_key_under_the_settings_header(
    sqlite_url: str, tmp_path: Path
) -> None:
    settings: Settings = make_settings(sqlite_url, tmp_path, api_key_header="X-Tenant-Key")
    admin = await tenant_for(settings, admin=True, rpm=7)
    plain = await tenant_for(settings, "harness-named-tenant")
    assert admin.key == admin.api_key and admin.headers == {"X-Tenant-Key": admin.api_key}
    assert admin.name.startswith("tenant-") and plain.name == "harness-named-tenant"
    async with running_app(create_app(settings)) as client:
        me = (await client.get("/api/v1/me", headers=admin.headers)).json()["data"]
        other = (await client.get("/api/v1/me", headers=plain.headers)).json()["data"]
        wrong_header = await client.get("/api/v1/me", headers={"X-API-Key": admin.api_key})
    assert (me["client_id"], me["key_id"]) == (admin.client_id, admin.key_id)
    assert me["scopes"] == ["admin", "services"]
    assert other["client_id"] == plain.client_id and "admin" not in other["scopes"]
    assert wrong_header.status_code == 401
