"""Numbering, merging and rule checks of citations."""

from __future__ import annotations

from typing import Any

from ai_platform.services.research.citations import cited, merge_sources, renumber
from ai_platform.services.research.roles import parse_review, render_markdown, rule_issues


def passage(number: int, doc: str, chunk: int, content: str) -> dict[str, Any]:
    return {
        "number": number,
        "document_id": doc,
        "chunk_id": chunk,
        "title": f"Doc {doc}",
        "source": f"{doc}.md",
        "content": content,
        "score": 0.5,
    }


def test_cited_keeps_first_use_order_without_repeats() -> None:
    assert cited("A [2]. B [1] and [2]. C [10].") == [2, 1, 10]


def test_merge_numbers_shared_chunks_once_and_maps_each_finding() -> None:
    findings = [
        {"index": 1, "passages": [passage(1, "b", 7, "beta"), passage(2, "a", 1, "alpha")]},
        {"index": 0, "passages": [passage(1, "a", 1, "alpha"), passage(2, "c", 3, "gamma")]},
    ]
    sources, maps = merge_sources(sorted(findings, key=lambda f: f["index"]))
    assert [(s["document_id"], s["number"]) for s in sources] == [("a", 1), ("c", 2), ("b", 3)]
    assert maps == {0: {1: 1, 2: 2}, 1: {1: 3, 2: 1}}
    assert renumber("x [1] y [2] z [9]", maps[1]) == "x [3] y [1] z [9]"


def report(summary: str, body: str, sources: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "title": "T",
        "summary": summary,
        "sections": [{"heading": "Q?", "body": body, "citations": cited(body), "grounded": True}],
        "sources": [{**s, "snippet": s["content"]} for s in sources],
    }


def test_a_well_cited_report_has_no_rule_issues() -> None:
    sources = [passage(1, "a", 1, "Tents must be dried before storage.")]
    r = report("Dry tents before storage [1].", "Tents are dried before storage [1].", sources)
    issues, checked = rule_issues(r)
    assert issues == []
    assert checked == 2


def test_rules_find_dangling_unrelated_and_missing_citations() -> None:
    sources = [passage(1, "a", 1, "Tents must be dried before storage.")]
    r = report("Warranty lasts forever [1]. Also [4].", "No citations here.", sources)
    issues, _ = rule_issues(r)
    assert any("do not exist: [4]" in i for i in issues)
    assert any("cites [1] but shares no terms" in i for i in issues)
    assert any("section 'Q?' cites no sources" in i for i in issues)


def test_ungrounded_sections_and_uncited_summary_are_issues() -> None:
    r = report("A summary.", "An answer.", [passage(1, "a", 1, "text")])
    r["sections"][0]["grounded"] = False
    issues, _ = rule_issues(r)
    assert "the summary cites no sources" in issues
    assert "no knowledge-base passages for 'Q?'" in issues


def test_parse_review_accepts_only_the_two_verdicts() -> None:
    assert parse_review('{"verdict": "Supported", "issues": ["a", 3, " "]}') == ("supported", ["a"])
    assert parse_review('{"verdict": "maybe", "issues": []}') == (None, [])
    assert parse_review("nope") == (None, [])


def test_markdown_lists_sections_and_sources() -> None:
    r = report("S [1].", "B [1].", [passage(1, "a", 1, "text")])
    md = render_markdown(r)
    assert md.startswith("# T\n\nS [1].\n\n## Q?\n\nB [1].\n\n## Sources\n\n[1] Doc a (a.md): text")
