"""Query terms, score normalisation, vector similarity and Reciprocal Rank Fusion.

Scores leave the service in [0, 1]:

- full text: each engine's raw relevance (``-bm25()`` on SQLite, ``ts_rank()`` on
  PostgreSQL) divided by the best raw relevance of the same query, so the best match
  scores 1.0 and the rest say how close they came. The two engines' raw numbers are
  on different scales; the ratio is comparable.
- hybrid: the Reciprocal Rank Fusion sum ``Σ 1/(k + rank)`` over the full-text and
  vector lists (k = 60, as in Cormack et al. 2009), divided by its ceiling
  ``lists/(k + 1)`` — a chunk ranked first by both lists scores 1.0.
"""

from __future__ import annotations

import math
import operator
import re
import sys
from array import array
from collections.abc import Iterable, Sequence

from ai_platform.services.knowledge.config import MAX_QUERY_TERMS, RRF_K

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words that carry no topic. Dropped from the OR query so that "what is the return
# window?" ranks by "return" and "window" rather than by every chunk containing "the".
STOPWORDS = _wordset(
    """
    a about above after again against all also am an and any are as at be because been
    before being below between both but by can could did do does doing done down during
    each either else few for from further get gets got had has have having he her here
    hers him his how i if in into is it its itself just let like may me might more most
    much must my myself no nor not now of off on once only or other our ours out over own
    please same shall she should so some such tell than that the their theirs them then
    there these they this those through to too under until up us very via was we were
    what when where which while who whom whose why will with would yes yet you your yours
    """
)
# Operators in one or both query languages; never passed on as terms.
_OPERATORS = frozenset({"or", "and", "not", "near"})


def query_terms(query: str) -> list[str]:
    """Distinct lower-cased words of the query, stopwords removed unless nothing is left."""
    words = [w.lower() for w in _WORD.findall(query)]
    words = [w for w in words if w not in _OPERATORS]
    content = [w for w in words if w not in STOPWORDS]
    chosen = content or words
    seen: dict[str, None] = {}
    for word in chosen:
        seen.setdefault(word, None)
    return list(seen)[:MAX_QUERY_TERMS]


def fts5_match(terms: Sequence[str]) -> str:
    """An FTS5 MATCH expression that ORs the terms; each is quoted, so none is syntax."""
    return " OR ".join(f'"{t}"' for t in terms)


def websearch_or(terms: Sequence[str]) -> str:
    """A ``websearch_to_tsquery`` input that ORs the terms (its default is AND)."""
    return " or ".join(terms)


def normalise_relative(raw: Sequence[tuple[int, float]]) -> dict[int, float]:
    """Raw relevance (higher is better) → share of the best one, in [0, 1]."""
    best = max((score for _, score in raw), default=0.0)
    if best <= 0:
        return {chunk_id: 0.0 for chunk_id, _ in raw}
    return {chunk_id: max(0.0, min(1.0, score / best)) for chunk_id, score in raw}


def rrf(rankings: Sequence[Sequence[int]], k: int = RRF_K) -> list[tuple[int, float]]:
    """Fuse ranked id lists; scores are normalised by the ceiling ``len(rankings)/(k+1)``."""
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + 1.0 / (k + rank)
    ceiling = len(rankings) / (k + 1) if rankings else 1.0
    ordered = sorted(fused.items(), key=lambda pair: (-pair[1], pair[0]))
    return [(item, min(1.0, score / ceiling)) for item, score in ordered]


def unit_vector(values: Iterable[float]) -> list[float]:
    vector = [float(v) for v in values]
    norm = math.sqrt(sum(v * v for v in vector))
    return [v / norm for v in vector] if norm > 0 else vector


def pack_vector(vector: Sequence[float]) -> bytes:
    """Little-endian float32: 4 bytes a dimension (6 KiB for 1,536 dimensions)."""
    packed = array("f", vector)
    if sys.byteorder != "little":
        packed.byteswap()
    return packed.tobytes()


def unpack_vector(data: bytes) -> array[float]:
    vector = array("f")
    vector.frombytes(data)
    if sys.byteorder != "little":
        vector.byteswap()
    return vector


def rank_by_similarity(
    query: Sequence[float], candidates: Sequence[tuple[int, bytes]], limit: int
) -> list[tuple[int, float]]:
    """Exact cosine ranking. Stored and query vectors are unit length, so cosine is
    the dot product. Vectors of another dimension (a different model) are skipped."""
    dims = len(query)
    scored: list[tuple[int, float]] = []
    for chunk_id, blob in candidates:
        if len(blob) != 4 * dims:
            continue
        vector = unpack_vector(blob)
        scored.append((chunk_id, sum(map(operator.mul, query, vector))))
    scored.sort(key=lambda pair: (-pair[1], pair[0]))
    return scored[:limit]
