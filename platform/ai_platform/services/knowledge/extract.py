"""Turn an uploaded file into text: plain text, Markdown or PDF (via pypdf).

The file's kind comes from its declared content type, or from its extension when
the client sent none (or ``application/octet-stream``). Anything else is refused
with 415 before the bytes are parsed; an empty, undecodable or text-less file is
a 400; a file or extracted text over the limits is a 413. A PDF is read in a separate,
watched process within a page, CPU-time and memory budget (``pdf_budget``): past it,
413 ``pdf_too_complex``.
"""

from __future__ import annotations

import io
import logging
import re
import time
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, Literal

from ai_platform.core.errors import (
    BadRequestError,
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
)
from ai_platform.services.knowledge.config import MAX_FILE_BYTES, MAX_TEXT_CHARS
from ai_platform.services.knowledge.pdf_budget import (
    PdfExtractor,
    PdfLimits,
    current_extractor,
    pypdf_limits,
    too_complex,
)

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

if TYPE_CHECKING:
    from pypdf import PdfReader

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


def _check_pdf_header(filename: str, data: bytes) -> None:
    if not data.lstrip()[:5] == b"%PDF-":
        raise BadRequestError(f"{filename!r} is not a PDF file", details={"filename": filename})


def _too_much_text(filename: str, limit: int = MAX_TEXT_CHARS) -> PayloadTooLargeError:
    return PayloadTooLargeError(
        f"{filename!r} holds more than {limit} characters of text",
        details={"filename": filename, "limit_chars": limit},
    )


def _resolve(value: Any) -> Any:
    """An indirect PDF object's target."""
    return value.get_object() if hasattr(value, "get_object") else value


def _page_texts(filename: str, reader: PdfReader, limits: PdfLimits) -> list[str]:
    """Each page's text, within the page cap, the CPU budget and the text limit."""
    tree = _resolve(reader.root_object.get("/Pages"))
    declared = _resolve(tree.get("/Count")) if isinstance(tree, dict) else None
    if isinstance(declared, int) and declared > limits.max_pages:  # refuse before flattening
        raise too_complex(filename, "pages", pages=declared, limit_pages=limits.max_pages)
    count = len(reader.pages)
    if count > limits.max_pages:
        raise too_complex(filename, "pages", pages=count, limit_pages=limits.max_pages)
    # CPU time of this process: the budget holds when it runs in its own worker.
    deadline = time.process_time() + limits.max_seconds
    pages: list[str] = []
    chars = 0  # the length of the text pdf_text will return, so far
    for page in reader.pages:
        if time.process_time() > deadline:
            raise too_complex(
                filename, "cpu_time", limit_seconds=limits.max_seconds, pages_read=len(pages)
            )
        text = page.extract_text() or ""
        if kept := len(text.strip()):
            chars += kept + (2 if chars else 0)
        if chars > limits.max_text_chars:
            raise _too_much_text(filename, limits.max_text_chars)
        pages.append(text)
    return pages


def pdf_text(
    filename: str, data: bytes, limits: PdfLimits | None = None
) -> tuple[str, int, str | None]:
    """Text of every page, the page count and the document's title, if it has one.

    Runs in the caller's thread with ``limits`` checked between pages; ``extract``
    calls it in a watched worker process, which also bounds a single slow page."""
    from pypdf import PdfReader
    from pypdf.errors import LimitReachedError, PyPdfError

    limits = limits or PdfLimits()
    _check_pdf_header(filename, data)
    try:
        with pypdf_limits(limits):
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted and not reader.decrypt(""):
                raise BadRequestError(f"{filename!r} is encrypted", details={"filename": filename})
            pages = _page_texts(filename, reader, limits)
            meta = reader.metadata
            title = meta.title if meta is not None and meta.title else None
    except (BadRequestError, PayloadTooLargeError):
        raise
    except LimitReachedError as exc:
        raise too_complex(filename, "reader_limit", limit=str(exc)[:200]) from None
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


async def extract(
    filename: str,
    content_type: str | None,
    data: bytes,
    *,
    pdf_extractor: PdfExtractor | None = None,
) -> ExtractedFile:
    """Validate and extract one upload; raises 415, 413 or 400 envelopes (503 when every
    PDF worker stays busy). PDFs go to ``pdf_extractor``, by default the one the app
    installed for this event loop."""
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
        # pypdf is pure-Python CPU work: off the event loop, in a budgeted worker process.
        _check_pdf_header(filename, data)
        read = await (pdf_extractor or current_extractor()).extract(filename, data)
        text, pages, pdf_title = read.text, read.pages, read.title
    else:
        text = decode_text(filename, data)
    if not text.strip():
        raise BadRequestError(
            f"{filename!r} has no extractable text", details={"filename": filename}
        )
    if len(text) > MAX_TEXT_CHARS:
        raise _too_much_text(filename)
    title = _title(filename, kind, text, pdf_title)
    return ExtractedFile(filename=filename, kind=kind, text=text, title=title, pages=pages)
