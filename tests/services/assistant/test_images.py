"""Upload checks and re-encoding, without the HTTP layer."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from ai_platform.core.errors import (
    AIServiceError,
    BadRequestError,
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
)
from ai_platform.services.assistant.images import (
    MAX_IMAGE_BYTES,
    MAX_SEND_SIDE,
    prepare_image,
)
from tests.services.assistant.images import encoded


def prepare(data: bytes, content_type: str | None = "image/png", name: str = "x.png"):  # type: ignore[no-untyped-def]
    return prepare_image(data, index=0, filename=name, content_type=content_type)


def test_small_png_is_sent_as_is_in_size_and_format() -> None:
    img = prepare(encoded((64, 32), (255, 0, 0)))
    assert (img.format, img.width, img.height) == ("PNG", 64, 32)
    assert (img.sent_format, img.sent_width, img.sent_height) == ("PNG", 64, 32)
    assert not img.downscaled
    assert img.sent_mime == "image/png"
    with Image.open(io.BytesIO(img.data)) as sent:
        assert sent.getpixel((0, 0)) == (255, 0, 0)


def test_large_jpeg_is_downscaled_keeping_its_aspect_ratio() -> None:
    img = prepare(encoded((3000, 1000), (0, 0, 255), "JPEG"), "image/jpeg", "wide.jpg")
    assert (img.width, img.height) == (3000, 1000)
    assert img.downscaled
    assert (img.sent_width, img.sent_height) == (MAX_SEND_SIDE, 683)
    assert img.sent_format == "JPEG"


def test_metadata_is_dropped_and_exif_orientation_applied() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to display
    exif[0x010F] = "SecretCam"  # camera make
    data = encoded((40, 20), (0, 200, 0), "JPEG", exif=exif.tobytes())
    img = prepare(data, "image/jpeg", "phone.jpg")
    assert (img.sent_width, img.sent_height) == (20, 40)
    with Image.open(io.BytesIO(img.data)) as sent:
        assert not sent.getexif()
    assert b"SecretCam" not in img.data


def test_gif_is_sent_as_png_and_generic_content_type_is_sniffed() -> None:
    img = prepare(encoded((10, 10), 3, "GIF", mode="P"), "application/octet-stream", "a.gif")
    assert (img.format, img.sent_format, img.sent_mime) == ("GIF", "PNG", "image/png")


def test_webp_is_accepted() -> None:
    img = prepare(encoded((30, 30), (255, 255, 0), "WEBP"), "image/webp", "a.webp")
    assert (img.format, img.sent_format) == ("WEBP", "WEBP")


@pytest.mark.parametrize(
    ("data", "content_type", "error", "needle"),
    [
        (b"just some notes", "text/plain", UnsupportedMediaTypeError, "text/plain"),
        (b"%PDF-1.7 not an image", "application/pdf", UnsupportedMediaTypeError, "pdf"),
        (
            b"plain text sent as octets",
            "application/octet-stream",
            UnsupportedMediaTypeError,
            "not a PNG",
        ),
        (b"\x89PNG\r\n\x1a\n" + b"garbage" * 20, "image/png", BadRequestError, "decoded"),
        (b"", "image/png", BadRequestError, "empty"),
    ],
)
def test_refused_uploads(
    data: bytes, content_type: str, error: type[AIServiceError], needle: str
) -> None:
    with pytest.raises(error) as caught:
        prepare(data, content_type)
    assert needle in caught.value.message


def test_a_real_format_we_do_not_accept_is_415() -> None:
    with pytest.raises(UnsupportedMediaTypeError, match="BMP"):
        prepare(encoded((8, 8), (1, 2, 3), "BMP"), "image/png")


def test_truncated_image_is_400() -> None:
    data = encoded((200, 200), (10, 20, 30), "JPEG", quality=95)
    with pytest.raises(BadRequestError):
        prepare(data[: len(data) // 2], "image/jpeg")


def test_png_with_a_bad_checksum_is_400() -> None:
    data = bytearray(encoded((16, 16), (0, 0, 0)))
    idat = data.index(b"IDAT")
    data[idat + 6] ^= 0xFF  # flip bits inside the compressed pixels: CRC no longer matches
    with pytest.raises(BadRequestError):
        prepare(bytes(data))


def test_oversized_file_is_413() -> None:
    with pytest.raises(PayloadTooLargeError) as caught:
        prepare(b"\x00" * (MAX_IMAGE_BYTES + 1))
    assert caught.value.details["limit_bytes"] == MAX_IMAGE_BYTES


def test_decompression_bomb_is_refused_from_its_header() -> None:
    # 100 megapixels of one bit each compress to a few kilobytes.
    bomb = encoded((10_000, 10_000), 0, "PNG", mode="1")
    assert len(bomb) < 100_000
    with pytest.raises(PayloadTooLargeError) as caught:
        prepare(bomb)
    assert caught.value.details["pixels"] == 100_000_000
