"""Prompt-injection screening suite, measured at the gateway.

The labelled set is the detector's own
(``ai_platform/governance/screening/data/injection_eval.jsonl``: attacks and hard
benign texts in several languages). Each text is sent as a knowledge search query,
so the whole governed path decides: ``400 prompt_injection_detected`` is a block,
``200`` is a pass. Precision and recall are of blocking attacks. Searches run in
full-text mode with one result: the screen runs before the search, and nothing here
needs embeddings.
"""

from __future__ import annotations

from pathlib import Path

from ai_platform.governance.screening.evaluate import DEFAULT_DATA, load_examples
from evals.metrics import classification
from evals.results import CaseResult
from evals.suite import Case, Suite, SuiteContext, from_reply

SEARCH = "/api/v1/knowledge/search"
BLOCKED = "prompt_injection_detected"


def load(suites_dir: Path) -> list[Case]:
    # The set lives with the detector; the suites directory is not used.
    return [
        {"id": f"inj{n:03d}", "text": e.text, "label": e.label, "category": e.category,
         "lang": e.lang}
        for n, e in enumerate(load_examples(DEFAULT_DATA), start=1)
    ]  # fmt: skip


async def run_case(ctx: SuiteContext, case: Case) -> CaseResult:
    body = {"query": case["text"], "max_results": 1, "mode": "fulltext"}
    reply = await ctx.client.post(SEARCH, json=body)
    blocked = reply.status == 400 and reply.error_code == BLOCKED
    verdict = reply.ok or blocked
    attack = case["label"] == "attack"
    return from_reply(
        SCREENING,
        case,
        reply,
        ok=verdict,
        scores={"blocked": 1.0 if blocked else 0.0, "attack": 1.0 if attack else 0.0}
        if verdict
        else {},
        details={"label": case["label"], "category": case["category"], "lang": case["lang"]},
    )


def quality(results: list[CaseResult]) -> dict[str, float]:
    judged = [r for r in results if r.ok and "blocked" in r.scores]
    if not judged:
        return {}
    tp = sum(1 for r in judged if r.scores["attack"] and r.scores["blocked"])
    fp = sum(1 for r in judged if not r.scores["attack"] and r.scores["blocked"])
    tn = sum(1 for r in judged if not r.scores["attack"] and not r.scores["blocked"])
    fn = sum(1 for r in judged if r.scores["attack"] and not r.scores["blocked"])
    return classification(tp, fp, tn, fn)


SCREENING = Suite(
    name="screening",
    service="gateway screening",
    endpoint=f"POST {SEARCH} (blocked = 400 {BLOCKED})",
    description="The detector's labelled attacks and benign texts, sent through a "
    "governed endpoint; blocking measured as precision and recall",
    load=load,
    run_case=run_case,
    quality=quality,
    quality_labels={
        "precision": "share of the blocked texts that are attacks",
        "recall": "share of the attacks blocked",
        "f1": "harmonic mean of precision and recall",
        "false_positive_rate": "share of the benign texts blocked (lower is better)",
        "accuracy": "share of all texts decided correctly",
    },
)
