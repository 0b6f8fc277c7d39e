"""Quality and latency arithmetic: ranking metrics, text checks, percentiles.

Ranking metrics take the ranked list a search returned (document ids, best first,
possibly repeated when several chunks of one document come back) and the set of
relevant ids. A document counts once, at the rank of its first chunk: the
question is whether the right *documents* were found, and a second chunk of the
same document is neither a new hit nor a miss.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterable, Sequence

from ai_platform.harness.stats import mean, percentile

__all__ = [
    "classification",
    "dedupe",
    "fact_recall",
    "hit_at_k",
    "mean",
    "mentions_size",
    "mrr",
    "ndcg_at_k",
    "percentile",
    "recall_at_k",
    "says_unknown",
]


def dedupe(ranked: Iterable[str | None]) -> list[str]:
    """Ids in order of first appearance; missing ids dropped."""
    seen: set[str] = set()
    out: list[str] = []
    for item in ranked:
        if item is None or item in seen:
            continue
        seen.add(item)
        out.append(item)
    return out


def recall_at_k(ranked: Sequence[str | None], relevant: Collection[str], k: int) -> float:
    """Share of the relevant documents found among the first ``k`` documents."""
    if not relevant:
        raise ValueError("recall is undefined without relevant documents")
    top = dedupe(ranked)[:k]
    return len(set(top) & set(relevant)) / len(set(relevant))


def hit_at_k(ranked: Sequence[str | None], relevant: Collection[str], k: int) -> float:
    """1.0 when any relevant document is among the first ``k``."""
    return 1.0 if set(dedupe(ranked)[:k]) & set(relevant) else 0.0


def mrr(ranked: Sequence[str | None], relevant: Collection[str], k: int | None = None) -> float:
    """Reciprocal rank of the first relevant document (0.0 when none is in the first ``k``)."""
    docs = dedupe(ranked)
    if k is not None:
        docs = docs[:k]
    for rank, doc in enumerate(docs, start=1):
        if doc in relevant:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(ranked: Sequence[str | None], relevant: Collection[str], k: int) -> float:
    """Normalised discounted cumulative gain with binary relevance.

    DCG = sum over ranks r <= k of rel_r / log2(r + 1); the ideal ranking puts every
    relevant document first, so IDCG sums 1 / log2(r + 1) for r up to
    min(len(relevant), k).
    """
    if not relevant:
        raise ValueError("nDCG is undefined without relevant documents")
    wanted = set(relevant)
    docs = dedupe(ranked)[:k]
    dcg = sum(1.0 / math.log2(rank + 1) for rank, doc in enumerate(docs, 1) if doc in wanted)
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(len(wanted), k) + 1))
    return dcg / ideal


def _normal(text: str) -> str:
    # Typographic variants a model may write for the same fact.
    text = text.replace("\u2019", "'").replace("\u2013", "-").replace("\u2014", "-")
    return " ".join(text.lower().split())


def fact_recall(text: str, facts: Sequence[str]) -> float:
    """Share of ``facts`` that appear in ``text`` (case- and whitespace-insensitive)."""
    if not facts:
        raise ValueError("fact recall is undefined without facts")
    body = _normal(text)
    return sum(_normal(f) in body for f in facts) / len(facts)


_UNKNOWN = re.compile(
    r"\b(?:i don't know|i do not know|i'm not sure|cannot find|can't find|could not find|"
    r"couldn't find|don't have (?:any )?information|no information|not (?:mentioned|covered|"
    r"included) in|do(?:es)? not (?:contain|answer|mention|cover))\b"
)


def says_unknown(text: str) -> bool:
    """Whether an answer declines ("I don't know", "the passages do not cover ...")."""
    return bool(_UNKNOWN.search(_normal(text)))


def mentions_size(text: str, width: int, height: int) -> bool:
    """``64x32``, ``64 x 32``, ``64×32`` or ``64 by 32`` (pixels optional)."""
    pattern = rf"(?<!\d){width}\s*(?:x|×|by)\s*{height}(?!\d)"
    return bool(re.search(pattern, text, re.IGNORECASE))


def classification(tp: int, fp: int, tn: int, fn: int) -> dict[str, float]:
    """Precision, recall, F1, false-positive rate and accuracy of a binary detector.

    A ratio with an empty denominator is reported as 0.0 (nothing was flagged, or
    there was nothing to find), never as NaN, so that it survives JSON and charts.
    """

    def ratio(num: int, den: int) -> float:
        return num / den if den else 0.0

    precision = ratio(tp, tp + fp)
    recall = ratio(tp, tp + fn)
    f1 = ratio(2 * tp, 2 * tp + fp + fn)
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "false_positive_rate": ratio(fp, fp + tn),
        "accuracy": ratio(tp + tn, tp + fp + tn + fn),
    }
