"""Markdown tables for reports and benchmark output."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def fmt_number(value: object, digits: int = 1) -> str:
    """Thousands separators, ``digits`` decimals for floats, an en dash for None."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def markdown_table(
    head: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    align: str | None = None,
) -> str:
    """A GitHub-flavoured table; ``align`` is one letter per column (``l``, ``r``, ``c``).

    Cells are ``str()``-ed (pre-format numbers with ``fmt_number``); a ``|`` inside a
    cell is escaped.
    """
    marks = {"l": "---", "r": "--:", "c": ":-:"}
    if align and (len(align) != len(head) or set(align) - marks.keys()):
        raise ValueError(f"align needs one letter (l, r or c) per column, got {align!r}")
    rule = [marks[a] for a in align] if align else ["---"] * len(head)

    def line(cells: Sequence[object]) -> str:
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"

    return "\n".join([line(head), line(rule), *(line(r) for r in rows)]) + "\n"
