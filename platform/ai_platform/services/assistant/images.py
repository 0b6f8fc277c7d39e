"""Upload checks and preparation for images sent to a vision model.

Every upload is decoded with Pillow before anything else happens to it:

- the declared content type must be an image type we accept (or a generic one such as
  ``application/octet-stream``), else 415;
- the bytes must decode as PNG, JPEG, WebP or GIF — another real format is 415, bytes
  that do not decode (corrupt, truncated, not an image) are 400;
- the file must be at most ``MAX_IMAGE_BYTES`` (413) and the image at most
  ``MAX_IMAGE_PIXELS`` (413). The pixel check reads only the header, before any pixel
  data is decompressed, so a small file that claims a huge canvas (a decompression bomb)
  is refused without allocating it.

Then the image is re-encoded: EXIF orientation applied and all metadata dropped (GPS
and camera data never reach the provider), the longest side scaled down to
``MAX_SEND_SIDE`` (providers downscale larger images anyway, so sending more only costs
bandwidth and latency), animated images reduced to their first frame. PNG, JPEG and
WebP keep their format; GIF is sent as PNG, because providers accept only
non-animated GIFs and PNG is lossless.

These functions decode images and are CPU-bound: call them from a worker thread.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError

from ai_platform.core.errors import (
    BadRequestError,
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
)

MAX_IMAGES = 4
MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000
MAX_SEND_SIDE = 2048
JPEG_QUALITY = 90

FORMAT_MIME = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp", "GIF": "image/gif"}
ACCEPTED_CONTENT_TYPES = frozenset(
    {"image/png", "image/jpeg", "image/jpg", "image/pjpeg", "image/webp", "image/gif"}
)
# Clients that do not know the type send one of these; the bytes decide.
GENERIC_CONTENT_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream"})
_SEND_FORMAT = {"PNG": "PNG", "JPEG": "JPEG", "WEBP": "WEBP", "GIF": "PNG"}


@dataclass(frozen=True, slots=True)
class PreparedImage:
    """An accepted upload: what arrived, and what will be sent to the model."""

    index: int
    filename: str
    format: str
    width: int
    height: int
    size_bytes: int
    sha256: str
    sent_format: str
    sent_width: int
    sent_height: int
    sent_bytes: int
    sent_mime: str
    data: bytes

    @property
    def downscaled(self) -> bool:
        return (self.sent_width, self.sent_height) != (self.width, self.height)

    def describe(self) -> dict[str, Any]:
        """The image's facts without its bytes, fit for a response or a message row."""
        return {
            "index": self.index,
            "filename": self.filename,
            "format": self.format,
            "width": self.width,
            "height": self.height,
            "size_bytes": self.size_bytes,
            "sha256": self.sha256,
            "sent_format": self.sent_format,
            "sent_width": self.sent_width,
            "sent_height": self.sent_height,
            "sent_bytes": self.sent_bytes,
            "downscaled": self.downscaled,
        }


def normalise_content_type(value: str | None) -> str:
    return (value or "").split(";", 1)[0].strip().lower()


def check_declared_type(content_type: str | None, *, index: int, filename: str) -> None:
    declared = normalise_content_type(content_type)
    if declared not in ACCEPTED_CONTENT_TYPES and declared not in GENERIC_CONTENT_TYPES:
        raise UnsupportedMediaTypeError(
            f"file {filename!r} has type {declared!r}; accepted: PNG, JPEG, WebP, GIF",
            details={"index": index, "filename": filename, "content_type": declared},
        )


def too_large(size: int, *, index: int, filename: str) -> PayloadTooLargeError:
    return PayloadTooLargeError(
        f"image {filename!r} is larger than {MAX_IMAGE_BYTES} bytes",
        details={"index": index, "filename": filename, "limit_bytes": MAX_IMAGE_BYTES,
                 "size_bytes": size},
    )


def prepare_image(
    data: bytes, *, index: int, filename: str, content_type: str | None
) -> PreparedImage:
    """Validate one upload and re-encode it for the model; raises a 4xx error if refused."""
    check_declared_type(content_type, index=index, filename=filename)
    where = {"index": index, "filename": filename}
    if not data:
        raise BadRequestError(f"image {filename!r} is empty", details=where)
    if len(data) > MAX_IMAGE_BYTES:
        raise too_large(len(data), index=index, filename=filename)
    declared = normalise_content_type(content_type)

    with warnings.catch_warnings():
        # Pillow warns (and past twice its own limit, raises) on huge canvases; ours is
        # lower and checked explicitly below, so the warning is noise.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            probe = Image.open(io.BytesIO(data))
        except Image.DecompressionBombError:
            raise _too_many_pixels(None, where) from None
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
            if declared in GENERIC_CONTENT_TYPES:
                raise UnsupportedMediaTypeError(
                    f"file {filename!r} is not a PNG, JPEG, WebP or GIF image", details=where
                ) from None
            raise BadRequestError(
                f"image {filename!r} could not be decoded", details=where
            ) from None
        with probe:
            fmt = probe.format or ""
            if fmt not in FORMAT_MIME:
                raise UnsupportedMediaTypeError(
                    f"image {filename!r} is {fmt or 'an unknown format'}; "
                    "accepted: PNG, JPEG, WebP, GIF",
                    details={**where, "format": fmt},
                )
            width, height = probe.size
            if width <= 0 or height <= 0:
                raise BadRequestError(f"image {filename!r} has no pixels", details=where)
            if width * height > MAX_IMAGE_PIXELS:
                raise _too_many_pixels(width * height, where)
            try:
                probe.verify()
            except Exception:
                raise BadRequestError(
                    f"image {filename!r} is corrupt", details=where
                ) from None

        # verify() leaves the image unusable: decode again from the start.
        try:
            with Image.open(io.BytesIO(data)) as img:
                img.seek(0)
                img.load()
                frame = _upright(img) if fmt == "JPEG" else img.copy()
        except Image.DecompressionBombError:
            raise _too_many_pixels(width * height, where) from None
        except (OSError, ValueError, SyntaxError, EOFError):
            raise BadRequestError(
                f"image {filename!r} is corrupt or truncated", details=where
            ) from None

    sent_format = _SEND_FORMAT[fmt]
    try:
        frame = _for_format(frame, sent_format)
    except (ValueError, OSError):
        raise BadRequestError(
            f"image {filename!r} uses a pixel mode ({frame.mode}) that cannot be converted",
            details=where,
        ) from None
    if max(frame.size) > MAX_SEND_SIDE:
        frame.thumbnail((MAX_SEND_SIDE, MAX_SEND_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    options: dict[str, Any] = {"quality": JPEG_QUALITY} if sent_format in ("JPEG", "WEBP") else {}
    frame.save(out, format=sent_format, **options)
    encoded = out.getvalue()
    return PreparedImage(
        index=index,
        filename=filename,
        format=fmt,
        width=width,
        height=height,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        sent_format=sent_format,
        sent_width=frame.width,
        sent_height=frame.height,
        sent_bytes=len(encoded),
        sent_mime=FORMAT_MIME[sent_format],
        data=encoded,
    )


def _too_many_pixels(pixels: int | None, where: dict[str, Any]) -> PayloadTooLargeError:
    return PayloadTooLargeError(
        f"image {where['filename']!r} has more than {MAX_IMAGE_PIXELS} pixels",
        details={**where, "limit_pixels": MAX_IMAGE_PIXELS, "pixels": pixels},
    )


def _upright(img: Image.Image) -> Image.Image:
    turned = ImageOps.exif_transpose(img)
    return turned if turned is not None else img.copy()


def _for_format(img: Image.Image, fmt: str) -> Image.Image:
    """A copy in a mode the target format can store, with no metadata attached."""
    if fmt == "JPEG":
        mode = "RGB" if img.mode not in ("L", "RGB") else img.mode
    elif img.mode in ("RGB", "RGBA", "L", "LA"):
        mode = img.mode
    elif img.mode in ("PA", "La") or (img.mode == "P" and "transparency" in img.info):
        mode = "RGBA"
    else:
        mode = "RGB"
    clean = img.convert(mode)
    clean.info = {}
    return clean
