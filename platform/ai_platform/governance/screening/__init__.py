"""Prompt-injection screening: an offline, pattern-based detector and its evaluation.

``InjectionDetector().screen(text)`` returns a ``ScreeningResult`` (flagged, score in
[0, 1], the names of the signals that matched). ``evaluate()`` measures the detector
against the labelled set in ``data/injection_eval.jsonl``.
"""

from ai_platform.governance.screening.detector import InjectionDetector, ScreeningResult
from ai_platform.governance.screening.evaluate import (
    EvalReport,
    evaluate,
    format_report,
    screen_lines,
)

__all__ = [
    "EvalReport",
    "InjectionDetector",
    "ScreeningResult",
    "evaluate",
    "format_report",
    "screen_lines",
]
