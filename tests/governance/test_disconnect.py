"""A client that leaves mid-stream: its reservation is released and its row says so.

Needs a real server: httpx's ASGITransport buffers whole responses and never
disconnects. uvicorn runs in this event loop, so the test can look at the governor.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from benchmarks.governed_app import create

from ai_platform.governance.budget import BudgetStatus
from ai_platform.harness.serving import serve_in_background
from ai_platform.harness.waiting import wait_for
from ai_platform.services.research.runner import stop_runner
from tests.governance.support import (
    MESSAGE,
    governed_settings,
    governor_of,
    ledger_rows,
    worst_case_usd,
)
from tests.support import make_tenant


async def test_disconnect_mid_stream_releases_and_ledgers(
    sqlite_url: str, tmp_path: Path, backend: str, key_prefix: str
) -> None:
    # 20 tokens/s: a 400-token answer would take 20 s, so the client leaves mid-stream.
    settings = governed_settings(
        sqlite_url, tmp_path, backend=backend, key_prefix=key_prefix, simulator_tokens_per_s=20
    )
    budget = round(1.5 * worst_case_usd(max_tokens=400), 10)
    tenant = await make_tenant(settings, budget_usd=budget)
    app = create(settings)
    async with serve_in_background(app, lifespan="on", shutdown_timeout_s=15) as base_url:
        await stop_runner(app.state.platform)  # not about research: see probe_app
        governor = governor_of(app)
        port = urlsplit(base_url).port
        body = f'{{"message": "{MESSAGE}", "max_tokens": 400}}'.encode()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            f"POST /bench/stream HTTP/1.1\r\nHost: x\r\nX-API-Key: {tenant.key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        head = await asyncio.wait_for(reader.readuntil(b"event: delta"), 30)
        request_id = next(
            line.split(b":", 1)[1].strip().decode()
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"x-request-id")
        )
        # Mid-stream: the worst case is held, so a second one would not fit the budget.
        held = await governor.budget.status(tenant.client_id, budget)
        assert held.reserved_usd > 0
        assert await governor.limiter.tokens_used(tenant.client_id) > 400
        writer.transport.abort()

        async def released() -> BudgetStatus | None:
            status = await governor.budget.status(tenant.client_id, budget)
            return status if status.reserved_usd == 0 else None

        status = await wait_for(released, timeout_s=30, what="the reservation being released")
        # Charged what the provider would bill so far (an estimate: the prompt and the
        # tokens streamed before the client left), far below the worst case it held.
        assert 0 < status.spent_usd < worst_case_usd(max_tokens=400) / 2
        used = await governor.limiter.tokens_used(tenant.client_id)
        assert 0 < used < 200
        await governor.ledger.flush()
        rows = await ledger_rows(settings, tenant.client_id)
        assert [(r.request_id, r.status_code, r.outcome) for r in rows] == [
            (request_id, 499, "client_disconnected")
        ]
        row = rows[0]
        assert row.prompt_tokens + row.completion_tokens == used
        assert float(row.cost_usd) == pytest.approx(status.spent_usd, abs=1e-9)
