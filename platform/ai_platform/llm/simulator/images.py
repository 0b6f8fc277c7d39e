"""Facts about an image part, read from the decoded image itself with Pillow.

The description names format, size, mode and dominant colours, so a lesson or test
that draws an image can check what comes back. Remote URLs are not fetched: the
simulator works offline and says so in its answer.
"""

from __future__ import annotations

import base64
import binascii
import colorsys
import io
from dataclasses import dataclass
from typing import cast

from PIL import Image, UnidentifiedImageError

from . import estimate
from .errors import APIError

# Pillow refuses larger images (decompression bombs); keep the same ceiling explicit.
MAX_PIXELS = 50_000_000
_SAMPLE_SIDE = 64


@dataclass(frozen=True, slots=True)
class ImageFacts:
    format: str
    width: int
    height: int
    mode: str
    colours: tuple[tuple[str, float], ...]  # (name, share of pixels), largest first
    remote_url: str | None = None

    def describe(self) -> str:
        if self.remote_url is not None:
            return (
                f"an image at {self.remote_url}, which the simulator does not fetch "
                "(it works offline; send the image as a data URL to have it described)"
            )
        shown = [f"{name} ({share:.0%})" for name, share in self.colours if share >= 0.05][:4]
        colours = ", ".join(shown) if shown else "mixed colours"
        return (
            f"a {self.format} image, {self.width}x{self.height} pixels, mode {self.mode}; "
            f"dominant colours: {colours}"
        )

    @property
    def dominant(self) -> str | None:
        return self.colours[0][0] if self.colours else None

    def tokens(self, detail: str) -> int:
        if self.remote_url is not None:  # not fetched, so its size is unknown
            return estimate.IMAGE_LOW_TOKENS
        return estimate.image_tokens(self.width, self.height, detail)


def inspect(url: str, param: str) -> ImageFacts:
    """Decode a ``data:`` URL and read its facts; raises a 400 APIError if it is not an image."""
    if not url.startswith("data:"):
        if url.startswith(("http://", "https://")):
            return ImageFacts("remote", 0, 0, "", (), remote_url=url)
        raise _bad(param, "Invalid image URL: expected a data URL or an http(s) URL.")
    header, sep, payload = url.partition(",")
    if not sep or ";base64" not in header:
        raise _bad(param, "Invalid image data URL: expected 'data:image/...;base64,<data>'.")
    try:
        data = base64.b64decode(payload, validate=False)
    except (binascii.Error, ValueError):
        raise _bad(param, "Invalid base64 image data.") from None
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.width * img.height > MAX_PIXELS:
                raise _bad(param, "The image is too large.")
            fmt = img.format or "unknown"
            mode = img.mode
            width, height = img.size
            colours = _dominant_colours(img)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, ValueError):
        raise _bad(
            param, "You uploaded an unsupported image. Please make sure your image is valid."
        ) from None
    return ImageFacts(fmt, width, height, mode, colours)


def _bad(param: str, message: str) -> APIError:
    return APIError(400, message, param=param, code="invalid_image_format")


def _dominant_colours(img: Image.Image) -> tuple[tuple[str, float], ...]:
    img.draft("RGB", (_SAMPLE_SIDE * 4, _SAMPLE_SIDE * 4))  # cheap JPEG downscale on decode
    rgba = img.convert("RGBA")
    if max(rgba.size) > _SAMPLE_SIDE:
        # NEAREST keeps real pixel colours; averaging would invent blends at edges.
        rgba.thumbnail((_SAMPLE_SIDE, _SAMPLE_SIDE), Image.Resampling.NEAREST)
    total = rgba.width * rgba.height
    counts: dict[str, int] = {}
    found = cast("list[tuple[int, tuple[int, int, int, int]]]", rgba.getcolors(total + 1) or [])
    for n, (r, g, b, a) in found:
        name = "transparent" if a < 128 else colour_name(r, g, b)
        counts[name] = counts.get(name, 0) + n
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return tuple((name, n / total) for name, n in ranked)


def colour_name(r: int, g: int, b: int) -> str:
    """A plain English name for an sRGB colour, by hue, saturation and value."""
    h, s, v = colorsys.rgb_to_hsv(r / 255, g / 255, b / 255)
    hue = h * 360
    if v < 0.18:
        return "black"
    if s < 0.15:
        if v > 0.85:
            return "white"
        return "gray"
    if hue < 15 or hue >= 345:
        if s < 0.5 and v > 0.75:
            return "pink"
        return "red" if v > 0.45 else "brown"
    if hue < 45:
        return "orange" if v > 0.65 else "brown"
    if hue < 70:
        return "yellow" if v > 0.5 else "olive"
    if hue < 165:
        return "green"
    if hue < 195:
        return "cyan"
    if hue < 260:
        return "blue"
    if hue < 320:
        return "purple"
    return "pink"
