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
from ai_platform.governance.screening.signals import ANCHOR_LEN, SIGNALS, WORD_PREFIX, Signal
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


# Random patterns from what ``remainder`` derives (and a little it does not), over
# a small alphabet so that matches, near misses and word boundaries are frequent.
_ATOMS = [
    *"aaabbc",
    " ",
    r"\.",
    "-",
    "é",
    "1",
    "_",
    ".",
    r"\w",
    r"\W",
    r"\s",
    r"\S",
    r"\d",
    r"\D",
    "[ab]",
    "[^a]",
    "[a-c]",
    "[b-cé]",
    r"[^\W\d]",
    r"[^\w\s]",
    r"[\s.]",
    r"[\^\]\-a]",
    r"[\\\]b]",
    r"[^\S\n]",
    r"[\d\-]",
]
_ZERO_WIDTH = [r"\b", r"\B", r"\b", r"\B", "$", r"\Z", "^", r"\A"]
_QUANTIFIERS = ["?", "*", "+", "{2}", "{1,2}", "{0,2}", "{2,}", "{0,}", "{1,3}"]
_LEADS = ["", "", "", r"\b", "a", "ab", r"\ba", "[ab]c?", r"\w+?", "a(?:b|c)", r"\b(?:a|b)+"]
_TEXT_CHARS = "aaaabbbcc   ..-\né1_"


def _random_sequence(rng: random.Random, depth: int) -> str:
    return "".join(_random_item(rng, depth) for _ in range(rng.randint(1, 3)))


def _random_item(rng: random.Random, depth: int) -> str:
    roll = rng.random()
    if depth > 0 and roll < 0.25:
        opening = rng.choice(["(?:", "(?:", "(", "(?=", "(?!"])
        branches = [_random_sequence(rng, depth - 1) for _ in range(rng.choice([1, 1, 2, 3]))]
        item = opening + "|".join(branches) + ")"
        if opening in ("(?=", "(?!"):
            return item
    elif roll < 0.35:
        return rng.choice(_ZERO_WIDTH)
    else:
        item = rng.choice(_ATOMS)
    if rng.random() < 0.35:
        item += rng.choice(_QUANTIFIERS) + ("?" if rng.random() < 0.3 else "")
    return item


def _random_patterns(rng: random.Random, count: int) -> list[re.Pattern[str]]:
    patterns: list[re.Pattern[str]] = []
    while len(patterns) < count:
        # A leading word part, often, so that fewer patterns fail at every word.
        source = rng.choice(_LEADS) + _random_sequence(rng, 2)
        try:
            patterns.append(re.compile(source))
        except re.error:
            continue
    return patterns


def _word_prefixes(text: str) -> list[tuple[int, str]]:
    """Each word start of ``text`` with each prefix of its word up to ``ANCHOR_LEN``
    characters (the whole word when it is shorter)."""
    out = []
    for word in re.finditer(r"\b\w+", text):
        for length in range(1, min(len(word.group()), ANCHOR_LEN) + 1):
            out.append((word.start(), word.group()[:length]))
    return out


def test_remainder_agrees_with_random_patterns_at_every_word_prefix() -> None:
    rng = random.Random(20240607)
    patterns = _random_patterns(rng, 1000)
    derived: dict[str, re.Pattern[str] | None] = {}
    pairs = derived_pairs = nontrivial = 0
    outcomes = {True: 0, False: 0}
    for pattern in patterns:
        derived.clear()
        for _ in range(25):
            text = "".join(rng.choices(_TEXT_CHARS, k=rng.randint(1, 14)))
            for start, prefix in _word_prefixes(text):
                if prefix not in derived:
                    rest = remainder(pattern, prefix)
                    derived[prefix] = None if rest is None else re.compile(rest)
                    pairs += 1
                    derived_pairs += rest is not None
                    nontrivial += rest not in (None, "", "(?!)")
                check = derived[prefix]
                if check is None:
                    continue
                expected = pattern.match(text, start) is not None
                got = check.match(text, start + len(prefix)) is not None
                assert got == expected, (pattern.pattern, prefix, text, start, check.pattern)
                outcomes[expected] += 1
    # Not vacuous: most pairs are derived, and the patterns both match and fail.
    assert derived_pairs > 0.6 * pairs, (derived_pairs, pairs)
    assert nontrivial > 0.1 * pairs, (nontrivial, pairs)
    assert min(outcomes.values()) > 5000, outcomes


def test_a_scan_with_random_gates_finds_what_trying_every_anchor_word_finds() -> None:
    """End to end: the finder's checks (``_gate_check`` of the remainders, in the trie
    after 4-letter anchors and after whole short words) change nothing found."""
    rng = random.Random(7)
    words = sorted({"".join(rng.choices("aabcé", k=rng.randint(1, 4))) for _ in range(30)})
    checked = 0
    found_any = 0
    for round_ in range(80):
        signals = [
            Signal(
                name=f"s{round_}.{i}",
                weight=1.0,
                pattern=pattern,
                anchors=frozenset(rng.sample(words, rng.randint(1, 3))),
            )
            for i, pattern in enumerate(_random_patterns(rng, 8))
        ]
        scan = AnchoredScan(enumerate(signals), signals)
        checked += sum(
            a.first_gate is not None and a.gate_only is None for a in scan._anchors.values()
        )
        for _ in range(50):
            text = "".join(rng.choices(_TEXT_CHARS, k=rng.randint(1, 30)))
            # Without an end, and with one: then only matches starting before it count.
            for end in (None, rng.randint(0, len(text))):
                stop = len(text) if end is None else end
                expected = {}
                for signal in signals:
                    for word in WORD_PREFIX.finditer(text):
                        if word.start() >= stop:
                            break
                        if word.group() in signal.anchors:
                            match = signal.pattern.match(text, word.start())
                            if match is not None:
                                expected[signal.name] = match.span()
                                break
                got = {signal.name: match.span() for signal, match in scan.scan(text, end=end)}
                assert got == expected, (
                    text,
                    end,
                    [(s.pattern.pattern, sorted(s.anchors)) for s in signals],
                )
                found_any += len(got)
    # Not vacuous: the finder checked gates itself, and signals were found.
    assert checked > 600, checked
    assert found_any > 300, (checked, found_any)
