"""Two uvicorn worker processes sharing Redis: the limits, budgets and ledger still hold.

The same scenarios ``benchmarks/concurrency_proofs.py`` prints, asserted. The
platform runs as a real server (``benchmarks.governed_app`` under uvicorn with
``--workers 2``) against the simulator as its own server, on PostgreSQL.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from benchmarks.concurrency_proofs import deployed, run_all

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


def _run(database_url: str, redis_url: str, tmp: Path) -> tuple[int, dict[str, Any]]:
    with deployed("redis", workers=2, database_url=database_url, redis_url=redis_url, tmp=tmp) as d:
        return len(d.worker_pids), asyncio.run(run_all(d))


async def test_two_workers_on_redis(postgres_url: str, redis_url: str, tmp_path: Path) -> None:
    workers, results = await asyncio.to_thread(_run, postgres_url, redis_url, tmp_path)
    assert workers == 2

    rpm = results["rpm"]
    assert (rpm["accepted"], rpm["refused"]) == (30, 170)
    assert (rpm["rows"], rpm["missing"], rpm["duplicated"]) == (200, 0, 0)
    assert rpm["by_status"] == {(200, "ok"): 30, (429, "rate_limited"): 170}

    budget = results["budget"]
    assert budget["within_budget"] is True
    assert budget["accepted"] >= 20
    assert budget["refused"] == {"budget_exceeded": 200 - budget["accepted"]}
    assert (budget["rows"], budget["missing"], budget["duplicated"]) == (200, 0, 0)
    assert budget["envelope_spend_usd"] == pytest.approx(budget["spent_usd"], abs=1e-9)

    upstream = results["upstream"]
    assert upstream["responses"] == {200: 20, 502: 10}
    assert upstream["by_status"] == {(200, "ok"): 20, (502, "upstream_error"): 10}
    assert (upstream["missing"], upstream["duplicated"]) == (0, 0)

    disconnect = results["disconnect"]
    assert disconnect["stream_row"] == (499, "client_disconnected")
    assert disconnect["next_request_after_disconnect"] == 200

    metrics = results["metrics"]
    assert metrics["governed_requests_total"] == metrics["requests_sent"]
