"""The offline token estimator behind every ``usage`` block the simulator reports.

A real tokenizer (tiktoken) downloads its tables on first use, so the simulator uses a
documented approximation of cl100k-style splitting instead:

* a *piece* is an optional single leading space plus a run of up to 8 letters, or a
  group of up to 3 digits, or 1–2 punctuation marks; any other whitespace run is one
  piece. Joining the pieces gives back the text exactly, which is why streaming sends
  pieces: completion tokens are the pieces actually emitted.
* English prose comes out near 1.3 pieces per word (about 4 characters per token).
* each chat message costs 3 tokens of framing plus its content (and 1 for a ``name``);
  a reply is primed with 3 more, as in OpenAI's published counting recipe.
* an image costs 85 tokens at ``detail: low`` and 85 + 170 per 512-pixel tile
  otherwise, after the provider's scaling rules (fit in 2048, shortest side 768):
  ``image_tokens`` is the platform's own (``ai_platform.llm.tokens``), so the
  simulator and the gateway's estimate price an image the same way.
"""

from __future__ import annotations

import re

from ai_platform.llm.tokens import IMAGE_BASE_TOKENS
from ai_platform.llm.tokens import image_tokens as image_tokens

_PIECE = re.compile(r" ?[^\W\d_]{1,8}| ?\d{1,3}| ?(?:[^\w\s]|_){1,2}|\s+")

MESSAGE_OVERHEAD = 3
REPLY_PRIMING = 3
IMAGE_LOW_TOKENS = IMAGE_BASE_TOKENS  # detail "low", or an image whose size is unknown


def pieces(text: str) -> list[str]:
    """Split text into token-sized pieces whose concatenation is the text."""
    return _PIECE.findall(text)


def count(text: str) -> int:
    return len(_PIECE.findall(text)) if text else 0
