"""Test images drawn at run time with Pillow: a known format, size and dominant colour."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageDraw

FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}


@dataclass(frozen=True, slots=True)
class TestImage:
    filename: str
    data: bytes
    content_type: str
    width: int
    height: int


def draw(spec: dict[str, Any], index: int = 0) -> TestImage:
    """A solid ``rgb`` image, with an optional ``stripe_rgb`` band on the left covering
    ``stripe_share`` of the width (so the fill stays the dominant colour)."""
    fmt = str(spec["format"]).upper()
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    width, height = int(spec["width"]), int(spec["height"])
    fill = tuple(int(c) for c in spec["rgb"])
    image = Image.new("RGB", (width, height), fill)
    if spec.get("stripe_rgb") is not None:
        share = float(spec.get("stripe_share", 0.25))
        if not 0 < share < 0.5:
            raise ValueError("stripe_share must be between 0 and 0.5")
        stripe = tuple(int(c) for c in spec["stripe_rgb"])
        ImageDraw.Draw(image).rectangle((0, 0, int(width * share) - 1, height - 1), fill=stripe)
    buffer = io.BytesIO()
    options: dict[str, Any] = {"quality": 90} if fmt in ("JPEG", "WEBP") else {}
    image.save(buffer, format=fmt, **options)
    extension = "jpg" if fmt == "JPEG" else fmt.lower()
    return TestImage(
        filename=f"image{index + 1}.{extension}",
        data=buffer.getvalue(),
        content_type=FORMATS[fmt],
        width=width,
        height=height,
    )
