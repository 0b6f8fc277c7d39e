"""Run a command with the wall clock shifted to chosen instants (libfaketime).

    python -m tests.shifted_clock -- pytest -q tests/governance/test_budget.py
    python -m tests.shifted_clock --at 2028-02-29T12:00:00 -- pytest ...

Each instant runs the command once with ``FAKETIME=+<offset>s``: an offset rather
than a fixed start, so child processes (servers, workers, Locust) share one shifted
clock with the process that started them, and the clock keeps running, crossing the
boundary a second or two into the run. ``time.monotonic`` moves by the same offset,
so deadlines and timeouts are unaffected. The database and Redis servers keep the
real clock: code that mixes their ``now()`` with Python's is caught here.

The default instants are the ones that broke or could break a lesson or a test: the
last second of a month, the first seconds of a month after a short February, New
Year's Eve turning, and a leap day. Without libfaketime the runs are skipped with a
message, unless ``CI`` is set, where they fail.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

INSTANTS = (
    "2027-01-31T23:59:59",  # the last second of a month
    "2027-03-01T00:00:05",  # the first seconds of a month, after a 28-day February
    "2026-12-31T23:59:58",  # 31 December turning into 1 January
    "2028-02-29T23:59:58",  # a leap day, turning into 1 March
)
CROSSINGS = (INSTANTS[2], INSTANTS[3])
"""Two runs that cross every boundary above: a month's and a year's last seconds into
the first of January, and a leap day's into the first of March (``--crossings``)."""

_PRINT = threading.Lock()

LIBRARIES = (
    "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
    "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
    "/usr/local/lib/faketime/libfaketime.so.1",
    "/usr/lib/faketime/libfaketime.so.1",
)


def find_library() -> str | None:
    explicit = os.environ.get("FAKETIME_LIBRARY")
    if explicit:
        return explicit if Path(explicit).exists() else None
    return next((path for path in LIBRARIES if Path(path).exists()), None)


def offset_to(instant: str) -> int:
    """Seconds from now to ``instant`` (ISO 8601, UTC when no zone is given)."""
    target = datetime.fromisoformat(instant)
    if target.tzinfo is None:
        target = target.replace(tzinfo=UTC)
    return round(target.timestamp() - time.time())


def shifted_env(library: str, instant: str) -> dict[str, str]:
    env = dict(os.environ)
    env["LD_PRELOAD"] = " ".join(p for p in (library, env.get("LD_PRELOAD", "")) if p)
    env["FAKETIME"] = f"{offset_to(instant):+d}s"
    env["SHIFTED_CLOCK_AT"] = instant
    return env


def _banner(env: dict[str, str]) -> str:
    return f"\n== clock shifted to {env['SHIFTED_CLOCK_AT']} UTC (FAKETIME={env['FAKETIME']}) =="


def _run(command: list[str], library: str, instant: str) -> bool:
    env = shifted_env(library, instant)
    print(_banner(env), flush=True)
    return subprocess.run(command, env=env, check=False).returncode == 0


def _run_captured(command: list[str], library: str, instant: str) -> bool:
    env = shifted_env(library, instant)
    done = subprocess.run(
        command, env=env, check=False, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    with _PRINT:
        print(_banner(env), flush=True)
        sys.stdout.write(done.stdout.decode(errors="replace"))
        sys.stdout.flush()
    return done.returncode == 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--at", action="append", help="an instant (repeatable)")
    parser.add_argument(
        "--crossings", action="store_true", help="only the two runs that cross every boundary"
    )
    parser.add_argument(
        "--jobs", type=int, default=1, help="instants run at once (output shown per instant)"
    )
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then the command")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command after --")
    library = find_library()
    if library is None:
        message = "libfaketime not found (apt-get install faketime): shifted-clock runs"
        if os.environ.get("CI"):
            print(f"{message} are required when CI is set", file=sys.stderr)
            return 2
        print(f"{message} skipped", file=sys.stderr)
        return 0
    instants = args.at or list(CROSSINGS if args.crossings else INSTANTS)
    if args.jobs > 1:
        with ThreadPoolExecutor(args.jobs) as pool:
            outcomes = list(pool.map(lambda at: _run_captured(command, library, at), instants))
    else:
        outcomes = [_run(command, library, at) for at in instants]
    failed = [at for at, ok in zip(instants, outcomes, strict=True) if not ok]
    if failed:
        print(f"\nfailed with the clock at: {', '.join(failed)}", file=sys.stderr)
        return 1
    print(f"\npassed at every instant: {', '.join(instants)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
