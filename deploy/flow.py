"""The end-to-end flow through the gateway of a running stack.

An admin call (admin runs in the gateway), then one call to each service: knowledge
ingest and search, an agent turn as an SSE stream, an assistant chat, and a research
job that only the worker container can finish (``serve`` enqueues it on Redis).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import httpx

from ai_platform.harness.waiting import wait_for_sync

HELD_S = 3.0  # a research job takes about 1 s here once a worker runs it
DOCUMENT = {
    "title": "Tent care",
    "text": "Dry a tent fully before storing it. The tent warranty covers seams for two years.",
    "source": "deploy-test",
}


def _ok(resp: httpx.Response, status: int = 200) -> Any:
    """The envelope's ``data`` of a response that must have ``status``."""
    if resp.status_code != status:
        raise AssertionError(
            f"{resp.request.method} {resp.request.url.path}: {resp.status_code} {resp.text[:500]}"
        )
    return resp.json()["data"]


def run_flow(
    base_url: str,
    admin_key: str,
    hold_worker: Callable[[], AbstractContextManager[object]],
    log: Callable[[str], None] = print,
) -> tuple[dict[str, float], dict[str, str]]:
    """Run every step; returns seconds per step and the ids it made (``research_task``).
    Raises AssertionError on a wrong answer.

    ``hold_worker`` suspends the research worker while the job is started: a job still
    unfinished after ``HELD_S`` and finished once the worker resumes ran in the worker.
    """
    timings: dict[str, float] = {}
    made: dict[str, str] = {}
    headers = {"X-API-Key": admin_key}
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as http:

        def step(name: str, fn: Callable[[], None]) -> None:
            started = time.perf_counter()
            fn()
            timings[name] = time.perf_counter() - started
            log(f"  {name}: ok ({timings[name]:.2f} s)")

        def admin() -> None:
            clients = _ok(http.get("/api/v1/admin/clients"))
            assert any(c["name"] == "operations" for c in clients["items"]), clients

        def knowledge() -> None:
            ingested = _ok(
                http.post("/api/v1/knowledge/ingest", json={"documents": [DOCUMENT]}), 201
            )
            assert ingested["total_chunks"] >= 1, ingested
            found = _ok(
                http.post(
                    "/api/v1/knowledge/search",
                    json={"query": "tent warranty seams", "max_results": 3},
                )
            )
            assert any("warranty" in hit["content"] for hit in found), found

        def agent_stream() -> None:
            events: list[str] = []
            with http.stream(
                "POST", "/api/v1/agent/chat/stream", json={"message": "How do I store my tent?"}
            ) as resp:
                assert resp.status_code == 200, resp.read()
                assert resp.headers["content-type"].startswith("text/event-stream")
                events = [
                    line[6:].strip() for line in resp.iter_lines() if line.startswith("event:")
                ]
            assert "token" in events and events[-1] == "done", events

        def assistant() -> None:
            reply = _ok(http.post("/api/v1/assistant/chat", json={"message": "Say: hello"}))
            assert reply.get("conversation_id"), reply

        def research() -> None:
            with hold_worker():
                accepted = _ok(
                    http.post(
                        "/api/v1/research/start",
                        json={"question": "How should a tent be stored?", "max_sub_questions": 2},
                    ),
                    202,
                )
                time.sleep(HELD_S)
                held = _ok(http.get(accepted["status_url"]))
                assert held["status"] in ("accepted", "running"), held
            url = accepted["status_url"]
            made["research_task"] = accepted["task_id"]

            def finished() -> dict[str, Any]:
                job: dict[str, Any] = _ok(http.get(url))
                return job if job["status"] in ("completed", "failed", "cancelled") else {}

            job: dict[str, Any] = wait_for_sync(
                finished, timeout_s=180, interval_s=1, what="the research job"
            )
            assert job["status"] == "completed", job

        step("admin (in the gateway)", admin)
        step("knowledge ingest + search", knowledge)
        step("agent chat/stream (SSE)", agent_stream)
        step("assistant chat", assistant)
        step("research job (worker)", research)
    return timings, made
