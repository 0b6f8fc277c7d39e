"""Ranking, text and classification metrics on hand-computed fixtures."""

from __future__ import annotations

import math

import pytest
from evals.metrics import (
    classification,
    dedupe,
    fact_recall,
    hit_at_k,
    mentions_size,
    mrr,
    ndcg_at_k,
    percentile,
    recall_at_k,
    says_unknown,
)

# Ranked documents as a search returns them: chunk hits, so a document may repeat.
RANKED = ["a", "x", "a", "b", None, "y", "c"]
# As documents: a(1) x(2) b(3) y(4) c(5)


def test_dedupe_keeps_first_rank_and_drops_missing_ids() -> None:
    assert dedupe(RANKED) == ["a", "x", "b", "y", "c"]


def test_recall_at_k_counts_documents_not_chunks() -> None:
    assert recall_at_k(RANKED, {"a", "b"}, 1) == 0.5
    assert recall_at_k(RANKED, {"a", "b"}, 2) == 0.5
    assert recall_at_k(RANKED, {"a", "b"}, 3) == 1.0
    assert recall_at_k(RANKED, {"b", "c", "z"}, 5) == pytest.approx(2 / 3)
    assert recall_at_k(RANKED, {"z"}, 5) == 0.0


def test_hit_at_k() -> None:
    assert hit_at_k(RANKED, {"b"}, 2) == 0.0
    assert hit_at_k(RANKED, {"b"}, 3) == 1.0


def test_mrr_is_the_reciprocal_rank_of_the_first_relevant_document() -> None:
    assert mrr(RANKED, {"a"}) == 1.0
    assert mrr(RANKED, {"b", "c"}) == pytest.approx(1 / 3)
    assert mrr(RANKED, {"c"}) == pytest.approx(1 / 5)
    assert mrr(RANKED, {"c"}, k=4) == 0.0
    assert mrr(RANKED, {"z"}) == 0.0


def test_ndcg_exact_values() -> None:
    # One relevant document at rank 3: DCG = 1/log2(4) = 0.5, IDCG = 1.
    assert ndcg_at_k(RANKED, {"b"}, 5) == pytest.approx(0.5)
    # Relevant at ranks 1 and 3: DCG = 1 + 0.5; IDCG = 1 + 1/log2(3).
    assert ndcg_at_k(RANKED, {"a", "b"}, 5) == pytest.approx(1.5 / (1 + 1 / math.log2(3)))
    # Three relevant, k = 2: only a (rank 1) counts; IDCG over min(3, 2) = 2 ranks.
    assert ndcg_at_k(RANKED, {"a", "b", "c"}, 2) == pytest.approx(1 / (1 + 1 / math.log2(3)))
    assert ndcg_at_k(["a", "b"], {"a", "b"}, 5) == pytest.approx(1.0)
    assert ndcg_at_k(RANKED, {"z"}, 5) == 0.0


def test_metrics_refuse_an_empty_relevant_set() -> None:
    with pytest.raises(ValueError):
        recall_at_k(RANKED, set(), 5)
    with pytest.raises(ValueError):
        ndcg_at_k(RANKED, set(), 5)


def test_fact_recall_ignores_case_spacing_and_typographic_dashes() -> None:
    answer = "Refunds take 5 to 7 business  days; the label costs $6.95 \u2013 or nothing."
    assert fact_recall(answer, ["5 to 7 business days", "$6.95"]) == 1.0
    assert fact_recall(answer, ["5 TO 7 business days", "60 days"]) == 0.5
    assert fact_recall("costs - or nothing", ["costs \u2014 or"]) == 1.0


def test_says_unknown() -> None:
    assert says_unknown("I don't know: nothing in the knowledge base matches that question.")
    assert says_unknown("I do not know.")
    assert says_unknown("The passages do not contain that information.")
    assert says_unknown("I don\u2019t know")
    assert not says_unknown("Unused items can be returned within 60 days [1].")


def test_mentions_size() -> None:
    assert mentions_size("a PNG image, 64x32 pixels", 64, 32)
    assert mentions_size("It is 64 × 32.", 64, 32)
    assert mentions_size("64 by 32 pixels", 64, 32)
    assert not mentions_size("164x32", 64, 32)
    assert not mentions_size("64x320", 64, 32)
    assert not mentions_size("32x64", 64, 32)


def test_classification() -> None:
    scores = classification(tp=8, fp=2, tn=88, fn=2)
    assert scores["precision"] == pytest.approx(0.8)
    assert scores["recall"] == pytest.approx(0.8)
    assert scores["f1"] == pytest.approx(0.8)
    assert scores["false_positive_rate"] == pytest.approx(2 / 90)
    assert scores["accuracy"] == pytest.approx(0.96)
    assert classification(0, 0, 5, 0) == {
        "precision": 0.0,
        "recall": 0.0,
        "f1": 0.0,
        "false_positive_rate": 0.0,
        "accuracy": 1.0,
    }


def test_percentile_interpolates_like_numpy() -> None:
    values = [10.0, 20.0, 30.0, 40.0, 50.0]
    assert percentile(values, 50) == 30.0
    assert percentile(values, 95) == pytest.approx(48.0)
    assert percentile(values, 99) == pytest.approx(49.6)
    assert percentile([7.0], 99) == 7.0
    assert percentile([3.0, 1.0, 2.0], 0) == 1.0
    with pytest.raises(ValueError):
        percentile([], 50)
