"""``derive.remainder``: what a pattern needs after a word prefix, checked against
the pattern itself at every word of many texts."""

from __future__ import annotations

import random
import re
from re import _parser as sre_parse  # type: ignore[attr-defined]

import pytest

from ai_platform.governance.screening.derive import remainder, unparse
from ai_platform.governance.screening.normalize import build_views
from ai_platform.governance.screening.scan import AnchoredScan
from ai_platform.governance.screening.signals import SIGNALS, WORD_PREFIX
from ai_platform.governance.screening.train import load_corpus

_DERIVED: dict[tuple[str, str], re.Pattern[str] | None] = {}


def _agrees(pattern: re.Pattern[str], text: str) -> int:
    """Check ``remainder`` at every word of ``text``; the number of words where the
    pattern matches."""
    matched = 0
    for word in WORD_PREFIX.finditer(text):
        prefix = word.group()
        key = (pattern.pattern, prefix)
        if key not in _DERIVED:
            rest = remainder(pattern, prefix)
            _DERIVED[key] = None if rest is None else re.compile(rest)
        derived = _DERIVED[key]
        if derived is None:
            continue
        expected = pattern.match(text, word.start()) is not None
        got = derived.match(text, word.end()) is not None
        assert got == expected, (pattern.pattern[:80], prefix, text[word.start() :][:80])
        matched += expected
    return matched


@pytest.mark.parametrize(
    ("pattern", "texts"),
    [
        (
            r"\bignor(?:e|es|ing)\W+(?:all\W+)?rules\b",
            ["ignore rules", "ignores all rules", "ignorant rules"],
        ),
        (
            r"\bdo\b\W*(?:n\W*t|not)\W+obey",
            ["do not obey", "don't obey", "do n't obey", "dont obey"],
        ),
        (r"(?=sys)\w+\W+prompt", ["system prompt", "syst prompt", "sys prompt", "sysadmin prompt"]),
        (r"(?!sy)\w+\W+prompt", ["system prompt", "your prompt", "sy prompt"]),
        (r"\Bab|\bab\B\w", ["abc", "ab", "xab"]),
        (r"a{2,3}b?\d{0,2}x", ["aax", "aaab1x", "aaaab", "ax", "aab12x"]),
        (r"(?:ab|a)\w*?c", ["abc", "ac", "abbbbc", "ab"]),
        (r"[^\W\d_]{3}\s[a-c-]", ["abc a", "ab1 a", "abc -", "abcd a"]),
        (r"ab$|ab\Z", ["ab", "ab\n", "abc"]),
    ],
)
def test_remainder_agrees_with_the_pattern(pattern: str, texts: list[str]) -> None:
    compiled = re.compile(pattern)
    for text in texts:
        _agrees(compiled, text)
        _agrees(compiled, f"x {text} y")


def test_remainder_of_a_prefix_no_match_can_start_with_is_never() -> None:
    assert remainder(re.compile(r"\bignore\b"), "forg") == "(?!)"
    assert remainder(re.compile(r"\b(?:a|an)\b"), "a") is not None


def test_remainder_is_always_when_a_match_ends_inside_the_prefix() -> None:
    assert remainder(re.compile(r"\bno"), "nope") == ""
    assert remainder(re.compile(r"(?=no)"), "nope") == ""


@pytest.mark.parametrize(
    "pattern",
    [
        r"(?<=x)ab",  # a lookbehind before the prefix
        r"(a)\1",  # a back-reference
        r"(?i)ab",  # a flag changes what a character matches
        r"(?:a?)*b",  # a repeat of something that can be empty
        r"^ab",  # where the text starts is not known from the prefix
    ],
)
def test_what_is_not_derived_gives_none(pattern: str) -> None:
    assert remainder(re.compile(pattern), "ab") is None


def test_unparse_round_trips_every_signal() -> None:
    rng = random.Random(11)
    texts = [row.text.lower() for row in rng.sample(load_corpus(), 300)]
    for signal in SIGNALS:
        if signal.pattern.flags & ~re.UNICODE:
            continue
        again = re.compile(unparse(list(sre_parse.parse(signal.pattern.pattern))))
        for text in texts:
            first = signal.pattern.search(text)
            second = again.search(text)
            assert (first and first.span()) == (second and second.span()), signal.name


def test_remainder_of_every_signal_at_every_word_of_the_corpus() -> None:
    rows = load_corpus()
    views = []
    for row in rows[::5]:
        built = build_views(row.text)
        views.append(built.latin)
        if built.has_native_script:
            views.append(built.native)
    leading = [s for s in SIGNALS if s.leading]
    matched = 0
    for signal in leading:
        for view in views:
            if signal.pattern.search(view) is None:
                continue  # no word can match; a few views suffice for the negatives
            matched += _agrees(signal.pattern, view)
        for view in views[:12]:
            _agrees(signal.pattern, view)
    assert matched > 500  # the check saw the patterns match, not only fail


def test_the_finder_checks_nearly_every_gate_itself() -> None:
    latin = [(i, s) for i, s in enumerate(SIGNALS) if s.script == "latin"]
    scan = AnchoredScan(latin, SIGNALS)
    anchors = scan._anchors.values()
    left = [a for a in anchors if a.gate_only is not None]
    # Those left to Python cost a call at each of their words.
    assert len(left) <= len(anchors) // 10
