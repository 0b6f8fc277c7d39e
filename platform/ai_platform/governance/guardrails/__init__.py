"""Injection defences that do not depend on detecting the injection (OWASP LLM01).

- ``provenance``: side-effecting tools run only on what the human asked for;
- ``untrusted``: retrieved text enters prompts delimited and marked as data;
- ``links``: answers lose links and images to hosts not on the allow-list;
- ``canary``: a per-request marker in system prompts; an answer repeating it is blocked;
- ``output``: the last two applied to whole and streamed answers.

What each layer does is recorded on the request (``RequestContext.guardrail``): the
ledger row's ``guardrail_events`` and the ``ai_platform_guardrail_events_total`` metric.
"""

from ai_platform.governance.guardrails.canary import LeakGuard, new_canary
from ai_platform.governance.guardrails.links import HostPolicy, LinkStreamFilter, filter_links
from ai_platform.governance.guardrails.output import (
    AnswerBlockedError,
    AnswerGuard,
    GuardedAnswer,
    StreamGuard,
)
from ai_platform.governance.guardrails.provenance import (
    ActionSpec,
    ContextProvenance,
    Decision,
    Origin,
    ToolCallPolicy,
)
from ai_platform.governance.guardrails.untrusted import (
    UNTRUSTED_NOTICE,
    escape_untrusted,
    wrap_untrusted,
)

__all__ = [
    "UNTRUSTED_NOTICE",
    "ActionSpec",
    "AnswerBlockedError",
    "AnswerGuard",
    "ContextProvenance",
    "Decision",
    "GuardedAnswer",
    "HostPolicy",
    "LeakGuard",
    "LinkStreamFilter",
    "Origin",
    "StreamGuard",
    "ToolCallPolicy",
    "escape_untrusted",
    "filter_links",
    "new_canary",
    "wrap_untrusted",
]
