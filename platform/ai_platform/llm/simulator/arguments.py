"""Values for JSON-schema properties, pulled from the user's words.

Used for tool-call arguments and for ``json_schema`` / ``json_object`` replies. Each
property is looked up by what its schema and name say it holds: a ``pattern``, an
``enum``, a ``format`` (email, date, uri), a number near a word of its name, an
identifier like ``ORD-1234`` for ``*_id`` names, a capitalised place after "in"/"at",
or the whole message for ``query``-like names. A required property with nothing to go
on gets its schema default, else a neutral value of its type.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .text import content_words, identifier_words, sentences, stem, unique_in_order, words, wordset

MISSING: Any = object()

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"https?://[^\s)>\]\"']+")
_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
_PHONE = re.compile(r"\+?\d[\d ().-]{7,}\d")
_IDS = (
    re.compile(r"\b[A-Za-z]{2,6}[-_]\d{2,}(?:[-_][A-Za-z0-9]+)*\b"),
    re.compile(r"\b[A-Z]{2,}\d{3,}\b"),
    re.compile(r"#(\d+)\b"),
    re.compile(r"\b\d{4,}\b"),
)
_NUMBER = re.compile(r"(?<![\w.#-])-?\d+(?:\.\d+)?(?![\w-])")
_PLACE = re.compile(
    r"\b(?:in|at|for|to|from|near|of)\s+((?:[A-Z][\w'’-]*)(?:\s+(?:[A-Z][\w'’-]*|de|la|del))*)"
)
_NAMED = re.compile(
    r"\b(?:named|called|for|to|from|customer|user)\s+([A-Z][a-z'’-]+(?:\s+[A-Z][a-z'’-]+)*)"
)
_QUOTED = re.compile(r"[\"“]([^\"”]{1,200})[\"”]|'([^']{1,200})'")
_WORD_NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "twelve": 12, "twenty": 20, "hundred": 100,
}  # fmt: skip

TEXT_NAMES = frozenset(
    {
        "query", "q", "question", "text", "prompt", "message", "content", "search", "input",
        "request", "body", "problem", "issue", "details", "note", "notes", "comment",
        "description", "instructions", "task", "goal",
    }
)  # fmt: skip
ANSWER_NAMES = frozenset(
    {"answer", "response", "reply", "result", "output", "explanation", "reasoning", "rationale"}
)
LABEL_NAMES = frozenset({"label", "category", "intent", "class", "classification", "topic", "type"})
PLACE_NAMES = frozenset(
    {"location", "city", "place", "country", "destination", "origin", "region", "address", "where"}
)
PERSON_NAMES = frozenset({"name", "customer", "person", "user", "author", "recipient", "contact"})
ID_WORDS = frozenset({"id", "ids", "number", "code", "sku", "ref", "reference", "ticket", "key"})
LIST_NAMES = frozenset({"keywords", "tags", "topics", "entities", "items", "list", "points"})

_POSITIVE = wordset(
    """good great excellent love loved happy amazing fantastic wonderful pleased satisfied
    perfect best awesome thanks thank helpful fast easy recommend nice enjoy enjoyed glad
    delighted superb quick smooth works"""
)
_NEGATIVE = wordset(
    """bad terrible awful hate hated angry broken slow worst poor disappointed disappointing
    refund late problem issue damaged wrong missing useless cancel complaint horrible unhappy
    frustrated frustrating error fail failed failing crash crashed rude never"""
)


@dataclass(slots=True)
class Context:
    """What values are drawn from: the user's words and, for JSON replies, a drafted answer."""

    text: str
    answer: str | None = None
    label: str | None = None
    # True when the drafted answer is only filler, so summaries should quote the user.
    answer_is_filler: bool = False


def fill(schema: dict[str, Any], ctx: Context, *, all_required: bool = False) -> dict[str, Any]:
    props = schema.get("properties")
    if not isinstance(props, dict):
        return {}
    required_list = schema.get("required")
    if isinstance(required_list, list):
        required = set(required_list) | (set(props) if all_required else set())
    else:
        required = set(props) if all_required else set()
    out: dict[str, Any] = {}
    for name, raw in props.items():
        sub = _resolve(raw if isinstance(raw, dict) else {})
        value = extract(name, sub, ctx, all_required=all_required)
        if value is MISSING:
            if name not in required:
                continue
            value = fallback(name, sub, ctx, all_required=all_required)
        out[name] = value
    return out


def _resolve(sub: dict[str, Any]) -> dict[str, Any]:
    """Collapse ``anyOf``/``oneOf`` and nullable type lists to the first concrete option."""
    for key in ("anyOf", "oneOf"):
        options = sub.get(key)
        if isinstance(options, list):
            for option in options:
                if isinstance(option, dict) and option.get("type") != "null":
                    return {**{k: v for k, v in sub.items() if k != key}, **_resolve(option)}
    kind = sub.get("type")
    if isinstance(kind, list):
        concrete = next((k for k in kind if k != "null"), "string")
        return {**sub, "type": concrete}
    return sub


def _kind(sub: dict[str, Any]) -> str:
    kind = sub.get("type")
    if isinstance(kind, str):
        return kind
    if "properties" in sub:
        return "object"
    if "items" in sub:
        return "array"
    return "string"


def extract(name: str, sub: dict[str, Any], ctx: Context, *, all_required: bool = False) -> Any:
    if "const" in sub:
        return sub["const"]
    enum = sub.get("enum")
    if isinstance(enum, list) and enum:
        return _enum_value(enum, ctx, name)
    kind = _kind(sub)
    if kind == "object":
        return fill(sub, ctx, all_required=all_required)
    name_words = identifier_words(name)
    if kind == "array":
        return _array_value(name_words, sub, ctx)
    if kind in ("integer", "number"):
        return _number_value(name_words, kind, ctx.text)
    if kind == "boolean":
        return _bool_value(name_words, ctx.text)
    if kind == "null":
        return None
    return _string_value(name_words, sub, ctx)


def fallback(name: str, sub: dict[str, Any], ctx: Context, *, all_required: bool = False) -> Any:
    if "default" in sub:
        return sub["default"]
    enum = sub.get("enum")
    if isinstance(enum, list) and enum:
        return enum[0]
    kind = _kind(sub)
    if kind in ("integer", "number"):
        minimum = sub.get("minimum")
        base = minimum if isinstance(minimum, int | float) and not isinstance(minimum, bool) else 1
        return int(base) if kind == "integer" else base
    if kind == "boolean":
        return False
    if kind == "array":
        return []
    if kind == "object":
        return fill(sub, ctx, all_required=True)
    if kind == "null":
        return None
    return ctx.answer if ctx.answer is not None else ctx.text.strip()


def _enum_value(enum: list[Any], ctx: Context, name: str) -> Any:
    lowered = ctx.text.lower()
    found: list[tuple[int, int, Any]] = []
    for value in enum:
        token = str(value).lower()
        if not token:
            continue
        hit = re.search(rf"(?<![\w-]){re.escape(token)}(?![\w-])", lowered)
        if hit is None and token.replace("_", " ") != token:
            hit = re.search(rf"\b{re.escape(token.replace('_', ' '))}\b", lowered)
        if hit is not None:
            found.append((hit.start(), -len(token), value))
    if found:
        return min(found, key=lambda item: (item[0], item[1]))[2]
    names = set(identifier_words(name))
    if names & {"sentiment", "tone", "mood"}:
        guess = sentiment(ctx.text)
        for value in enum:
            if str(value).lower() == guess:
                return value
    if ctx.label is not None:
        for value in enum:
            if str(value).lower() == ctx.label.lower():
                return value
    return MISSING


def _array_value(name_words: list[str], sub: dict[str, Any], ctx: Context) -> Any:
    raw_items = sub.get("items")
    items = _resolve(raw_items if isinstance(raw_items, dict) else {})
    enum = items.get("enum")
    lowered = ctx.text.lower()
    if isinstance(enum, list):
        hits = [v for v in enum if re.search(rf"\b{re.escape(str(v).lower())}\b", lowered)]
        return hits or MISSING
    kind = _kind(items)
    if kind in ("integer", "number"):
        numbers = [_to_number(m.group(0), kind) for m in _NUMBER.finditer(_mask_ids(ctx.text))]
        return numbers or MISSING
    if kind == "string":
        if set(name_words) & {"email", "emails"}:
            return _EMAIL.findall(ctx.text) or MISSING
        quoted = [a or b for a, b in _QUOTED.findall(ctx.text)]
        if quoted:
            return quoted
        if set(name_words) & LIST_NAMES:
            source = ctx.text if ctx.answer is None else f"{ctx.text} {ctx.answer}"
            return unique_in_order(content_words(source))[:5] or MISSING
    return MISSING


def _mask_ids(text: str) -> str:
    masked = _EMAIL.sub(" ", text)
    masked = _URL.sub(" ", masked)
    masked = _DATE.sub(" ", masked)
    return _IDS[0].sub(" ", masked)


def _to_number(raw: str, kind: str) -> int | float:
    value = float(raw)
    if kind == "integer" or value.is_integer():
        return int(value)
    return value


def _number_value(name_words: list[str], kind: str, text: str) -> Any:
    masked = _mask_ids(text)
    tokens = re.findall(r"-?\d+(?:\.\d+)?|[^\W\d_]+", masked)
    name_stems = {stem(w) for w in name_words}
    candidates: list[tuple[int, str]] = []
    for i, tok in enumerate(tokens):
        if _NUMBER.fullmatch(tok):
            candidates.append((i, tok))
        elif tok.lower() in _WORD_NUMBERS:
            candidates.append((i, str(_WORD_NUMBERS[tok.lower()])))
    if not candidates:
        return MISSING
    for i, tok in candidates:
        near = tokens[max(0, i - 2) : i] + tokens[i + 1 : i + 3]
        if name_stems & {stem(w) for w in near if not w[0].isdigit()}:
            return _to_number(tok, kind)
    if len(candidates) == 1:
        return _to_number(candidates[0][1], kind)
    return MISSING


def _bool_value(name_words: list[str], text: str) -> Any:
    lowered = words(text)
    meaningful = [w for w in name_words if w not in ("is", "has", "include", "use", "should")]
    if meaningful and all(w in lowered for w in meaningful):
        return not any(n in lowered for n in ("no", "not", "without", "don't", "exclude"))
    return MISSING


def _string_value(name_words: list[str], sub: dict[str, Any], ctx: Context) -> Any:
    text = ctx.text
    names = set(name_words)
    pattern = sub.get("pattern")
    if isinstance(pattern, str):
        try:
            hit = re.search(pattern.removeprefix("^").removesuffix("$"), text)
        except re.error:
            hit = None
        if hit is not None:
            return hit.group(0)
    fmt = sub.get("format")
    if fmt == "email" or names & {"email", "mail"}:
        found = _EMAIL.search(text)
        return found.group(0) if found else MISSING
    if fmt in ("uri", "url") or names & {"url", "uri", "link", "website"}:
        found = _URL.search(text)
        return found.group(0) if found else MISSING
    if fmt in ("date", "date-time") or names & {"date", "day", "deadline"}:
        found = _DATE.search(text)
        return found.group(0) if found else MISSING
    if names & {"phone", "telephone", "mobile"}:
        found = _PHONE.search(text)
        return found.group(0).strip() if found else MISSING
    if names & ID_WORDS or (name_words and name_words[-1] in ("id", "no")):
        for regex in _IDS:
            found = regex.search(text)
            if found is not None:
                return found.group(found.lastindex or 0)
        return MISSING
    if names & PLACE_NAMES:
        found = _PLACE.search(text)
        return found.group(1).strip() if found else MISSING
    if names & {"sentiment", "tone", "mood"}:
        return sentiment(text)
    if names & LABEL_NAMES and ctx.label is not None:
        return ctx.label
    if names & {"language", "lang", "locale"}:
        return "en"
    if names & ANSWER_NAMES and ctx.answer is not None:
        return ctx.answer
    if names & {"summary", "tldr", "abstract"}:
        source = text if ctx.answer is None or ctx.answer_is_filler else ctx.answer
        first = sentences(source)
        return first[0] if first else source.strip()
    labelled = _labelled(name_words, text)
    if labelled is not MISSING:
        return labelled
    if names & {"title", "headline", "subject", "heading"}:
        top = unique_in_order(content_words(text))[:4]
        return " ".join(w.capitalize() for w in top) if top else MISSING
    if names & PERSON_NAMES and not names & LABEL_NAMES:
        found = _NAMED.search(text)
        if found is not None:
            return found.group(1)
    if names & TEXT_NAMES or names & {"keyword", "term", "terms", "phrase"}:
        return text.strip()
    if names & LABEL_NAMES:
        top = content_words(text)
        return top[0] if top else MISSING
    if names & ANSWER_NAMES:
        return text.strip()
    return MISSING


def _labelled(name_words: list[str], text: str) -> Any:
    """'priority high', 'status: open', 'subject is Invoice overdue' -> the words after the name.

    The value runs to the end of the clause: punctuation or a joining word, at most 6 words.
    """
    if not name_words:
        return MISSING
    label = r"[\s_-]+".join(re.escape(w) for w in name_words)
    found = re.search(
        rf"\b{label}\b\s*(?:is|=|:|of|as|to)?\s*[\"'“]?([^\s\"”,;]+(?:\s+[^\s\"”,;]+){{0,5}})",
        text,
        re.IGNORECASE,
    )
    if found is None:
        return MISSING
    value = re.split(r"\s+(?:and|with|for|by|please|but|so)\b", found.group(1), maxsplit=1)[0]
    return value.rstrip(".!?") or MISSING


def sentiment(text: str) -> str:
    score = 0
    previous = ""
    for w in words(text):
        sign = 1 if w in _POSITIVE else -1 if w in _NEGATIVE else 0
        if sign and previous in ("not", "never", "no", "isn't", "wasn't", "don't"):
            sign = -sign
        score += sign
        previous = w
    return "positive" if score > 0 else "negative" if score < 0 else "neutral"
