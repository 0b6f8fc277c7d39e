"""Offline token estimates, used before a call to reserve budget and rate-limit tokens.

Exact counts come from the provider's ``usage`` after the call; this is only the
estimate made before it, so it runs offline (no tokenizer files to download) and
leans towards over-counting, because an under-estimate lets a request slip past a
budget it should not.

The heuristic:

* text: ``max(ceil(ascii_chars / 4 + other_chars), ceil(words * 1.3))``. English
  averages about four characters or 0.75 words per token in OpenAI's tokenizers;
  characters outside ASCII (accents, CJK, emoji) usually take a token or more each,
  so each counts as one;
* messages: OpenAI's documented chat overhead of 3 tokens per message, 1 more when a
  message has a ``name``, and 3 for the priming of the reply;
* images: a fixed cost by ``detail``: ``low`` 85 tokens, ``high`` and ``auto`` 765
  (a 1024x1024 image: 85 + 170 per 512px tile, 4 tiles). ``image_tokens`` gives the
  exact tile count when the caller knows the image's size;
* tool definitions and tool calls: their JSON text, estimated as text.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMING_TOKENS = 3
IMAGE_BASE_TOKENS = 85
IMAGE_TILE_TOKENS = 170
IMAGE_TOKENS_BY_DETAIL = {"low": 85, "high": 765, "auto": 765}
# Audio inputs are billed by duration, which the payload does not state cheaply;
# a generous flat amount keeps budgets on the safe side.
AUDIO_PART_TOKENS = 1000


def estimate_text_tokens(text: str) -> int:
    """Estimated tokens of a piece of text (0 for the empty string)."""
    if not text:
        return 0
    non_ascii = sum(1 for ch in text if ord(ch) > 127)
    by_chars = math.ceil((len(text) - non_ascii) / 4 + non_ascii)
    by_words = math.ceil(len(text.split()) * 1.3)
    return max(by_chars, by_words)


def image_tokens(width: int, height: int, detail: str = "high") -> int:
    """Tokens of one image of known size, following OpenAI's published tiling rule.

    ``low`` is a flat 85. Otherwise the image is scaled to fit 2048x2048, then its
    short side to 768px, and costs 85 plus 170 per 512px tile.
    """
    if detail == "low":
        return IMAGE_BASE_TOKENS
    if width <= 0 or height <= 0:
        raise ValueError("image width and height must be positive")
    w, h = float(width), float(height)
    if max(w, h) > 2048:
        scale = 2048 / max(w, h)
        w, h = w * scale, h * scale
    if min(w, h) > 768:
        scale = 768 / min(w, h)
        w, h = w * scale, h * scale
    tiles = math.ceil(w / 512) * math.ceil(h / 512)
    return IMAGE_BASE_TOKENS + IMAGE_TILE_TOKENS * tiles


def estimate_content_tokens(content: Any) -> int:
    """Tokens of a message's ``content``: a string, None, or a list of content parts."""
    if content is None:
        return 0
    if isinstance(content, str):
        return estimate_text_tokens(content)
    if isinstance(content, Iterable) and not isinstance(content, bytes | Mapping):
        return sum(_part_tokens(part) for part in content)
    return estimate_text_tokens(str(content))


def estimate_messages_tokens(
    messages: Sequence[Mapping[str, Any]],
    *,
    tools: Sequence[Mapping[str, Any]] | None = None,
) -> int:
    """Estimated prompt tokens of a chat request (messages, and tool definitions if given)."""
    total = REPLY_PRIMING_TOKENS
    for message in messages:
        total += TOKENS_PER_MESSAGE
        total += estimate_content_tokens(message.get("content"))
        if message.get("name"):
            total += TOKENS_PER_NAME + estimate_text_tokens(str(message["name"]))
        for call in message.get("tool_calls") or ():
            total += _json_tokens(call.get("function", call) if isinstance(call, Mapping) else call)
        if message.get("tool_call_id"):
            total += estimate_text_tokens(str(message["tool_call_id"]))
    if tools:
        total += sum(_json_tokens(tool) for tool in tools)
    return total


def _part_tokens(part: Any) -> int:
    if isinstance(part, str):
        return estimate_text_tokens(part)
    if not isinstance(part, Mapping):
        return estimate_text_tokens(str(part))
    kind = part.get("type")
    if kind == "text":
        return estimate_text_tokens(str(part.get("text") or ""))
    if kind == "image_url":
        image = part.get("image_url")
        detail = image.get("detail", "auto") if isinstance(image, Mapping) else "auto"
        return IMAGE_TOKENS_BY_DETAIL.get(str(detail), IMAGE_TOKENS_BY_DETAIL["high"])
    if kind == "input_audio":
        return AUDIO_PART_TOKENS
    if kind == "refusal":
        return estimate_text_tokens(str(part.get("refusal") or ""))
    return _json_tokens(part)


def _json_tokens(value: Any) -> int:
    return estimate_text_tokens(json.dumps(value, separators=(",", ":"), default=str))
