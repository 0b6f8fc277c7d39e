"""Text hygiene at the edge: what a client may send, and what a file may bring in.

Two rules, one for each way text arrives:

* **Typed by a client** (JSON fields, form fields, query parameters, upload file
  names) — *refused*. A value holding NUL, another C0 control character or an
  unpaired UTF-16 surrogate fails validation with a 422 envelope, before any model
  call or database write. NUL cannot be stored by PostgreSQL at all, a lone surrogate
  cannot be encoded as UTF-8 (so neither stored nor sent back as JSON), and the other
  controls (ESC, BEL, backspace…) have no business in a chat message or a title and
  rewrite terminals that read the logs.

  - ``Text`` (messages, questions, document text, metadata values) keeps tab, line
    feed and carriage return.
  - ``Line`` (names, titles, sources, file names, metadata keys) is one line: it
    refuses those three and DEL as well.

* **Brought by a file** (text extracted from an upload, a PDF's ``/Title``) —
  *stripped*. The client did not type it and often cannot see it (PDF text
  extraction emits NULs for some fonts), so refusing the whole file would be
  unhelpful: ``strip_file_text`` removes what no database can store and
  ``clean_title`` makes a single, bounded line of a title.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, StringConstraints
from pydantic_core import PydanticCustomError

# C0 controls except TAB, LF and CR, and the surrogate range (only unpaired
# surrogates can occur in a Python str decoded from JSON escapes).
_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
# Every C0 control, DEL and the surrogates.
_NOT_LINE = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")
# In file text: the controls a "binary data" sniff refuses (see knowledge.extract),
# keeping TAB, LF, VT, FF and CR, which text files do contain.
_FILE_JUNK = re.compile("[\x00-\x08\x0e-\x1f\ud800-\udfff]")
_SPACES = re.compile(r"\s+")

TEXT_RULE = (
    "NUL, control characters other than tab, newline and carriage return, and "
    "unpaired surrogates are not allowed"
)
LINE_RULE = "NUL, control characters (newlines included) and unpaired surrogates are not allowed"


def _name(char: str) -> str:
    return f"U+{ord(char):04X}"


def invalid_char(value: str, *, single_line: bool = False) -> tuple[int, str] | None:
    """Position and code point (``"U+0000"``) of the first refused character, if any."""
    found = (_NOT_LINE if single_line else _NOT_TEXT).search(value)
    if found is None:
        return None
    return found.start(), _name(found.group())


def _refusal(value: str, *, single_line: bool) -> PydanticCustomError | None:
    found = invalid_char(value, single_line=single_line)
    if found is None:
        return None
    position, char = found
    rule = LINE_RULE if single_line else TEXT_RULE
    return PydanticCustomError(
        "invalid_text",
        "{char} at position {position}: {rule}",
        {"char": char, "position": position, "rule": rule},
    )


def check_text(value: str) -> str:
    """Pydantic validator behind ``Text``: refuse NUL, C0 controls (not TAB/LF/CR), surrogates."""
    error = _refusal(value, single_line=False)
    if error is not None:
        raise error
    return value


def check_line(value: str) -> str:
    """Pydantic validator behind ``Line``: refuse every control character and surrogates."""
    error = _refusal(value, single_line=True)
    if error is not None:
        raise error
    return value


def text_problem(value: str, *, single_line: bool = False) -> str | None:
    """The refusal message for ``value`` (for checks outside pydantic), or None if clean."""
    error = _refusal(value, single_line=single_line)
    return None if error is None else error.message()


Text = Annotated[str, AfterValidator(check_text)]
"""Client text that may span lines: chat messages, questions, document bodies."""

Line = Annotated[str, AfterValidator(check_line)]
"""Client text on one line: names, titles, sources, file names, metadata keys."""

ModelName = Annotated[
    str, StringConstraints(min_length=1, max_length=100), AfterValidator(check_line)
]
"""A model a client names (``gpt-4o-mini``, ``openai/gpt-4o``). Only its hygiene is checked
here; whether the platform serves it is the route's check, one 422 ``unknown_model`` for
every name it cannot price (``PriceTable.require_chat_model``)."""


def strip_file_text(text: str) -> str:
    """Text extracted from a file, without NUL, stray C0 controls and lone surrogates."""
    return _FILE_JUNK.sub("", text)


def clean_title(title: str | None, max_chars: int) -> str:
    """A file-supplied title as one clean line of at most ``max_chars`` characters.

    Control characters and surrogates are dropped, runs of whitespace become one
    space. An empty result means "no usable title": the caller falls back.
    """
    if not title:
        return ""
    # Whitespace (tab and newlines too) becomes a space; other controls vanish, so a
    # title decoded with interleaved NULs ("T\x00i\x00t\x00l\x00e") reads "Title".
    line = _SPACES.sub(" ", _NOT_LINE.sub("", _SPACES.sub(" ", title))).strip()
    return line[:max_chars].rstrip()
