"""Suite data agrees with the platform's sample data; scoring functions on fixtures."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from evals.agent import agent_scores, arguments_match
from evals.assistant import assistant_scores, expected_sizes
from evals.catalog import SUITES, select
from evals.images import draw
from evals.knowledge import answer_scores, search_scores
from evals.research import research_scores, step_request_ids
from evals.suite import SUITES_DIR, read_jsonl
from PIL import Image

from ai_platform.llm.simulator.images import colour_name
from ai_platform.services.agent.demo import ORDERS
from ai_platform.services.agent.tools import TOOL_NAMES
from ai_platform.services.knowledge.demo import corpus


def test_every_suite_loads_with_unique_ids() -> None:
    for suite in SUITES.values():
        cases = suite.load(SUITES_DIR)
        assert cases, suite.name
        assert len({c["id"] for c in cases}) == len(cases)


def test_select_keeps_catalogue_order_and_refuses_unknown_names() -> None:
    assert [s.name for s in select(["screening", "agent"])] == ["agent", "screening"]
    assert len(select(None)) == len(SUITES)
    with pytest.raises(ValueError, match="unknown suite"):
        select(["nope"])


def test_read_jsonl_names_the_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "a"}\n\n{"id": \n')
    with pytest.raises(ValueError, match=r"bad.jsonl:3"):
        read_jsonl(path)
    path.write_text('{"id": "a"}\n{"id": "a"}\n')
    with pytest.raises(ValueError, match="unique"):
        read_jsonl(path)


def test_knowledge_labels_are_corpus_documents() -> None:
    ids = {r["id"] for r in corpus()}
    titles = {r["title"] for r in corpus()}
    for case in read_jsonl(SUITES_DIR / "knowledge_search.jsonl"):
        assert set(case["relevant_ids"]) <= ids, case["id"]
        assert set(case["relevant_titles"]) <= titles, case["id"]
    for case in read_jsonl(SUITES_DIR / "research.jsonl"):
        assert set(case["relevant_titles"]) <= titles, case["id"]
        text = " ".join(r["text"] for r in corpus() if r["title"] in case["relevant_titles"])
        for fact in case["expected_facts"]:
            assert fact.lower() in text.lower(), (case["id"], fact)


def test_agent_cases_name_real_tools_and_demo_orders() -> None:
    demo = {o.ref: o for o in ORDERS}
    for case in read_jsonl(SUITES_DIR / "agent.jsonl"):
        if case.get("expected_tool"):
            assert case["expected_tool"] in TOOL_NAMES, case["id"]
        order_id = (case.get("expected_arguments") or {}).get("order_id")
        if order_id is None or order_id == "ORD-9999":  # the one order that must not exist
            continue
        order = demo[order_id]
        # An order case expects facts of that demo order: its status, carrier, tracking.
        known = {order.status, (order.carrier or "").lower(), (order.tracking or "").lower()}
        for fact in case["expected_facts"]:
            assert fact.lower() in known, (case["id"], fact)
    assert "ORD-9999" not in demo


def test_assistant_images_have_the_size_and_colour_the_cases_expect() -> None:
    for case in read_jsonl(SUITES_DIR / "assistant.jsonl"):
        for spec, want in zip(case["images"], case["expected"], strict=True):
            image = draw(spec)
            with Image.open(io.BytesIO(image.data)) as decoded:
                assert decoded.format == spec["format"].upper()
                assert decoded.size == (spec["width"], spec["height"])
                # The fill is the majority colour and has the name the case expects.
                assert colour_name(*spec["rgb"]) == want["colour"], case["id"]
                rgb = decoded.convert("RGB")
                right = rgb.getpixel((spec["width"] - 1, spec["height"] // 2))
                assert isinstance(right, tuple)
                assert colour_name(*right[:3]) == want["colour"], case["id"]


def test_draw_puts_the_stripe_on_the_left_and_refuses_unknown_formats() -> None:
    image = draw({"format": "PNG", "width": 100, "height": 10, "rgb": [255, 255, 0],
                  "stripe_rgb": [0, 0, 0], "stripe_share": 0.25})  # fmt: skip
    with Image.open(io.BytesIO(image.data)) as decoded:
        assert decoded.getpixel((24, 5)) == (0, 0, 0)
        assert decoded.getpixel((25, 5)) == (255, 255, 0)
    with pytest.raises(ValueError, match="format"):
        draw({"format": "BMP", "width": 1, "height": 1, "rgb": [0, 0, 0]})


# -- scoring ------------------------------------------------------------------------------


def test_search_scores_use_k_in_their_names() -> None:
    scores = search_scores(["nw-a", "nw-b", "nw-a"], ["nw-b"], 3)
    assert scores == {
        "hit@1": 0.0,
        "recall@3": 1.0,
        "mrr@3": 0.5,
        "ndcg@3": pytest.approx(0.6309, abs=1e-4),
    }


def test_answer_scores() -> None:
    case = {
        "answerable": True,
        "relevant_titles": ["Return policy"],
        "expected_facts": ["60 days", "$6.95"],
    }
    scores = answer_scores(case, "Within 60 days [1].", ["Return policy", "Exchanges"])
    assert scores == {"cites_relevant": 1.0, "citation_precision": 0.5, "fact_recall": 0.5}
    assert answer_scores(case, "No idea.", []) == {
        "cites_relevant": 0.0, "citation_precision": 0.0, "fact_recall": 0.0,
    }  # fmt: skip
    unanswerable = {"answerable": False, "relevant_titles": [], "expected_facts": []}
    assert answer_scores(unanswerable, "I don't know: nothing matches.", []) == {
        "declined_unanswerable": 1.0
    }
    assert answer_scores(unanswerable, "Kayaks cost $400 [1].", ["X"]) == {
        "declined_unanswerable": 0.0
    }


def test_agent_scores() -> None:
    case = {"expected_tool": "get_order_status", "expected_arguments": {"order_id": "ORD-1001"},
            "expected_escalation": False, "expected_facts": ["shipped", "UPS"]}  # fmt: skip
    good = {
        "reply": "Order ORD-1001 has shipped with UPS.",
        "escalated": False,
        "tool_calls": [{"name": "get_order_status", "arguments": {"order_id": " ord-1001 "}}],
    }
    assert agent_scores(case, good) == {
        "escalation_correct": 1.0, "tool_correct": 1.0, "arguments_correct": 1.0,
        "fact_recall": 1.0,
    }  # fmt: skip
    wrong_order = {
        **good,
        "tool_calls": [{"name": "get_order_status", "arguments": {"order_id": "ORD-1002"}}],
    }
    assert agent_scores(case, wrong_order)["arguments_correct"] == 0.0
    no_tool = {"reply": "Sorry.", "escalated": True, "tool_calls": []}
    assert agent_scores(case, no_tool) == {
        "escalation_correct": 0.0, "tool_correct": 0.0, "arguments_correct": 0.0,
        "fact_recall": 0.0,
    }  # fmt: skip
    # No expected tool: only escalation (and facts, when listed) are scored.
    human: dict[str, Any] = {
        "expected_tool": None,
        "expected_escalation": True,
        "expected_facts": [],
    }
    assert agent_scores(human, no_tool) == {"escalation_correct": 1.0}


def test_argument_keywords_match_inside_free_text() -> None:
    case = {"argument_keywords": {"query": ["return", "policy"]}}
    assert arguments_match(case, {"query": "What is the RETURN  policy?"})
    assert not arguments_match(case, {"query": "returns"})
    assert not arguments_match(case, {})


def test_research_scores() -> None:
    case = {"expected_sub_questions": [["care", "tent"], ["warranty"], ["price"]],
            "expected_facts": ["10 years"], "relevant_titles": ["Warranty", "Tents"]}  # fmt: skip
    view: dict[str, Any] = {
        "report": {
            "sections": [
                {"heading": "How do I care for a tent?", "citations": [1]},
                {"heading": "What does the warranty cover?", "citations": []},
            ],
            "sources": [{"number": 1, "title": "Tents"}, {"number": 2, "title": "Repairs"}],
            "markdown": "Tents are covered for 10 years [1]. Dry it first [2].",
        },
        "review": {"verdict": "pass"},
    }
    scores = research_scores(case, view)
    assert scores == {
        "subquestion_coverage": pytest.approx(2 / 3),
        "fact_recall": 1.0,
        "sections_cited": 0.5,
        "citations_valid": 1.0,
        "source_recall": 0.5,
        "review_pass": 1.0,
    }
    view["report"]["markdown"] = "Covered for 10 years [3]."
    assert research_scores(case, view)["citations_valid"] == 0.0


def test_research_step_request_ids_follow_the_executor() -> None:
    ids = step_request_ids("rsch_1", {"sub_questions": ["a", "b"]})
    assert ids == ["rsch_1:plan", "rsch_1:research:0", "rsch_1:research:1", "rsch_1:write",
                   "rsch_1:review"]  # fmt: skip


def test_assistant_scores_use_the_sent_size() -> None:
    case = {
        "images": [{"width": 3000, "height": 1500}, {"width": 50, "height": 50}],
        "expected": [{"colour": "orange", "size": "2048x1024"}, {"colour": "gray"}],
    }
    assert expected_sizes(case) == [(2048, 1024), (50, 50)]
    answer = "Image 1: 2048x1024, orange. Image 2: 50 x 50 pixels, mostly grey."
    assert assistant_scores(case, answer) == {"size_named": 1.0, "colour_named": 1.0}
    assert assistant_scores(case, "A 3000x1500 orange image.") == {
        "size_named": 0.0, "colour_named": 0.5,
    }  # fmt: skip


def test_screening_cases_come_from_the_detector_set() -> None:
    cases = SUITES["screening"].load(SUITES_DIR)
    labels = {c["label"] for c in cases}
    assert labels == {"attack", "benign"}
    assert all(re.fullmatch(r"inj\d{3,}", c["id"]) for c in cases)
