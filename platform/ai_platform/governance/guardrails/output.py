"""Answers on their way out: links to unknown hosts removed, system-prompt leaks blocked.

``AnswerGuard.check`` handles a whole answer (JSON routes); ``StreamGuard`` handles
the pieces of a streamed one without giving up incremental delivery: it holds back
only a link construct that may still be open and a tail that could be the start of
the canary. Both record what they did on the request (``RequestContext.guardrail``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ai_platform.core.errors import AIServiceError
from ai_platform.governance.guardrails.canary import LeakGuard
from ai_platform.governance.guardrails.links import (
    HostPolicy,
    LinkStreamFilter,
    filter_links,
)

EVENT_LINK_REMOVED = "link_removed"
EVENT_IMAGE_REMOVED = "image_removed"
EVENT_CANARY = "canary_leak"
EVENT_PROMPT_LEAK = "system_prompt_leak"


class AnswerBlockedError(AIServiceError):
    """The model's answer repeated the request's confidential instructions."""

    status_code = 502
    error_code = "answer_blocked"
    description = (
        "The model's answer was withheld: it repeated confidential instructions "
        "(a sign of a prompt-injection attempt)"
    )


class EventSink(Protocol):
    def guardrail(self, event: str) -> None: ...


@dataclass(frozen=True, slots=True)
class GuardedAnswer:
    text: str
    links_removed: int
    images_removed: int


def _leak_event(kind: str) -> str:
    return EVENT_CANARY if kind == "canary" else EVENT_PROMPT_LEAK


def _record_removals(sink: EventSink, links: int, images: int) -> None:
    for _ in range(links):
        sink.guardrail(EVENT_LINK_REMOVED)
    for _ in range(images):
        sink.guardrail(EVENT_IMAGE_REMOVED)


class AnswerGuard:
    """Output filtering and leak checks for the answers of one request."""

    def __init__(self, sink: EventSink, hosts: HostPolicy, leak: LeakGuard | None = None) -> None:
        self.sink = sink
        self.hosts = hosts
        self.leak = leak

    def check(self, text: str) -> GuardedAnswer:
        """The answer as the client may see it; raises ``AnswerBlockedError`` on a leak."""
        self.raise_on_leak(text)
        result = filter_links(text, self.hosts)
        _record_removals(self.sink, result.links_removed, result.images_removed)
        return GuardedAnswer(result.text, result.links_removed, result.images_removed)

    def raise_on_leak(self, text: str) -> None:
        if self.leak is None:
            return
        kind = self.leak.leak(text)
        if kind is not None:
            self.sink.guardrail(_leak_event(kind))
            raise AnswerBlockedError(details={"reason": kind})

    def stream(self) -> StreamGuard:
        return StreamGuard(self)


class StreamGuard:
    """One streamed answer: ``feed`` each piece, show what it returns, then ``close``."""

    def __init__(self, guard: AnswerGuard) -> None:
        self.guard = guard
        self.links = LinkStreamFilter(guard.hosts)
        self.seen = ""
        self.held = ""

    def feed(self, piece: str) -> str:
        """What may be shown now; raises ``AnswerBlockedError`` once a leak is seen."""
        # Only the tail can hold a leak that was not there before this piece: keep
        # (and check) no more of the answer than a leak and this piece can span.
        leak = self.guard.leak
        window = 2 * (leak.min_chars + len(leak.canary)) + len(piece) if leak else 0
        self.seen = (self.seen + piece)[-window:] if window else ""
        self.guard.raise_on_leak(self.seen)
        text = self.held + piece
        keep = self.guard.leak.held_suffix(self.seen) if self.guard.leak else 0
        keep = min(keep, len(text))
        ready, self.held = text[: len(text) - keep], text[len(text) - keep :]
        return self._count(self.links.feed(ready))

    def close(self) -> str:
        """The rest of the answer, once the model has finished."""
        self.guard.raise_on_leak(self.seen)
        text, self.held = self.held, ""
        out = self.links.feed(text) + self.links.close()
        return self._count(out)

    def _count(self, text: str) -> str:
        links, images = self.links.links_removed, self.links.images_removed
        self.links.links_removed = self.links.images_removed = 0
        _record_removals(self.guard.sink, links, images)
        return text
