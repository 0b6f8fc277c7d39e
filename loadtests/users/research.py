"""Research team traffic: start a task, poll it to the end, record the whole task's time.

``POST /start`` answers at once (202) and the work runs in the background, so the
latency a user feels is the task's: the user polls ``GET /{task_id}`` and reports
``research task (start → completed)`` as its own entry in Locust's statistics.
"""

from __future__ import annotations

import random
import time
from typing import Any

import gevent  # type: ignore[import-untyped]
from locust import task

from loadtests.users.base import PlatformUser

QUESTIONS = (
    "How should we care for a tent, and what does its warranty cover?",
    "What are the options for returning or exchanging boots bought online?",
    "How do shipping times and costs differ for international orders?",
    "What do loyalty members get, and how do points work with gift cards?",
    "How should a down jacket be washed and stored, and what if it is damaged?",
)
FINISHED = ("completed", "failed", "cancelled")
POLL_INTERVAL_S = 0.5
TASK_TIMEOUT_S = 120.0
TASK_NAME = "research task (start → completed)"


def accepted(data: Any) -> str | None:
    if not isinstance(data, dict) or not data.get("task_id"):
        return "start data has no task_id"
    return None


class ResearchUser(PlatformUser):
    """Start one task, poll it every 0.5 s until it finishes (at most 120 s)."""

    weight = 1

    @task
    def research(self) -> None:
        started = time.perf_counter()
        start_time = time.time()
        body = {"question": random.choice(QUESTIONS), "max_sub_questions": random.choice((2, 3))}
        data = self.call(
            "POST", "/api/v1/research/start", json=body, expected=202, validate=accepted
        )
        if data is None:
            return
        task_id = data["task_id"]
        status = data.get("status", "accepted")
        while status not in FINISHED and time.perf_counter() - started < TASK_TIMEOUT_S:
            gevent.sleep(POLL_INTERVAL_S)
            view = self.call(
                "GET", f"/api/v1/research/{task_id}", name="/api/v1/research/[task_id]"
            )
            if view is not None:
                status = view.get("status", status)
        problem = None
        if status != "completed":
            problem = f"task ended {status}" if status in FINISHED else "task timed out"
        self.environment.events.request.fire(
            request_type="TASK",
            name=TASK_NAME,
            response_time=(time.perf_counter() - started) * 1000,
            response_length=0,
            exception=RuntimeError(problem) if problem else None,
            context={},
            start_time=start_time,
            url=None,
            response=None,
        )
