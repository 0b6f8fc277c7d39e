"""Word-level helpers shared by the reply builders: words, stems, sentences, overlap."""

from __future__ import annotations

import re
import zlib

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])")


def wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


STOPWORDS = wordset(
    """
    a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing done down during each either
    else few for from further get gets got had has have having he her here hers herself him
    himself his how i if in into is it its itself just let like may me might more most much
    must my myself no nor not now of off on once only or other our ours ourselves out over own
    please same shall she should so some such tell than that the their theirs them themselves
    then there these they this those through to too under until up us use used using very
    via was we were what when where which while who whom whose why will with would yes yet
    you your yours yourself yourselves i'm it's don't can't what's
    """
)


def words(text: str) -> list[str]:
    """Lower-cased words in order."""
    return [w.lower() for w in _WORD.findall(text)]


def stem(word: str) -> str:
    """A light suffix stripper: enough for 'orders' to meet 'order', no more."""
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            if suffix == "s" and w.endswith("ss"):
                continue
            return w[: -len(suffix)] + keep
    return w


def content_words(text: str) -> list[str]:
    """Words that carry meaning (no stopwords, no single letters), in order."""
    return [w for w in words(text) if w not in STOPWORDS and len(w) > 1]


def stems(text: str) -> set[str]:
    return {stem(w) for w in content_words(text)}


def identifier_words(name: str) -> list[str]:
    """``getOrderStatus`` / ``get_order_status`` -> ['get', 'order', 'status']."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return [w.lower() for w in re.split(r"[\W_]+", spaced) if w]


def sentences(text: str) -> list[str]:
    out: list[str] = []
    for block in re.split(r"\n\s*\n|\n(?=\s*[-*•]|\s*\d+[.)])", text):
        flat = " ".join(block.split())
        if flat:
            out.extend(s.strip() for s in _SENTENCE.split(flat) if s.strip())
    return out


def unique_in_order(items: list[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out


def stable_hash(text: str) -> int:
    """A hash that is the same in every process (``hash()`` is salted per process)."""
    return zlib.crc32(text.encode("utf-8", "surrogatepass"))


def join_words(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]


# Words that ask for something rather than name it; left out of topic phrases.
INSTRUCTION_WORDS = wordset(
    """
    explain describe tell write give show list help make improve create need want know
    summarize summarise compare find provide suggest recommend build generate understand
    learn way ways best good thing things question answer please thanks thank hi hello hey
    word words essay paragraph paragraphs sentence sentences tip tips point points idea ideas
    reason reasons step steps example examples item items short brief long detailed article
    """
)
_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)*|[^\w\s]|_")


def phrases(text: str, max_words: int = 4) -> list[str]:
    """Runs of content words, in order, with their case kept: the prompt's topics.

    A capitalised word that only starts a sentence is lower-cased; proper nouns and
    acronyms elsewhere keep their case.
    """
    out: list[str] = []
    run: list[str] = []
    sentence_start = True

    def flush() -> None:
        if run and not all(t.isdigit() for t in run):
            out.append(" ".join(run[-max_words:]))
        run.clear()

    for match in _TOKEN.finditer(text):
        token = match.group(0)
        lowered = token.lower()
        starts = sentence_start
        sentence_start = token in (".", "!", "?", ":")
        if not token[0].isalnum():
            flush()
            continue
        if (
            lowered in STOPWORDS
            or lowered in INSTRUCTION_WORDS
            or (len(token) < 2 and not token.isdigit())
        ):
            flush()
            continue
        if starts and token[:1].isupper() and token[1:].islower():
            token = lowered
        run.append(token)
    flush()
    seen: set[str] = set()
    unique: list[str] = []
    for phrase in out:
        if phrase.lower() not in seen:
            seen.add(phrase.lower())
            unique.append(phrase)
    return unique
