"""The event stream over a real server: events arrive as steps complete, not at the end."""

from __future__ import annotations

import json
import time

import httpx

from ai_platform.config import Settings
from ai_platform.gateway.app import create_app
from tests.services.research.conftest import BASE, POLLING_RPM, ingest, live_server, start
from tests.support import make_tenant


async def test_step_events_arrive_while_the_job_runs(settings: Settings) -> None:
    slow = settings.model_copy(update={"simulator_ttft_ms": 250.0})
    tenant = await make_tenant(settings, rpm=POLLING_RPM)
    async with (
        live_server(create_app(slow)) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=60) as http,
    ):
        await ingest(http, tenant)
        task_id = await start(http, tenant, max_sub_questions=2)
        arrivals: list[tuple[str, float, dict[str, object]]] = []
        began = time.monotonic()
        async with http.stream("GET", f"{BASE}/{task_id}/events", headers=tenant.headers) as resp:
            assert resp.status_code == 200
            name = "message"
            async for line in resp.aiter_lines():
                if line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: "):
                    arrivals.append((name, time.monotonic() - began, json.loads(line[6:])))
    names = [n for n, _, _ in arrivals]
    assert names[0] == "status" and names[-1] == "completed"
    plan_at = next(t for n, t, d in arrivals if n == "step" and d["key"] == "plan")
    done_at = arrivals[-1][1]
    # Four more model calls of at least 250 ms each follow the plan.
    assert done_at - plan_at > 0.5, arrivals
