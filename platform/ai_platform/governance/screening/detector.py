"""Offline prompt-injection detector: pattern signals and a learned n-gram model.

``InjectionDetector.screen`` runs on the request path, so the work per text is
kept linear and small: the text is normalized once (``normalize.build_views``),
one pass of a trie of anchor words finds where signals could start
(``signals.Signal.anchors``), and at each such word one alternation of the
patterns sharing it decides whether any of them is tried at all (``scan``);
decoding (base64, ROT13, hex, percent, reversed; ``decoders``) is gated by cheap
tests and bounded in count and size. Rule scores
combine as ``1 - Π(1 - wᵢ)`` over distinct signals, so one strong signal flags
and weak ones need company.

The rules are precise but only catch phrasings someone wrote down. The learned
model (``model.NgramModel``, logistic regression over hashed word and character
n-grams of the normalized and decoded text) generalizes to paraphrases. Its
probability is mapped onto the detector's scale so that the model's own
threshold (chosen on validation folds) lands on the detector's threshold; the
final score is the higher of the two, so either component can flag.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Final

from ai_platform.governance.screening.decoders import (
    MAX_BASE64_CHARS,
    MAX_BASE64_RUNS,
    base64_texts,
    decoded_variants,
)
from ai_platform.governance.screening.features import compose_model_text
from ai_platform.governance.screening.model import NgramModel, bundled_model
from ai_platform.governance.screening.normalize import Views, build_views, strip_invisible
from ai_platform.governance.screening.scan import AnchoredScan, first_chars, scoped
from ai_platform.governance.screening.signals import (
    BASE64_PAYLOAD_BASE,
    BASE64_TEXT_WEIGHT,
    DISCUSSION,
    OBFUSCATION_WEIGHTS,
    QUOTE_BEFORE,
    QUOTED_DISCOUNT,
    SIGNALS,
    Signal,
)

__all__ = ["MAX_BASE64_CHARS", "MAX_BASE64_RUNS", "InjectionDetector", "ScreeningResult"]

_QUOTE_WINDOW = 30
CONVERSATION_TURNS = 6
"""How many recent texts ``screen_conversation`` joins."""
MAX_JOINED_CHARS = 8_000
_BUNDLED: Final = "bundled"


def join_recent(texts: Sequence[str], *, turns: int = CONVERSATION_TURNS) -> str:
    """The last ``turns`` non-empty texts joined, newest kept when over the size cap."""
    recent = [text for text in texts if text][-turns:] if turns > 0 else []
    return "\n".join(recent)[-MAX_JOINED_CHARS:]


@dataclass(frozen=True, slots=True)
class NgramWeight:
    ngram: str
    weight: float


@dataclass(frozen=True, slots=True)
class ScreeningResult:
    """The verdict on one text: flagged at ``score >= threshold``, and why.

    ``score`` is the higher of ``rule_score`` and the model probability mapped onto
    the detector's scale; ``signals`` are the rule signals that matched;
    ``top_ngrams`` the n-grams that pushed the model up most (for a flagged text).
    They are worked out when first read: a governed request acts on the verdict and
    its signals, and only a report or the screening endpoint shows the n-grams.
    """

    flagged: bool
    score: float
    signals: list[str]
    rule_score: float = 0.0
    model_probability: float | None = None
    model_threshold: float | None = None
    threshold: float = 0.5
    explain: Callable[[], list[NgramWeight]] | None = field(
        default=None, compare=False, repr=False
    )
    _top: list[NgramWeight] | None = field(default=None, init=False, compare=False, repr=False)

    @property
    def top_ngrams(self) -> list[NgramWeight]:
        if self._top is None:
            object.__setattr__(self, "_top", self.explain() if self.explain is not None else [])
        assert self._top is not None
        return self._top

    def to_dict(self) -> dict[str, object]:
        return {
            "flagged": self.flagged,
            "score": self.score,
            "threshold": self.threshold,
            "signals": list(self.signals),
            "rule_score": self.rule_score,
            "model_probability": self.model_probability,
            "model_threshold": self.model_threshold,
            "top_ngrams": [{"ngram": n.ngram, "weight": n.weight} for n in self.top_ngrams],
        }


_LATIN = [(i, s) for i, s in enumerate(SIGNALS) if s.script == "latin"]
_NATIVE = [(i, s) for i, s in enumerate(SIGNALS) if s.script == "native"]
_LATIN_SCAN = AnchoredScan(_LATIN, SIGNALS)
_LATIN_ALWAYS = tuple(i for i, s in _LATIN if s.always)
_NATIVE_SCAN = AnchoredScan(((i, s) for i, s in _NATIVE if s.anchors), SIGNALS)
_NATIVE_UNANCHORED = tuple(i for i, s in _NATIVE if not s.anchors)  # CJK: no word breaks
# Whether any of them could match: most CJK text has none of them. The alternation is
# tried only where one of their first characters occurs.
_NATIVE_UNANCHORED_GATE = re.compile(
    "|".join(scoped(SIGNALS[i].pattern.pattern) for i in _NATIVE_UNANCHORED)
)
_NATIVE_UNANCHORED_FIRST = first_chars(SIGNALS[i].pattern.pattern for i in _NATIVE_UNANCHORED)


def _native_unanchored_may_match(view: str) -> bool:
    if _NATIVE_UNANCHORED_FIRST is None:
        return _NATIVE_UNANCHORED_GATE.search(view) is not None
    match = _NATIVE_UNANCHORED_GATE.match
    return any(match(view, at.start()) for at in _NATIVE_UNANCHORED_FIRST.finditer(view))


def _search_all(
    view: str, signals: list[tuple[int, Signal]], end: int | None = None
) -> Iterator[tuple[Signal, re.Match[str]]]:
    for _, signal in signals:
        match = signal.pattern.search(view)
        if match is not None and (end is None or match.start() < end):
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
    """Scores text for prompt injection; flags at ``score >= threshold``.

    ``model`` is the learned n-gram model (default: the one shipped in the
    package); ``None`` screens with the rules alone. ``prefilter=False`` runs every
    pattern on every text; it exists to check that the anchor prefilter never hides
    a match, and is slower.
    """

    def __init__(
        self,
        threshold: float = 0.5,
        *,
        prefilter: bool = True,
        model: NgramModel | str | None = _BUNDLED,
    ) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {threshold!r}")
        self.threshold = threshold
        self._prefilter = prefilter
        if isinstance(model, str):
            if model != _BUNDLED:
                raise ValueError(f"unknown model {model!r}")
            model = bundled_model()
        self.model: NgramModel | None = model

    def screen(self, text: str, *, explain: bool = False) -> ScreeningResult:
        """Screen one text. ``explain=True`` lists the top n-grams even when not flagged."""
        views = build_views(text)
        plain = strip_invisible(text) if not text.isascii() else text
        decoded = list(base64_texts(plain))
        variants = decoded_variants(plain)
        hits = self._screen_views(views)
        self._screen_decoded("base64", decoded, hits)
        for name, variant in variants:
            self._screen_decoded(name, [variant], hits)
        rule_score = round(hits.score(), 4)
        ranked = sorted(hits.names.items(), key=lambda item: (-item[1], item[0]))
        signals = [name for name, _ in ranked]
        if self.model is None:
            return ScreeningResult(
                flagged=rule_score >= self.threshold,
                score=rule_score,
                signals=signals,
                rule_score=rule_score,
                threshold=self.threshold,
            )
        model_text = compose_model_text(views, [v for _, v in variants] + decoded)
        scored = self.model.score(model_text)
        probability = scored.probability
        score = round(max(rule_score, self._on_scale(probability)), 4)
        flagged = score >= self.threshold
        model = self.model

        def top() -> list[NgramWeight]:
            return [NgramWeight(c.ngram, c.weight) for c in model.explain_scored(scored)]

        return ScreeningResult(
            flagged=flagged,
            score=score,
            signals=signals,
            rule_score=rule_score,
            model_probability=round(probability, 4),
            model_threshold=round(self.model.threshold, 4),
            threshold=self.threshold,
            explain=top if flagged or explain else None,
        )

    def screen_conversation(
        self, texts: Sequence[str], *, turns: int = CONVERSATION_TURNS
    ) -> ScreeningResult:
        """Screen each of the last ``turns`` texts alone and all of them joined.

        An instruction split across several messages (each harmless alone) only
        reads as one when the parts are put back together. The strongest verdict
        is returned; when only the joined text flags, the signal
        ``conversation.split_payload`` says so.
        """
        recent = [t for t in texts if t][-turns:]
        if not recent:
            return self.screen("")
        singles = [self.screen(text) for text in recent]
        best = max(singles, key=lambda result: result.score)
        if len(recent) == 1:
            return best
        joined = self.screen(join_recent(recent, turns=turns))
        if joined.score <= best.score:
            return best
        signals = list(joined.signals)
        if joined.flagged and not best.flagged:
            signals.append("conversation.split_payload")
        return ScreeningResult(
            flagged=joined.flagged,
            score=joined.score,
            signals=signals,
            rule_score=joined.rule_score,
            model_probability=joined.model_probability,
            model_threshold=joined.model_threshold,
            threshold=joined.threshold,
            explain=joined.explain,
        )

    def _on_scale(self, probability: float) -> float:
        """Map the model probability so its own threshold lands on ours, monotonically."""
        assert self.model is not None
        cut = min(max(self.model.threshold, 1e-6), 1 - 1e-6)
        if probability < cut:
            return self.threshold * probability / cut
        return self.threshold + (1.0 - self.threshold) * (probability - cut) / (1.0 - cut)

    # -- internals -------------------------------------------------------------------

    def _screen_text(self, text: str) -> _Hits:
        return self._screen_views(build_views(text))

    def _screen_views(self, views: Views) -> _Hits:
        hits = _Hits(views.latin)
        for signal, match in self._scan_latin(views.latin):
            hits.add_match(0, signal, views.latin, match)
        if views.has_native_script:
            for signal, match in self._scan_native(views):
                hits.add_match(1, signal, views.native, match)
        alternates = zip(views.alternates, views.alternate_ends, strict=True)
        for view_id, ((obfuscation, view), end) in enumerate(alternates, start=2):
            seen = set(hits.names)
            revealed = False
            # Only matches starting before the last change ends: one starting later
            # lies in unchanged text, and the Latin view has it.
            for signal, match in self._scan_latin(view, end):
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
        return hits

    def _screen_decoded(self, encoding: str, texts: Iterable[str], hits: _Hits) -> None:
        for decoded in texts:
            inner = self._screen_text(decoded)
            if inner.names:
                weight = BASE64_PAYLOAD_BASE + (1.0 - BASE64_PAYLOAD_BASE) * inner.score()
                hits.add(f"encoded.{encoding}_payload", min(weight, 0.95))
                for name in inner.names:
                    # Reported for explanation; the payload signal carries their weight.
                    hits.add(f"{encoding}:{name}", 0.0)
            elif encoding == "base64":
                hits.add("encoded.base64_text", BASE64_TEXT_WEIGHT)

    def _scan_latin(
        self, view: str, end: int | None = None
    ) -> Iterator[tuple[Signal, re.Match[str]]]:
        if self._prefilter:
            return _LATIN_SCAN.scan(view, _LATIN_ALWAYS, end)
        return _search_all(view, _LATIN, end)

    def _scan_native(self, views: Views) -> Iterator[tuple[Signal, re.Match[str]]]:
        if self._prefilter:
            extra: tuple[int, ...] = ()
            if views.has_cjk and _native_unanchored_may_match(views.native):
                extra = _NATIVE_UNANCHORED
            return _NATIVE_SCAN.scan(views.native, extra)
        return _search_all(views.native, _NATIVE)
