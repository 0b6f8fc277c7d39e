"""Split text into overlapping chunks on paragraph and sentence boundaries.

Text is cut into units — sentences, or word runs for a sentence longer than a chunk —
that remember whether a paragraph break precedes them. Units are packed greedily
into chunks of at most ``size`` characters; each new chunk starts with the last
units of the previous one, up to ``overlap`` characters, so a fact cut by a chunk
boundary is still whole in one of the two chunks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ai_platform.services.knowledge.config import CHUNK_OVERLAP, CHUNK_SIZE

_PARAGRAPH = re.compile(r"\n[ \t]*\n+")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s")


@dataclass(frozen=True, slots=True)
class _Unit:
    text: str
    new_paragraph: bool
    group: int  # a paragraph, or a heading together with the paragraph it introduces


def normalise(text: str) -> str:
    """Unix newlines, no trailing spaces, no runs of blank lines, no control characters."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    lines = [line.rstrip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _split_long(sentence: str, size: int) -> list[str]:
    pieces: list[str] = []
    current = ""
    for word in sentence.split():
        while len(word) > size:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(word[:size])
            word = word[size:]
        if not word:
            continue
        if current and len(current) + 1 + len(word) > size:
            pieces.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    if current:
        pieces.append(current)
    return pieces


def _paragraphs(text: str) -> list[tuple[str, bool]]:
    """(paragraph, is_heading) in order. Markdown headings and list items start a new
    paragraph even without a blank line before them."""
    out: list[tuple[str, bool]] = []
    for block in _PARAGRAPH.split(text):
        lines: list[str] = []
        for line in block.split("\n"):
            if _HEADING.match(line) or _LIST_ITEM.match(line):
                if lines:
                    out.append(("\n".join(lines), False))
                    lines = []
                if _HEADING.match(line):
                    out.append((line, True))
                    continue
            lines.append(line)
        if lines:
            out.append(("\n".join(lines), False))
    return out


def _units(text: str, size: int) -> list[_Unit]:
    units: list[_Unit] = []
    group = 0
    after_heading = False
    for paragraph, is_heading in _paragraphs(text):
        flat = " ".join(paragraph.split())
        if not flat:
            continue
        if not after_heading:
            group += 1
        after_heading = is_heading
        first = True
        for sentence in _SENTENCE.split(flat):
            for piece in _split_long(sentence, size) if len(sentence) > size else [sentence]:
                units.append(_Unit(piece, first, group))
                first = False
    return units


def _join(units: list[_Unit]) -> str:
    out = ""
    for i, unit in enumerate(units):
        if i == 0:
            out = unit.text
        else:
            out += ("\n\n" if unit.new_paragraph else " ") + unit.text
    return out


def _length(units: list[_Unit]) -> int:
    return sum(len(u.text) for u in units) + 2 * max(0, len(units) - 1)


def chunk_text(text: str, size: int = CHUNK_SIZE, overlap: int = CHUNK_OVERLAP) -> list[str]:
    """Chunks of at most ``size`` characters, consecutive ones sharing about ``overlap``.

    A paragraph (with its heading) that would straddle a boundary but fits in one chunk
    starts a new chunk instead of being split.
    """
    if size < 1 or not 0 <= overlap < size:
        raise ValueError("need size >= 1 and 0 <= overlap < size")
    units = _units(normalise(text), size)
    group_length: dict[int, int] = {}
    for unit in units:
        group_length[unit.group] = group_length.get(unit.group, 0) + len(unit.text) + 2
    chunks: list[str] = []
    current: list[_Unit] = []
    for i, unit in enumerate(units):
        starts_group = i == 0 or units[i - 1].group != unit.group
        whole_group_fits_alone = group_length[unit.group] - 2 <= size
        if current and (
            _length([*current, unit]) > size
            or (
                starts_group
                and whole_group_fits_alone
                and _length(current) + group_length[unit.group] > size
            )
        ):
            chunks.append(_join(current))
            tail: list[_Unit] = []
            for previous in reversed(current):
                if _length([previous, *tail]) > overlap:
                    break
                tail.insert(0, previous)
            while tail and _length([*tail, unit]) > size:
                tail.pop(0)
            current = tail
        current.append(unit)
    if current:
        chunks.append(_join(current))
    return chunks
