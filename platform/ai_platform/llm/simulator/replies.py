"""What the simulator says: one deterministic draft per choice, from the request alone.

In order of precedence:

1. tools offered and not ``tool_choice: "none"``: a forced function is always called;
   after tool results the reply uses them (unless ``"required"``); otherwise the
   best-matching tool is called when it matches (see ``tools``);
2. tool results ending the conversation: a reply that states them;
3. image parts in the last user message: facts read from the decoded images;
4. numbered context passages: an extractive answer with ``[n]`` citations;
5. ``Say: ...`` / ``Repeat exactly: ...``: the text after the colon, verbatim;
6. a list of labels to choose from ("one of: a, b, c"): the best-matching label;
7. otherwise a short reply built from the prompt's key terms, longer when the
   prompt asks for N words, N items or an essay.

With ``response_format`` ``json_object`` or ``json_schema`` the draft is then wrapped
as JSON: the schema's properties, or keys the prompt names ("keys: a, b"), or
``{"answer": ...}``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

import orjson

from . import grounded, gullible, tools
from .arguments import Context, fill, sentiment
from .parse import ChatRequest, Message, Tool
from .text import content_words, join_words, phrases, stable_hash, stems, unique_in_order


@dataclass(slots=True)
class ToolCallDraft:
    id: str
    name: str
    arguments: str


@dataclass(slots=True)
class Draft:
    content: str | None
    tool_calls: list[ToolCallDraft] = field(default_factory=list)
    forced: bool = False


def compose(req: ChatRequest, variant: int, salt: int) -> Draft:
    messages = req.messages
    user_text = last_user_text(messages)
    results = tools.trailing_results(messages)
    leaked = gullible.leaked_instructions(messages, user_text) if not results else None
    if leaked is not None and req.response_format == "text":
        return Draft(leaked)

    if req.tools and req.tool_choice != "none":
        chosen: Tool | None = None
        source = user_text
        if req.forced_tool is not None:
            chosen = next(t for t in req.tools if t.name == req.forced_tool)
        elif not results or req.tool_choice == "required":
            chosen = tools.choose(req.tools, user_text, required=req.tool_choice == "required")
        else:
            directed = gullible.directed_call(req.tools, results)
            if directed is not None:
                chosen, source = directed
        if chosen is not None:
            args = tools.arguments(chosen, source)
            digest = hashlib.blake2b(
                f"{salt}:{variant}:{chosen.name}:{args}".encode(), digest_size=12
            ).hexdigest()
            call = ToolCallDraft(f"call_{digest}", chosen.name, args)
            return Draft(None, [call], forced=req.forced_tool is not None)

    label: str | None = None
    filler = False
    if results:
        text = tools.answer_from_results(messages, results)
    else:
        text, label, filler = _text_reply(req, user_text, variant)
    if req.response_format == "text":
        return Draft(text)
    # Delimiters around untrusted data are markup, not content: their quoted
    # attributes (source="...") must not become schema values such as list items.
    ctx = Context(gullible.plain(user_text), answer=text, label=label, answer_is_filler=filler)
    if req.response_format == "json_schema":
        return Draft(orjson.dumps(fill(req.json_schema or {}, ctx, all_required=True)).decode())
    return Draft(_json_object(messages, ctx))


def last_user_text(messages: list[Message]) -> str:
    for message in reversed(messages):
        if message.role == "user":
            return message.text
    return messages[-1].text


def _text_reply(req: ChatRequest, user_text: str, variant: int) -> tuple[str, str | None, bool]:
    """(reply, chosen label if any, whether the reply is generic filler)."""
    last_user = next((m for m in reversed(req.messages) if m.role == "user"), None)
    if last_user is not None and last_user.images:
        return _describe_images(last_user), None, False
    found = grounded.passages(req.messages)
    if found:
        return grounded.answer(found, grounded.question(req.messages)), None, False
    echoed = _ECHO.match(user_text)
    if echoed is not None:
        return echoed.group(1).strip().strip("\"'“”"), None, False
    label = _choose_label(req.messages, user_text)
    if label is not None:
        return label, label, False
    return generic(user_text, variant), None, True


def _describe_images(message: Message) -> str:
    described = [p.facts.describe() for p in message.images if p.facts is not None]
    if len(described) == 1:
        return f"The image is {described[0]}."
    lines = [f"Image {i}: {d}." for i, d in enumerate(described, 1)]
    return f"I received {len(described)} images. " + " ".join(lines)


_ECHO = re.compile(
    r"^\s*(?:please\s+)?(?:say|repeat|echo|reply with|respond with)(?:\s+exactly)?\s*:\s*(.+?)\s*$",
    re.IGNORECASE | re.DOTALL,
)
_LABELS = re.compile(
    # Bare nouns ("labels", "options") only count with a colon, so that ordinary questions
    # like "what are my options, pay now or later?" are not taken for a classification.
    r"(?:(?:\bone of|\bchoose from|\bpick from|\bselect from"
    r"|\bclassify (?:it |this |the \w+ )?(?:as|into))\s*:?"
    r"|\b(?:labels?|categories|intents?|options)\s*(?:are|is)?\s*:)\s*\[?"
    r"([\w'\"`-]+(?:\s*(?:,|/|\||\bor\b)\s*[\w'\"`-]+(?: [\w-]+)?)+)",
    re.IGNORECASE,
)
_FALLBACK_LABELS = ("other", "general", "unknown", "none", "neutral")


def _choose_label(messages: list[Message], user_text: str) -> str | None:
    for message in reversed(messages):
        if message.role not in ("system", "developer", "user"):
            continue
        listed = _LABELS.search(message.text)
        if listed is None:
            continue
        labels = [
            part.strip().strip("'\"`[]").strip()
            for part in re.split(r",|/|\||\bor\b", listed.group(1))
        ]
        labels = [lab for lab in labels if lab and len(lab.split()) <= 3]
        if len(labels) < 2:
            continue
        subject = user_text.replace(listed.group(0), " ") if message.role == "user" else user_text
        return _best_label(labels, subject)
    return None


def _best_label(labels: list[str], subject: str) -> str:
    lowered = {lab.lower(): lab for lab in labels}
    if {"positive", "negative"} <= set(lowered):
        mood = sentiment(subject)
        if mood in lowered:
            return lowered[mood]
    wanted = stems(subject)
    ranked = sorted(
        ((len(wanted & stems(lab.replace("_", " "))), -i, lab) for i, lab in enumerate(labels)),
        reverse=True,
    )
    if ranked[0][0] > 0:
        return ranked[0][2]
    for name in _FALLBACK_LABELS:
        if name in lowered:
            return lowered[name]
    return labels[0]


_GREETING = frozenset({"hi", "hello", "hey", "thanks", "thank", "morning", "evening"})
_OPENERS = (
    "Here is a short answer about {topic}.",
    "Good question about {topic}.",
    "Let me walk through {topic}.",
    "In brief, {topic} comes down to a few points.",
)
_POINTS = (
    "Start with {w}, since that frames the rest of the question.",
    "Then look at {w}, often the factor with the largest effect.",
    "The role of {w} matters too, because it changes the trade-offs.",
    "Consider {w} in the context of your own situation.",
    "It also helps to compare {w} with the alternatives.",
    "Keep an eye on {w} as things change over time.",
    "A small experiment with {w} will tell you more than a long debate.",
    "Write down what you expect from {w} before you measure it.",
)
_CLOSINGS = (
    "That covers the essentials.",
    "Those are the main points to keep in mind.",
    "I hope this helps you decide.",
)
_WORD_TARGET = re.compile(r"\b(\d{1,4})[-\s]?words?\b", re.IGNORECASE)
_ITEM_TARGET = re.compile(
    r"\b(\d{1,2})\s+(?:\w+\s+)?(?:items|ideas|tips|reasons|ways|steps|examples|points|bullet"
    r"|bullets|things|questions|names|options|facts)\b",
    re.IGNORECASE,
)
_LONG = re.compile(r"\b(essay|story|detailed|long|in depth|in-depth|article)\b", re.I)
MAX_WORDS = 2000


def generic(text: str, variant: int = 0) -> str:
    terms = phrases(text)
    if not terms:
        if set(content_words(text)) & _GREETING or not content_words(text):
            return "Hello! How can I help you today?"
        terms = unique_in_order(content_words(text))
    h = stable_hash(text) + variant
    items = _ITEM_TARGET.search(text)
    if items is not None:
        return _numbered(terms, int(items.group(1)), h)
    words_wanted = _WORD_TARGET.search(text)
    target = min(int(words_wanted.group(1)), MAX_WORDS) if words_wanted else 0
    if not target and _LONG.search(text):
        target = 150
    out = [_OPENERS[h % len(_OPENERS)].format(topic=join_words(terms[:2]))]
    count = len(out[0].split())
    i = 0
    while i < min(3, len(terms)) or (count < target and i < 400):
        point = _point(terms[i % len(terms)], h + i)
        out.append(point)
        count += len(point.split())
        i += 1
    if not target:
        out.append(_CLOSINGS[h % len(_CLOSINGS)])
    reply = " ".join(out)
    if target:
        reply = " ".join(reply.split()[:target]).rstrip(",;:")
        if not reply.endswith((".", "!", "?")):
            reply += "."
    return reply


def _point(term: str, index: int) -> str:
    return _POINTS[index % len(_POINTS)].format(w=term, W=term[:1].upper() + term[1:])


def _numbered(terms: list[str], n: int, h: int) -> str:
    n = max(1, min(n, 50))
    lines = [f"Here are {n} points about {join_words(terms[:2])}:"]
    for i in range(n):
        lines.append(f"{i + 1}. {_point(terms[i % len(terms)], h + i)}")
    return "\n".join(lines)


_KEY_LIST = re.compile(
    r"\b(?:keys?|fields?|properties|attributes)\b\s*(?:named|called|:|are|of)?\s*"
    r"((?:[`\"']?[A-Za-z_][\w]*[`\"']?)(?:\s*(?:,|\band\b|\bor\b)\s*[`\"']?[A-Za-z_][\w]*[`\"']?)*)",
    re.IGNORECASE,
)
_TEMPLATE_KEY = re.compile(r"[\"']([A-Za-z_][\w]*)[\"']\s*:")
_NUMBER_KEYS = frozenset(
    {"count", "age", "total", "price", "amount", "quantity", "score", "rating", "year", "number",
     "confidence", "probability", "cost", "size", "length", "duration", "minutes", "hours", "days"}
)  # fmt: skip
_LIST_KEYS = frozenset(
    {"keywords", "tags", "topics", "entities", "items", "list", "points", "steps"}
)
_NOT_KEYS = frozenset({"and", "or", "the", "a", "an", "with", "json", "object", "in", "only"})


def json_keys(messages: list[Message]) -> list[str]:
    keys: list[str] = []
    for message in messages:
        if message.role not in ("system", "developer", "user"):
            continue
        keys.extend(_TEMPLATE_KEY.findall(message.text))
        for found in _KEY_LIST.finditer(message.text):
            for part in re.split(r",|\band\b|\bor\b", found.group(1)):
                key = part.strip().strip("`\"'")
                if key and key.lower() not in _NOT_KEYS:
                    keys.append(key)
    return unique_in_order(keys)


def _json_object(messages: list[Message], ctx: Context) -> str:
    keys = json_keys(messages)
    if not keys:
        return orjson.dumps({"answer": ctx.answer}).decode()
    schema: dict[str, Any] = {"type": "object", "properties": {}, "required": keys}
    for key in keys:
        schema["properties"][key] = _guess_schema(key)
    return orjson.dumps(fill(schema, ctx, all_required=True)).decode()


def _guess_schema(key: str) -> dict[str, Any]:
    lowered = key.lower()
    parts = set(re.split(r"[\W_]+", lowered))
    if lowered.startswith(("is_", "has_", "can_", "should_")):
        return {"type": "boolean"}
    if parts & _LIST_KEYS:
        return {"type": "array", "items": {"type": "string"}}
    if parts & _NUMBER_KEYS:
        return {"type": "number"}
    return {"type": "string"}
