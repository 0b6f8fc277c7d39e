"""Tool calling: which offered tool a message needs, and replies that use tool results.

A tool's score is how many of the message's content words (lightly stemmed) appear in
the tool's name (2 points each) or description (1 point each), plus 2 when one of its
identifier-like properties (a ``pattern``, or a name ending in ``id``) finds a value in
the message. Under ``tool_choice: "auto"`` a tool is called when its score is at
least 2; ``"required"`` calls the best tool whatever its score.
"""

from __future__ import annotations

from typing import Any

import orjson

from .arguments import MISSING, Context, extract, fill
from .gullible import plain
from .parse import Message, Tool
from .text import STOPWORDS, identifier_words, stem, stems

AUTO_THRESHOLD = 2.0


def score(tool: Tool, text: str) -> float:
    message = stems(text)
    name = {stem(w) for w in identifier_words(tool.name) if w not in STOPWORDS}
    description = stems(tool.description) - name
    points = 2.0 * len(message & name) + 1.0 * len(message & description)
    props = tool.parameters.get("properties")
    if isinstance(props, dict):
        ctx = Context(text)
        for prop, sub in props.items():
            if not isinstance(sub, dict):
                continue
            words = identifier_words(prop)
            id_like = "pattern" in sub or (words and words[-1] in ("id", "number", "code"))
            if id_like and extract(prop, sub, ctx) is not MISSING:
                points += 2.0
                break
    return points


def choose(tools: list[Tool], text: str, *, required: bool) -> Tool | None:
    best: Tool | None = None
    best_score = -1.0
    for tool in tools:
        points = score(tool, text)
        if points > best_score:
            best, best_score = tool, points
    if best is None:
        return None
    if required or best_score >= AUTO_THRESHOLD:
        return best
    return None


def arguments(tool: Tool, text: str) -> str:
    strict = tool.parameters.get("additionalProperties") is False
    values = fill(tool.parameters, Context(text), all_required=strict)
    return orjson.dumps(values).decode()


def trailing_results(messages: list[Message]) -> list[Message]:
    """The tool messages that end the conversation, in order."""
    out: list[Message] = []
    for message in reversed(messages):
        if message.role not in ("tool", "function"):
            break
        out.append(message)
    out.reverse()
    return out


def answer_from_results(messages: list[Message], results: list[Message]) -> str:
    names: dict[str, str] = {}
    for message in messages:
        for call in message.tool_calls:
            fn = call.get("function")
            if isinstance(fn, dict) and isinstance(call.get("id"), str):
                names[call["id"]] = str(fn.get("name", "the tool"))
    parts: list[str] = []
    for result in results:
        name = result.name or names.get(result.tool_call_id or "", "the tool")
        parts.append(_summarise(name, result.text))
    return " ".join(parts)


def _summarise(name: str, content: str) -> str:
    content = plain(content)
    try:
        data: Any = orjson.loads(content)
    except orjson.JSONDecodeError:
        data = None
    if isinstance(data, dict):
        if "error" in data:
            return f"The {name} tool reported an error: {_render(data['error'])}."
        facts = [f"{k.replace('_', ' ')} is {_render(v)}" for k, v in list(data.items())[:8]]
        if not facts:
            return f"The {name} tool returned no details."
        return f"According to {name}, {', '.join(facts)}."
    if isinstance(data, list):
        shown = ", ".join(_render(item) for item in data[:5])
        more = f" and {len(data) - 5} more" if len(data) > 5 else ""
        return f"{name} returned {len(data)} result(s): {shown}{more}."
    text = content.strip()
    if len(text) > 300:
        text = text[:297].rstrip() + "..."
    return f"According to {name}: {text}" if text else f"The {name} tool returned nothing."


def _render(value: Any) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{k} {_render(v)}" for k, v in list(value.items())[:5])
    if isinstance(value, list):
        return ", ".join(_render(v) for v in value[:5])
    return str(value)
