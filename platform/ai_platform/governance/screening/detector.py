"""Offline prompt-injection detector: pattern signals over normalized views.

``InjectionDetector.screen`` runs on the request path, so the work per text is
kept linear and small: the text is normalized once (``normalize.build_views``),
its words' four-letter prefixes select the few signals that could match
(``signals.Signal.anchors``), only those regexes run, and base64 decoding is
bounded in count and size. Scores combine as ``1 - Π(1 - wᵢ)`` over distinct
signals, so one strong signal flags and weak ones need company.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ai_platform.governance.screening.normalize import Views, build_views, strip_invisible
from ai_platform.governance.screening.signals import (
    BASE64_PAYLOAD_BASE,
    BASE64_TEXT_WEIGHT,
    DISCUSSION,
    OBFUSCATION_WEIGHTS,
    QUOTE_BEFORE,
    QUOTED_DISCOUNT,
    SIGNALS,
    WORD_PREFIX,
    Signal,
)

# Base64 runs worth trying: long enough to carry a sentence.
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{16,}={0,2}")
MAX_BASE64_RUNS = 8
MAX_BASE64_CHARS = 16_384
_QUOTE_WINDOW = 30


@dataclass(frozen=True, slots=True)
class ScreeningResult:
    """The verdict on one text: flagged at ``score >= threshold``, and why."""

    flagged: bool
    score: float
    signals: list[str]

    def to_dict(self) -> dict[str, object]:
        return {"flagged": self.flagged, "score": self.score, "signals": list(self.signals)}


def _build_index(signals: Iterable[tuple[int, Signal]]) -> dict[str, tuple[int, ...]]:
    index: dict[str, list[int]] = {}
    for position, signal in signals:
        for anchor in signal.anchors:
            index.setdefault(anchor, []).append(position)
    return {anchor: tuple(positions) for anchor, positions in index.items()}


_LATIN = [(i, s) for i, s in enumerate(SIGNALS) if s.script == "latin"]
_NATIVE = [(i, s) for i, s in enumerate(SIGNALS) if s.script == "native"]
_LATIN_INDEX = _build_index((i, s) for i, s in _LATIN if not s.always)
_LATIN_ALWAYS = tuple(i for i, s in _LATIN if s.always)
_NATIVE_INDEX = _build_index((i, s) for i, s in _NATIVE if s.anchors)
_NATIVE_UNANCHORED = tuple(i for i, s in _NATIVE if not s.anchors)  # CJK: no word breaks


def _search_all(
    view: str, signals: list[tuple[int, Signal]]
) -> Iterator[tuple[Signal, re.Match[str]]]:
    for _, signal in signals:
        match = signal.pattern.search(view)
        if match is not None:
            yield signal, match


def combine(weights: Iterable[float]) -> float:
    """``1 - Π(1 - w)``: independent pieces of evidence, each capped below certainty."""
    remaining = 1.0
    for weight in weights:
        remaining *= 1.0 - weight
    return 1.0 - remaining


class _Hits:
    """Signals found in one text.

    Pattern matches are kept with their spans: several patterns matching the same
    phrase are one piece of evidence, so overlapping matches in a view count once,
    at the strongest weight. Each signal name also counts once however often it
    matches.
    """

    __slots__ = ("_discussion", "_flat", "_latin", "_spans", "names")

    def __init__(self, latin: str) -> None:
        self.names: dict[str, float] = {}  # every signal seen, at its strongest weight
        self._flat: dict[str, float] = {}  # signals without a span (obfuscation, base64)
        self._spans: list[tuple[int, int, int, str, float]] = []  # view, start, end, name, weight
        self._latin = latin
        self._discussion: bool | None = None

    def _note(self, name: str, weight: float) -> None:
        if weight >= self.names.get(name, -1.0):
            self.names[name] = weight

    def add(self, name: str, weight: float) -> None:
        self._note(name, weight)
        if weight > self._flat.get(name, 0.0):
            self._flat[name] = weight

    def add_match(self, view_id: int, signal: Signal, view: str, match: re.Match[str]) -> None:
        weight = signal.weight
        if signal.quotable and self._quoted_example(view, match.start()):
            weight *= QUOTED_DISCOUNT
        self._note(signal.name, weight)
        self._spans.append((view_id, match.start(), match.end(), signal.name, weight))

    def _quoted_example(self, view: str, start: int) -> bool:
        window = view[max(0, start - _QUOTE_WINDOW) : start]
        if QUOTE_BEFORE.search(window) is None:
            return False
        if self._discussion is None:
            self._discussion = DISCUSSION.search(self._latin) is not None
        return self._discussion

    def score(self) -> float:
        best = dict(self._flat)

        def keep(name: str, weight: float) -> None:
            best[name] = max(best.get(name, 0.0), weight)

        cluster: tuple[int, int, str, float] | None = None  # view, end, strongest name, weight
        for view_id, start, end, name, weight in sorted(self._spans):
            if cluster is None or view_id != cluster[0] or start >= cluster[1]:
                if cluster is not None:
                    keep(cluster[2], cluster[3])
                cluster = (view_id, end, name, weight)
            elif weight > cluster[3]:
                cluster = (view_id, max(cluster[1], end), name, weight)
            else:
                cluster = (view_id, max(cluster[1], end), cluster[2], cluster[3])
        if cluster is not None:
            keep(cluster[2], cluster[3])
        return combine(best.values())


class InjectionDetector:
    """Scores text for prompt-injection signals; flags at ``score >= threshold``.

    ``prefilter=False`` runs every pattern on every text; it exists to check that
    the anchor prefilter never hides a match, and is slower.
    """

    def __init__(self, threshold: float = 0.5, *, prefilter: bool = True) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {threshold!r}")
        self.threshold = threshold
        self._prefilter = prefilter

    def screen(self, text: str) -> ScreeningResult:
        hits = self._screen_text(text, decode=True)
        score = round(hits.score(), 4)
        ranked = sorted(hits.names.items(), key=lambda item: (-item[1], item[0]))
        return ScreeningResult(
            flagged=score >= self.threshold,
            score=score,
            signals=[name for name, _ in ranked],
        )

    # -- internals -------------------------------------------------------------------

    def _screen_text(self, text: str, *, decode: bool) -> _Hits:
        views = build_views(text)
        hits = _Hits(views.latin)
        for signal, match in self._scan_latin(views.latin):
            hits.add_match(0, signal, views.latin, match)
        if views.has_native_script:
            for signal, match in self._scan_native(views):
                hits.add_match(1, signal, views.native, match)
        for view_id, (obfuscation, view) in enumerate(views.alternates, start=2):
            seen = set(hits.names)
            revealed = False
            for signal, match in self._scan_latin(view):
                revealed = revealed or signal.name not in seen
                hits.add_match(view_id, signal, view, match)
            if revealed:
                name = f"obfuscation.{obfuscation}"
                hits.add(name, OBFUSCATION_WEIGHTS[name])
        for flag, name in (
            (views.zero_width, "obfuscation.zero_width"),
            (views.homoglyph, "obfuscation.homoglyph"),
            (views.hidden_tags, "obfuscation.hidden_tags"),
        ):
            if flag:
                hits.add(name, OBFUSCATION_WEIGHTS[name])
        if decode:
            self._screen_base64(text, hits)
        return hits

    def _scan_latin(self, view: str) -> Iterator[tuple[Signal, re.Match[str]]]:
        if self._prefilter:
            return self._scan_anchored(view, _LATIN_INDEX, _LATIN_ALWAYS)
        return _search_all(view, _LATIN)

    def _scan_native(self, views: Views) -> Iterator[tuple[Signal, re.Match[str]]]:
        if self._prefilter:
            extra = _NATIVE_UNANCHORED if views.has_cjk else ()
            return self._scan_anchored(views.native, _NATIVE_INDEX, extra)
        return _search_all(views.native, _NATIVE)

    @staticmethod
    def _scan_anchored(
        view: str, index: dict[str, tuple[int, ...]], always: tuple[int, ...]
    ) -> Iterator[tuple[Signal, re.Match[str]]]:
        # A leading signal can only match where one of its anchor words starts, so it
        # is tried with match() at those offsets; the rest get one search() each.
        searched = set(always)
        starts: dict[int, list[int]] = {}
        for word in WORD_PREFIX.finditer(view):
            positions = index.get(word.group())
            if positions is None:
                continue
            for position in positions:
                if SIGNALS[position].leading:
                    starts.setdefault(position, []).append(word.start())
                else:
                    searched.add(position)
        for position in sorted(searched | starts.keys()):
            signal = SIGNALS[position]
            match: re.Match[str] | None = None
            if position in searched:
                match = signal.pattern.search(view)
            else:
                for start in starts[position]:
                    match = signal.pattern.match(view, start)
                    if match is not None:
                        break
            if match is not None:
                yield signal, match

    def _screen_base64(self, text: str, hits: _Hits) -> None:
        for decoded in _decoded_base64_texts(text):
            inner = self._screen_text(decoded, decode=False)
            if inner.names:
                weight = BASE64_PAYLOAD_BASE + (1.0 - BASE64_PAYLOAD_BASE) * inner.score()
                hits.add("encoded.base64_payload", min(weight, 0.95))
                for name in inner.names:
                    # Reported for explanation; the payload signal carries their weight.
                    hits.add(f"base64:{name}", 0.0)
            else:
                hits.add("encoded.base64_text", BASE64_TEXT_WEIGHT)


def _decoded_base64_texts(text: str) -> Iterator[str]:
    """Yield the readable texts hidden in base64 runs (a bounded number of them)."""
    if len(text) < 16:
        return
    tried = 0
    for match in _BASE64_RUN.finditer(strip_invisible(text) if not text.isascii() else text):
        run = match.group()
        if run.isalpha() and (run.islower() or run.isupper() or run.istitle()):
            continue  # a long word, not an encoding
        tried += 1
        if tried > MAX_BASE64_RUNS:
            return
        decoded = _decode_base64(run[:MAX_BASE64_CHARS])
        if decoded is not None:
            yield decoded


def _decode_base64(run: str) -> str | None:
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
    if len(decoded) < 8:
        return None
    printable = sum(1 for ch in decoded if ch.isprintable() or ch in "\n\r\t")
    if printable < 0.95 * len(decoded):
        return None
    # Readable prose, not a JSON header or a key: at least three words.
    if len(decoded.split()) < 3:
        return None
    return decoded
