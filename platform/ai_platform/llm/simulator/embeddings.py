"""Deterministic text embeddings by feature hashing.

Each text becomes a bag of features — stemmed content words (weight 1.0) and adjacent
content-word bigrams (weight 0.5) — hashed into ``dims`` buckets with a sign bit, then
L2-normalised. Texts that share words therefore have a higher cosine similarity than
texts that do not, which is what retrieval lessons need; nothing here knows synonyms.
Token-id inputs hash their ids instead of words.
"""

from __future__ import annotations

import base64
import itertools
import math
import sys
import zlib
from array import array

from .text import STOPWORDS, stem, words

BIGRAM_WEIGHT = 0.5


def _features(text: str) -> list[tuple[str, float]]:
    all_words = words(text)
    content = [stem(w) for w in all_words if w not in STOPWORDS]
    if not content:
        content = all_words
    if not content:
        # Only punctuation or symbols: fall back to the characters themselves.
        stripped = "".join(text.split())
        return [(ch, 1.0) for ch in stripped] or [("\x00empty", 1.0)]
    feats = [(w, 1.0) for w in content]
    feats.extend((f"{a} {b}", BIGRAM_WEIGHT) for a, b in itertools.pairwise(content))
    return feats


def embed(item: str | list[int], dims: int) -> list[float]:
    feats = (
        _features(item)
        if isinstance(item, str)
        else [(f"#{token}", 1.0) for token in item] or [("\x00empty", 1.0)]
    )
    sparse: dict[int, float] = {}
    for feature, weight in feats:
        h = zlib.crc32(feature.encode("utf-8", "surrogatepass"))
        index = h % dims
        signed = weight if (h >> 31) & 1 == 0 else -weight
        sparse[index] = sparse.get(index, 0.0) + signed
    norm = math.sqrt(sum(v * v for v in sparse.values()))
    if norm == 0.0:
        # Features cancelled out exactly; any fixed unit vector keeps the output valid.
        sparse = {zlib.crc32(repr(feats).encode()) % dims: 1.0}
        norm = 1.0
    vector = [0.0] * dims
    for index, value in sparse.items():
        vector[index] = value / norm
    return vector


def to_base64(vector: list[float]) -> str:
    """Little-endian float32, the layout the openai SDK decodes."""
    packed = array("f", vector)
    if sys.byteorder != "little":
        packed.byteswap()
    return base64.b64encode(packed.tobytes()).decode("ascii")


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))
