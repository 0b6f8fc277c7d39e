"""Every suite, by name, in the order a run takes them."""

from __future__ import annotations

from evals.agent import AGENT
from evals.assistant import ASSISTANT
from evals.knowledge import KNOWLEDGE_ANSWER, KNOWLEDGE_SEARCH
from evals.research import RESEARCH
from evals.screening import SCREENING
from evals.suite import Suite

SUITES: dict[str, Suite] = {
    s.name: s for s in (KNOWLEDGE_SEARCH, KNOWLEDGE_ANSWER, AGENT, RESEARCH, ASSISTANT, SCREENING)
}


def select(names: list[str] | None) -> list[Suite]:
    """The named suites in catalogue order; all of them for None or an empty list."""
    if not names:
        return list(SUITES.values())
    unknown = [n for n in names if n not in SUITES]
    if unknown:
        raise ValueError(f"unknown suite(s): {', '.join(unknown)}; choose from {', '.join(SUITES)}")
    return [s for name, s in SUITES.items() if name in names]
