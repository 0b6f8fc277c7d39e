"""The learned screen at run time: logistic regression over hashed n-grams.

The weights ship in ``data/model.npz`` (float16, ``DIM`` of them, plus the bias and
the decision threshold chosen on validation folds). Scoring a text is one
vectorized hash, one gather and a sum, so it costs tens of microseconds per
thousand characters; explaining a score (which n-grams pushed it up) reuses the
hashed n-grams of the window that scored highest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ai_platform.governance.screening.features import (
    DIM,
    MIN_EVIDENCE,
    Indices,
    hash_features,
    ngrams_at,
    windows,
)

MODEL_PATH = Path(__file__).with_name("data") / "model.npz"


def sigmoid(value: float) -> float:
    if value >= 0:
        return 1.0 / (1.0 + math.exp(-value))
    exp = math.exp(value)
    return exp / (1.0 + exp)


def _scale(count: int) -> float:
    return 1.0 / math.sqrt(max(count, MIN_EVIDENCE))


@dataclass(frozen=True, slots=True)
class Contribution:
    ngram: str
    weight: float


@dataclass(frozen=True, slots=True)
class Scored:
    """The highest-scoring window of a model text, kept so it can be explained."""

    logit: float
    window: str
    indices: Indices
    contributions: npt.NDArray[np.float32]  # the weight of each n-gram occurrence

    @property
    def probability(self) -> float:
        return sigmoid(self.logit)


class NgramModel:
    """``probability(text)`` for a model text (see ``features.model_text``)."""

    def __init__(
        self, weights: npt.NDArray[np.float32], bias: float, threshold: float, version: str = ""
    ) -> None:
        if weights.shape != (DIM,):
            raise ValueError(f"expected {DIM} weights, got {weights.shape}")
        self.weights = weights.astype(np.float32)
        self.bias = float(bias)
        self.threshold = float(threshold)
        self.version = version

    @classmethod
    def load(cls, path: Path | str = MODEL_PATH) -> NgramModel:
        with np.load(path, allow_pickle=False) as data:
            return cls(
                data["weights"].astype(np.float32),
                float(data["bias"]),
                float(data["threshold"]),
                str(data["version"]) if "version" in data else "",
            )

    def save(self, path: Path | str = MODEL_PATH) -> None:
        np.savez_compressed(
            path,
            weights=self.weights.astype(np.float16),
            bias=np.float64(self.bias),
            threshold=np.float64(self.threshold),
            version=np.str_(self.version),
        )

    def _logit(self, indices: Indices, contributions: npt.NDArray[np.float32]) -> float:
        if len(indices) == 0:
            return self.bias
        return self.bias + float(contributions.sum()) * _scale(len(indices))

    def logit(self, text: str) -> float:
        indices = hash_features(text)
        return self._logit(indices, self.weights[indices])

    def score(self, text: str) -> Scored:
        """The window of ``text`` with the highest logit (the first, on a tie)."""
        best: Scored | None = None
        for part in windows(text):
            indices = hash_features(part)
            contributions = self.weights[indices]
            logit = self._logit(indices, contributions)
            if best is None or logit > best.logit:
                best = Scored(logit, part, indices, contributions)
        assert best is not None  # windows() always yields at least one part
        return best

    def probability(self, text: str) -> float:
        """The attack probability: the highest over the windows of a long text."""
        return self.score(text).probability

    def explain(self, text: str, top: int = 5) -> list[Contribution]:
        """The n-grams that raised the score most, strongest first (summed per n-gram)."""
        return self.explain_scored(self.score(text), top)

    def explain_scored(self, scored: Scored, top: int = 5) -> list[Contribution]:
        """``explain`` for a text already scored: only the strongest few occurrences
        are turned back into strings, so this stays cheap on long texts."""
        indices = scored.indices
        if len(indices) == 0:
            return []
        contributions = scored.contributions
        keep = min(len(indices), top * 8)
        cut = len(indices) - keep
        strongest = np.argpartition(contributions, cut)[cut:].tolist()
        totals: dict[str, float] = {}
        for gram, position in zip(ngrams_at(scored.window, strongest), strongest, strict=True):
            totals[gram] = totals.get(gram, 0.0) + float(contributions[position])
        scale = _scale(len(indices))
        ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
        return [
            Contribution(gram, round(weight * scale, 4))
            for gram, weight in ranked[:top]
            if weight > 0
        ]


@lru_cache(maxsize=1)
def bundled_model() -> NgramModel:
    """The model shipped in the package, loaded once per process."""
    return NgramModel.load(MODEL_PATH)
