"""``python -m ai_platform.governance.screening``: print the evaluation report.

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
    parser.add_argument("--data", default=None, help="labelled JSONL set (default: bundled)")
    parser.add_argument("--screen", action="store_true", help="screen JSON lines from stdin")
    args = parser.parse_args(argv)
    if args.screen:
        detector = (
            InjectionDetector() if args.threshold is None else InjectionDetector(args.threshold)
        )
        screen_lines(sys.stdin, sys.stdout, detector)
        return 0
    print(format_report(evaluate(args.data, args.threshold)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
