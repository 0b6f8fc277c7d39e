"""What the load tests count as a success, and how the runner reads Locust's CSV."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from loadtests.checks import EnvelopeError, sse_events, stream_outcome, success_data
from loadtests.locust_step import (
    GENERATOR_CPU_WARN_PCT,
    Row,
    StepResult,
    StepSpec,
    _cpu_warned,
    locust_command,
    read_stats,
    worker_command,
)
from loadtests.report import markdown_table
from loadtests.run import _experiment_bounds, _redacted, build_parser

OK = json.dumps(
    {"status": "success", "data": [1, 2], "metadata": {"request_id": "req_" + "a" * 24}}
).encode()


def test_success_envelope_returns_data() -> None:
    assert success_data(200, OK) == [1, 2]
    assert success_data(202, OK, expected=202) == [1, 2]


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (429, b'{"status":"error","error":{"code":"rate_limited","message":"slow down"}}',
         "HTTP 429 (rate_limited: slow down)"),
        (502, b"<html>Bad gateway</html>", "HTTP 502 (no error envelope)"),
        (200, b"<html>ok</html>", "body is not a JSON object"),
        (200, b'{"status":"error","metadata":{"request_id":"r"}}', "status is 'error'"),
        (200, b'{"status":"success","data":1,"metadata":{}}', "metadata.request_id is missing"),
        (200, b'{"status":"success","data":1}', "metadata.request_id is missing"),
        (200, b"", "body is not a JSON object"),
        (201, OK, "HTTP 201"),
    ],
)  # fmt: skip
def test_anything_but_the_success_envelope_fails(status: int, body: bytes, reason: str) -> None:
    with pytest.raises(EnvelopeError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        success_data(status, body)


def test_sse_parsing_keeps_names_and_decodes_json() -> None:
    text = (
        ": keep-alive\n\n"
        'event: token\ndata: {"text": "Hel"}\n\n'
        "event: token\ndata: plain\n\n"
        'event: done\ndata: {"request_id": "req_1",\ndata:  "model": "m"}\n'
    )
    assert sse_events(text) == [
        ("token", {"text": "Hel"}),
        ("token", "plain"),
        ("done", {"request_id": "req_1", "model": "m"}),
    ]


def test_stream_must_end_with_done_naming_its_request() -> None:
    done = 'event: token\ndata: {"text": "hi"}\n\nevent: done\ndata: {"request_id": "req_9"}\n\n'
    assert stream_outcome(200, done.encode())["request_id"] == "req_9"
    with pytest.raises(EnvelopeError, match="ended with error upstream_timeout"):
        stream_outcome(200, b'event: error\ndata: {"code": "upstream_timeout"}\n\n')
    with pytest.raises(EnvelopeError, match="not 'done'"):
        stream_outcome(200, b'event: token\ndata: {"text": "cut"}\n\n')
    with pytest.raises(EnvelopeError, match="no request_id"):
        stream_outcome(200, b"event: done\ndata: {}\n\n")
    with pytest.raises(EnvelopeError, match="no events"):
        stream_outcome(200, b"")
    with pytest.raises(EnvelopeError, match="HTTP 401"):
        stream_outcome(401, b'{"status":"error","error":{"code":"unauthorized","message":"no"}}')


STATS = """Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,\
Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,\
90%,95%,98%,99%,99.9%,99.99%,100%
POST,/async,120,2,1000,1010.5,998,1200,80,11.9,0.2,1000,1000,1000,1000,1100,1100,1200,1200,\
1200,1200,1200
TASK,research task,0,0,0,0,0,0,0,0,0,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A
,Aggregated,120,2,1000,1010.5,998,1200,80,11.9,0.2,1000,1000,1000,1000,1100,1100,1200,1200,\
1200,1200,1200
"""


def test_read_stats_separates_aggregated_and_handles_na(tmp_path: Path) -> None:
    path = tmp_path / "x_stats.csv"
    path.write_text(STATS)
    aggregated, rows = read_stats(path)
    assert (aggregated.requests, aggregated.failures, aggregated.rps) == (120, 2, 11.9)
    assert (aggregated.p50_ms, aggregated.p95_ms, aggregated.p99_ms) == (1000, 1100, 1200)
    assert [r.name for r in rows] == ["/async", "research task"]
    assert rows[1].p50_ms is None


def test_step_runs_long_enough_to_spawn_then_measure(tmp_path: Path) -> None:
    spec = StepSpec("async_w1", ["AsyncStyleUser"], users=200, spawn_rate=100,
                    duration_s=10, host="http://h", out_dir=tmp_path)  # fmt: skip
    assert spec.run_time_s == 12
    command = locust_command(spec)
    assert command[-1] == "AsyncStyleUser"
    assert "--reset-stats" in command and "--headless" in command
    assert command[command.index("--csv") + 1] == str(tmp_path / "async_w1_u200")
    distributed = StepSpec("k", ["KnowledgeUser"], 10, 10, 5, "http://h", tmp_path, distributed=2)
    master = locust_command(distributed, master_port=5599)
    assert master[master.index("--expect-workers") + 1] == "2"
    assert "--worker" in worker_command(distributed, 5599, 0)


def test_experiment_bounds_follow_each_style_limit() -> None:
    assert _experiment_bounds("async", 200, 1, 40, 1.0) == {"ideal_rps": 200, "bound_rps": 200}
    assert _experiment_bounds("sync", 200, 2, 40, 1.0)["bound_rps"] == 80
    assert _experiment_bounds("sync", 10, 1, 40, 0.5)["bound_rps"] == 20
    assert _experiment_bounds("blocking", 200, 2, 40, 1.0)["bound_rps"] == 2
    assert _experiment_bounds("async", 10, 1, 40, 0.0)["ideal_rps"] is None


def test_parser_defaults_and_lists() -> None:
    args = build_parser().parse_args([])
    assert (args.scenario, args.users, args.workers, args.duration) == (
        "experiment",
        [10, 50, 100, 200],
        [1],
        10.0,
    )
    args = build_parser().parse_args(["--users", "5,20", "--workers", "1,2", "--styles", "sync"])
    assert (args.users, args.workers, args.styles) == ([5, 20], [1, 2], ["sync"])
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--styles", "threaded"])
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--users", "0"])


def test_markdown_table_shows_share_of_ideal() -> None:
    step = {"series": "sync", "users": 100, "requests": 400, "failures": 0, "rps": 40.0,
            "ideal_rps": 100.0, "bound_rps": 40.0, "p50_ms": 2500.0, "p95_ms": 2600.0,
            "p99_ms": None, "generator_cpu_mean": 5.0, "server_cpu_mean": 20.0}  # fmt: skip
    table = markdown_table([step])
    assert (
        "| sync | 100 | 400 | 0 | 40.0 | 100.0 | 40 | 40.0 | 2,500 | 2,600 | – | 5 | 20 |" in table
    )


def test_the_summary_command_line_hides_the_api_key() -> None:
    argv = ["--host", "http://h", "--api-key", "aip_secret", "--users", "5"]
    assert _redacted(argv) == ["--host", "http://h", "--api-key", "***", "--users", "5"]
    assert _redacted(["--api-key=aip_secret"]) == ["--api-key=***"]


def _result(busiest: float, warned: bool) -> StepResult:
    row = Row("Aggregated", "", 10, 0, 1.0, 1000, 1000, 1000, 1000, 1000)
    return StepResult(
        label="async_w1", users=10, duration_s=10, aggregated=row, rows=[],
        generator_cpu_mean=busiest, generator_cpu_peak=busiest,
        generator_busiest_process_mean=busiest, cpu={}, locust_cpu_warning=warned,
        exit_code=0, csv_prefix="x", html="x.html", elapsed_s=12,
    )  # fmt: skip


def test_a_busy_generator_is_flagged_by_our_sampling_or_by_locust(tmp_path: Path) -> None:
    assert not _result(40.0, warned=False).generator_bound
    assert _result(GENERATOR_CPU_WARN_PCT + 1, warned=False).generator_bound
    assert _result(40.0, warned=True).generator_bound
    spec = StepSpec("mixed_w1", ["KnowledgeUser"], 50, 50, 5, "http://h", tmp_path, distributed=2)
    assert not _cpu_warned(spec)
    (tmp_path / "mixed_w1_u50.worker1.log").write_text(
        "WARNING/locust.runners: CPU usage above 90%! This may constrain your throughput\n"
    )
    assert _cpu_warned(spec)
