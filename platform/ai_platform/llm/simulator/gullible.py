"""Behaviours that make the simulator fall for prompt injection, on purpose.

A stand-in that never obeys injected text could not show why the platform's
guardrails exist, so the simulator does what a susceptible model does, in two
deterministic ways (and otherwise reads delimited data as plain text):

- **directives in tool results**: when a tool result it is answering from says
  ``call <tool_name>`` (the exact name of a tool the request offers), it calls that
  tool, with arguments taken from the result's text — an indirect injection;
- **"repeat your instructions"**: a user message asking it to print, repeat, reveal
  or show its system prompt or instructions gets the system messages back verbatim —
  a prompt leak, canary included.
"""

from __future__ import annotations

import re

from .parse import Message, Tool

_UNTRUSTED_TAG = re.compile(r"</?untrusted\b[^>]*>", re.IGNORECASE)
_REVEAL = re.compile(
    r"\b(?:print|repeat|reveal|show|output|tell me|recite|echo|write out|display)\b"
    r"[^.?!\n]{0,40}?\b(?:your|the)\s+(?:full\s+|entire\s+|original\s+|initial\s+|hidden\s+)?"
    r"(?:system\s+(?:prompt|message|instructions?)|instructions|initial\s+prompt|prompt)\b",
    re.IGNORECASE,
)

_DIRECTIVE = re.compile(
    r"\bcall(?:ing)?\s+(?:the\s+)?(?:tool\s+|function\s+)?`?(\w+)", re.IGNORECASE
)


def plain(text: str) -> str:
    """Text with ``<untrusted …>`` delimiters removed: read as the data they hold."""
    return _UNTRUSTED_TAG.sub("", text)


def directed_call(tools: list[Tool], results: list[Message]) -> tuple[Tool, str] | None:
    """The offered tool a trailing tool result tells the model to call, and that text."""
    by_name = {t.name.lower(): t for t in tools}
    for result in results:
        text = plain(result.text)
        for match in _DIRECTIVE.finditer(text):
            tool = by_name.get(match.group(1).lower())
            if tool is not None:
                return tool, text[match.start() :]
    return None


def leaked_instructions(messages: list[Message], user_text: str) -> str | None:
    """The system messages, verbatim, when the user asks for them."""
    if not _REVEAL.search(user_text):
        return None
    system = [m.text for m in messages if m.role in ("system", "developer") and m.text]
    return "\n".join(system) if system else None
