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
  otherwise, after the provider's scaling rules (fit in 2048, shortest side 768).
"""

from __future__ import annotations

import math
import re

_PIECE = re.compile(r" ?[^\W\d_]{1,8}| ?\d{1,3}| ?(?:[^\w\s]|_){1,2}|\s+")

MESSAGE_OVERHEAD = 3
REPLY_PRIMING = 3
IMAGE_LOW_TOKENS = 85
IMAGE_TILE_TOKENS = 170


def pieces(text: str) -> list[str]:
    """Split text into token-sized pieces whose concatenation is the text."""
    return _PIECE.findall(text)


def count(text: str) -> int:
    return len(_PIECE.findall(text)) if text else 0


def image_tokens(width: int, height: int, detail: str = "auto") -> int:
    if detail == "low" or width <= 0 or height <= 0:
        return IMAGE_LOW_TOKENS
    scale = min(1.0, 2048 / max(width, height))
    w, h = width * scale, height * scale
    scale = min(1.0, 768 / min(w, h))
    w, h = w * scale, h * scale
    tiles = math.ceil(w / 512) * math.ceil(h / 512)
    return IMAGE_LOW_TOKENS + IMAGE_TILE_TOKENS * tiles
