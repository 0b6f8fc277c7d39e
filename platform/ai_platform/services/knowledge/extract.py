"""Turn an uploaded file into text: plain text, Markdown or PDF (via pypdf).

The file's kind comes from its declared content type, or from its extension when
the client sent none (or ``application/octet-stream``). Anything else is refused
with 415 before the bytes are parsed; an empty, undecodable or text-less file is
a 400; a file or extracted text over the limits is a 413.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Literal

from ai_platform.core.errors import (
    BadRequestError,
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
)
from ai_platform.services.knowledge.config import MAX_FILE_BYTES, MAX_TEXT_CHARS

FileKind = Literal["text", "markdown", "pdf"]

CONTENT_TYPES: dict[str, FileKind] = {
    "text/plain": "text",
    "text/markdown": "markdown",
    "text/x-markdown": "markdown",
    "application/pdf": "pdf",
}
EXTENSIONS: dict[str, FileKind] = {
    ".txt": "text",
    ".text": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".pdf": "pdf",
}
MEDIA_TYPES: dict[FileKind, str] = {
    "text": "text/plain",
    "markdown": "text/markdown",
    "pdf": "application/pdf",
}
_UNDECLARED = {"", "application/octet-stream"}
_HEADING = re.compile(r"^\s{0,3}#\s+(.+?)\s*#*\s*$", re.MULTILINE)
# Printable text has few control characters; a "text" file full of them is binary.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f]")

logging.getLogger("pypdf").setLevel(logging.ERROR)


@dataclass(frozen=True, slots=True)
class ExtractedFile:
    filename: str
    kind: FileKind
    text: str
    title: str
    pages: int | None = None

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.kind]


def detect_kind(filename: str, content_type: str | None) -> FileKind:
    declared = (content_type or "").split(";", 1)[0].strip().lower()
    by_extension = EXTENSIONS.get(PurePosixPath(filename).suffix.lower())
    if declared in _UNDECLARED:
        if by_extension is None:
            raise _unsupported(filename, declared or "none")
        return by_extension
    kind = CONTENT_TYPES.get(declared)
    if kind is None:
        raise _unsupported(filename, declared)
    # Many clients send Markdown as text/plain; the extension says what it is.
    if kind == "text" and by_extension == "markdown":
        return "markdown"
    return kind


def _unsupported(filename: str, declared: str) -> UnsupportedMediaTypeError:
    return UnsupportedMediaTypeError(
        f"{filename!r} has type {declared!r}; upload plain text (.txt), Markdown (.md) or PDF",
        details={"filename": filename, "content_type": declared, "accepted": sorted(CONTENT_TYPES)},
    )


def decode_text(filename: str, data: bytes) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadRequestError(
            f"{filename!r} is not UTF-8 text (invalid byte at offset {exc.start})",
            details={"filename": filename},
        ) from None
    if _CONTROL.search(text[:65536]):
        raise BadRequestError(
            f"{filename!r} contains binary data, not text", details={"filename": filename}
        )
    return text


def pdf_text(filename: str, data: bytes) -> tuple[str, int, str | None]:
    """Text of every page, the page count and the document's title, if it has one."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    if not data.lstrip()[:5] == b"%PDF-":
        raise BadRequestError(f"{filename!r} is not a PDF file", details={"filename": filename})
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise BadRequestError(f"{filename!r} is encrypted", details={"filename": filename})
        pages = [page.extract_text() or "" for page in reader.pages]
        meta = reader.metadata
        title = meta.title if meta is not None and meta.title else None
    except BadRequestError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError, RecursionError) as exc:
        raise BadRequestError(
            f"{filename!r} could not be read as a PDF ({type(exc).__name__})",
            details={"filename": filename},
        ) from None
    return "\n\n".join(p.strip() for p in pages if p.strip()), len(pages), title


def _title(filename: str, kind: FileKind, text: str, pdf_title: str | None) -> str:
    if pdf_title and pdf_title.strip():
        return pdf_title.strip()
    if kind == "markdown":
        heading = _HEADING.search(text)
        if heading is not None:
            return heading.group(1).strip()
    return PurePosixPath(filename).stem or filename


async def extract(filename: str, content_type: str | None, data: bytes) -> ExtractedFile:
    """Validate and extract one upload; raises 415, 413 or 400 envelopes."""
    kind = detect_kind(filename, content_type)
    if len(data) > MAX_FILE_BYTES:
        raise PayloadTooLargeError(
            f"{filename!r} is larger than {MAX_FILE_BYTES} bytes",
            details={"filename": filename, "limit_bytes": MAX_FILE_BYTES},
        )
    if not data.strip():
        raise BadRequestError(f"{filename!r} is empty", details={"filename": filename})
    pages: int | None = None
    pdf_title: str | None = None
    if kind == "pdf":
        # pypdf is pure-Python CPU work: keep it off the event loop.
        text, pages, pdf_title = await asyncio.to_thread(pdf_text, filename, data)
    else:
        text = decode_text(filename, data)
    if not text.strip():
        raise BadRequestError(
            f"{filename!r} has no extractable text", details={"filename": filename}
        )
    if len(text) > MAX_TEXT_CHARS:
        raise PayloadTooLargeError(
            f"{filename!r} holds more than {MAX_TEXT_CHARS} characters of text",
            details={"filename": filename, "limit_chars": MAX_TEXT_CHARS},
        )
    title = _title(filename, kind, text, pdf_title)
    return ExtractedFile(filename=filename, kind=kind, text=text, title=title, pages=pages)
