"""Run the signal patterns over a view, each only where it could match.

Every anchored signal names word prefixes (``Signal.anchors``) of which one occurs
in any match. One regex, a trie of all anchors, finds the anchor words of a view
in a single C-level pass, skipping the other words. A ``leading`` signal can
only match where one of its anchor words starts, and at such a word the
alternation of all leading patterns sharing that anchor (the anchor's *gate*)
decides: when the gate fails, which is almost always in ordinary text, none of
those patterns can match there and none is tried. The trie carries most gates
itself, as a lookahead after the anchor (``derive.remainder``), so such words are
passed over in C and never reach Python. Where a gate matches, the patterns that
match there are found one after another, so the signals reported, and their
spans, are exactly those of trying every pattern at every anchor word.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]

from ai_platform.governance.screening.derive import remainder
from ai_platform.governance.screening.signals import ANCHOR_LEN, Signal

_WORD_CHARS = re.compile(rf"\w{{1,{ANCHOR_LEN}}}")
_GLOBAL_FLAGS = re.compile(r"\(\?([aiLmsux]+)\)")


def scoped(pattern: str) -> str:
    """``pattern`` as a group that keeps its own flags inside a larger alternation."""
    flags = _GLOBAL_FLAGS.match(pattern)
    if flags is None:
        return f"(?:{pattern})"
    return f"(?{flags.group(1)}:{pattern[flags.end() :]})"


def trie_pattern(words: Iterable[str], checks: Mapping[str, str] | None = None) -> str:
    """A regex matching any of ``words`` as a word prefix: anchors of ``ANCHOR_LEN``
    characters begin a word, shorter ones are the whole word (as ``WORD_PREFIX`` reads
    them). Branching letter by letter keeps the work per word start small.

    ``checks`` maps a word to a regex that must match right after it (a lookahead,
    so the match is still the word alone); ``""`` is no check."""
    checks = checks or {}
    root: dict[str, dict[str, object]] = {}
    for word in words:
        node = root
        for char in word:
            node = node.setdefault(char, {})  # type: ignore[assignment]
        node[""] = {"word": word}

    def emit(node: dict[str, dict[str, object]], depth: int) -> str:
        branches = [
            re.escape(char) + emit(child, depth + 1)  # type: ignore[arg-type]
            for char, child in sorted(node.items())
            if char
        ]
        if "" in node:
            end = "" if depth >= ANCHOR_LEN else r"(?!\w)"
            check = checks.get(str(node[""]["word"]), "")
            branches.append(end + (f"(?={check})" if check else ""))
        if len(branches) == 1:
            return branches[0]
        return "(?:" + "|".join(branches) + ")"

    return r"\b" + emit(root, 0)


def _first(items: list[tuple[object, object]]) -> set[int] | None:
    """Code points that can start a match of a parsed sequence; None when any can."""
    if not items:
        return None
    op, av = items[0]
    if op is sre.LITERAL:
        return {av}  # type: ignore[arg-type]
    if op is sre.IN and all(o is sre.LITERAL for o, _ in av):  # type: ignore[attr-defined]
        return {v for _, v in av}  # type: ignore[attr-defined]
    if op is sre.SUBPATTERN:
        return _first(list(av[3]))  # type: ignore[index]
    if op is sre.BRANCH:
        out: set[int] = set()
        for branch in av[1]:  # type: ignore[index]
            chars = _first(list(branch))
            if chars is None:
                return None
            out |= chars
        return out
    return None


def first_chars(patterns: Iterable[str]) -> re.Pattern[str] | None:
    """A character class of every character a match of one of ``patterns`` can start
    with, or None when one of them can start with a character not known in advance.

    A long alternation searched as one regex is tried branch by branch at every
    position of the text; a class is a single C-level scan, so trying the
    alternation only where the class matches costs a fraction of that."""
    chars: set[int] = set()
    for pattern in patterns:
        if re.compile(pattern).flags & re.IGNORECASE:
            return None
        first = _first(list(sre_parse.parse(pattern).data))
        if first is None:
            return None
        chars |= first
    return re.compile("[" + "".join(re.escape(chr(c)) for c in sorted(chars)) + "]")


class _Anchor:
    """The signals indexed under one anchor word.

    ``gate(k)`` is the alternation of the leading patterns from the ``k``-th on, each
    in its own group: at a position where it matches, the group that matched names
    the first of them that matches there, and the ones before it do not. Trying
    ``gate(j + 1)`` next finds the following one, so a position costs one call per
    matching pattern plus one, however many patterns share the anchor."""

    __slots__ = (
        "_gates",
        "_patterns",
        "first_gate",
        "first_owner",
        "gate_only",
        "leading",
        "searched",
        "tails",
    )

    def __init__(
        self,
        leading: tuple[int, ...],
        searched: tuple[int, ...],
        patterns: Sequence[str],
        tails: tuple[int, ...] = (),
        *,
        finder_checks: bool = False,
    ) -> None:
        self.leading = leading
        self.searched = searched
        self.tails = tails  # signals whose tail may start here
        self._patterns = tuple(patterns)
        self._gates: dict[int, tuple[re.Pattern[str], dict[int, int]]] = {}
        self.first_gate: re.Pattern[str] | None = None
        self.first_owner: dict[int, int] = {}
        if leading:
            self.first_gate, self.first_owner = self.gate(0)
        # The gate, for an anchor that has nothing else to do at its words and whose
        # gate the finder does not check itself.
        self.gate_only = None if searched or tails or finder_checks else self.first_gate

    def gate(self, first: int) -> tuple[re.Pattern[str], dict[int, int]]:
        """The alternation from pattern ``first`` on, and which group is which pattern."""
        cached = self._gates.get(first)
        if cached is not None:
            return cached
        parts: list[str] = []
        owner: dict[int, int] = {}
        group = 1
        for index in range(first, len(self._patterns)):
            pattern = self._patterns[index]
            parts.append(f"({scoped(pattern)})")
            owner[group] = index
            group += 1 + re.compile(pattern).groups
        built = (re.compile("|".join(parts)), owner)
        self._gates[first] = built
        return built


def _gate_check(signals: Iterable[Signal], anchor: str) -> str | None:
    """The lookahead that decides, right after ``anchor``, whether one of ``signals``
    can match from the start of its word; None when one of them can't be derived."""
    parts = []
    for signal in signals:
        rest = remainder(signal.pattern, anchor)
        if rest is None:
            return None
        if rest == "":
            return ""  # one of them matches whatever follows
        if rest != "(?!)":
            parts.append(rest)
    return "|".join(parts) if parts else "(?!)"


class AnchoredScan:
    """The signals of one script, indexed by anchor.

    ``signals`` are ``(position in SIGNALS, signal)`` pairs; ``always`` signals are
    left to the caller, who passes them to ``scan``.

    An anchor whose only job is to gate its leading patterns has the gate written
    into the finder as a lookahead (``derive.remainder``): the finder then skips
    its words where nothing matches, and most anchor words in ordinary text never
    reach Python. Signals with a tail are looked for after the pass, with a finder
    of their own anchors, and only when their tail occurred."""

    def __init__(
        self, signals: Iterable[tuple[int, Signal]], all_signals: Sequence[Signal]
    ) -> None:
        self._signals = all_signals
        leading: dict[str, list[int]] = {}
        searched: dict[str, list[int]] = {}
        tails: dict[str, list[int]] = {}
        deferred: list[tuple[int, re.Pattern[str]]] = []  # leading signals with a tail
        for position, signal in signals:
            if signal.always:
                continue
            anchors = [a for a in signal.anchors if _WORD_CHARS.fullmatch(a) is not None]
            if signal.leading and signal.tail is not None:
                if anchors:  # else no word can start a match
                    deferred.append((position, re.compile(trie_pattern(anchors))))
                for anchor in signal.tail_anchors:
                    tails.setdefault(anchor, []).append(position)
                continue
            target = leading if signal.leading else searched
            for anchor in anchors:  # others: no word prefix can equal them
                target.setdefault(anchor, []).append(position)
        self._deferred = tuple(deferred)
        self._anchors: dict[str, _Anchor] = {}
        checks: dict[str, str] = {}
        for anchor in leading.keys() | searched.keys() | tails.keys():
            mine = tuple(leading.get(anchor, ()))
            only_gates = bool(mine) and anchor not in searched and anchor not in tails
            check = _gate_check((all_signals[p] for p in mine), anchor) if only_gates else None
            if check is not None:
                checks[anchor] = check
            self._anchors[anchor] = _Anchor(
                mine,
                tuple(searched.get(anchor, ())),
                [all_signals[p].pattern.pattern for p in mine],
                tuple(tails.get(anchor, ())),
                finder_checks=check is not None,
            )
        self._finder = re.compile(trie_pattern(self._anchors, checks)) if self._anchors else None
        # A charset scan is several times cheaper than the trie's: Russian anchors
        # need not be looked for in a view without a Cyrillic letter.
        firsts = "".join(sorted({re.escape(anchor[0]) for anchor in self._anchors}))
        self._any_first = re.compile(f"[{firsts}]") if firsts else None

    def scan(
        self, view: str, always: Iterable[int] = (), end: int | None = None
    ) -> Iterator[tuple[Signal, re.Match[str]]]:
        """Each signal that matches ``view`` with its first match, in signal order;
        with ``end``, each signal whose first match starts before ``end``.

        The match of a leading signal may be its gate's (the same span; its groups
        are numbered as in the gate)."""
        signals = self._signals
        stop = len(view) if end is None else end
        searched = set(always)
        found: dict[int, re.Match[str]] = {}
        last_tail: dict[int, int] = {}  # deferred signal -> where its last tail starts
        if (
            self._finder is not None
            and self._any_first is not None
            and self._any_first.search(view) is not None
        ):
            anchors = self._anchors
            exhausted: set[str] = set()  # anchors whose leading signals have all matched
            for word in self._finder.finditer(view):
                key = word.group()
                anchor = anchors[key]
                start = word.start()
                # A leading signal's match starts at its anchor word, so from ``stop`` on
                # none is wanted; a searched signal's match or a tail's owner's may
                # start before its anchor word.
                past = start >= stop
                only = anchor.gate_only  # a gate the finder could not check itself
                if only is not None and (past or key in exhausted or not only.match(view, start)):
                    continue
                if anchor.searched:
                    searched.update(anchor.searched)
                if anchor.tails:
                    for position in anchor.tails:
                        tail = signals[position].tail
                        if tail is not None and tail.match(view, start) is not None:
                            last_tail[position] = start
                if past or anchor.first_gate is None or key in exhausted:
                    continue
                hit = anchor.first_gate.match(view, start)
                if hit is None:
                    continue  # the common case: nothing under this anchor matches here
                # Anchor words come in text order, so the first match recorded for a
                # signal is its first match at any of its anchor words.
                owner, leading = anchor.first_owner, anchor.leading
                while hit is not None and hit.lastindex is not None:
                    index = owner[hit.lastindex]
                    position = leading[index]
                    if position not in found:
                        # The alternative that matched is the whole match of the gate,
                        # so its span is this pattern's own match here.
                        found[position] = hit
                    if index + 1 >= len(leading):
                        break
                    gate, owner = anchor.gate(index + 1)
                    hit = gate.match(view, start)
                if all(p in found for p in leading):
                    exhausted.add(key)
        for position, finder in self._deferred:
            limit = last_tail.get(position)
            if limit is None:
                continue
            pattern = signals[position].pattern
            for word in finder.finditer(view, 0, limit):
                if word.start() >= stop:
                    break
                match = pattern.match(view, word.start())
                if match is not None:
                    found[position] = match
                    break
        for position in searched:
            needs = signals[position].needs
            if needs and not any(needed in view for needed in needs):
                continue
            match = signals[position].pattern.search(view)
            if match is not None and match.start() < stop:
                found[position] = match
        for position in sorted(found):
            yield signals[position], found[position]
