"""Chat content parts for images and text."""

from __future__ import annotations

import base64
from typing import Any, Literal

ImageDetail = Literal["auto", "low", "high"]
IMAGE_MIME_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


def image_part(data: bytes, mime: str, detail: ImageDetail = "auto") -> dict[str, Any]:
    """An ``image_url`` content part carrying the image inline as a data URL."""
    mime = mime.lower().strip()
    if mime == "image/jpg":
        mime = "image/jpeg"
    if mime not in IMAGE_MIME_TYPES:
        raise ValueError(f"unsupported image type {mime!r}; use one of {sorted(IMAGE_MIME_TYPES)}")
    if detail not in ("auto", "low", "high"):
        raise ValueError("detail must be 'auto', 'low' or 'high'")
    if not data:
        raise ValueError("image data is empty")
    encoded = base64.b64encode(data).decode("ascii")
    return {
        "type": "image_url",
        "image_url": {"url": f"data:{mime};base64,{encoded}", "detail": detail},
    }


def image_url_part(url: str, detail: ImageDetail = "auto") -> dict[str, Any]:
    """An ``image_url`` content part pointing at an https URL the provider will fetch."""
    return {"type": "image_url", "image_url": {"url": url, "detail": detail}}


def text_part(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}
