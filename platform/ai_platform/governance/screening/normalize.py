"""Undo the cheap obfuscations that hide an injection from plain pattern matching.

A text is turned into a few *views* that the signal patterns run over:

``latin``
    invisible characters removed, NFKC (fullwidth and mathematical letters become
    ASCII), lower-cased, Cyrillic/Greek look-alikes mapped to Latin, accents
    removed. Patterns for English and the other Latin-script languages run here,
    written without accents.
``native``
    the same but without the look-alike map and accent removal, so Russian,
    Chinese and Japanese patterns still see their own script.
``alternates``
    extra Latin views produced only when a text looks obfuscated: leetspeak
    decoded (``1gn0r3`` → ``ignore``) and spaced-out letters joined
    (``i g n o r e  a l l`` → ``ignore all``), each cut to the stretches around
    what was decoded (``ALTERNATE_CONTEXT``). ``alternate_ends`` says where the
    last change of each stretch ends: a match starting there or later lies in
    unchanged text, which the Latin view covers, so it is not looked for again.

Every step is a single linear pass; ASCII text (the common case) skips the
Unicode work entirely.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

# Zero-width and other format characters that render as nothing but split words.
_INVISIBLE_CODEPOINTS = (
    *range(0x200B, 0x2010),  # zero-width space/joiners, LRM/RLM
    *range(0x202A, 0x202F),  # bidi embeddings and overrides
    *range(0x2060, 0x2065),  # word joiner, invisible operators
    *range(0x2066, 0x206A),  # bidi isolates
    0x00AD,  # soft hyphen
    0x034F,  # combining grapheme joiner
    0x061C,  # Arabic letter mark
    0x180E,  # Mongolian vowel separator
    0xFEFF,  # zero-width no-break space / BOM
)
_STRIP_INVISIBLE = dict.fromkeys(_INVISIBLE_CODEPOINTS)
_INVISIBLE_CLASS = "".join(f"\\u{cp:04x}" for cp in _INVISIBLE_CODEPOINTS)
_INVISIBLE_IN_WORD = re.compile(rf"[^\W\d_][{_INVISIBLE_CLASS}]+[^\W\d_]")
_INVISIBLE = re.compile(f"[{_INVISIBLE_CLASS}]")

# Unicode "tag" characters (U+E0020..U+E007E) mirror ASCII and are invisible: they
# smuggle text past a human reviewer. Inside a flag emoji (after U+1F3F4) they
# are legitimate.
_TAG_RUN = re.compile("(\U0001f3f4)?[\U000e0020-\U000e007e]+")
_ANY_TAG = re.compile("[\U000e0000-\U000e007f]")
_TAG_TO_ASCII = {cp: cp - 0xE0000 for cp in range(0xE0020, 0xE007F)}

# Look-alike letters that NFKC leaves alone (it maps fullwidth and mathematical
# forms, but not other scripts). Lower-case targets: the text is lower-cased first.
_CONFUSABLES = {
    # Cyrillic
    "а": "a",
    "в": "b",
    "е": "e",
    "ё": "e",
    "к": "k",
    "м": "m",
    "н": "h",
    "о": "o",
    "р": "p",
    "с": "c",
    "т": "t",
    "у": "y",
    "х": "x",
    "ѕ": "s",
    "і": "i",
    "ї": "i",
    "ј": "j",
    "һ": "h",
    "ԁ": "d",
    "ԛ": "q",
    "ԝ": "w",
    "ɡ": "g",
    "ӏ": "l",
    "ь": "b",
    "г": "r",
    "п": "n",
    "и": "u",
    # Greek
    "α": "a",
    "β": "b",
    "γ": "y",
    "ε": "e",
    "η": "n",
    "ι": "i",
    "κ": "k",
    "ν": "v",
    "ο": "o",
    "ρ": "p",
    "τ": "t",
    "υ": "u",
    "χ": "x",
    "ω": "w",
    "ϲ": "c",
    "ϳ": "j",
    "μ": "u",
    "ς": "s",
    "σ": "o",
    # Latin letters from other blocks
    "ı": "i",
    "ȷ": "j",
    "ɑ": "a",
    "ɩ": "i",
    "ʏ": "y",
    "ᴏ": "o",
    "ᴄ": "c",
    "ᴠ": "v",
    "ᴡ": "w",
    "ᴢ": "z",
    "ꞇ": "t",
}
_MAP_CONFUSABLES = str.maketrans(_CONFUSABLES)
_CONFUSABLE = re.compile("[" + "".join(_CONFUSABLES) + "]")

_LATIN_NEXT_TO_OTHER = re.compile(
    r"[a-z][\u0370-\u03ff\u0400-\u04ff]|[\u0370-\u03ff\u0400-\u04ff][a-z]"
)
# Fullwidth Latin letters and mathematical alphanumerics (before NFKC folds them).
_STYLED_LATIN = re.compile("[\uff21-\uff3a\uff41-\uff5a\U0001d400-\U0001d7ff]")
_CYRILLIC_OR_CJK = re.compile("[\u0400-\u04ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]")
_COMBINING_MARK = re.compile("[\u0300-\u036f]")
_CJK = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]")
_GREEK_OR_CYRILLIC = re.compile("[\u0370-\u03ff\u0400-\u04ff]")
# Any character that one of the rarer checks below looks for (invisible, tag or
# styled Latin). One charset scan rules them all out for most non-ASCII text.
_RARE = re.compile(
    f"[{_INVISIBLE_CLASS}\U000e0000-\U000e007f\uff21-\uff3a\uff41-\uff5a\U0001d400-\U0001d7ff]"
)
# ``_RARE`` without its supplementary-plane ranges, for text that has no character
# there. The regex compiler turns a class of BMP characters into one table lookup but
# tests ranges beyond the BMP one by one on every character: this scan takes about
# 60% as long, and telling whether a text has such characters (below) less than the
# difference.
_RARE_BMP = re.compile(f"[{_INVISIBLE_CLASS}\uff21-\uff3a\uff41-\uff5a]")
# Greek, Cyrillic, the confusables and the combining accents. When none occurs, the
# look-alike checks, the confusable map and the accent removal (but decomposition)
# have nothing to do, and one scan costs what each of their scans did.
_MAPPED_OR_MARK = re.compile(
    "[\u0300-\u04ff" + "".join(ch for ch in _CONFUSABLES if not "\u0300" <= ch <= "\u04ff") + "]"
)

# Leetspeak only matters inside tokens that mix letters with digits or symbols.
# Led by a character class so the regex engine can skip ahead quickly.
_LEET_HINT = re.compile(r"[0-9@$!|](?:(?<=[a-z].)|(?=[a-z]))")
_LEET_TOKEN = re.compile(r"[\w@$]+(?:[!|][\w@$]+)*")
_LEET_SPLIT = re.compile(f"({_LEET_TOKEN.pattern})")
# A leetspeak character next to a word character other than an ASCII digit. Every
# token that holds both a leetspeak character and a letter has one: walk from the
# letter to the nearest leetspeak character, and the step before it is such a word
# character (or the letter itself). Numbers in prose ("ORD-16", "3.11") have none.
_LEET_CHAR = re.compile(r"[0-9@$!|](?:(?<=[^\W0-9].)|(?=[^\W0-9]))")
_TOKEN_CHARS = re.compile(r"[\w@$!|]*")
# One search finds a leetspeak character and the end of its run.
_LEET_CHAR_AND_REST = re.compile(_LEET_CHAR.pattern + _TOKEN_CHARS.pattern)
_LEET_MAP = str.maketrans(
    {
        "0": "o",
        "1": "i",
        "3": "e",
        "4": "a",
        "5": "s",
        "7": "t",
        "8": "b",
        "9": "g",
        "@": "a",
        "$": "s",
        "!": "i",
        "|": "l",
    }
)

ALTERNATE_CONTEXT = 120
"""Characters of unchanged text an alternate view keeps on each side of what it
de-obfuscated. A match lying wholly in unchanged text is found in the Latin view
already, so the rest of the text need not be scanned again: on a long text with one
obfuscated phrase the alternates stay a few hundred characters. The longest match of
any signal on the training corpus spans 85 characters. (Three signals allow longer
gaps: a pair of role turns up to 600 characters apart, a link with a query up to 300
and a piped download up to 200; in an alternate view they are found within this
reach of the change only.)"""

# Runs of at least four single letters separated by spaces or punctuation. The
# whitespace is ``\s`` (``str.isspace``) spelled out: the hint scan below tests every
# character of a text against the class, and with ``\s`` in it the scan took about
# 1.5 times as long on prose (``\s`` is a Unicode lookup, listed characters a table).
_SPACE = r"\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_SEP = rf"[{_SPACE}._\-*·|/+~]"
_SPACED_RUN = re.compile(rf"(?<![^\W\d_])(?:[^\W\d_]{_SEP}{{1,3}}){{3,}}[^\W\d_](?![^\W\d_])")
# Cheap first look: two single letters in a row, each between separators.
_SPACED_HINT = re.compile(rf"{_SEP}[^\W\d_]{_SEP}{{1,3}}[^\W\d_]{_SEP}")
_WIDE_GAP = re.compile(r"\s{2,}")
_NON_SPACE_SEP = re.compile(r"[._\-*·|/+~]")


@dataclass(frozen=True, slots=True)
class Views:
    """The normalized forms of one text, plus what normalization noticed."""

    latin: str
    native: str
    alternates: tuple[tuple[str, str], ...]  # (obfuscation name, view)
    alternate_ends: tuple[int, ...]  # where each alternate's last change ends
    has_native_script: bool
    has_cjk: bool
    zero_width: bool
    homoglyph: bool
    hidden_tags: bool


def strip_invisible(text: str) -> str:
    """Remove zero-width and other invisible format characters."""
    if text.isascii() or _INVISIBLE.search(text) is None:
        return text  # translate() looks up every character; most texts have none
    return text.translate(_STRIP_INVISIBLE)


def _has_rare(text: str) -> bool:
    """``_RARE.search(text) is not None``, with the cheaper BMP scan when it suffices.

    UTF-16 spends two code units on each character beyond the BMP and one on any
    other (``surrogatepass`` lets lone surrogates through as one unit each): the
    encoding is a plain copy loop, far cheaper than a regex scan."""
    if len(text.encode("utf-16-le", "surrogatepass")) == 2 * len(text):
        return _RARE_BMP.search(text) is not None
    return _RARE.search(text) is not None


_NFKC_CHUNK = 128


def _nfkc(text: str) -> str:
    """``unicodedata.normalize("NFKC", text)``, normalizing a long text in pieces.

    When a text is not already normalized, ``normalize`` decomposes and recomposes
    all of it, at some 25 ns a character (140 for CJK, whose composition lookup walks
    a whole table); one fullwidth comma in a long message is enough. Each piece gets
    the cheap "already normalized" check of its own, so only the pieces that hold
    such a character pay.

    A text may be cut before any ASCII character: NFKC leaves it alone, it is a
    starter (canonical reordering never moves a character across it) and it is never
    the second character of a composition (the tests check every code point), so
    nothing before it composes with it or with anything after it. The pieces are cut
    before a space, which ``str.find`` locates at memory-scan speed.

    ``unicodedata.is_normalized`` settles most texts that need no change at the cost
    of that check. A text holding characters that *may* compose with their
    neighbours (combining marks, some Indic vowel signs) and nothing that surely
    changes is normalized in full to decide; if it then turns out to change, it is
    normalized a second time in pieces. Decomposed accents are rare in typed text."""
    if len(text) < 2 * _NFKC_CHUNK:
        return unicodedata.normalize("NFKC", text)
    if unicodedata.is_normalized("NFKC", text):
        return text
    pieces = []
    start = 0
    while (cut := text.find(" ", start + _NFKC_CHUNK)) >= 0:
        pieces.append(unicodedata.normalize("NFKC", text[start:cut]))
        start = cut
    pieces.append(unicodedata.normalize("NFKC", text[start:]))
    return "".join(pieces)


def fold_accents(text: str) -> str:
    """Drop combining accents (``é`` → ``e``) so Latin patterns need one spelling."""
    if text.isascii():
        return text
    return _COMBINING_MARK.sub("", unicodedata.normalize("NFKD", text))


def decode_leet(text: str) -> str:
    """Map leetspeak digits and symbols to letters inside mixed tokens only."""
    return _decode_leet(text)[0]


def _decode_leet(text: str) -> tuple[str, list[tuple[int, int]]]:
    """``decode_leet`` and the spans it changed (same length: the map is 1:1).

    Tokens never cross a character outside ``[\\w@$!|]``, so the text is cut into runs
    of those characters and only runs holding a leetspeak character are tokenized:
    in prose that is a few numbers, not every word. An obfuscated word holds several
    leetspeak characters: the search for the next one resumes after the run (whose
    last character is not one), so the rest of them cost no match each."""
    pieces: list[str] = []
    spans: list[tuple[int, int]] = []
    copied = 0
    backwards: str | None = None
    size = len(text)
    found = _LEET_CHAR_AND_REST.search(text)
    while found is not None:
        at, last = found.span()
        if backwards is None:
            backwards = text[::-1]
        # The run around ``at`` ends where the search stopped and starts with the token
        # characters before ``at`` (read backwards).
        start = at - _run_length(backwards, size - at)
        chunk = text[start:last]
        decoded = _decode_leet_run(chunk)
        if decoded is not chunk:
            pieces += (text[copied:start], decoded)
            spans.append((start, last))
            copied = last
        found = _LEET_CHAR_AND_REST.search(text, last)
    if not spans:
        return text, []
    pieces.append(text[copied:])
    return "".join(pieces), spans


def _run_length(text: str, start: int) -> int:
    found = _TOKEN_CHARS.match(text, start)
    return 0 if found is None else found.end() - start


def _decode_leet_run(run: str) -> str:
    """The run with its mixed tokens decoded; ``run`` itself when none changed."""
    if "!" not in run and "|" not in run:
        # Only ``!`` and ``|`` can stand between two tokens of a run: without them the
        # run is one token, and the split would cost more than the decision.
        decoded = _decode_leet_token(run)
        return run if decoded == run else decoded
    parts = _LEET_SPLIT.split(run)
    changed = False
    for i in range(1, len(parts), 2):
        token = parts[i]
        decoded = _decode_leet_token(token)
        if decoded != token:
            parts[i] = decoded
            changed = True
    return "".join(parts) if changed else run


def _decode_leet_token(token: str) -> str:
    if token.isalpha() or token.isdigit() or not any(map(str.isalpha, token)):
        return token
    return token.translate(_LEET_MAP)


def join_spaced_letters(text: str) -> str:
    """Join ``i g n o r e  a l l`` into ``ignore all`` (and ``s-y-s-t-e-m`` likewise)."""
    return _join_spaced_letters(text)[0]


def _collapse_spaced(run: str) -> str:
    # ``str.split()`` splits at the characters ``\s`` matches, and a run starts and
    # ends with a letter: joining its pieces is the regex substitution, made cheaper.
    marked = _NON_SPACE_SEP.search(run) is not None
    if marked and "  " not in run:
        # Letters joined by dots/dashes: a plain space is then a word break.
        return " ".join(_NON_SPACE_SEP.sub("", run).split())
    # Letters joined by single spaces: a wider gap is the word break.
    parts = _WIDE_GAP.split(run)
    if marked:
        parts = [_NON_SPACE_SEP.sub("", part) for part in parts]
    return " ".join(["".join(part.split()) for part in parts])


def _join_spaced_letters(text: str, start: int = 0) -> tuple[str, list[tuple[int, int]]]:
    """``join_spaced_letters`` and the spans of the joined runs in its output; no run
    starts before ``start``."""
    pieces: list[str] = []
    spans: list[tuple[int, int]] = []
    last = length = 0
    for match in _spaced_runs(text, start):
        before = text[last : match.start()]
        joined = _collapse_spaced(match.group())
        length += len(before)
        spans.append((length, length + len(joined)))
        length += len(joined)
        pieces.extend((before, joined))
        last = match.end()
    if not spans:
        return text, []
    pieces.append(text[last:])
    return "".join(pieces), spans


def _spaced_runs(text: str, start: int) -> Iterator[re.Match[str]]:
    """The matches of ``_SPACED_RUN.finditer(text, start)``, found from the hints.

    ``_SPACED_RUN`` opens with a lookbehind and a letter, so ``finditer`` tries it at
    almost every character; ``_SPACED_HINT`` opens with a separator, which the engine
    skips to. A run ``L1 SEP{1,3} L2 SEP{1,3} L3 SEP ...`` starting at ``s`` holds a
    hint starting at the last separator before ``L2``, that is at ``s + 1`` to
    ``s + 3``. So when the first hint at or after ``low + 1`` starts at ``h``, no run
    starts in ``low .. h - 4`` (its hint would come before ``h``), and the leftmost run
    from ``low`` on, if it starts before ``h``, starts at one of the three characters
    before ``h``. Those are tried in order (``match`` at a position still lets the
    lookbehind see the character before it); when none matches, everything before
    ``h`` is ruled out and the next hint is looked for. After a run the search goes
    on from its end, as ``finditer`` does."""
    low = start  # no run starts in start .. low - 1 (nor overlaps the previous run)
    while (hint := _SPACED_HINT.search(text, low + 1)) is not None:
        at = hint.start()
        for candidate in range(max(low, at - 3), at):
            run = _SPACED_RUN.match(text, candidate)
            if run is not None:
                yield run
                low = run.end()
                break
        else:
            low = at


def focus(text: str, spans: list[tuple[int, int]], context: int = ALTERNATE_CONTEXT) -> list[str]:
    """The stretches of ``text`` within ``context`` characters of a span, whole words
    only, overlapping stretches merged; in text order."""
    return [stretch for stretch, _ in _focus(text, spans, context)]


def _focus(text: str, spans: list[tuple[int, int]], context: int) -> list[tuple[str, int]]:
    """``focus``, each stretch with where its last span ends in it."""
    size = len(text)
    out: list[tuple[str, int]] = []
    low = high = last = -1  # the stretch being merged into and its last span's end
    for start, end in spans:
        if low >= 0 and start - context <= high:
            high, last = max(high, min(size, end + context)), end
            continue
        if low >= 0:
            out.append(_whole_words(text, low, high, last))
        low, high, last = max(0, start - context), min(size, end + context), end
    if low >= 0:
        out.append(_whole_words(text, low, high, last))
    return out


def _whole_words(text: str, low: int, high: int, last: int) -> tuple[str, int]:
    if low > 0 and not text[low - 1].isspace():
        cut = text.find(" ", low)
        low = cut + 1 if 0 <= cut < high else low
    if high < len(text) and not text[high].isspace():
        cut = text.rfind(" ", low, high)
        high = cut if cut > low else high
    return text[low:high], max(0, min(last, high) - low)


def _reveal_tags(text: str) -> tuple[str, bool]:
    if _ANY_TAG.search(text) is None:
        return text, False
    found = False

    def show(match: re.Match[str]) -> str:
        nonlocal found
        if match.group(1):
            return match.group()
        found = True
        return " " + match.group().translate(_TAG_TO_ASCII) + " "

    return _TAG_RUN.sub(show, text), found


def build_views(text: str) -> Views:
    """Normalize ``text`` into the views the signal patterns run over."""
    zero_width = homoglyph = hidden_tags = False
    has_native = has_cjk = False
    if text.isascii():
        latin = native = text.lower()
    else:
        stripped = text
        if _has_rare(text):
            stripped = strip_invisible(text)
            if len(stripped) != len(text):
                zero_width = _INVISIBLE_IN_WORD.search(text) is not None
            stripped, hidden_tags = _reveal_tags(stripped)
            homoglyph = _STYLED_LATIN.search(stripped) is not None
        native = _nfkc(stripped).lower()
        if not native.isascii():
            has_native = _CYRILLIC_OR_CJK.search(native) is not None
            has_cjk = has_native and _CJK.search(native) is not None
            first = _MAPPED_OR_MARK.search(native)
            if first is None:
                # No mark to drop but those decomposition brings.
                decomposed = unicodedata.normalize("NFKD", native)
                latin = native if decomposed == native else _COMBINING_MARK.sub("", decomposed)
            else:
                # Neither class occurs before the first character of their union.
                at = first.start()
                if _GREEK_OR_CYRILLIC.search(native, at) is not None:
                    homoglyph = homoglyph or _LATIN_NEXT_TO_OTHER.search(native) is not None
                mapped = native
                if _CONFUSABLE.search(native, at) is not None:
                    mapped = native.translate(_MAP_CONFUSABLES)
                latin = fold_accents(mapped)
        else:
            latin = native

    alternates: list[tuple[str, str]] = []
    ends: list[int] = []
    if _LEET_HINT.search(latin):
        leet, spans = _decode_leet(latin)
        for stretch, end in _focus(leet, spans, ALTERNATE_CONTEXT):
            alternates.append(("leet", stretch))
            ends.append(end)
    hint = _SPACED_HINT.search(latin)
    if hint is not None:
        # Every run holds a hint within its first four characters (the last separator
        # before its second letter), so no run starts more than three before the first.
        joined, spans = _join_spaced_letters(latin, max(0, hint.start() - 3))
        for stretch, end in _focus(joined, spans, ALTERNATE_CONTEXT):
            alternates.append(("spaced", stretch))
            ends.append(end)
    return Views(
        latin=latin,
        native=native,
        alternates=tuple(alternates),
        alternate_ends=tuple(ends),
        has_native_script=has_native,
        has_cjk=has_cjk,
        zero_width=zero_width,
        homoglyph=homoglyph,
        hidden_tags=hidden_tags,
    )
