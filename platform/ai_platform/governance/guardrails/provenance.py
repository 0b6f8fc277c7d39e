"""Provenance: side-effecting tools act on what the human asked, never on what a tool read.

Every piece of a turn's context has an origin: the authenticated human's own words
(``USER``), earlier turns of the human (``USER_HISTORY``), the model (``MODEL``) and
text that came from documents or tool results (``RETRIEVED``). A model that has read
an attacker's document may ask for any tool; this policy decides whether the call may
run, from origins alone, so it holds when injection detection misses.

The rule, for a tool that changes something:

1. **requested** — the current user turn (``USER`` text only) asks for that kind of
   action: it names one of the action's intents (``ActionSpec.intents``: stems such as
   ``refund`` / ``money back`` for a refund);
2. **targeted by the human** — each of the call's target arguments
   (``ActionSpec.targets``, an order id for a refund) appears in text of user origin
   (this turn or an earlier one), never only in retrieved text.

Anything else is refused. The refusal says why: ``untrusted_source`` when the intent
or the target appears in retrieved text but not in the human's (the classic indirect
injection), ``not_requested`` / ``target_not_from_user`` otherwise. Read-only tools
are not subject to the rule: reading cannot change anything, and what they return is
itself ``RETRIEVED``.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


class Origin(enum.Enum):
    USER = "user"
    USER_HISTORY = "user_history"
    MODEL = "model"
    RETRIEVED = "retrieved"


TRUSTED_FOR_TARGETS = frozenset({Origin.USER, Origin.USER_HISTORY})


@dataclass(frozen=True, slots=True)
class Segment:
    origin: Origin
    source: str
    text: str


@dataclass
class ContextProvenance:
    """What a turn's context holds, piece by piece, with where each piece came from."""

    segments: list[Segment] = field(default_factory=list)

    def add(self, origin: Origin, source: str, text: str) -> None:
        if text:
            self.segments.append(Segment(origin, source, text))

    def text_of(self, origins: Iterable[Origin]) -> str:
        wanted = frozenset(origins)
        return "\n".join(s.text for s in self.segments if s.origin in wanted)


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """What a side-effecting tool needs before the policy lets it run."""

    tool: str
    intents: tuple[str, ...]
    """Regular expressions (case-insensitive, word-bounded) for asking for the action."""
    targets: tuple[str, ...] = ()
    """Argument names whose values must come from the human's own words."""
    irreversible: bool = False

    def requested_in(self, text: str) -> bool:
        return any(re.search(rf"\b(?:{p})", text, re.IGNORECASE) for p in self.intents)


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: str = "allowed"
    detail: str = ""

    @property
    def event(self) -> str:
        return f"tool_refused:{self.reason}"


def mentions(text: str, value: Any) -> bool:
    """Whether ``text`` names ``value`` as a whole token ("ORD-1003", "ord 1003", "#ORD1003"
    all name ORD-1003; "ORD-10031" does not)."""
    groups = re.findall(r"[a-z]+|[0-9]+", str(value).lower())
    if not groups:
        return False
    body = r"[\s\-_#]*".join(re.escape(g) for g in groups)
    return re.search(rf"(?<![a-z0-9]){body}(?![a-z0-9])", text, re.IGNORECASE) is not None


class ToolCallPolicy:
    """Decides whether a tool call may run, given the turn's ``ContextProvenance``."""

    def __init__(self, actions: Iterable[ActionSpec]) -> None:
        self.actions: Mapping[str, ActionSpec] = {a.tool: a for a in actions}

    def governs(self, tool: str) -> bool:
        return tool in self.actions

    def spec(self, tool: str) -> ActionSpec | None:
        return self.actions.get(tool)

    def decide(
        self, tool: str, arguments: Mapping[str, Any], context: ContextProvenance
    ) -> Decision:
        spec = self.actions.get(tool)
        if spec is None:
            return Decision(True)
        asked = context.text_of([Origin.USER])
        retrieved = context.text_of([Origin.RETRIEVED])
        if not spec.requested_in(asked):
            if spec.requested_in(retrieved):
                return Decision(
                    False,
                    "untrusted_source",
                    f"only text from documents or tool results asks for {tool}",
                )
            return Decision(False, "not_requested", f"the customer did not ask for {tool}")
        trusted = context.text_of(TRUSTED_FOR_TARGETS)
        for name in spec.targets:
            value = arguments.get(name)
            if value is None or value == "":
                continue
            if mentions(trusted, value):
                continue
            if mentions(retrieved, value):
                return Decision(
                    False,
                    "untrusted_source",
                    f"{name} {value} comes from documents or tool results, not the customer",
                )
            return Decision(
                False, "target_not_from_user", f"the customer did not name {name} {value}"
            )
        return Decision(True)
