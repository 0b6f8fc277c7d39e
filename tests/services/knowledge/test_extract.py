"""Upload extraction: types (415), empty/undecodable (400), limits (413), PDF text."""

from __future__ import annotations

import pytest

from ai_platform.core.errors import (
    BadRequestError,
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
)
from ai_platform.services.knowledge.config import MAX_TEXT_CHARS
from ai_platform.services.knowledge.extract import detect_kind, extract
from tests.services.knowledge.pdfs import blank_pdf, make_pdf


@pytest.mark.parametrize(
    ("name", "declared", "kind"),
    [
        ("a.txt", "text/plain", "text"),
        ("a.md", "text/plain; charset=utf-8", "markdown"),
        ("a.md", "text/markdown", "markdown"),
        ("notes", "text/x-markdown", "markdown"),
        ("a.pdf", "application/pdf", "pdf"),
        ("a.PDF", "application/octet-stream", "pdf"),
        ("a.markdown", None, "markdown"),
    ],
)
def test_detect_kind(name: str, declared: str | None, kind: str) -> None:
    assert detect_kind(name, declared) == kind


@pytest.mark.parametrize(
    ("name", "declared"),
    [("a.png", "image/png"), ("a.exe", "application/octet-stream"), ("a.txt", "text/html")],
)
def test_unsupported_types_are_415(name: str, declared: str) -> None:
    with pytest.raises(UnsupportedMediaTypeError) as info:
        detect_kind(name, declared)
    assert info.value.status_code == 415


async def test_markdown_title_from_first_heading() -> None:
    got = await extract("guide.md", "text/markdown", b"Intro\n\n# Tent care #\n\nDry it.")
    assert got.title == "Tent care"
    assert got.media_type == "text/markdown"


async def test_text_title_from_file_name_and_bom_removed() -> None:
    got = await extract("store-hours.txt", "text/plain", b"\xef\xbb\xbfOpen 9-5.")
    assert (got.title, got.text) == ("store-hours", "Open 9-5.")


async def test_pdf_text_and_title() -> None:
    data = make_pdf(["Wash the jacket cold.", "Dry it (low heat)."], title="Jacket care")
    got = await extract("care.pdf", "application/pdf", data)
    assert "Wash the jacket cold." in got.text and "Dry it (low heat)." in got.text
    assert got.title == "Jacket care" and got.pages == 1


@pytest.mark.parametrize(
    ("name", "declared", "data", "message"),
    [
        ("empty.txt", "text/plain", b"", "empty"),
        ("blank.txt", "text/plain", b" \n\t ", "empty"),
        ("latin1.txt", "text/plain", "café".encode("latin-1"), "not UTF-8"),
        ("binary.txt", "text/plain", b"abc\x00\x01\x02def", "binary"),
        ("fake.pdf", "application/pdf", b"hello, not a pdf", "not a PDF"),
        ("broken.pdf", "application/pdf", b"%PDF-1.4\n1 0 obj <<", "could not be read"),
        ("blank.pdf", "application/pdf", blank_pdf(), "no extractable text"),
    ],
)
async def test_bad_files_are_400(name: str, declared: str, data: bytes, message: str) -> None:
    with pytest.raises(BadRequestError) as info:
        await extract(name, declared, data)
    assert message in info.value.message


async def test_too_much_text_is_413() -> None:
    with pytest.raises(PayloadTooLargeError):
        await extract("big.txt", "text/plain", b"a " * (MAX_TEXT_CHARS // 2 + 1))
