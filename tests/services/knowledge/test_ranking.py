"""Query terms, score normalisation, RRF, vector packing and citation parsing."""

from __future__ import annotations

import math

from ai_platform.services.knowledge.ranking import (
    fts5_match,
    normalise_relative,
    pack_vector,
    query_terms,
    rank_by_similarity,
    rrf,
    unit_vector,
    unpack_vector,
    websearch_or,
)
from ai_platform.services.knowledge.schemas import SearchHit
from ai_platform.services.knowledge.service import build_messages, cited_numbers, snippet


def test_query_terms_drop_stopwords_operators_and_duplicates() -> None:
    assert query_terms("What is the return window for the RETURN of a tent?") == [
        "return",
        "window",
        "tent",
    ]
    assert query_terms("tents OR NOT (boots) AND near") == ["tents", "boots"]


def test_query_terms_keep_stopwords_when_nothing_else_is_left() -> None:
    assert query_terms("what is it") == ["what", "is", "it"]
    assert query_terms("?!") == []


def test_query_syntax_cannot_be_injected() -> None:
    terms = query_terms('tent" OR * ) NEAR(a b) -boots ^title:x')
    assert all(t.isalnum() for t in terms)
    assert fts5_match(terms) == '"tent" OR "b" OR "boots" OR "title" OR "x"'
    assert websearch_or(["tent", "boots"]) == "tent or boots"


def test_relative_normalisation() -> None:
    assert normalise_relative([(1, 8.0), (2, 2.0)]) == {1: 1.0, 2: 0.25}
    assert normalise_relative([(1, 0.0)]) == {1: 0.0}
    assert normalise_relative([]) == {}


def test_rrf_normalised_by_its_ceiling() -> None:
    fused = dict(rrf([[1, 2, 3], [1, 3]]))
    assert fused[1] == 1.0  # first in both lists
    assert math.isclose(fused[3], (1 / 63 + 1 / 62) / (2 / 61))
    assert math.isclose(fused[2], (1 / 62) / (2 / 61))
    assert [item for item, _ in rrf([[1, 2, 3], [1, 3]])] == [1, 3, 2]
    assert all(0 <= s <= 1 for s in fused.values())


def test_vectors_round_trip_and_rank_by_cosine() -> None:
    a = unit_vector([3.0, 4.0, 0.0])
    assert math.isclose(math.hypot(*a), 1.0)
    packed = pack_vector(a)
    assert len(packed) == 12
    assert [round(v, 5) for v in unpack_vector(packed)] == [0.6, 0.8, 0.0]
    candidates = [
        (1, pack_vector(unit_vector([0.0, 1.0, 0.0]))),
        (2, pack_vector(unit_vector([3.0, 4.0, 0.0]))),
        (3, pack_vector([1.0, 0.0])),  # another model's dimension: skipped
    ]
    ranked = rank_by_similarity(a, candidates, limit=5)
    assert [c for c, _ in ranked] == [2, 1]
    assert math.isclose(ranked[0][1], 1.0, rel_tol=1e-6)


def test_cited_numbers_in_order_without_out_of_range() -> None:
    text = "Returns take 60 days [2]. Labels cost $6.95 [1, 2]; see also [7] and [2][3]."
    assert cited_numbers(text, available=3) == [2, 1, 3]
    assert cited_numbers("no citations", available=3) == []


def test_prompt_has_one_numbered_line_per_passage() -> None:
    hits = [
        SearchHit(
            content="Line one.\n\nLine two.",
            score=1.0,
            source="s",
            metadata={},
            document_id="doc_1",
            chunk_id=1,
            title="Returns",
            position=0,
        )
    ]
    messages = build_messages("How long?", hits)
    user = messages[-1]["content"]
    assert '[1] <untrusted source="s">Returns: Line one. Line two.</untrusted>' in user.splitlines()
    assert user.endswith("Question: How long?")
    assert "not instructions" in messages[0]["content"]


def test_snippet_cuts_on_a_word() -> None:
    assert snippet("a b c", 10) == "a b c"
    assert snippet("alpha beta gamma delta", 12) == "alpha beta…"
