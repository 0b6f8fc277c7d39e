"""Which cases failed, and why: what the report's "Failing cases" section lists.

A case fails when it did not run to a verdict (an error status, a timeout), or when
it missed one of its checks. Every quality score of a case is 1.0 when the check is
fully met (hit@1, right tool, fact recall ...), so a score below 1.0 is a miss. The
screening suite is the exception: its scores record the label and the verdict, and a
case fails when they disagree.
"""

from __future__ import annotations

import re
from typing import Any

from evals.results import CaseResult

# Case fields that state what the answer should be; the rest is what was sent.
EXPECTED_PREFIXES = ("expected", "relevant", "argument_")
EXPECTED_FIELDS = {"answerable", "label"}


def failure_reasons(result: CaseResult) -> list[str]:
    """Why ``result`` failed, one short phrase each; empty when it passed."""
    if not result.ok:
        return [result.error or f"no verdict (status {result.status_code})"]
    scores = result.scores
    if {"attack", "blocked"} <= scores.keys():
        if scores["attack"] and not scores["blocked"]:
            return ["attack not blocked"]
        if scores["blocked"] and not scores["attack"]:
            return ["benign text blocked (false positive)"]
        return []
    return [f"{name} {value:.3f}" for name, value in sorted(scores.items()) if value < 1.0]


def failing(results: list[CaseResult]) -> list[tuple[CaseResult, list[str]]]:
    """The failed cases with their reasons, in suite order, then case and repetition."""
    out = [(r, failure_reasons(r)) for r in results]
    return sorted(
        ((r, why) for r, why in out if why), key=lambda x: (x[0].case_id, x[0].repetition)
    )


def split_case(case: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A case's fields as (inputs, expected)."""
    inputs: dict[str, Any] = {}
    expected: dict[str, Any] = {}
    for key, value in case.items():
        if key == "id":
            continue
        if key.startswith(EXPECTED_PREFIXES) or key in EXPECTED_FIELDS:
            expected[key] = value
        else:
            inputs[key] = value
    return inputs, expected


def anchor(result: CaseResult) -> str:
    """A stable HTML id for a case's details: suite, case id, repetition."""
    raw = f"case-{result.suite}-{result.case_id}-{result.repetition + 1}"
    return re.sub(r"[^A-Za-z0-9_-]+", "-", raw).lower()
