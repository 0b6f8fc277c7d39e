"""``python -m ai_platform.governance.screening``: print the evaluation report.

Without options: the combined screen on the held-out set (``data/injection_eval.jsonl``).
``--eval`` adds the honest measurement on the training corpus (validation threshold,
in-sample, leave-one-category-out, leave-one-batch-out, per category, calibration);
it trains several models, so it takes a while on the full corpus.
``--screen`` instead reads ``{"text": ...}`` JSON lines on stdin and writes one
verdict line each.
"""

from __future__ import annotations

import argparse
import sys

from ai_platform.governance.screening.detector import InjectionDetector
from ai_platform.governance.screening.evaluate import evaluate, format_report, screen_lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ai_platform.governance.screening")
    parser.add_argument("--threshold", type=float, default=None, help="flag at score >= this")
    parser.add_argument("--data", default=None, help="held-out labelled JSONL (default: bundled)")
    parser.add_argument("--screen", action="store_true", help="screen JSON lines from stdin")
    parser.add_argument("--eval", action="store_true", help="also measure on the corpus")
    parser.add_argument("--corpus", default=None, help="training corpus JSONL (default: bundled)")
    parser.add_argument("--target-fpr", type=float, default=None, help="validation FPR target")
    parser.add_argument("--plot", default=None, help="write the calibration curve PNG here")
    args = parser.parse_args(argv)
    if args.screen:
        detector = (
            InjectionDetector() if args.threshold is None else InjectionDetector(args.threshold)
        )
        screen_lines(sys.stdin, sys.stdout, detector)
        return 0
    print(format_report(evaluate(args.data, args.threshold)))
    if args.eval:
        from ai_platform.governance.screening.measure import (
            format_honest_report,
            measure,
            plot_calibration,
        )
        from ai_platform.governance.screening.train import TARGET_FPR

        report = measure(
            args.corpus or _default_corpus(),
            target_fpr=args.target_fpr if args.target_fpr is not None else TARGET_FPR,
            progress=lambda line: print(f"… {line}", file=sys.stderr, flush=True),
        )
        print()
        print(format_honest_report(report))
        if args.plot and plot_calibration(report, args.plot):
            print(f"\ncalibration curve written to {args.plot}")
    return 0


def _default_corpus() -> str:
    from ai_platform.governance.screening.corpus import CORPUS_PATH

    return str(CORPUS_PATH)


if __name__ == "__main__":
    sys.exit(main())
