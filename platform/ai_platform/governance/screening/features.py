"""Hashed n-gram features for the learned screen: word 1-2 grams and character 3-5
grams of the normalized text, folded into ``DIM`` buckets.

The model reads one *model text*: the Latin view of the message (lower-cased,
look-alikes mapped, invisible characters removed) followed by every decoded or
de-obfuscated variant (leetspeak, spaced letters, ROT13, reversed, percent, hex,
base64). Training and screening build it the same way, so an encoded attack is
seen by the model in its decoded form.

Character n-grams and words are hashed with numpy over the code points, with no
per-n-gram Python work and few array operations (each costs about a microsecond
however short the text, which is what a short message pays): one running sum of
polynomial terms gives the hash of any span, and a bucket is the top ``DIM_BITS``
bits of the hash times an odd constant (multiply-shift). Everything is deterministic
across processes and machines, unlike ``hash()``.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from ai_platform.governance.screening.decoders import base64_texts, decoded_variants
from ai_platform.governance.screening.normalize import Views, build_views, strip_invisible

DIM_BITS = 18
DIM = 1 << DIM_BITS
CHAR_NS = (3, 4, 5)
MAX_MODEL_CHARS = 6_000
"""Longer model texts are scored in windows of ``WINDOW`` characters."""
WINDOW = 1_500
STRIDE = 1_200

_PRIME = np.uint64(0x100000001B3)
_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)
_SHIFT = np.uint64(64 - DIM_BITS)
_INVERSE = np.uint64(pow(int(_PRIME), -1, 1 << 64))
_SALT_UNIGRAM = np.uint64(0x9E3779B9)
_ASCII_WORD = np.zeros(128, dtype=np.bool_)
for _ch in "0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ":
    _ASCII_WORD[ord(_ch)] = True
# One lookup per code point (beyond the BMP: a word character).
_WORD_TABLE = np.ones(0x110000, dtype=np.bool_)
_WORD_TABLE[:128] = _ASCII_WORD
for _low, _high in (
    (0x80, 0xBF),  # Latin-1 controls, spaces and punctuation
    (0x2000, 0x206F),  # general punctuation, special spaces
    (0x3000, 0x303F),  # CJK punctuation
    (0xFF00, 0xFF0F),  # fullwidth punctuation
    (0xFE00, 0xFE0F),  # variation selectors
):
    _WORD_TABLE[_low : _high + 1] = False
_SALT_BIGRAM = np.uint64(0x85EBCA6B)

Indices = npt.NDArray[np.int64]

MIN_EVIDENCE = 64
"""A text's n-gram weights are summed and divided by the square root of their count,
but never of fewer than this many: a greeting has a handful of n-grams, and one or
two of them must not be able to carry a verdict on their own."""


def evidence_scale(counts: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """The factor each n-gram weight of a text with ``counts`` n-grams is multiplied by."""
    return np.asarray(1.0 / np.sqrt(np.maximum(counts, MIN_EVIDENCE)), dtype=np.float64)


def model_text(text: str) -> str:
    """The normalized text the model reads: the Latin view plus decoded variants."""
    plain = strip_invisible(text) if not text.isascii() else text
    decoded = [variant for _, variant in decoded_variants(plain)]
    decoded.extend(base64_texts(plain))
    return compose_model_text(build_views(text), decoded)


def compose_model_text(views: Views, decoded: Sequence[str]) -> str:
    """Join a text's Latin view, its de-obfuscated views and its decoded variants."""
    parts = [views.latin[:MAX_MODEL_CHARS]]
    parts.extend(view[:MAX_MODEL_CHARS] for _, view in views.alternates)
    parts.extend(build_views(variant[:MAX_MODEL_CHARS]).latin for variant in decoded)
    # str.split() and str.strip() know the same whitespace as ``\s`` and cost less.
    return " ".join(" \n ".join(parts).split())


def _geometric(ratio: np.uint64, size: int) -> npt.NDArray[np.uint64]:
    out = np.ones(size, dtype=np.uint64)
    np.cumprod(np.full(size - 1, ratio, dtype=np.uint64), out=out[1:])  # wraps mod 2**64
    return out


# P**i and P**-i modulo 2**64 (P is odd, so it has an inverse), replaced as one pair
# when a longer text needs more of them.
_TABLES = (_geometric(_PRIME, 8_192), _geometric(_INVERSE, 8_192))


def _power_tables(size: int) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
    global _TABLES
    tables = _TABLES
    if len(tables[0]) < size:
        size = max(size, 2 * len(tables[0]))
        tables = _TABLES = (_geometric(_PRIME, size), _geometric(_INVERSE, size))
    return tables


def _codes(text: str) -> npt.NDArray[np.uint32]:
    # surrogatepass: a lone surrogate (valid in JSON escapes) is hashed, not an error.
    return np.frombuffer(f" {text} ".encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def _word_edges(codes: npt.NDArray[np.uint32]) -> Indices:
    """Where words start and end, alternating, in the padded text's code points.

    Word characters are ASCII letters, digits and ``_``, and any other character
    outside the common punctuation and space blocks; the padding spaces make every
    word both start and end inside the text."""
    mask = _WORD_TABLE[codes]
    return np.flatnonzero(mask[1:] != mask[:-1]) + 1


SHORT_TEXT = 16
"""Texts up to this long are hashed in plain Python: the same numbers, without the
fixed cost of some thirty array operations."""
_MASK64 = (1 << 64) - 1
_IS_WORD = _WORD_TABLE.tobytes()
_SMALL_POWERS = [int(v) for v in _TABLES[0][: SHORT_TEXT + 2]]
_SMALL_INVERSES = [int(v) for v in _TABLES[1][: SHORT_TEXT + 2]]
_SMALL_CONSTANTS = (
    int(_SALT_UNIGRAM),
    int(_SALT_BIGRAM),
    int(_PRIME),
    int(_MULTIPLIER),
    int(_SHIFT),
)


def _hash_short(text: str) -> Indices:
    """``hash_features`` for a short text, computed with Python integers."""
    padded = f" {text} "
    codes = [ord(char) for char in padded]
    prefix = [0]
    total = 0
    for code, power in zip(codes, _SMALL_POWERS, strict=False):
        total = (total + code * power) & _MASK64
        prefix.append(total)
    inverses = _SMALL_INVERSES
    size = len(codes)
    hashes = [
        ((prefix[i + n] - prefix[i]) * inverses[i]) & _MASK64
        for n in CHAR_NS
        for i in range(size - n + 1)
    ]
    words: list[int] = []
    start = -1
    for position, code in enumerate(codes):
        if _IS_WORD[code]:
            if start < 0:
                start = position
        elif start >= 0:
            words.append(((prefix[position] - prefix[start]) * inverses[start]) & _MASK64)
            start = -1
    salt_unigram, salt_bigram, prime, multiplier, shift = _SMALL_CONSTANTS
    hashes.extend(word ^ salt_unigram for word in words)
    hashes.extend(((a * prime + b) & _MASK64) ^ salt_bigram for a, b in itertools.pairwise(words))
    return np.array([((h * multiplier) & _MASK64) >> shift for h in hashes], dtype=np.int64)


def hash_features(text: str) -> Indices:
    """Bucket indices of every n-gram occurrence in ``text`` (a model text): the
    character 3-, 4- and 5-grams of ``text`` in order, then its words, then its
    adjacent word pairs.

    ``prefix[i]`` sums ``code[j] * P**j`` over ``j < i``, so any span's hash is
    ``(prefix[end] - prefix[start]) * P**-start``: every n-gram and every word is
    hashed from the same running sum, a few array operations in all."""
    if len(text) <= SHORT_TEXT:
        return _hash_short(text)
    return _hash_long(text)


def _hash_long(text: str) -> Indices:
    codes = _codes(text)
    size = len(codes)
    powers, inverses = _power_tables(size)
    prefix = np.zeros(size + 1, dtype=np.uint64)
    np.cumsum(codes * powers[:size], out=prefix[1:])
    parts = [
        (prefix[n:] - prefix[: size + 1 - n]) * inverses[: size + 1 - n]
        for n in CHAR_NS
        if size >= n
    ]
    edges = _word_edges(codes)
    starts, ends = edges[0::2], edges[1::2]
    words = (prefix[ends] - prefix[starts]) * inverses[starts]
    parts.append(words ^ _SALT_UNIGRAM)
    parts.append((words[:-1] * _PRIME + words[1:]) ^ _SALT_BIGRAM)
    # The buckets are below 2**DIM_BITS, so reading them as signed changes nothing.
    return ((np.concatenate(parts) * _MULTIPLIER) >> _SHIFT).view(np.int64)


def words_of(text: str) -> list[str]:
    """The words ``hash_features`` sees, as strings (for explanations)."""
    edges = (_word_edges(_codes(text)) - 1).tolist()  # offsets in ``text``, unpadded
    return [text[start:end] for start, end in zip(edges[0::2], edges[1::2], strict=True)]


def windows(text: str) -> list[str]:
    """``text`` itself, or overlapping windows of it when it is long."""
    text = text[:MAX_MODEL_CHARS]
    if len(text) <= WINDOW:
        return [text]
    return [text[start : start + WINDOW] for start in range(0, len(text) - STRIDE // 2, STRIDE)]


def ngram_strings(text: str) -> list[str]:
    """The n-grams of ``text`` in the order ``hash_features`` hashes them."""
    padded = f" {text} "
    grams = [padded[i : i + n] for n in CHAR_NS for i in range(len(padded) - n + 1)]
    words = words_of(text)
    grams.extend(words)
    grams.extend(f"{a} {b}" for a, b in itertools.pairwise(words))
    return grams


def ngrams_at(text: str, positions: Sequence[int]) -> list[str]:
    """The n-grams at ``positions`` of ``hash_features(text)``, without building the rest."""
    padded = f" {text} "
    block_starts: list[int] = []  # first position of each char n-gram block, by n
    start = 0
    for n in CHAR_NS:
        block_starts.append(start)
        start += max(0, len(padded) - n + 1)
    bounds: tuple[list[int], list[int]] | None = None  # word starts and ends in ``text``

    def word(index: int) -> str:
        assert bounds is not None
        return text[bounds[0][index] : bounds[1][index]]

    out: list[str] = []
    for position in positions:
        if position < start:
            block = bisect.bisect_right(block_starts, position) - 1
            n, offset = CHAR_NS[block], position - block_starts[block]
            out.append(padded[offset : offset + n])
            continue
        if bounds is None:
            edges = (_word_edges(_codes(text)) - 1).tolist()  # unpadded offsets
            bounds = (edges[0::2], edges[1::2])
        index = position - start
        count = len(bounds[0])
        if index < count:
            out.append(word(index))
        else:
            out.append(f"{word(index - count)} {word(index - count + 1)}")
    return out
