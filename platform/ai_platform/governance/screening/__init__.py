"""Prompt-injection screening: pattern signals plus a learned n-gram model, offline.

``InjectionDetector().screen(text)`` returns a ``ScreeningResult``: flagged, a score in
[0, 1] (the higher of the rule score and the model probability mapped onto the same
scale), the rule signals that matched, the model probability and, when flagged, the
n-grams that raised it. ``screen_conversation(texts)`` also screens the recent turns
joined, for instructions split across messages.

``evaluate()`` measures the detector on the held-out set in ``data/injection_eval.jsonl``;
``measure.measure()`` trains and measures honestly on the corpus in
``data/corpus.jsonl`` (built by ``corpus``, the shipped model trained by ``train``).
"""

from ai_platform.governance.screening.detector import (
    InjectionDetector,
    NgramWeight,
    ScreeningResult,
)
from ai_platform.governance.screening.evaluate import (
    EvalReport,
    evaluate,
    format_report,
    screen_lines,
)

__all__ = [
    "EvalReport",
    "InjectionDetector",
    "NgramWeight",
    "ScreeningResult",
    "evaluate",
    "format_report",
    "screen_lines",
]
