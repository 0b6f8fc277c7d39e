"""Research fixtures: quick job polling, a small knowledge base, SSE parsing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from ai_platform.db.base import utcnow
from ai_platform.db.engine import create_engine
from ai_platform.harness.serving import serve_in_background
from ai_platform.harness.waiting import WaitTimeout, wait_for
from ai_platform.services.research.models import ResearchJob
from ai_platform.services.research.schemas import UNFINISHED
from tests.support import Tenant

BASE = "/api/v1/research"

DOCUMENTS: list[dict[str, Any]] = [
    {
        "title": "Tent care",
        "text": "Always dry a tent completely before storing it, or mildew will form. "
        "Clean the tent fabric with lukewarm water and a soft sponge; never use detergent. "
        "Store the tent loosely in a cool, dry place.",
        "source": "care/tents.md",
    },
    {
        "title": "Tent warranty",
        "text": "The tent warranty covers manufacturing defects in seams, zippers and poles "
        "for five years. The warranty does not cover damage from fire or misuse.",
        "source": "policies/warranty.md",
    },
    {
        "title": "Shipping times",
        "text": "Standard shipping takes three to five business days. Express shipping "
        "arrives the next business day when ordered before noon.",
        "source": "policies/shipping.md",
    },
]

# Tests poll a job every 50 ms: far more than the default 60 requests a minute.
POLLING_RPM = 100_000

QUESTION = "How should I care for my tent, and what does the tent warranty cover?"


@pytest.fixture(autouse=True)
def quick_research(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Short leases and polls so tests see hand-overs and events within a second."""
    monkeypatch.setenv("RESEARCH_POLL_INTERVAL_S", "0.2")
    monkeypatch.setenv("RESEARCH_EVENTS_POLL_S", "0.05")
    monkeypatch.setenv("RESEARCH_LEASE_S", "3")
    yield


@pytest.fixture
def jobs_db_url(request: pytest.FixtureRequest) -> str | None:
    """The test's database, if it uses one (resolved here: an async fixture cannot
    set up the async ``sqlite_url``/``postgres_url`` from inside the running loop)."""
    return request.getfixturevalue("db_url") if "db_url" in request.fixturenames else None


@pytest.fixture(autouse=True)
async def no_runnable_jobs_left_behind(jobs_db_url: str | None) -> AsyncIterator[None]:
    """End every research job this test left unfinished in its database.

    The databases are shared by the whole run (``sqlite_url``/``postgres_url`` are
    session-scoped), and every app a later test starts runs a research runner that
    claims any unfinished job whose lease has lapsed (or was released at shutdown).
    A leftover job would then make its LLM calls through that later app's
    simulator and governor, using up the faults it injects and inflating its
    counts. ``test_leases`` leaves jobs ``running`` on 30 s leases on purpose, and
    any test that fails mid-job leaves one too. Being autouse, this fixture is torn
    down after the test's apps have stopped.
    """
    yield
    if jobs_db_url is None:
        return
    engine = create_engine(jobs_db_url)
    try:
        async with engine.begin() as conn:
            now = utcnow()
            await conn.execute(
                update(ResearchJob)
                .where(ResearchJob.status.in_(UNFINISHED))
                .values(
                    status="cancelled",
                    finished_at=now,
                    updated_at=now,
                    lease_owner=None,
                    lease_expires_at=None,
                )
            )
    finally:
        await engine.dispose()


async def ingest(http: httpx.AsyncClient, tenant: Tenant) -> None:
    resp = await http.post(
        "/api/v1/knowledge/ingest", json={"documents": DOCUMENTS}, headers=tenant.headers
    )
    assert resp.status_code == 201, resp.text


async def start(
    http: httpx.AsyncClient, tenant: Tenant, question: str = QUESTION, **extra: Any
) -> str:
    resp = await http.post(
        f"{BASE}/start", json={"question": question, **extra}, headers=tenant.headers
    )
    assert resp.status_code == 202, resp.text
    data = resp.json()["data"]
    assert data["status"] == "accepted"
    task_id: str = data["task_id"]
    return task_id


async def get_task(http: httpx.AsyncClient, tenant: Tenant, task_id: str) -> dict[str, Any]:
    resp = await http.get(f"{BASE}/{task_id}", headers=tenant.headers)
    assert resp.status_code == 200, resp.text
    data: dict[str, Any] = resp.json()["data"]
    return data


async def wait_until(
    http: httpx.AsyncClient,
    tenant: Tenant,
    task_id: str,
    done: Callable[[dict[str, Any]], bool] | None = None,
    within_s: float = 30.0,
) -> dict[str, Any]:
    """Poll until ``done(view)`` (default: the job finished); fail after ``within_s``."""
    if done is None:

        def done(v: dict[str, Any]) -> bool:
            return v["status"] in ("completed", "failed", "cancelled")

    check = done
    last: list[dict[str, Any]] = []

    async def reached() -> dict[str, Any] | None:
        view = await get_task(http, tenant, task_id)
        last[:] = [view]
        return view if check(view) else None

    try:
        return await wait_for(reached, timeout_s=within_s, interval_s=0.05, what=f"task {task_id}")
    except WaitTimeout as exc:
        raise WaitTimeout(f"{exc}; last view: {last[0] if last else None}") from None


def parse_sse(body: str) -> list[tuple[str, Any]]:
    events = []
    for block in body.strip().split("\n\n"):
        name, data = "message", []
        for line in block.splitlines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data.append(line[6:])
        if data:
            events.append((name, json.loads("\n".join(data))))
    return events


@asynccontextmanager
async def live_server(app: FastAPI) -> AsyncIterator[str]:
    """uvicorn serving ``app`` (lifespan run) on an ephemeral loopback port: httpx's
    ASGITransport buffers whole responses, so a stream's pacing needs a real server."""
    async with serve_in_background(app, lifespan="on", shutdown_timeout_s=30) as url:
        yield url
