"""Research fixtures: quick job polling, a small knowledge base, SSE parsing."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from ai_platform.services.research.config import get_research_settings
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
    get_research_settings.cache_clear()
    yield
    get_research_settings.cache_clear()


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
    done: Any = None,
    within_s: float = 30.0,
) -> dict[str, Any]:
    """Poll until ``done(view)`` (default: the job finished); fail after ``within_s``."""
    if done is None:

        def done(v: dict[str, Any]) -> bool:
            return v["status"] in ("completed", "failed", "cancelled")

    deadline = time.monotonic() + within_s
    while True:
        view = await get_task(http, tenant, task_id)
        if done(view):
            return view
        if time.monotonic() > deadline:
            pytest.fail(f"task {task_id} did not get there in {within_s}s: {view}")
        await asyncio.sleep(0.05)


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


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # pytest owns SIGINT; a server started inside a test must not take it.
        yield


@asynccontextmanager
async def live_server(app: FastAPI) -> AsyncIterator[str]:
    """uvicorn serving ``app`` on an ephemeral loopback port (httpx's ASGITransport
    buffers whole responses, so a stream's pacing needs a real server)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = _Server(uvicorn.Config(app, lifespan="on", log_level="warning", access_log=False))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("uvicorn stopped before it started")
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=30)
        sock.close()
