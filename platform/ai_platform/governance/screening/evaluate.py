"""Measure the detector on the labelled set, and screen JSON lines for the CLI.

The set (``data/injection_eval.jsonl``) holds one object a line:
``{"text", "label": "attack"|"benign", "category", "lang"}``. Attack categories
get a recall each; benign categories a false-positive rate each, since the hard
benign cases (texts that share words with attacks) are where a pattern detector
fails.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TextIO

from ai_platform.governance.screening.detector import InjectionDetector

DEFAULT_DATA = Path(__file__).with_name("data") / "injection_eval.jsonl"
LABELS = ("attack", "benign")


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    label: str
    category: str
    lang: str


@dataclass(frozen=True, slots=True)
class Misclassified:
    text: str
    label: str
    category: str
    lang: str
    score: float
    signals: list[str]


@dataclass(frozen=True, slots=True)
class EvalReport:
    threshold: float
    tp: int
    fp: int
    tn: int
    fn: int
    precision: float
    recall: float
    fpr: float
    f1: float
    per_category_recall: dict[str, float] = field(default_factory=dict)
    per_category_fpr: dict[str, float] = field(default_factory=dict)
    per_language_recall: dict[str, float] = field(default_factory=dict)
    category_counts: dict[str, int] = field(default_factory=dict)
    misclassified: list[Misclassified] = field(default_factory=list)

    @property
    def attacks(self) -> int:
        return self.tp + self.fn

    @property
    def benign(self) -> int:
        return self.tn + self.fp

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def load_examples(path: Path | str | None = None) -> list[Example]:
    """Read the labelled set; a malformed line is an error naming its line number."""
    source = Path(path) if path is not None else DEFAULT_DATA
    examples: list[Example] = []
    with source.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                example = Example(
                    text=str(row["text"]),
                    label=str(row["label"]),
                    category=str(row.get("category", "uncategorized")),
                    lang=str(row.get("lang", "und")),
                )
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise ValueError(f"{source}:{number}: not a labelled example ({exc})") from exc
            if example.label not in LABELS:
                raise ValueError(f"{source}:{number}: label must be one of {LABELS}")
            examples.append(example)
    return examples


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else 0.0


def evaluate(path: Path | str | None = None, threshold: float | None = None) -> EvalReport:
    """Screen every example and count the outcomes at ``threshold`` (default 0.5)."""
    detector = InjectionDetector() if threshold is None else InjectionDetector(threshold)
    examples = load_examples(path)
    tp = fp = tn = fn = 0
    caught: defaultdict[str, int] = defaultdict(int)
    counts: defaultdict[str, int] = defaultdict(int)
    lang_caught: defaultdict[str, int] = defaultdict(int)
    lang_counts: defaultdict[str, int] = defaultdict(int)
    wrong: list[Misclassified] = []
    for example in examples:
        result = detector.screen(example.text)
        attack = example.label == "attack"
        counts[example.category] += 1
        if attack:
            lang_counts[example.lang] += 1
        if result.flagged:
            caught[example.category] += 1
            if attack:
                lang_caught[example.lang] += 1
        if attack and result.flagged:
            tp += 1
        elif attack:
            fn += 1
        elif result.flagged:
            fp += 1
        else:
            tn += 1
        if attack != result.flagged:
            wrong.append(
                Misclassified(
                    text=example.text,
                    label=example.label,
                    category=example.category,
                    lang=example.lang,
                    score=result.score,
                    signals=result.signals,
                )
            )
    attack_categories = sorted({e.category for e in examples if e.label == "attack"})
    benign_categories = sorted({e.category for e in examples if e.label == "benign"})
    precision = _ratio(tp, tp + fp)
    recall = _ratio(tp, tp + fn)
    return EvalReport(
        threshold=detector.threshold,
        tp=tp,
        fp=fp,
        tn=tn,
        fn=fn,
        precision=precision,
        recall=recall,
        fpr=_ratio(fp, fp + tn),
        f1=_ratio(2 * tp, 2 * tp + fp + fn),
        per_category_recall={c: _ratio(caught[c], counts[c]) for c in attack_categories},
        per_category_fpr={c: _ratio(caught[c], counts[c]) for c in benign_categories},
        per_language_recall={
            lang: _ratio(lang_caught[lang], lang_counts[lang]) for lang in sorted(lang_counts)
        },
        category_counts=dict(sorted(counts.items())),
        misclassified=wrong,
    )


def _clip(text: str, width: int = 96) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def format_report(report: EvalReport) -> str:
    """A plain-text report: totals, per-category rates, and every mistake."""
    lines = [
        f"Prompt-injection screening — {report.attacks} attacks, {report.benign} benign,"
        f" threshold {report.threshold:g}",
        "",
        f"  precision {report.precision:.3f}   recall {report.recall:.3f}"
        f"   FPR {report.fpr:.3f}   F1 {report.f1:.3f}",
        f"  TP {report.tp}   FP {report.fp}   TN {report.tn}   FN {report.fn}",
        "",
        "Recall by attack category:",
    ]
    for category, rate in report.per_category_recall.items():
        lines.append(f"  {category:<22} {rate:6.3f}  (n={report.category_counts[category]})")
    lines += ["", "False-positive rate by benign category:"]
    for category, rate in report.per_category_fpr.items():
        lines.append(f"  {category:<22} {rate:6.3f}  (n={report.category_counts[category]})")
    lines += ["", "Recall by attack language:"]
    lines.append(
        "  " + "  ".join(f"{lang} {rate:.2f}" for lang, rate in report.per_language_recall.items())
    )
    misses = [m for m in report.misclassified if m.label == "attack"]
    false_alarms = [m for m in report.misclassified if m.label == "benign"]
    lines += ["", f"Missed attacks ({len(misses)}):"]
    lines += [
        f"  [{m.category}/{m.lang}] {m.score:.2f} {_clip(m.text)!r} {m.signals}" for m in misses
    ] or ["  none"]
    lines += ["", f"False alarms ({len(false_alarms)}):"]
    lines += [
        f"  [{m.category}/{m.lang}] {m.score:.2f} {_clip(m.text)!r} {m.signals}"
        for m in false_alarms
    ] or ["  none"]
    return "\n".join(lines)


def screen_lines(
    in_stream: TextIO, out_stream: TextIO, detector: InjectionDetector | None = None
) -> int:
    """Read ``{"text": ...}`` lines, write one verdict line each; return the count.

    A line that is not a JSON object with a string ``text`` gets an
    ``{"error": ...}`` line and the stream carries on. Blank lines are skipped.
    """
    screener = detector if detector is not None else InjectionDetector()
    written = 0
    for line in in_stream:
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            out: dict[str, object] = {"error": f"invalid JSON: {exc.msg}"}
        else:
            if not isinstance(row, dict):
                out = {"error": "expected a JSON object with a 'text' field"}
            elif not isinstance(row.get("text"), str):
                out = {"error": "'text' must be a string"}
            else:
                out = screener.screen(row["text"]).to_dict()
        out_stream.write(json.dumps(out, ensure_ascii=False) + "\n")
        out_stream.flush()
        written += 1
    return written
