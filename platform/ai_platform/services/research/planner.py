"""Splitting a question into sub-questions: the model's plan, or a rule when its JSON
is unusable.

The model is asked for a JSON object ``{"sub_questions": [...]}``. Anything else — not
JSON, no list, empty or over-long strings — falls back to ``split_question``, which
cuts the question at sentence ends and at conjunctions that open a new question
("..., and what does it cost?"). Either way the plan is a short list of distinct,
non-empty questions, never more than asked for.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from ai_platform.services.research.config import MAX_SUB_QUESTION_CHARS

PLANNER_SYSTEM = (
    "You are the planner of a research team. Split the user's question into at most "
    "{n} self-contained sub-questions that together answer it; each must make sense "
    "on its own. Reply with a JSON object with the key sub_questions: a list of strings."
)

_QUESTION_WORDS = (
    "what|how|why|when|where|which|who|whom|whose|is|are|was|were|does|do|did|can|could"
    "|should|would|will|has|have"
)
_SENTENCES = re.compile(r"(?<=[?.!;])\s+")
_CONJUNCTION = re.compile(
    rf",?\s+(?:and|or|also|as well as|plus|then)\s+(?=(?:{_QUESTION_WORDS})\b)", re.IGNORECASE
)
_LEADING = re.compile(r"^(?:and|or|also|then|plus)\s+", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Plan:
    sub_questions: list[str]
    source: str
    """'model' when the model's JSON was used, 'fallback' when the rule split it."""


def planner_messages(question: str, n: int) -> list[dict[str, Any]]:
    return [
        {"role": "system", "content": PLANNER_SYSTEM.format(n=n)},
        {"role": "user", "content": question},
    ]


def parse_plan(content: str | None, n: int) -> list[str] | None:
    """The model's sub-questions, or None when its reply is not a usable plan."""
    if not content:
        return None
    try:
        data = json.loads(content)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    items = data.get("sub_questions", data.get("questions"))
    if not isinstance(items, list) or not items:
        return None
    out: list[str] = []
    for item in items:
        if not isinstance(item, str):
            return None
        text = " ".join(item.split())
        if not text or len(text) > MAX_SUB_QUESTION_CHARS:
            return None
        if text.lower() not in {q.lower() for q in out}:
            out.append(text)
    return out[:n]


def split_question(question: str, n: int) -> list[str]:
    """A rule-based plan: the question's own clauses, each made a question."""
    parts: list[str] = []
    for sentence in _SENTENCES.split(" ".join(question.split())):
        for clause in _CONJUNCTION.split(sentence):
            text = _LEADING.sub("", clause.strip(" ,;")).strip()
            if len(text.split()) < 2:
                continue
            parts.append(_as_question(text))
    if not parts:
        parts = [_as_question(" ".join(question.split()))]
    unique: list[str] = []
    for part in parts:
        if part.lower() not in {u.lower() for u in unique}:
            unique.append(part[:MAX_SUB_QUESTION_CHARS])
    if len(unique) > n:
        # Keep every clause: the overflow joins the last sub-question.
        head, tail = unique[: n - 1], unique[n - 1 :]
        merged = " ".join(tail)
        unique = [*head, merged[:MAX_SUB_QUESTION_CHARS]]
    return unique


def _as_question(text: str) -> str:
    text = text.rstrip(" .;!")
    text = text[:1].upper() + text[1:]
    return text if text.endswith("?") else f"{text}?"


def make_plan(content: str | None, question: str, n: int) -> Plan:
    parsed = parse_plan(content, n)
    if parsed:
        return Plan(parsed, "model")
    return Plan(split_question(question, n), "fallback")
