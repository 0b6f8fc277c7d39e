"""Upload checks and preparation for images sent to a vision model.

Every upload is checked from its bytes and header first (``probe_image``), before any
pixel data is decompressed:

- the declared content type must be an image type we accept (or a generic one such as
  ``application/octet-stream``), else 415;
- the bytes must decode as PNG, JPEG, WebP or GIF — another real format is 415, bytes
  that do not decode (corrupt, truncated, not an image) are 400;
- the file must be at most ``MAX_IMAGE_BYTES`` (413) and the image at most
  ``ASSISTANT_MAX_IMAGE_PIXELS`` (413). Pillow's ``Image.open`` is lazy: the size is
  known from the header, so a small file that claims a huge canvas (a decompression
  bomb) is refused without allocating it.

Then the image is decoded and re-encoded (``decode_image``): EXIF orientation applied
and all metadata dropped (GPS and camera data never reach the provider), the longest
side scaled down to ``MAX_SEND_SIDE`` (providers downscale larger images anyway, so
sending more only costs bandwidth and latency), animated images reduced to their first
frame. PNG, JPEG and WebP keep their format; GIF is sent as PNG, because providers
accept only non-animated GIFs and PNG is lossless.

Decoding is CPU-bound and takes about 4 bytes per pixel: ``ImageDecoder`` runs it in a
worker thread, at most ``IMAGE_DECODE_CONCURRENCY`` at once and at most
``IMAGE_PIXELS_IN_FLIGHT`` pixels at once across the process (see ``core.limits``).
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from functools import partial
from typing import Any

import anyio
from PIL import Image, ImageOps, UnidentifiedImageError

from ai_platform.config import Settings
from ai_platform.core.errors import (
    BadRequestError,
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
)
from ai_platform.core.limits import ExceedsCapacity, WorkGate

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


@dataclass(frozen=True, slots=True)
class ImageHeader:
    """What an upload's header says, read before any pixel is decompressed."""

    index: int
    filename: str
    format: str
    width: int
    height: int
    size_bytes: int

    @property
    def pixels(self) -> int:
        return self.width * self.height

    @property
    def where(self) -> dict[str, Any]:
        return {"index": self.index, "filename": self.filename}


def probe_image(
    data: bytes,
    *,
    index: int,
    filename: str,
    content_type: str | None,
    max_pixels: int = MAX_IMAGE_PIXELS,
) -> ImageHeader:
    """Check an upload from its bytes and header alone; decodes no pixel data.

    Raises 415 (type), 413 (bytes, pixels), 400 (empty, not decodable, corrupt)."""
    check_declared_type(content_type, index=index, filename=filename)
    where = {"index": index, "filename": filename}
    if not data:
        raise BadRequestError(f"image {filename!r} is empty", details=where)
    if len(data) > MAX_IMAGE_BYTES:
        raise too_large(len(data), index=index, filename=filename)
    declared = normalise_content_type(content_type)

    with warnings.catch_warnings():
        # Pillow warns (and past twice its own limit, raises) on huge canvases; ours is
        # checked explicitly below, so the warning is noise.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            probe = Image.open(io.BytesIO(data))
        except Image.DecompressionBombError:
            raise _too_many_pixels(None, where, max_pixels) from None
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
            if width * height > max_pixels:
                raise _too_many_pixels(width * height, where, max_pixels)
            try:
                probe.verify()  # structure and checksums, without decompressing pixels
            except Exception:
                raise BadRequestError(
                    f"image {filename!r} is corrupt", details=where
                ) from None
    return ImageHeader(index, filename, fmt, width, height, len(data))


def decode_image(data: bytes, header: ImageHeader) -> PreparedImage:
    """Decode a probed upload and re-encode it for the model (CPU and memory heavy).

    Peak memory is about one decoded copy (~4 bytes per pixel): the image is
    downscaled in place (JPEG is decoded at a reduced scale where it can be), and
    converted to the target mode first only when resampling needs it (palette and
    1-bit images)."""
    where = header.where
    sent_format = _SEND_FORMAT[header.format]
    out = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as img:
                img.seek(0)
                frame: Image.Image = img
                target = _target_mode(img, sent_format)
                if img.mode != target:
                    img.load()  # a decode error here is "corrupt", not "cannot convert"
                    frame = _convert(img, target, where)
                if max(frame.size) > MAX_SEND_SIDE:
                    frame.thumbnail((MAX_SEND_SIDE, MAX_SEND_SIDE), Image.Resampling.LANCZOS)
                else:
                    frame.load()
                if header.format == "JPEG":
                    ImageOps.exif_transpose(frame, in_place=True)
                frame.info = {}  # no EXIF, GPS, ICC or text chunks reach the provider
                options: dict[str, Any] = (
                    {"quality": JPEG_QUALITY} if sent_format in ("JPEG", "WEBP") else {}
                )
                frame.save(out, format=sent_format, **options)
                sent_width, sent_height = frame.size
        except Image.DecompressionBombError:
            raise _too_many_pixels(header.pixels, where, header.pixels) from None
        except (OSError, ValueError, SyntaxError, EOFError):
            raise BadRequestError(
                f"image {header.filename!r} is corrupt or truncated", details=where
            ) from None
    encoded = out.getvalue()
    return PreparedImage(
        index=header.index,
        filename=header.filename,
        format=header.format,
        width=header.width,
        height=header.height,
        size_bytes=header.size_bytes,
        sha256=hashlib.sha256(data).hexdigest(),
        sent_format=sent_format,
        sent_width=sent_width,
        sent_height=sent_height,
        sent_bytes=len(encoded),
        sent_mime=FORMAT_MIME[sent_format],
        data=encoded,
    )


def prepare_image(
    data: bytes,
    *,
    index: int,
    filename: str,
    content_type: str | None,
    max_pixels: int = MAX_IMAGE_PIXELS,
) -> PreparedImage:
    """Validate one upload and re-encode it for the model; raises a 4xx error if refused.

    Unbounded: the service goes through ``ImageDecoder``, which holds a decode slot and
    the image's pixels from the shared budget while ``decode_image`` runs."""
    header = probe_image(
        data, index=index, filename=filename, content_type=content_type, max_pixels=max_pixels
    )
    return decode_image(data, header)


@dataclass(frozen=True, slots=True)
class ImageLimits:
    """How much image decoding one process does at once (see ``Settings``)."""

    max_pixels: int = MAX_IMAGE_PIXELS
    concurrency: int = 2
    pixels_in_flight: int = 80_000_000
    wait_s: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings) -> ImageLimits:
        return cls(
            max_pixels=settings.assistant_max_image_pixels,
            concurrency=settings.image_decode_concurrency,
            pixels_in_flight=settings.image_pixels_in_flight,
            wait_s=settings.image_decode_wait_s,
        )


class ImageDecoder:
    """Decodes uploads off the event loop within one process-wide bound.

    Each image is probed first (header only, in a worker thread). Its decode then waits
    for a slot (``concurrency``) and for ``width * height`` tokens from the pixel budget
    (``pixels_in_flight``), first come first served; both are released when the decode
    thread has finished. An image larger than the whole budget is a 413 at once; one
    that waits longer than ``wait_s`` is a 503 with ``Retry-After``.
    """

    def __init__(self, limits: ImageLimits) -> None:
        self.limits = limits
        self.gate = WorkGate(
            "image decodes",
            concurrency=limits.concurrency,
            capacity=limits.pixels_in_flight,
            wait_s=limits.wait_s,
        )

    async def prepare(
        self, data: bytes, *, index: int, filename: str, content_type: str | None
    ) -> PreparedImage:
        probe = partial(
            probe_image,
            data,
            index=index,
            filename=filename,
            content_type=content_type,
            max_pixels=self.limits.max_pixels,
        )
        header = await anyio.to_thread.run_sync(probe)
        try:
            await self.gate.acquire(header.pixels)
        except ExceedsCapacity:
            raise PayloadTooLargeError(
                f"image {filename!r} has {header.pixels} pixels, more than this server "
                f"decodes at once ({self.gate.capacity}); send a smaller image",
                details={
                    **header.where,
                    "pixels": header.pixels,
                    "limit_pixels_in_flight": self.gate.capacity,
                },
            ) from None
        try:
            # Not cancellable: the slot and the pixels stay held until the thread ends.
            return await anyio.to_thread.run_sync(decode_image, data, header)
        finally:
            self.gate.release(header.pixels)


def _too_many_pixels(
    pixels: int | None, where: dict[str, Any], limit: int
) -> PayloadTooLargeError:
    return PayloadTooLargeError(
        f"image {where['filename']!r} has more than {limit} pixels",
        details={**where, "limit_pixels": limit, "pixels": pixels},
    )


def _target_mode(img: Image.Image, fmt: str) -> str:
    """The pixel mode ``fmt`` can store that loses least from ``img``'s mode."""
    if fmt == "JPEG":
        return img.mode if img.mode in ("L", "RGB") else "RGB"
    if img.mode in ("RGB", "RGBA", "L", "LA"):
        return img.mode
    if img.mode in ("PA", "La") or (img.mode == "P" and "transparency" in img.info):
        return "RGBA"
    return "RGB"


def _convert(img: Image.Image, mode: str, where: dict[str, Any]) -> Image.Image:
    try:
        return img.convert(mode)
    except (ValueError, OSError):
        raise BadRequestError(
            f"image {where['filename']!r} uses a pixel mode ({img.mode}) that cannot be "
            "converted",
            details=where,
        ) from None
