"""Extractive answers for prompts that carry numbered context passages.

Passages are lines starting ``[n]`` (continuing until the next marker or a blank
line), anywhere in system or user messages. The question is the last user message
without those passages (or what follows ``Question:``). Sentences are ranked by how
many of the question's content words (stemmed) they share; the best few are returned
with their ``[n]`` citations. With no overlap the reply says the context does not
answer, which is what a grounded-answer lesson wants to see.
"""

from __future__ import annotations

import re

from .gullible import plain
from .parse import Message
from .text import sentences, stems

_MARKER = re.compile(r"^\s*\[(\d{1,3})\]\s*(.*)$")
_QUESTION = re.compile(r"(?:^|\n)\s*(?:question|query|q)\s*:\s*(.+)", re.IGNORECASE | re.DOTALL)
_HEADER = re.compile(
    r"^\s*(?:context|sources|passages|documents|references)\s*:?\s*$", re.IGNORECASE
)
MAX_SENTENCES = 3
NOT_FOUND = "I don't know: the provided context does not answer that question."


def passages(messages: list[Message]) -> dict[int, str]:
    found: dict[int, str] = {}
    for message in messages:
        if message.role not in ("system", "developer", "user") or "[" not in message.text:
            continue
        current: int | None = None
        for line in plain(message.text).splitlines():
            marker = _MARKER.match(line)
            if marker is not None:
                current = int(marker.group(1))
                found[current] = marker.group(2).strip()
            elif current is not None and line.strip() and not _QUESTION.match(line):
                found[current] = f"{found[current]} {line.strip()}"
            else:
                current = None
    return found


def question(messages: list[Message]) -> str:
    for message in reversed(messages):
        if message.role != "user":
            continue
        asked = _QUESTION.search(message.text)
        if asked is not None:
            return asked.group(1).strip()
        kept: list[str] = []
        in_passage = False
        for line in message.text.splitlines():
            if _MARKER.match(line):
                in_passage = True
            elif not line.strip():
                in_passage = False
            elif not in_passage and not _HEADER.match(line):
                kept.append(line)
        return " ".join(" ".join(kept).split())
    return ""


def answer(found: dict[int, str], asked: str) -> str:
    wanted = stems(asked)
    ranked: list[tuple[int, int, int, str]] = []
    order = 0
    for number in sorted(found):
        for sentence in sentences(found[number]):
            overlap = len(wanted & stems(sentence))
            if overlap:
                ranked.append((overlap, -order, number, sentence))
            order += 1
    if not ranked:
        return NOT_FOUND
    ranked.sort(reverse=True)
    best = ranked[0][0]
    # Keep runners-up only when they share most of what the best sentence shares.
    chosen = [r for r in ranked if r[0] * 3 >= best * 2][:MAX_SENTENCES]
    return " ".join(_cite(sentence, number) for _, _, number, sentence in chosen)


def _cite(sentence: str, number: int) -> str:
    sentence = sentence.strip()
    if sentence and sentence[-1] in ".!?":
        return f"{sentence[:-1]} [{number}]{sentence[-1]}"
    return f"{sentence} [{number}]."
