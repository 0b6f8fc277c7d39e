"""Governed requests end to end: limits, budgets, ledger rows and headers, on both backends.

The probe route (``benchmarks.governed_app``) does what a service route does: screen
the message, one ``ctx.chat`` / ``ctx.stream_chat``, the envelope.
"""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from ai_platform.llm.simulator import FailNext
from tests.governance.support import (
    MAX_TOKENS,
    MESSAGE,
    governed_settings,
    governor_of,
    ledger_rows,
    post_many,
    probe_app,
    worst_case_usd,
)
from tests.support import make_tenant


async def test_success_carries_limit_headers_and_matches_its_ledger_row(
    sqlite_url: str, tmp_path: Path, backend: str, key_prefix: str
) -> None:
    settings = governed_settings(sqlite_url, tmp_path, backend=backend, key_prefix=key_prefix)
    tenant = await make_tenant(settings, rpm=10, tpd=50_000)
    async with probe_app(settings) as (app, client):
        resp = await client.post(
            "/bench/chat", json={"message": MESSAGE, "max_tokens": 40}, headers=tenant.headers
        )
        assert resp.status_code == 200, resp.text
        assert resp.headers["x-ratelimit-limit"] == "10"
        assert resp.headers["x-ratelimit-remaining"] == "9"
        assert 30 <= int(resp.headers["x-ratelimit-reset"]) <= 60
        assert resp.headers["x-ratelimit-limit-tokens"] == "50000"
        meta = resp.json()["metadata"]
        # The token allowance after the call is corrected to the real usage.
        assert int(resp.headers["x-ratelimit-remaining-tokens"]) == 50_000 - meta["tokens_used"]
        await governor_of(app).ledger.flush()
    [row] = await ledger_rows(settings, tenant.client_id)
    assert row.request_id == meta["request_id"]
    assert (row.status_code, row.outcome, row.route) == (200, "ok", "/bench/chat")
    assert row.prompt_tokens + row.completion_tokens == meta["tokens_used"] > 0
    assert float(row.cost_usd) == meta["estimated_cost_usd"] > 0
    assert row.model == meta["model_version"]


async def test_200_simultaneous_requests_on_rpm_30_admit_exactly_30(
    sqlite_url: str, tmp_path: Path, backend: str, key_prefix: str
) -> None:
    settings = governed_settings(sqlite_url, tmp_path, backend=backend, key_prefix=key_prefix)
    tenant = await make_tenant(settings, rpm=30)
    async with probe_app(settings) as (app, client):
        responses = await post_many(client, 200, tenant.headers)
        await governor_of(app).ledger.flush()
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {200: 30, 429: 170}
    refused = next(r for r in responses if r.status_code == 429)
    error = refused.json()["error"]
    assert error["code"] == "rate_limited"
    assert error["details"]["limit"] == "requests_per_minute"
    assert error["details"]["limit_value"] == 30
    assert 30 <= int(refused.headers["retry-after"]) <= 60  # a 60 s window, wide margin
    assert refused.headers["x-ratelimit-remaining"] == "0"
    assert refused.headers["x-ratelimit-limit"] == "30"
    rows = await ledger_rows(settings, tenant.client_id)
    assert sorted(r.request_id for r in rows) == sorted(
        r.headers["x-request-id"] for r in responses
    )
    assert Counter((r.status_code, r.outcome) for r in rows) == {
        (200, "ok"): 30,
        (429, "rate_limited"): 170,
    }


async def test_200_simultaneous_requests_never_spend_past_the_budget(
    sqlite_url: str, tmp_path: Path, backend: str, key_prefix: str
) -> None:
    # The simulator takes 50 ms to answer, so all 200 are in flight together.
    settings = governed_settings(
        sqlite_url, tmp_path, backend=backend, key_prefix=key_prefix, simulator_ttft_ms=50
    )
    budget = round(20 * worst_case_usd(), 10)
    tenant = await make_tenant(settings, rpm=1000, budget_usd=budget)
    async with probe_app(settings) as (app, client):
        responses = await post_many(client, 200, tenant.headers)
        governor = governor_of(app)
        await governor.ledger.flush()
        status = await governor.budget.status(tenant.client_id, budget)
    accepted = [r for r in responses if r.status_code == 200]
    refused = [r for r in responses if r.status_code == 429]
    assert len(accepted) + len(refused) == 200
    assert len(accepted) >= 20
    error = refused[0].json()["error"]
    assert error["code"] == "budget_exceeded"
    assert error["details"]["budget"] == "monthly_usd"
    assert error["details"]["budget_usd"] == budget
    assert "spent_usd" in error["details"]
    rows = await ledger_rows(settings, tenant.client_id)
    assert len(rows) == 200
    spent = sum((r.cost_usd for r in rows), Decimal(0))
    assert spent <= Decimal(str(budget))
    assert Counter(r.outcome for r in rows) == {
        "ok": len(accepted),
        "budget_exceeded": len(refused),
    }
    # Every reservation was settled or released.
    assert status.reserved_usd == 0
    assert status.spent_usd == pytest.approx(float(spent))
    # The envelope's cost is the ledger's cost, request by request.
    by_id = {r.request_id: r for r in rows}
    for resp in accepted:
        meta = resp.json()["metadata"]
        assert float(by_id[meta["request_id"]].cost_usd) == meta["estimated_cost_usd"]


async def test_upstream_failures_release_their_reservation_and_are_ledgered(
    sqlite_url: str, tmp_path: Path, backend: str, key_prefix: str
) -> None:
    settings = governed_settings(
        sqlite_url,
        tmp_path,
        backend=backend,
        key_prefix=key_prefix,
        llm_max_retries=0,
        llm_breaker_failures=50,
    )
    budget = round(3 * worst_case_usd(), 10)
    tenant = await make_tenant(settings, budget_usd=budget)
    async with probe_app(settings) as (app, client):
        simulator = app.state.platform.simulator
        simulator.config.faults.fail_next = FailNext(count=5, status=500)
        failed = [
            await client.post("/bench/chat", json={"message": MESSAGE}, headers=tenant.headers)
            for _ in range(5)
        ]
        # Had the failures kept their holds, this budget (3 calls) would be gone.
        ok = await post_many(client, 3, tenant.headers)
        governor = governor_of(app)
        await governor.ledger.flush()
        status = await governor.budget.status(tenant.client_id, budget)
    assert [r.status_code for r in failed] == [502] * 5
    assert failed[0].json()["error"]["code"] == "upstream_error"
    assert "x-ratelimit-limit" in failed[0].headers
    assert [r.status_code for r in ok] == [200] * 3
    assert status.reserved_usd == 0
    rows = await ledger_rows(settings, tenant.client_id)
    assert Counter((r.status_code, r.outcome) for r in rows) == {
        (502, "upstream_error"): 5,
        (200, "ok"): 3,
    }
    assert all(r.cost_usd == 0 for r in rows if r.status_code == 502)


async def test_tokens_per_day_refuses_the_call_that_could_exceed_it(
    sqlite_url: str, tmp_path: Path, backend: str, key_prefix: str
) -> None:
    settings = governed_settings(sqlite_url, tmp_path, backend=backend, key_prefix=key_prefix)
    tenant = await make_tenant(settings, tpd=150)
    body = {"message": MESSAGE, "max_tokens": 100}
    async with probe_app(settings) as (app, client):
        first = await client.post("/bench/chat", json=body, headers=tenant.headers)
        second = await client.post("/bench/chat", json=body, headers=tenant.headers)
        await governor_of(app).ledger.flush()
    assert first.status_code == 200
    used = first.json()["metadata"]["tokens_used"]
    assert second.status_code == 429
    error = second.json()["error"]
    assert error["code"] == "rate_limited"
    assert error["details"]["limit"] == "tokens_per_day"
    assert error["details"]["limit_value"] == 150
    assert error["details"]["remaining"] == 150 - used
    assert int(second.headers["retry-after"]) > 80_000
    assert second.headers["x-ratelimit-limit-tokens"] == "150"
    assert second.headers["x-ratelimit-limit"] == "60"  # requests-per-minute, as always
    rows = await ledger_rows(settings, tenant.client_id)
    assert sorted(r.outcome for r in rows) == ["ok", "rate_limited"]


async def test_a_streamed_response_is_costed_and_ledgered_like_any_other(
    sqlite_url: str, tmp_path: Path, backend: str, key_prefix: str
) -> None:
    settings = governed_settings(sqlite_url, tmp_path, backend=backend, key_prefix=key_prefix)
    budget = 1.0
    tenant = await make_tenant(settings, rpm=5, budget_usd=budget)
    async with probe_app(settings) as (app, client):
        resp = await client.post(
            "/bench/stream",
            json={"message": MESSAGE, "max_tokens": MAX_TOKENS},
            headers=tenant.headers,
        )
        governor = governor_of(app)
        await governor.ledger.flush()
        status = await governor.budget.status(tenant.client_id, budget)
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/event-stream")
    assert resp.headers["x-ratelimit-remaining"] == "4"
    # Headers leave before the stream's LLM call, so only the request limit is certain.
    events = [line for line in resp.text.splitlines() if line.startswith("data:")]
    assert len(events) > 2
    done = json.loads(events[-1].removeprefix("data:"))
    [row] = await ledger_rows(settings, tenant.client_id)
    assert row.request_id == done["request_id"] == resp.headers["x-request-id"]
    assert (row.status_code, row.outcome) == (200, "ok")
    assert row.prompt_tokens + row.completion_tokens == done["tokens_used"] > 0
    assert float(row.cost_usd) == done["estimated_cost_usd"] > 0
    assert status.spent_usd == pytest.approx(done["estimated_cost_usd"])
    assert status.reserved_usd == 0


async def test_a_restart_remembers_this_months_spend(
    sqlite_url: str, tmp_path: Path, key_prefix: str
) -> None:
    settings = governed_settings(sqlite_url, tmp_path, key_prefix=key_prefix)
    budget = round(2.5 * worst_case_usd(), 10)
    tenant = await make_tenant(settings, budget_usd=budget)
    async with probe_app(settings) as (_, client):
        first = await post_many(client, 2, tenant.headers)
    assert [r.status_code for r in first] == [200, 200]
    # A new process: in-memory counters start empty, then read the ledger.
    async with probe_app(settings) as (app, client):
        status = await governor_of(app).budget.status(tenant.client_id, budget)
        spent = sum(r.json()["metadata"]["estimated_cost_usd"] for r in first)
        assert status.spent_usd == pytest.approx(spent)
        third = await client.post(
            "/bench/chat", json={"message": MESSAGE, "max_tokens": 1000}, headers=tenant.headers
        )
    assert third.status_code == 429
    assert third.json()["error"]["details"]["spent_usd"] == pytest.approx(spent)


async def test_metrics_count_requests_tokens_and_rejections(
    sqlite_url: str, tmp_path: Path, key_prefix: str
) -> None:
    settings = governed_settings(sqlite_url, tmp_path, key_prefix=key_prefix)
    tenant = await make_tenant(settings, rpm=2)
    async with probe_app(settings) as (_, client):
        await post_many(client, 3, tenant.headers)
        text = (await client.get("/metrics")).text
    cid = tenant.client_id
    assert 'ai_platform_http_requests_total{method="POST",route="/bench/chat",status="200"}' in text
    assert (
        f'ai_platform_rate_limit_rejections_total{{client="{cid}",limit="requests_per_minute"}} 1.0'
        in text
    )
    assert (
        f'ai_platform_llm_tokens_total{{client="{cid}",direction="input",model="gpt-4o-mini",service="bench"}}'
        in text
    )
    assert (
        'ai_platform_http_request_duration_seconds_bucket{le="0.005",method="POST",route="/bench/chat"}'
        in text
    )


async def test_a_background_job_step_is_reserved_settled_and_ledgered(
    sqlite_url: str, tmp_path: Path, key_prefix: str
) -> None:
    settings = governed_settings(sqlite_url, tmp_path, key_prefix=key_prefix)
    budget = round(1.5 * worst_case_usd(), 10)
    tenant = await make_tenant(settings, budget_usd=budget)
    from ai_platform.core.errors import BudgetExceededError
    from ai_platform.governance.auth import ClientInfo

    async with probe_app(settings) as (app, _):
        governor = governor_of(app)
        info: ClientInfo = await app.state.platform.auth.authenticate(tenant.key)
        step = governor.for_job(info, "research", "job_1:step_1")
        result = await step.chat([{"role": "user", "content": MESSAGE}], max_tokens=MAX_TOKENS)
        await step.finish()
        second = governor.for_job(info, "research", "job_1:step_2")
        with pytest.raises(BudgetExceededError):
            await second.chat([{"role": "user", "content": MESSAGE}], max_tokens=MAX_TOKENS)
        second.fail(BudgetExceededError(info.id, budget))
        await second.finish()
        await governor.ledger.flush()
        status = await governor.budget.status(info.id, budget)
    rows = {r.request_id: r for r in await ledger_rows(settings, tenant.client_id)}
    assert rows["job_1:step_1"].route == "job"
    assert float(rows["job_1:step_1"].cost_usd) == round(result.cost_usd, 10)
    assert rows["job_1:step_2"].outcome == "budget_exceeded"
    assert status.reserved_usd == 0


async def test_concurrent_requests_finish_before_shutdown_returns(
    sqlite_url: str, tmp_path: Path, key_prefix: str
) -> None:
    # A long flush interval: only the shutdown flush can have written these rows.
    settings = governed_settings(
        sqlite_url, tmp_path, key_prefix=key_prefix, ledger_flush_interval_s=60
    )
    tenant = await make_tenant(settings, rpm=1000)
    async with probe_app(settings) as (_, client):
        responses = await post_many(client, 50, tenant.headers)
    assert all(r.status_code == 200 for r in responses)
    assert len(await ledger_rows(settings, tenant.client_id)) == 50


async def test_a_repeated_x_request_id_never_merges_ledger_rows(
    sqlite_url: str, tmp_path: Path
) -> None:
    settings = governed_settings(sqlite_url, tmp_path)
    caller = await make_tenant(settings, rpm=1_000)
    victim = await make_tenant(settings, rpm=1_000)
    shared = {"X-Request-ID": "trace-0000-shared"}
    async with probe_app(settings) as (app, client):
        answers = [
            await client.post(
                "/bench/chat", json={"message": MESSAGE}, headers={**caller.headers, **shared}
            )
            for _ in range(20)
        ]
        # Another tenant's client later sends the same id: its call is its own.
        theirs = await client.post(
            "/bench/chat", json={"message": MESSAGE}, headers={**victim.headers, **shared}
        )
        await governor_of(app).ledger.flush()
    assert all(r.status_code == 200 for r in [*answers, theirs])
    assert {r.headers["x-correlation-id"] for r in [*answers, theirs]} == {"trace-0000-shared"}
    rows = await ledger_rows(settings, caller.client_id)
    assert len(rows) == 20
    assert {row.request_id for row in rows} == {r.headers["x-request-id"] for r in answers}
    billed = sum(Decimal(str(r.json()["metadata"]["estimated_cost_usd"])) for r in answers)
    assert sum((row.cost_usd for row in rows), Decimal(0)) == billed > 0
    assert {row.correlation_id for row in rows} == {"trace-0000-shared"}
    [their_row] = await ledger_rows(settings, victim.client_id)
    assert their_row.request_id == theirs.headers["x-request-id"]
    assert their_row.cost_usd > 0
