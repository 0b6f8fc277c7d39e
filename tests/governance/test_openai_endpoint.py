"""``/v1`` is governed like every service call: requests per minute, tokens per day, the
monthly budget, and a stream its client abandons — on memory and on Redis."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlsplit

import openai
import orjson
import pytest

from ai_platform.gateway.app import create_app
from ai_platform.governance.budget import BudgetStatus
from ai_platform.harness.serving import serve_in_background
from ai_platform.harness.waiting import wait_for
from tests.governance.support import (
    MESSAGE,
    governed_settings,
    governor_of,
    ledger_rows,
    worst_case_usd,
)
from tests.support import make_tenant

CHAT = [{"role": "user", "content": MESSAGE}]


async def test_limits_and_budget_refuse_with_openai_errors(
    sqlite_url: str, tmp_path: Path, backend: str, key_prefix: str
) -> None:
    settings = governed_settings(sqlite_url, tmp_path, backend=backend, key_prefix=key_prefix)
    slow = await make_tenant(settings, rpm=2)
    # Room for one worst case (64 output tokens), not two.
    poor = await make_tenant(settings, budget_usd=round(1.5 * worst_case_usd(), 10))
    app = create_app(settings)
    async with serve_in_background(app, lifespan="on") as base_url:
        sdk = openai.AsyncOpenAI(api_key=slow.key, base_url=f"{base_url}/v1", max_retries=0)
        for _ in range(2):
            await sdk.chat.completions.create(model="gpt-4o-mini", messages=CHAT, max_tokens=8)  # type: ignore[arg-type]
        with pytest.raises(openai.RateLimitError) as limited:
            await sdk.chat.completions.create(model="gpt-4o-mini", messages=CHAT, max_tokens=8)  # type: ignore[arg-type]
        assert limited.value.code == "rate_limit_exceeded"
        assert int(limited.value.response.headers["retry-after"]) >= 1

        sdk = openai.AsyncOpenAI(api_key=poor.key, base_url=f"{base_url}/v1", max_retries=0)
        await sdk.chat.completions.create(model="gpt-4o-mini", messages=CHAT, max_tokens=64)  # type: ignore[arg-type]
        with pytest.raises(openai.RateLimitError) as broke:
            # The first call settled far below its worst case, but two worst cases do
            # not fit: the reservation is refused before any call is made.
            await asyncio.gather(
                *(
                    sdk.chat.completions.create(
                        model="gpt-4o-mini",
                        messages=CHAT,  # type: ignore[arg-type]
                        max_tokens=64,
                    )
                    for _ in range(3)
                )
            )
        assert broke.value.code == "insufficient_quota"
        assert broke.value.response.headers["x-should-retry"] == "false"
        await governor_of(app).ledger.flush()

    slow_rows = await ledger_rows(settings, slow.client_id)
    assert sorted(r.status_code for r in slow_rows) == [200, 200, 429]
    poor_rows = await ledger_rows(settings, poor.client_id)
    assert {r.outcome for r in poor_rows if r.status_code == 429} == {"budget_exceeded"}
    assert {r.route for r in slow_rows + poor_rows} == {"/v1/chat/completions"}


async def test_an_abandoned_v1_stream_is_settled_and_ledgered(
    sqlite_url: str, tmp_path: Path, backend: str, key_prefix: str
) -> None:
    # 20 tokens/s: a 400-token answer would take 20 s, so the client leaves mid-stream.
    settings = governed_settings(
        sqlite_url, tmp_path, backend=backend, key_prefix=key_prefix, simulator_tokens_per_s=20
    )
    budget = round(1.5 * worst_case_usd(max_tokens=400), 10)
    tenant = await make_tenant(settings, budget_usd=budget)
    app = create_app(settings)
    async with serve_in_background(app, lifespan="on", shutdown_timeout_s=15) as base_url:
        governor = governor_of(app)
        port = urlsplit(base_url).port
        body = orjson.dumps(
            {"model": "gpt-4o-mini", "messages": CHAT, "max_tokens": 400, "stream": True}
        )
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Bearer {tenant.key}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        head = await asyncio.wait_for(reader.readuntil(b'"content":"'), 30)
        request_id = next(
            line.split(b":", 1)[1].strip().decode()
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"x-request-id")
        )
        held = await governor.budget.status(tenant.client_id, budget)
        assert held.reserved_usd > 0
        writer.transport.abort()

        async def released() -> BudgetStatus | None:
            status = await governor.budget.status(tenant.client_id, budget)
            return status if status.reserved_usd == 0 else None

        status = await wait_for(released, timeout_s=30, what="the reservation being released")
        assert 0 < status.spent_usd < worst_case_usd(max_tokens=400) / 2
        await governor.ledger.flush()
        rows = await ledger_rows(settings, tenant.client_id)
        assert [(r.request_id, r.status_code, r.outcome) for r in rows] == [
            (request_id, 499, "client_disconnected")
        ]
        assert float(rows[0].cost_usd) == pytest.approx(status.spent_usd, abs=1e-9)
