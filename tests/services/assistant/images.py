"""Images drawn with Pillow for the assistant's tests."""

from __future__ import annotations

import io

from PIL import Image


def encoded(
    size: tuple[int, int],
    colour: int | tuple[int, ...],
    fmt: str = "PNG",
    mode: str = "RGB",
    **kw: object,
) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, colour).save(buffer, format=fmt, **kw)
    return buffer.getvalue()


def halves(size: tuple[int, int], left: tuple[int, int, int], right: tuple[int, int, int]) -> bytes:
    """A PNG whose left half is one colour and right half another."""
    img = Image.new("RGB", size, left)
    img.paste(right, (size[0] // 2, 0, size[0], size[1]))
    buffer = io.BytesIO()
    img.save(buffer, format="PNG")
    return buffer.getvalue()
