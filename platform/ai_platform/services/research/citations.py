"""Numbered passages in, ``[n]`` citations out: numbering, merging and checking.

Each researcher numbers its own passages from 1, so its answer can be shown as soon
as it lands. The writer merges every researcher's passages into one source list
(the same chunk found twice is one source) and rewrites each answer's markers to
the merged numbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ai_platform.governance.guardrails import wrap_untrusted

_MARKER = re.compile(r"\[(\d{1,3})\]")


def cited(text: str) -> list[int]:
    """The distinct ``[n]`` numbers in the text, in order of first use."""
    seen: list[int] = []
    for match in _MARKER.finditer(text):
        number = int(match.group(1))
        if number not in seen:
            seen.append(number)
    return seen


def renumber(text: str, mapping: Mapping[int, int]) -> str:
    """Rewrite ``[n]`` markers; a number missing from the mapping is left as it is."""

    def swap(match: re.Match[str]) -> str:
        number = int(match.group(1))
        return f"[{mapping.get(number, number)}]"

    return _MARKER.sub(swap, text)


def passage_block(passages: Sequence[Mapping[str, Any]]) -> str:
    """Passages as the numbered lines a grounded prompt carries (one line each), each
    delimited as untrusted data from its source (``guardrails.untrusted``)."""
    lines = []
    for p in passages:
        text = " ".join(str(p["content"]).split())
        source = str(p.get("source") or "knowledge")
        passage = wrap_untrusted(f"{p['title']}: {text}", source)
        lines.append(f"[{p['number']}] {passage}")
    return "\n".join(lines)


def source_key(passage: Mapping[str, Any]) -> tuple[str, str]:
    return (str(passage["document_id"]), str(passage["chunk_id"]))


def merge_sources(
    findings: Iterable[Mapping[str, Any]],
) -> tuple[list[dict[str, Any]], dict[int, dict[int, int]]]:
    """One numbered source list for all findings, and each finding's local→global map."""
    sources: list[dict[str, Any]] = []
    by_key: dict[tuple[str, str], int] = {}
    mappings: dict[int, dict[int, int]] = {}
    for finding in findings:
        mapping: dict[int, int] = {}
        for passage in finding["passages"]:
            key = source_key(passage)
            if key not in by_key:
                by_key[key] = len(sources) + 1
                sources.append({**passage, "number": by_key[key]})
            mapping[int(passage["number"])] = by_key[key]
        mappings[int(finding["index"])] = mapping
    return sources, mappings


def invalid_citations(text: str, valid: Iterable[int]) -> list[int]:
    allowed = set(valid)
    return [n for n in cited(text) if n not in allowed]
