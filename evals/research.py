"""Research team suite: the report covers each sub-question, states the facts, and its
citations point at real sources.

A case is one task: ``POST /start``, then ``GET /{task_id}`` until it finishes. The
client-side latency is start to "finished" as the poll sees it (within one poll
interval); the server-side one is the job's ``finished_at - created_at``. The task's
tokens and cost are its steps' ledger rows (request ids ``{task_id}:{step}``).
"""

from __future__ import annotations

import asyncio
import re
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from evals.metrics import fact_recall
from evals.results import CaseResult, Usage
from evals.suite import Case, Suite, SuiteContext, mean_scores, read_jsonl

START = "/api/v1/research/start"
FINISHED = ("completed", "failed", "cancelled")
_MARKER = re.compile(r"\[(\d{1,3})\]")


def load(suites_dir: Path) -> list[Case]:
    return read_jsonl(suites_dir / "research.jsonl")


def _has_all(text: str, words: list[str]) -> bool:
    body = text.casefold()
    return all(w.casefold() in body for w in words)


def research_scores(case: Case, view: dict[str, Any]) -> dict[str, float]:
    report = view.get("report") or {}
    sections = [s for s in report.get("sections") or [] if isinstance(s, dict)]
    sources = [s for s in report.get("sources") or [] if isinstance(s, dict)]
    markdown = str(report.get("markdown") or "")
    scores: dict[str, float] = {}
    groups = case.get("expected_sub_questions") or []
    if groups:
        headings = [str(s.get("heading") or "") for s in sections]
        covered = sum(any(_has_all(h, group) for h in headings) for group in groups)
        scores["subquestion_coverage"] = covered / len(groups)
    facts = case.get("expected_facts") or []
    if facts:
        scores["fact_recall"] = fact_recall(markdown, facts)
    scores["sections_cited"] = (
        sum(bool(s.get("citations")) for s in sections) / len(sections) if sections else 0.0
    )
    markers = {int(m) for m in _MARKER.findall(markdown)}
    numbers = {int(s.get("number", -1)) for s in sources}
    scores["citations_valid"] = 1.0 if markers and markers <= numbers else 0.0
    titles = case.get("relevant_titles") or []
    if titles:
        found = {str(s.get("title")) for s in sources}
        scores["source_recall"] = sum(t in found for t in titles) / len(titles)
    review = view.get("review") or {}
    scores["review_pass"] = 1.0 if review.get("verdict") == "pass" else 0.0
    return scores


def _seconds_between(start: Any, end: Any) -> float | None:
    try:
        a = datetime.fromisoformat(str(start).replace("Z", "+00:00"))
        b = datetime.fromisoformat(str(end).replace("Z", "+00:00"))
    except ValueError:
        return None
    return (b - a).total_seconds()


def step_request_ids(task_id: str, view: dict[str, Any]) -> list[str]:
    subs = view.get("sub_questions") or []
    keys = ["plan", *(f"research:{i}" for i in range(len(subs))), "write", "review"]
    return [f"{task_id}:{key}" for key in keys]


async def run_case(ctx: SuiteContext, case: Case) -> CaseResult:
    body: dict[str, Any] = {
        "question": case["question"],
        "max_sub_questions": case.get("max_sub_questions", 3),
    }
    if ctx.settings.model:
        body["model"] = ctx.settings.model
    started = time.perf_counter()
    accepted = await ctx.client.post(START, json=body)

    def result(ok: bool, **extra: Any) -> CaseResult:
        return CaseResult(
            suite=RESEARCH.name,
            service=RESEARCH.service,
            case_id=str(case["id"]),
            repetition=0,
            ok=ok,
            status_code=accepted.status,
            latency_ms=(time.perf_counter() - started) * 1000,
            server_ms=extra.pop("server_ms", None),
            request_ids=[i for i in [accepted.request_id, *extra.pop("steps", [])] if i],
            **extra,
        )

    if not accepted.ok or not isinstance(accepted.data, dict):
        return result(False, error=accepted.describe_error())
    task_id = str(accepted.data["task_id"])
    deadline = started + ctx.settings.research_timeout_s
    while True:
        polled = await ctx.client.get(f"/api/v1/research/{task_id}")
        view = polled.data
        if not polled.ok or not isinstance(view, dict):
            return result(False, error=f"polling: {polled.describe_error()}")
        if view.get("status") in FINISHED:
            break
        if time.perf_counter() > deadline:
            return result(False, error=f"not finished after {ctx.settings.research_timeout_s} s")
        await asyncio.sleep(ctx.settings.poll_interval_s)
    run_s = _seconds_between(view.get("created_at"), view.get("finished_at"))
    usage = view.get("usage") or {}
    fallback = Usage(
        tokens_in=int(usage.get("prompt_tokens") or 0),
        tokens_out=int(usage.get("completion_tokens") or 0),
        cost_usd=float(usage.get("cost_usd") or 0.0),
        model=view.get("model"),
        source="response",
    )
    completed = view.get("status") == "completed"
    error = view.get("error") or {}
    return result(
        completed,
        server_ms=None if run_s is None else run_s * 1000,
        steps=step_request_ids(task_id, view),
        usage=fallback,
        scores=research_scores(case, view) if completed else {},
        details={
            "task_id": task_id,
            "status": view.get("status"),
            "planner": view.get("planner"),
            "sub_questions": view.get("sub_questions"),
            "review": (view.get("review") or {}).get("verdict"),
        },
        error=None if completed else f"{view.get('status')}: {error.get('code')}",
    )


def quality(results: list[CaseResult]) -> dict[str, float]:
    return mean_scores(
        results,
        [
            "subquestion_coverage",
            "fact_recall",
            "source_recall",
            "sections_cited",
            "citations_valid",
            "review_pass",
        ],
    )


RESEARCH = Suite(
    name="research",
    service="research",
    endpoint=f"POST {START} + GET /api/v1/research/{{task_id}}",
    description="Multi-part questions about the Northwind corpus; the report must cover "
    "each part, state the facts and cite its sources",
    load=load,
    run_case=run_case,
    quality=quality,
    quality_labels={
        "subquestion_coverage": "share of the expected parts that got a section",
        "fact_recall": "share of the expected facts in the report",
        "source_recall": "share of the labelled documents among the report's sources",
        "sections_cited": "share of the sections that cite a source",
        "citations_valid": "the report cites, and every [n] is one of its sources",
        "review_pass": "the reviewer passed the report",
    },
)
