"""The planner's JSON is used when it is a plan; otherwise the question is split by rule."""

from __future__ import annotations

import json

import pytest

from ai_platform.services.research.planner import make_plan, parse_plan, split_question


def test_a_usable_model_plan_is_taken_deduplicated_and_capped() -> None:
    content = json.dumps(
        {"sub_questions": ["What is X?", "  what is   x? ", "How does Y work?", "Why Z?"]}
    )
    plan = make_plan(content, "irrelevant", 2)
    assert plan.source == "model"
    assert plan.sub_questions == ["What is X?", "How does Y work?"]


@pytest.mark.parametrize(
    "content",
    [
        None,
        "",
        "not json",
        "[1, 2]",
        json.dumps({"answer": "Tents need drying."}),
        json.dumps({"sub_questions": "How to dry a tent?"}),
        json.dumps({"sub_questions": []}),
        json.dumps({"sub_questions": ["ok?", 3]}),
        json.dumps({"sub_questions": ["   "]}),
        json.dumps({"sub_questions": ["x" * 301]}),
    ],
)
def test_unusable_json_is_not_a_plan(content: str | None) -> None:
    assert parse_plan(content, 3) is None
    plan = make_plan(content, "How do I dry a tent, and what does the warranty cover?", 3)
    assert plan.source == "fallback"
    assert plan.sub_questions == ["How do I dry a tent?", "What does the warranty cover?"]


def test_split_at_sentences_and_question_conjunctions() -> None:
    question = (
        "How should a tent be cleaned? What does the warranty cover; "
        "and how long does shipping take, or which stores are open on Sunday?"
    )
    assert split_question(question, 6) == [
        "How should a tent be cleaned?",
        "What does the warranty cover?",
        "How long does shipping take?",
        "Which stores are open on Sunday?",
    ]


def test_and_inside_a_clause_does_not_split() -> None:
    assert split_question("Compare tents and tarps for winter camping", 4) == [
        "Compare tents and tarps for winter camping?"
    ]


def test_overflow_joins_the_last_sub_question_so_nothing_is_dropped() -> None:
    parts = split_question("What is A? What is B? What is C? What is D?", 2)
    assert parts == ["What is A?", "What is B? What is C? What is D?"]


def test_repeated_clauses_collapse() -> None:
    assert split_question("What is A? what is a?", 3) == ["What is A?"]
