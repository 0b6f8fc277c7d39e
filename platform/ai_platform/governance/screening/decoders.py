"""Decode the reversible encodings an injection hides behind, so the decoded text is
screened too: ROT13, base64, hex, percent (URL) encoding and reversed text.
(Spaced-out letters and leetspeak are undone in ``normalize``.)

Every decoder is gated by a cheap test that the text plausibly carries that
encoding, and the work is bounded: at most ``MAX_VARIANTS`` decoded texts, each cut
to ``MAX_DECODED_CHARS``. A decoded text is only kept when it reads as words.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from collections.abc import Iterator
from urllib.parse import unquote

MAX_VARIANTS = 4
MAX_DECODED_CHARS = 4_000
MAX_BASE64_RUNS = 8
MAX_BASE64_CHARS = 16_384

_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{16,}={0,2}")
# Cheap necessary condition for a hex run: four byte pairs in a row, each pair after
# up to three separators (``[0-9a-fA-F]{2}(?:[\s:,\\x]{0,3}[0-9a-fA-F]{2}){3}``). It is
# tested on the text with each character replaced by its class (``h`` hex digit,
# ``s`` separator): a literal-led pattern the regex engine skips to, several times
# faster than trying the class pattern at every character.
_HEX_CLASSES = bytes(
    ord("h")
    if chr(c) in "0123456789abcdefABCDEF"
    else ord("s")
    if re.fullmatch(r"[\s:,\\x]", chr(c))
    else ord(".")
    for c in range(256)
)
_HEX_GATE_CLASSES = re.compile(rb"hh(?:s{0,3}hh){3}")
_HEX_RUN = re.compile(r"(?:0x)?(?:[0-9a-fA-F]{2}[\s:,\\x]{0,3}){8,}")
_HEX_JUNK = re.compile(r"0x|\\x|[\s:,]")
_PERCENT = re.compile(r"%[0-9a-fA-F]{2}")
# The same test for text with non-ASCII characters, which are encoded as "?" first:
# "?" counts as a separator here, so the test passes wherever the class pattern does
# (a Unicode space is a separator there) and only ever lets a few more texts through
# to the exact ``_HEX_RUN``.
_HEX_CLASSES_LOOSE = bytes(
    ord("s") if code == ord("?") else cls for code, cls in enumerate(_HEX_CLASSES)
)
# A base64 run is at least 16 characters of its alphabet in a row: on the text with
# each character replaced by its class, a 16-byte literal that ``bytes.find`` skips to.
_BASE64_CLASSES = bytes(
    ord("b") if re.fullmatch(r"[A-Za-z0-9+/_-]", chr(code)) else ord(".") for code in range(256)
)
_BASE64_GATE = b"b" * 16
# The ASCII letters of a lowercased text, each other byte a space: split, it gives the
# runs of ``[a-z]``, several times faster than a regex.
_LETTERS = bytes(code if ord("a") <= code <= ord("z") else ord(" ") for code in range(256))

# Common English words; their ROT13 and reversed spellings rarely occur in plain
# text, so counting both sides tells an encoded text from an ordinary one.
_COMMON = frozenset(
    [
        "the",
        "and",
        "you",
        "your",
        "to",
        "of",
        "is",
        "are",
        "all",
        "a",
        "in",
        "it",
        "this",
        "that",
        "for",
        "with",
        "be",
        "not",
        "now",
        "ignore",
        "instructions",
        "previous",
        "system",
        "prompt",
        "rules",
        "reveal",
        "tell",
        "me",
        "what",
        "from",
        "before",
        "above",
        "any",
        "new",
    ]
)
_ROT13_COMMON = frozenset(codecs.encode(word, "rot13") for word in _COMMON) - _COMMON
_REVERSED_COMMON = frozenset(word[::-1] for word in _COMMON if len(word) > 2) - _COMMON
# The decoders count words as bytes (``_words``).
_COMMON_BYTES = frozenset(word.encode() for word in _COMMON)
_ROT13_BYTES = frozenset(word.encode() for word in _ROT13_COMMON)
_REVERSED_BYTES = frozenset(word.encode() for word in _REVERSED_COMMON)


def _readable(text: str, *, min_words: int = 3) -> bool:
    if len(text) < 8:
        return False
    printable = sum(1 for ch in text if ch.isprintable() or ch in "\n\r\t")
    if printable < 0.95 * len(text):
        return False
    return len(text.split()) >= min_words


def _count(words: list[bytes], vocabulary: frozenset[bytes]) -> int:
    return sum(1 for word in words if word in vocabulary)


def _words(text: str) -> list[bytes]:
    """The runs of ASCII letters (``[a-z]+``) in the lowercased text."""
    # Lowercased before encoding: a few non-ASCII letters lowercase to ASCII ("K", the
    # Kelvin sign, to "k"). Every other non-ASCII character becomes "?": a separator.
    lowered = text[:MAX_DECODED_CHARS].lower().encode("ascii", "replace")
    return lowered.translate(_LETTERS).split()


def rot13(text: str, words: list[bytes] | None = None) -> str | None:
    """The ROT13 decoding, when the text reads as ROT13-encoded English."""
    words = _words(text) if words is None else words
    if _ROT13_BYTES.isdisjoint(words):
        return None
    encoded = _count(words, _ROT13_BYTES)
    if encoded >= 2 and encoded > _count(words, _COMMON_BYTES):
        return codecs.decode(text[:MAX_DECODED_CHARS], "rot13")
    return None


def reversed_text(text: str, words: list[bytes] | None = None) -> str | None:
    """The text read backwards, when its words read as reversed English."""
    words = _words(text) if words is None else words
    if _REVERSED_BYTES.isdisjoint(words):
        return None
    backwards = _count(words, _REVERSED_BYTES)
    if backwards >= 2 and backwards > _count(words, _COMMON_BYTES):
        return text[:MAX_DECODED_CHARS][::-1]
    return None


def percent_decoded(text: str) -> str | None:
    """``ignore%20all%20...`` decoded, when at least three escapes occur."""
    if text.count("%") < 3 or len(_PERCENT.findall(text, 0, MAX_DECODED_CHARS * 3)) < 3:
        return None
    decoded = unquote(text[: MAX_DECODED_CHARS * 3].replace("+", " "))
    return decoded if decoded != text and _readable(decoded) else None


def hex_texts(text: str) -> Iterator[str]:
    """Readable texts hidden in runs of hex byte pairs (``69 67 6e 6f ...``)."""
    if text.isascii():
        classes = text.encode("ascii").translate(_HEX_CLASSES)
    else:
        classes = text.encode("ascii", "replace").translate(_HEX_CLASSES_LOOSE)
    if _HEX_GATE_CLASSES.search(classes) is None:
        return
    tried = 0
    for match in _HEX_RUN.finditer(text):
        tried += 1
        if tried > MAX_BASE64_RUNS:
            return
        digits = _HEX_JUNK.sub("", match.group())[: MAX_DECODED_CHARS * 2]
        if len(digits) % 2:
            digits = digits[:-1]
        try:
            decoded = bytes.fromhex(digits).decode("utf-8")
        except ValueError:
            continue
        if _readable(decoded):
            yield decoded


def base64_texts(text: str) -> Iterator[str]:
    """Readable texts hidden in base64 runs (a bounded number of them)."""
    if len(text) < 16:
        return
    if text.encode("ascii", "replace").translate(_BASE64_CLASSES).find(_BASE64_GATE) < 0:
        return  # no run: the common case
    # A run has no whitespace in it, so it lies inside one word as long as itself:
    # only such words are searched, not the prose around them.
    words = text.split()
    tried = 0
    for word in words:
        if len(word) < 16:
            continue
        for match in _BASE64_RUN.finditer(word):
            run = match.group()
            if run.isalpha() and (run.islower() or run.isupper() or run.istitle()):
                continue  # a long word, not an encoding
            tried += 1
            if tried > MAX_BASE64_RUNS:
                return
            decoded = decode_base64(run[:MAX_BASE64_CHARS])
            if decoded is not None:
                yield decoded


def decode_base64(run: str) -> str | None:
    body = run.rstrip("=")
    if len(body) % 4 == 1:
        body = body[:-1]
    body += "=" * (-len(body) % 4)
    altchars = b"-_" if ("-" in body or "_" in body) else None
    try:
        raw = base64.b64decode(body, altchars=altchars, validate=True)
        decoded = raw.decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    # Readable prose, not a JSON header or a key: at least three words.
    return decoded if _readable(decoded) else None


def decoded_variants(text: str) -> list[tuple[str, str]]:
    """``(encoding, decoded text)`` pairs for the encodings ``text`` plausibly carries,
    base64 excluded (the detector decodes that itself)."""
    variants: list[tuple[str, str]] = []
    words = _words(text)
    for name, decoded in (("rot13", rot13(text, words)), ("reversed", reversed_text(text, words))):
        if decoded is not None:
            variants.append((name, decoded))
    url = percent_decoded(text)
    if url is not None:
        variants.append(("url", url))
    if len(variants) < MAX_VARIANTS:
        for decoded in hex_texts(text):
            variants.append(("hex", decoded[:MAX_DECODED_CHARS]))
            if len(variants) >= MAX_VARIANTS:
                break
    return variants[:MAX_VARIANTS]
