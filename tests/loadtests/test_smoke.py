"""A few seconds of every scenario: requests are made, envelopes pass, files are written.

These are not performance tests: the numbers are printed, never asserted. Locust runs
as a subprocess (it monkey-patches the standard library when imported), against
servers the tests start on ephemeral ports with their own temporary database.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from loadtests.locust_step import StepSpec, run_step
from loadtests.platform_setup import PlatformOptions, PlatformUnderTest
from loadtests.processes import ROOT, child_env
from loadtests.scenarios import SCENARIOS

# The main route of each scenario: it must have been called, with no failure.
MAIN_ROUTE = {
    "knowledge": "/api/v1/knowledge/search",
    "agent": "/api/v1/agent/chat",
    "research": "/api/v1/research/start",
    "assistant": "/api/v1/assistant/analyze [1 image]",
    "admin": "/api/v1/admin/usage/requests",
}


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlatformUnderTest]:
    # An instant simulator: the smoke checks the plumbing, not the latency.
    options = PlatformOptions(
        llm_ttft_ms=0, llm_tokens_per_s=0, log_dir=tmp_path_factory.mktemp("platform-logs")
    )
    with PlatformUnderTest(options) as started:
        yield started


@pytest.mark.parametrize("scenario", sorted(MAIN_ROUTE))
def test_scenario_makes_requests_that_pass_the_envelope_checks(
    scenario: str, platform: PlatformUnderTest, tmp_path: Path
) -> None:
    assert platform.tenant is not None
    result = run_step(
        StepSpec(
            label=scenario,
            user_classes=SCENARIOS[scenario].user_classes,
            users=2,
            spawn_rate=10,
            duration_s=2,
            host=platform.url,
            out_dir=tmp_path,
            env={"LOADTEST_API_KEY": platform.tenant.api_key},
        )
    )
    print(f"{scenario}: {result.aggregated}")
    assert Path(f"{result.csv_prefix}_stats.csv").exists()
    assert Path(result.html).stat().st_size > 0
    assert result.aggregated.requests > 0
    failures = Path(f"{result.csv_prefix}_failures.csv").read_text()
    assert result.aggregated.failures == 0, failures
    routes = {row.name: row for row in result.rows}
    assert routes[MAIN_ROUTE[scenario]].requests > 0


def test_mixed_scenario_runs_distributed(platform: PlatformUnderTest, tmp_path: Path) -> None:
    """A Locust master and two worker processes, every service's user at once."""
    assert platform.tenant is not None
    result = run_step(
        StepSpec(
            label="mixed",
            user_classes=SCENARIOS["mixed"].user_classes,
            users=5,
            spawn_rate=50,
            duration_s=3,
            host=platform.url,
            out_dir=tmp_path,
            env={"LOADTEST_API_KEY": platform.tenant.api_key},
            distributed=2,
        )
    )
    print(f"mixed: {result.aggregated}")
    assert result.aggregated.requests > 0
    assert result.aggregated.failures == 0
    # Five users over weights 4:3:1:1:1 start at least one knowledge and one agent user.
    names = {row.name for row in result.rows if row.requests}
    assert any(n.startswith("/api/v1/knowledge/") for n in names), names
    assert any(n.startswith("/api/v1/agent/") for n in names), names


def test_experiment_runner_writes_csv_html_summary_and_charts(tmp_path: Path) -> None:
    """The whole runner, as ``make load`` calls it, with a tiny ramp."""
    command = [
        sys.executable, "-m", "loadtests.run", "--scenario", "experiment",
        "--users", "2", "--duration", "1", "--latency-ms", "100", "--out", str(tmp_path),
    ]  # fmt: skip
    done = subprocess.run(
        command, cwd=ROOT, env=child_env(), capture_output=True, text=True, timeout=120
    )
    print(done.stdout)
    assert done.returncode == 0, done.stderr
    (out_dir,) = tmp_path.iterdir()
    assert out_dir.name.endswith("-experiment")
    summary = json.loads((out_dir / "summary.json").read_text())
    assert [s["style"] for s in summary["steps"]] == ["async", "sync", "blocking"]
    for step in summary["steps"]:
        assert step["requests"] > 0 and step["failures"] == 0
        assert step["ideal_rps"] == 20.0  # 2 users ÷ 0.1 s
        assert Path(f"{step['csv']}_stats.csv").exists()
        assert Path(step["html"]).exists()
    for chart in ("throughput.png", "latency.png"):
        assert (out_dir / chart).read_bytes().startswith(b"\x89PNG")
    assert "| async | 2 |" in (out_dir / "summary.md").read_text()


def test_a_run_that_ends_with_requests_queued_leaves_no_traceback(tmp_path: Path) -> None:
    """One worker thread and a 2 s upstream: when the step ends, requests are still
    queued for the thread, and stopping the server cancels them. Its log says so in
    one line, with no traceback per request."""
    command = [
        sys.executable, "-m", "loadtests.run", "--scenario", "experiment", "--styles", "sync",
        "--users", "6", "--duration", "1", "--latency-ms", "2000", "--thread-tokens", "1",
        "--out", str(tmp_path),
    ]  # fmt: skip
    done = subprocess.run(
        command, cwd=ROOT, env=child_env(), capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    (out_dir,) = tmp_path.iterdir()
    logs = {path.name: path.read_text() for path in out_dir.glob("*.log")}
    assert "experiment_app.log" in logs
    # The run did stop a server with requests in flight (else this test proves nothing).
    assert "running task(s), timeout graceful shutdown exceeded" in logs["experiment_app.log"]
    for name, text in logs.items():
        assert "Traceback" not in text and "CancelledError" not in text, (name, text[:2000])
