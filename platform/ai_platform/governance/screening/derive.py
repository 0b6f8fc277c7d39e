"""What is left of a pattern once a known word prefix has been read.

The anchor scan (``scan``) finds words that begin with an anchor and then asks
whether a pattern matches from the start of that word. When the answer is almost
always no, asking from Python at every such word costs more than the regex work
itself. ``remainder(pattern, prefix)`` rewrites the question so the regex engine
can answer it inside the scan's own search: a pattern matches at a word that
starts with ``prefix`` exactly when the remainder matches right after the prefix
(the pattern's Brzozowski derivative by those characters, written back as a
regex). The scan appends the remainder as a lookahead to the anchor's branch of
its trie, so words where nothing could match are skipped in C.

Only what the signal patterns use is handled (literals, classes, groups without
flags, alternation, bounded and unbounded repeats of non-empty items, word
boundaries, lookaheads); anything else gives ``None`` and the caller keeps the
question in Python.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache, lru_cache
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

Item = tuple[Any, Any]

_CATEGORIES = {
    sre.CATEGORY_DIGIT: r"\d",
    sre.CATEGORY_NOT_DIGIT: r"\D",
    sre.CATEGORY_SPACE: r"\s",
    sre.CATEGORY_NOT_SPACE: r"\S",
    sre.CATEGORY_WORD: r"\w",
    sre.CATEGORY_NOT_WORD: r"\W",
}
_AT = {
    sre.AT_BEGINNING: "^",
    sre.AT_BEGINNING_STRING: r"\A",
    sre.AT_BOUNDARY: r"\b",
    sre.AT_NON_BOUNDARY: r"\B",
    sre.AT_END: "$",
    sre.AT_END_STRING: r"\Z",
}
_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT)


class _Unsupported(Exception):
    """The pattern uses something ``remainder`` does not derive."""


def _class(items: Sequence[Item]) -> str:
    parts: list[str] = []
    for op, av in items:
        if op is sre.NEGATE:
            parts.insert(0, "^")
        elif op is sre.LITERAL:
            parts.append(re.escape(chr(av)))
        elif op is sre.RANGE:
            parts.append(f"{re.escape(chr(av[0]))}-{re.escape(chr(av[1]))}")
        elif op is sre.CATEGORY and av in _CATEGORIES:
            parts.append(_CATEGORIES[av])
        else:
            raise _Unsupported(f"class item {op}")
    return "[" + "".join(parts) + "]"


def unparse(items: Sequence[Item]) -> str:
    """A regex for parsed ``items`` (groups become non-capturing)."""
    out = []
    for op, av in items:
        if op is sre.LITERAL:
            out.append(re.escape(chr(av)))
        elif op is sre.NOT_LITERAL:
            out.append(f"[^{re.escape(chr(av))}]")
        elif op is sre.ANY:
            out.append(".")
        elif op is sre.IN:
            out.append(_class(av))
        elif op is sre.AT and av in _AT:
            out.append(_AT[av])
        elif op is sre.SUBPATTERN and not av[1] and not av[2]:
            out.append(f"(?:{unparse(list(av[3]))})")
        elif op is sre.BRANCH:
            out.append("(?:" + "|".join(unparse(list(b)) for b in av[1]) + ")")
        elif op in _REPEATS:
            low, high, sub = av
            bound = f"{{{low},}}" if high == sre.MAXREPEAT else f"{{{low},{high}}}"
            lazy = "?" if op is sre.MIN_REPEAT else ""
            out.append(f"(?:{unparse(list(sub))}){bound}{lazy}")
        elif op in (sre.ASSERT, sre.ASSERT_NOT):
            direction, sub = av
            kind = (
                ("=" if op is sre.ASSERT else "!")
                if direction == 1
                else ("<=" if op is sre.ASSERT else "<!")
            )
            out.append(f"(?{kind}{unparse(list(sub))})")
        else:
            raise _Unsupported(f"item {op}")
    return "".join(out)


@cache
def _in_class(cls: str, char: str) -> bool:
    return re.fullmatch(cls, char) is not None


def _consumes(op: Any, av: Any, char: str) -> bool:
    """Whether a one-character item matches ``char``."""
    if op is sre.LITERAL:
        return chr(av) == char
    if op is sre.NOT_LITERAL:
        return chr(av) != char
    if op is sre.ANY:
        return char != "\n"
    return _in_class(_class(av), char)


def _derive(items: Sequence[Item], rest: str, start: bool) -> list[str]:
    """Alternatives for what must follow once ``rest`` (the unread part of the
    prefix) has been read by ``items``; ``""`` when ``items`` can end inside it (the
    pattern matches already). ``start``: no character of the prefix is read yet."""
    if not rest:
        return [unparse(items)]
    if not items:
        return [""]
    (op, av), tail = items[0], items[1:]
    if op in (sre.LITERAL, sre.NOT_LITERAL, sre.ANY, sre.IN):
        return _derive(tail, rest[1:], False) if _consumes(op, av, rest[0]) else []
    if op is sre.AT:
        # The prefix is word characters at the start of a word: a boundary holds
        # before its first character and not between two of its characters.
        if av is sre.AT_BOUNDARY:
            holds = start
        elif av is sre.AT_NON_BOUNDARY:
            holds = not start
        elif av in (sre.AT_END, sre.AT_END_STRING) or (
            av in (sre.AT_BEGINNING, sre.AT_BEGINNING_STRING) and not start
        ):
            holds = False
        else:
            raise _Unsupported(f"anchor {av}")
        return _derive(tail, rest, start) if holds else []
    if op is sre.SUBPATTERN:
        if av[1] or av[2]:
            raise _Unsupported("group with flags")
        return _derive([*av[3], *tail], rest, start)
    if op is sre.BRANCH:
        return [alt for branch in av[1] for alt in _derive([*branch, *tail], rest, start)]
    if op in _REPEATS:
        low, high, sub = av
        if sub.getwidth()[0] == 0:
            raise _Unsupported("repeat of an item that can be empty")
        out = _derive(tail, rest, start) if low == 0 else []
        if high != 0:
            fewer = (op, (max(low - 1, 0), high if high == sre.MAXREPEAT else high - 1, sub))
            out += _derive([*sub, fewer, *tail], rest, start)
        return out
    if op in (sre.ASSERT, sre.ASSERT_NOT):
        direction, sub = av
        if direction != 1:
            raise _Unsupported("lookbehind")
        inner = _derive(list(sub), rest, start)
        holds_already = "" in inner  # the lookahead ends inside the prefix
        if op is sre.ASSERT:
            if holds_already:
                return _derive(tail, rest, start)
            if not inner:
                return []
            check = "(?=" + "|".join(inner) + ")"
        else:
            if holds_already:
                return []
            if not inner:
                return _derive(tail, rest, start)
            check = "(?!" + "|".join(inner) + ")"
        return [check + alt for alt in _derive(tail, rest, start)]
    raise _Unsupported(f"item {op}")


@lru_cache(maxsize=512)
def _parsed(pattern: str) -> tuple[Item, ...]:
    return tuple(sre_parse.parse(pattern))


def remainder(pattern: re.Pattern[str], prefix: str) -> str | None:
    """A regex that matches right after ``prefix`` exactly where ``pattern`` matches
    at the start of a word beginning with ``prefix`` (``prefix``: word characters),
    or ``None`` when ``pattern`` uses something this module does not derive.

    ``"(?!)"`` (never) when no match can begin with ``prefix``; ``""`` (always)
    when a match ends inside it."""
    if pattern.flags & ~re.UNICODE:
        return None
    try:
        alternatives = _derive(_parsed(pattern.pattern), prefix, True)
    except _Unsupported:
        return None
    if "" in alternatives:
        return ""
    unique = list(dict.fromkeys(alternatives))
    if not unique:
        return "(?!)"
    return unique[0] if len(unique) == 1 else "(?:" + "|".join(unique) + ")"
