"""Bounded PDF extraction: page cap, CPU-time and memory budget, pypdf's stream limits,
a worker process per PDF, a cap on PDFs read at once, and an event loop that keeps
answering while a PDF is read.

The PDFs are built byte by byte here: a page tree that names thousands of pages in a
few kilobytes, and a page whose compressed content stream inflates to megabytes of text
operators (a decompression bomb for the text extractor). Where a test needs an
extraction to still be running, it stops the worker with SIGSTOP and resumes it, rather
than relying on how long the work takes.
"""

from __future__ import annotations

import asyncio
import io
import os
import signal
import zlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from ai_platform.config import Settings
from ai_platform.core.errors import PayloadTooLargeError
from ai_platform.core.limits import Overloaded
from ai_platform.gateway.app import create_app
from ai_platform.harness.waiting import wait_for
from ai_platform.services.knowledge.extract import extract, pdf_text
from ai_platform.services.knowledge.pdf_budget import (
    PdfExtractor,
    PdfLimits,
    PdfTooComplexError,
    current_extractor,
)
from tests.services.knowledge.pdfs import make_pdf
from tests.support import make_tenant, running_app

FILES = "/api/v1/knowledge/ingest/files"
FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def _pdf(objects: list[bytes]) -> bytes:
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


def repeated_page_pdf(references: int, *, declared: int | None = None) -> bytes:
    """A page tree listing one page ``references`` times, declaring ``declared`` pages."""
    content = b"BT /F1 12 Tf 72 720 Td (Same page again.) Tj ET"
    kids = b" ".join([b"3 0 R"] * references)
    return _pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, declared or references),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        FONT,
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ])  # fmt: skip


def distinct_pages_pdf(pages: int) -> bytes:
    """``pages`` real pages, each with its own line of text."""
    first_page = 3
    font = first_page + 2 * pages
    kids = b" ".join(b"%d 0 R" % (first_page + 2 * i) for i in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages),
    ]
    for i in range(pages):
        content = b"BT /F1 12 Tf 72 720 Td (Page number %d.) Tj ET" % (i + 1)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>"
            % (font, first_page + 2 * i + 1)
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
    objects.append(FONT)
    return _pdf(objects)


def text_bomb_pdf(inflated_bytes: int) -> bytes:
    """One page whose compressed content stream inflates to ``inflated_bytes`` of text
    operators: a few kilobytes on disk, seconds of CPU and tens of MB to extract."""
    op = b"BT /F1 9 Tf 10 10 Td (AAAAAAAAAAAAAAAAAAAAAAAA) Tj ET\n"
    content = zlib.compress(op * (inflated_bytes // len(op)), 9)
    return _pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        FONT,
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(content)
        + content
        + b"\nendstream",
    ])  # fmt: skip


def refused(exc: pytest.ExceptionInfo[PdfTooComplexError], reason: str) -> dict[str, Any]:
    error = exc.value
    assert (error.status_code, error.error_code) == (413, "pdf_too_complex")
    details: dict[str, Any] = error.details
    assert details["reason"] == reason, details
    return details


# -- the worker and its limits ----------------------------------------------------------


async def test_a_good_pdf_is_read_in_a_worker_process() -> None:
    extractor = PdfExtractor(PdfLimits())
    read = await extractor.extract("care.pdf", make_pdf(["Wash cold."], title="Care"))
    assert (read.text, read.pages, read.title) == ("Wash cold.", 1, "Care")
    assert extractor.gate.peak_active == 1 and extractor.running_pids == []


async def test_more_pages_than_the_cap_are_refused_before_any_page_is_read() -> None:
    extractor = PdfExtractor(PdfLimits(max_pages=100))
    bomb = repeated_page_pdf(20_000)  # 20,000 pages in ~120 kB
    with pytest.raises(PdfTooComplexError) as caught:
        await extractor.extract("many.pdf", bomb)
    assert refused(caught, "pages") == {
        "filename": "many.pdf", "reason": "pages", "pages": 20_000, "limit_pages": 100,
    }  # fmt: skip
    # A page tree that under-declares its size is counted, not believed.
    with pytest.raises(PdfTooComplexError) as caught:
        await extractor.extract("liar.pdf", repeated_page_pdf(300, declared=1))
    assert refused(caught, "pages")["pages"] == 300
    # At the cap is fine.
    read = await extractor.extract("ok.pdf", distinct_pages_pdf(100))
    assert read.pages == 100 and "Page number 100." in read.text


async def test_a_stream_inflating_past_the_cap_is_refused_by_pypdf_limits() -> None:
    extractor = PdfExtractor(PdfLimits(max_stream_bytes=1_000_000))
    bomb = text_bomb_pdf(30_000_000)
    assert len(bomb) < 200_000
    with pytest.raises(PdfTooComplexError) as caught:
        await extractor.extract("bomb.pdf", bomb)
    assert "decompressing" in refused(caught, "reader_limit")["limit"]


async def test_a_page_over_the_cpu_budget_is_killed() -> None:
    # One page of ~3 MB of text operators: seconds of CPU in pypdf, no page boundary
    # to stop at, so the parent kills the worker.
    extractor = PdfExtractor(PdfLimits(max_seconds=0.3))
    with pytest.raises(PdfTooComplexError) as caught:
        await extractor.extract("slow.pdf", text_bomb_pdf(3_000_000))
    details = refused(caught, "cpu_time")
    assert details["limit_seconds"] == 0.3
    assert extractor.running_pids == [] and extractor.gate.active == 0


async def test_a_worker_over_its_memory_budget_is_killed() -> None:
    # Any worker process holds more than 1 MB: the budget is exceeded at once.
    extractor = PdfExtractor(PdfLimits(max_memory_mb=1, max_seconds=60))
    with pytest.raises(PdfTooComplexError) as caught:
        await extractor.extract("big.pdf", text_bomb_pdf(3_000_000))
    assert refused(caught, "memory")["limit_memory_mb"] == 1


def test_the_cpu_budget_is_checked_between_pages_in_process() -> None:
    with pytest.raises(PdfTooComplexError) as caught:
        pdf_text("pages.pdf", distinct_pages_pdf(50), PdfLimits(max_seconds=1e-9))
    details = refused(caught, "cpu_time")
    assert details["pages_read"] < 50


def test_text_past_the_limit_stops_the_extraction_early() -> None:
    with pytest.raises(PayloadTooLargeError) as caught:
        pdf_text("pages.pdf", distinct_pages_pdf(50), PdfLimits(max_text_chars=100))
    assert caught.value.error_code == "payload_too_large"
    assert "more than 100 characters of text" in caught.value.message


async def test_pdfs_beyond_the_worker_cap_wait_then_get_503() -> None:
    extractor = PdfExtractor(PdfLimits(workers=1, wait_s=0.05, max_seconds=60))
    first = asyncio.create_task(extractor.extract("slow.pdf", text_bomb_pdf(3_000_000)))
    [pid] = await wait_for(lambda: extractor.running_pids, what="the first worker")
    os.kill(pid, signal.SIGSTOP)  # it holds the only slot and cannot finish
    try:
        with pytest.raises(Overloaded) as caught:
            await extractor.extract("next.pdf", make_pdf(["Queued."]))
        assert caught.value.status_code == 503 and caught.value.error_code == "server_busy"
        assert int(caught.value.headers["Retry-After"]) >= 1
    finally:
        os.kill(pid, signal.SIGKILL)
    with pytest.raises(PdfTooComplexError) as died:
        await first
    assert refused(died, "worker_exited")["exit_code"] == -signal.SIGKILL
    assert (extractor.gate.active, extractor.running_pids) == (0, [])
    read = await extractor.extract("next.pdf", make_pdf(["Now it runs."]))
    assert read.text == "Now it runs."


async def test_extract_uses_the_extractor_installed_for_this_loop() -> None:
    extractor = current_extractor()
    assert current_extractor() is extractor
    got = await extract("a.pdf", "application/pdf", make_pdf(["Hello."]))
    assert got.text == "Hello." and got.pages == 1


# -- through the API --------------------------------------------------------------------


@pytest.fixture
async def app_and_client(settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    limited = settings.model_copy(
        update={"knowledge_pdf_max_pages": 20, "knowledge_pdf_max_seconds": 0.5}
    )
    app = create_app(limited)
    async with running_app(app) as client:
        yield app, client


def error_of(resp: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    body: dict[str, Any] = resp.json()
    assert body["status"] == "error" and body["error"]["code"] == code
    assert body["metadata"]["request_id"] == resp.headers["x-request-id"]
    error: dict[str, Any] = body["error"]
    return error


async def test_too_many_pages_is_413_pdf_too_complex_and_stores_nothing(
    settings: Settings, app_and_client: tuple[FastAPI, httpx.AsyncClient]
) -> None:
    _, client = app_and_client
    tenant = await make_tenant(settings)
    files = [
        ("files", ("ok.txt", b"Fine text.", "text/plain")),
        ("files", ("book.pdf", distinct_pages_pdf(21), "application/pdf")),
    ]
    error = error_of(await client.post(FILES, files=files, headers=tenant.headers), 413,
                     "pdf_too_complex")  # fmt: skip
    assert error["details"]["reason"] == "pages" and error["details"]["limit_pages"] == 20
    assert "book.pdf" in error["message"]
    listed = await client.get("/api/v1/knowledge/documents", headers=tenant.headers)
    assert listed.json()["data"]["total"] == 0
    ok = await client.post(
        FILES, files=[("files", ("short.pdf", distinct_pages_pdf(20), "application/pdf"))],
        headers=tenant.headers,
    )  # fmt: skip
    assert ok.status_code == 201, ok.text


async def test_the_event_loop_answers_while_a_pdf_is_read(
    settings: Settings, app_and_client: tuple[FastAPI, httpx.AsyncClient]
) -> None:
    app, client = app_and_client
    extractor = app.state.platform.pdf_extractor
    assert isinstance(extractor, PdfExtractor)
    tenant = await make_tenant(settings)
    upload = asyncio.create_task(
        client.post(
            FILES, files=[("files", ("slow.pdf", text_bomb_pdf(3_000_000), "application/pdf"))],
            headers=tenant.headers,
        )
    )  # fmt: skip
    [pid] = await wait_for(lambda: extractor.running_pids, what="the PDF worker to start")
    os.kill(pid, signal.SIGSTOP)  # the extraction cannot finish until resumed
    try:
        for _ in range(3):
            health = await client.get("/health")
            assert health.status_code == 200
        assert not upload.done() and extractor.gate.active == 1
    finally:
        os.kill(pid, signal.SIGCONT)
    error = error_of(await upload, 413, "pdf_too_complex")
    assert error["details"]["reason"] == "cpu_time"
    assert (extractor.gate.active, extractor.running_pids) == (0, [])
