"""Honest measurement of the combined screen (rules or model) on a labelled corpus.

In-sample numbers flatter a learned model, so the report puts them beside numbers
from models that never saw the texts they are scored on:

- **validation** (leave-one-batch-out): one model per batch, trained on the other
  batches, scores that batch. The model threshold is chosen on these predictions
  only, as the lowest probability at which benign FPR stays <= the target.
- **leave-one-batch-out**: recall and FPR on each batch, at a threshold chosen on
  the *other* batches' validation predictions.
- **leave-one-category-out**: for each attack category, a model trained without
  it (and without two benign folds); the threshold is chosen on one benign fold,
  recall is measured on the unseen category and FPR on the other benign fold.
- **in-sample**: a model trained on everything, scored on everything, at the
  validation threshold.
- **calibration**: validation probabilities in bins against the observed attack
  rate in each bin.

The rule signals need no training, so they join every measurement as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ai_platform.governance.screening.corpus import CORPUS_PATH
from ai_platform.governance.screening.train import (
    TARGET_FPR,
    FloatArray,
    Matrix,
    batch_folds,
    choose_threshold,
    fit,
    load_corpus,
    out_of_fold,
    predict,
    rule_flags,
    stratified_folds,
)

Progress = Callable[[str], None]
BoolArray = npt.NDArray[np.bool_]
CALIBRATION_BINS = 10


@dataclass(frozen=True, slots=True)
class Rates:
    recall: float | None
    fpr: float | None
    attacks: int
    benign: int
    threshold: float


@dataclass(frozen=True, slots=True)
class CategoryLine:
    category: str
    label: int
    count: int
    in_sample: float
    validation: float
    held_out: float | None
    """Leave-one-category-out recall (attack categories only)."""


@dataclass(frozen=True, slots=True)
class CalibrationBin:
    low: float
    high: float
    count: int
    mean_probability: float
    attack_rate: float


@dataclass(frozen=True, slots=True)
class HonestReport:
    examples: int
    attacks: int
    benign: int
    target_fpr: float
    threshold: float
    in_sample: Rates
    validation: Rates
    rules_only: Rates
    leave_one_category_out: dict[str, Rates] = field(default_factory=dict)
    leave_one_batch_out: dict[str, Rates] = field(default_factory=dict)
    categories: list[CategoryLine] = field(default_factory=list)
    calibration: list[CalibrationBin] = field(default_factory=list)

    @property
    def loco_recall(self) -> float:
        """Attacks caught by models that never saw their category, over all attacks."""
        caught = total = 0.0
        for rates in self.leave_one_category_out.values():
            if rates.recall is not None:
                caught += rates.recall * rates.attacks
                total += rates.attacks
        return caught / total if total else 0.0

    @property
    def loco_fpr(self) -> float:
        values = [r.fpr for r in self.leave_one_category_out.values() if r.fpr is not None]
        return max(values) if values else 0.0

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["loco_recall"] = self.loco_recall
        data["loco_fpr_max"] = self.loco_fpr
        return data


def _rates(flagged: BoolArray, labels: FloatArray, threshold: float) -> Rates:
    attacks = labels > 0.5
    n_attacks = int(attacks.sum())
    n_benign = int((~attacks).sum())
    return Rates(
        recall=float(flagged[attacks].mean()) if n_attacks else None,
        fpr=float(flagged[~attacks].mean()) if n_benign else None,
        attacks=n_attacks,
        benign=n_benign,
        threshold=round(threshold, 4),
    )


def _calibration(probabilities: FloatArray, labels: FloatArray) -> list[CalibrationBin]:
    bins: list[CalibrationBin] = []
    edges = np.linspace(0.0, 1.0, CALIBRATION_BINS + 1)
    for i in range(CALIBRATION_BINS):
        low, high = float(edges[i]), float(edges[i + 1])
        last = i == CALIBRATION_BINS - 1
        inside = (probabilities >= low) & (
            (probabilities <= high) if last else (probabilities < high)
        )
        count = int(inside.sum())
        bins.append(
            CalibrationBin(
                low=low,
                high=high,
                count=count,
                mean_probability=float(probabilities[inside].mean()) if count else 0.0,
                attack_rate=float(labels[inside].mean()) if count else 0.0,
            )
        )
    return bins


def measure(
    corpus: Path | str = CORPUS_PATH,
    *,
    target_fpr: float = TARGET_FPR,
    progress: Progress | None = None,
) -> HonestReport:
    """Train and score as described in the module docstring; deterministic."""
    say = progress or (lambda _: None)
    rows = load_corpus(corpus)
    if not rows:
        raise ValueError(f"{corpus}: no examples")
    labels = np.array([row.label for row in rows], dtype=np.float64)
    attacks = labels > 0.5
    if attacks.all() or not attacks.any():
        raise ValueError(f"{corpus}: needs both attacks (label 1) and benign (label 0)")
    texts = [row.text for row in rows]
    categories = np.array([row.category for row in rows])
    batches = np.array([row.batch for row in rows])
    say(f"featurizing {len(rows)} examples")
    matrix = Matrix.of_texts(texts)
    rules = rule_flags(texts)

    say("validation: leave-one-batch-out models")
    folds = batch_folds(rows)
    validation = out_of_fold(matrix, labels, folds)
    threshold = choose_threshold(validation, labels, rules, target_fpr)
    validation_flags = rules | (validation >= threshold)

    lobo: dict[str, Rates] = {}
    if len(set(batches.tolist())) > 1:
        for batch in sorted(set(batches.tolist())):
            mine = batches == batch
            cut = choose_threshold(validation[~mine], labels[~mine], rules[~mine], target_fpr)
            flags = rules[mine] | (validation[mine] >= cut)
            lobo[batch] = _rates(flags, labels[mine], cut)

    say("in-sample model")
    weights, bias = fit(matrix, labels)
    in_sample_probability = predict(matrix, weights, bias)
    in_sample_flags = rules | (in_sample_probability >= threshold)

    loco: dict[str, Rates] = {}
    held_out_recall: dict[str, float] = {}
    benign_fold = stratified_folds(rows)
    test_benign = ~attacks & (benign_fold == 0)
    check_benign = ~attacks & (benign_fold == 1)
    for category in sorted(set(categories[attacks].tolist())):
        say(f"leave-one-category-out: {category}")
        unseen = attacks & (categories == category)
        train = np.flatnonzero(~unseen & ~test_benign & ~check_benign)
        if labels[train].min() == labels[train].max():
            continue
        w, b = fit(matrix.subset(train), labels[train])
        check = np.flatnonzero(check_benign)
        cut = choose_threshold(
            predict(matrix.subset(check), w, b), labels[check], rules[check], target_fpr
        )
        scored = np.flatnonzero(unseen | test_benign)
        flags = rules[scored] | (predict(matrix.subset(scored), w, b) >= cut)
        loco[category] = _rates(flags, labels[scored], cut)
        recall = loco[category].recall
        if recall is not None:
            held_out_recall[category] = recall

    lines = []
    for category in sorted(set(categories.tolist())):
        mine = categories == category
        label = int(labels[mine][0] > 0.5)
        lines.append(
            CategoryLine(
                category=category,
                label=label,
                count=int(mine.sum()),
                in_sample=float(in_sample_flags[mine].mean()),
                validation=float(validation_flags[mine].mean()),
                held_out=held_out_recall.get(category),
            )
        )
    return HonestReport(
        examples=len(rows),
        attacks=int(attacks.sum()),
        benign=int((~attacks).sum()),
        target_fpr=target_fpr,
        threshold=round(threshold, 4),
        in_sample=_rates(in_sample_flags, labels, threshold),
        validation=_rates(validation_flags, labels, threshold),
        rules_only=_rates(rules, labels, threshold),
        leave_one_category_out=loco,
        leave_one_batch_out=lobo,
        categories=lines,
        calibration=_calibration(validation, labels),
    )


def _pct(value: float | None) -> str:
    return "   -  " if value is None else f"{value:6.3f}"


def format_honest_report(report: HonestReport) -> str:
    lines = [
        f"Learned screen on the corpus — {report.attacks} attacks, {report.benign} benign;"
        f" model threshold {report.threshold:.4f} chosen on validation"
        f" (target FPR <= {report.target_fpr:g})",
        "",
        f"{'measurement':<34} {'recall':>7} {'FPR':>7}",
        f"{'in-sample (rules or model)':<34} {_pct(report.in_sample.recall):>7}"
        f" {_pct(report.in_sample.fpr):>7}",
        f"{'validation, leave-one-batch-out':<34} {_pct(report.validation.recall):>7}"
        f" {_pct(report.validation.fpr):>7}",
        f"{'leave-one-category-out (pooled)':<34} {_pct(report.loco_recall):>7}"
        f" {_pct(report.loco_fpr):>7}  (FPR: worst fold)",
        f"{'rules alone':<34} {_pct(report.rules_only.recall):>7} {_pct(report.rules_only.fpr):>7}",
        "",
        "Leave-one-category-out (train without the category; FPR on held-out benign):",
    ]
    for category, rates in report.leave_one_category_out.items():
        lines.append(
            f"  {category:<24} recall {_pct(rates.recall)}  FPR {_pct(rates.fpr)}"
            f"  n={rates.attacks}  threshold {rates.threshold:.3f}"
        )
    lines += ["", "Leave-one-batch-out (threshold chosen on the other batches):"]
    for batch, rates in report.leave_one_batch_out.items():
        lines.append(
            f"  {batch:<24} recall {_pct(rates.recall)}  FPR {_pct(rates.fpr)}"
            f"  attacks={rates.attacks} benign={rates.benign}"
        )
    lines += [
        "",
        "Per category (flagged rate; recall for attacks, FPR for benign):",
        f"  {'category':<24} {'label':>5} {'n':>5} {'in-sample':>10} {'validation':>11}"
        f" {'held-out':>9}",
    ]
    for line in report.categories:
        lines.append(
            f"  {line.category:<24} {'attack' if line.label else 'benign':>5} {line.count:>5}"
            f" {line.in_sample:>10.3f} {line.validation:>11.3f} {_pct(line.held_out):>9}"
        )
    lines += [
        "",
        "Calibration (validation probabilities):",
        f"  {'bin':<11} {'n':>6} {'mean p':>8} {'attack rate':>12}",
    ]
    for cell in report.calibration:
        lines.append(
            f"  {cell.low:.1f}–{cell.high:.1f}    {cell.count:>6} {cell.mean_probability:>8.3f}"
            f" {cell.attack_rate:>12.3f}"
        )
    return "\n".join(lines)


def plot_calibration(report: HonestReport, path: Path | str) -> bool:
    """Write the calibration curve as a PNG; ``False`` when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    cells = [c for c in report.calibration if c.count]
    figure, axis = plt.subplots(figsize=(4.5, 4.5))
    axis.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1)
    axis.plot([c.mean_probability for c in cells], [c.attack_rate for c in cells], marker="o")
    axis.set_xlabel("predicted attack probability (validation)")
    axis.set_ylabel("observed attack rate")
    axis.set_title("Screening model calibration")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True
