"""PDF extraction with a page, CPU-time and memory budget, off the event loop.

pypdf is pure Python: a small file can describe thousands of pages, or one content
stream that inflates to tens of megabytes and takes seconds of CPU and hundreds of
megabytes to parse. A thread cannot be stopped once it is inside one such page, so
every PDF is read in its own short-lived child process:

- at most ``KNOWLEDGE_PDF_WORKERS`` at once per process; an upload that waits longer
  than ``KNOWLEDGE_PDF_WAIT_S`` for a worker is a 503 ``server_busy`` with Retry-After;
- the child refuses a PDF with more than ``KNOWLEDGE_PDF_MAX_PAGES`` pages before it
  reads any page, checks its CPU time before each page, stops as soon as the text
  passes ``MAX_TEXT_CHARS``, and runs pypdf with every decompression limit lowered to
  ``KNOWLEDGE_PDF_MAX_STREAM_BYTES`` (pypdf's ``Configuration``);
- the parent watches the child and kills it past ``KNOWLEDGE_PDF_MAX_SECONDS`` of CPU
  time or ``KNOWLEDGE_PDF_MAX_MEMORY_MB`` of resident memory (read from ``/proc``; a
  wall-clock limit of four times the CPU budget plus 10 s backs this up), and where
  the kernel allows it the child also sets ``RLIMIT_CPU`` and ``RLIMIT_AS`` on itself.

Every refusal for size or complexity is a 413 ``pdf_too_complex`` envelope whose
``details.reason`` says which limit (``pages``, ``cpu_time``, ``wall_time``, ``memory``,
``reader_limit`` — a stream inflating past the cap, too many tokens in one page —, or
``worker_exited``). Children come from a ``forkserver`` (a clean
process with pypdf preloaded, not a fork of the threaded server): about 20-30 ms each.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import math
import mmap
import multiprocessing
import os
import signal
import time
import traceback
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING, Any

import anyio

from ai_platform.core.errors import AIServiceError, BadRequestError, PayloadTooLargeError
from ai_platform.core.limits import WorkGate
from ai_platform.services.knowledge.config import MAX_TEXT_CHARS

try:
    import resource
except ImportError:  # not on Windows: no kernel limits there, the parent's watch stays
    resource = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from ai_platform.config import Settings

logger = logging.getLogger("ai_platform.knowledge")

PDF_EXTRACTOR_KEY = "knowledge.pdf_extractor"
POLL_S = 0.05
WALL_FACTOR = 4.0


class PdfTooComplexError(PayloadTooLargeError):
    error_code = "pdf_too_complex"
    description = "The PDF needs more pages, CPU time or memory than one upload may use"


_REASONS = {
    "pages": "has {pages} pages; at most {limit_pages} are read",
    "cpu_time": "needs more than {limit_seconds:g} s of CPU time to read",
    "wall_time": "took longer than {limit_seconds:g} s to read",
    "memory": "needs more than {limit_memory_mb} MB of memory to read",
    "reader_limit": "passes a limit of the PDF reader ({limit})",
    "worker_exited": "stopped the PDF reader (exit code {exit_code})",
}


def too_complex(filename: str, reason: str, **details: Any) -> PdfTooComplexError:
    what = _REASONS[reason].format(**details)
    return PdfTooComplexError(
        f"{filename!r} {what}; split it or send its text",
        details={"filename": filename, "reason": reason, **details},
    )


@dataclass(frozen=True, slots=True)
class PdfLimits:
    """How much one PDF may cost, and how many are read at once (see ``Settings``)."""

    max_pages: int = 500
    max_seconds: float = 5.0
    max_memory_mb: int = 384
    max_stream_bytes: int = 10_000_000
    max_text_chars: int = MAX_TEXT_CHARS
    workers: int = 2
    wait_s: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings) -> PdfLimits:
        return cls(
            max_pages=settings.knowledge_pdf_max_pages,
            max_seconds=settings.knowledge_pdf_max_seconds,
            max_memory_mb=settings.knowledge_pdf_max_memory_mb,
            max_stream_bytes=settings.knowledge_pdf_max_stream_bytes,
            workers=settings.knowledge_pdf_workers,
            wait_s=settings.knowledge_pdf_wait_s,
        )

    @property
    def wall_seconds(self) -> float:
        """A backstop for when CPU time cannot be read: generous, since a busy machine
        stretches wall time."""
        return self.max_seconds * WALL_FACTOR + 10.0


@contextlib.contextmanager
def pypdf_limits(limits: PdfLimits) -> Iterator[None]:
    """pypdf's own resource limits, lowered for the current thread's context."""
    try:
        from pypdf import Configuration, apply_configuration
    except ImportError:  # pypdf < 6: its built-in limits apply
        yield
        return
    cap = limits.max_stream_bytes
    wanted = {
        "maximum_declared_stream_length": cap,
        "array_based_stream_maximum_output_length": cap,
        "jbig2_maximum_output_length": cap,
        "lzw_maximum_output_length": cap,
        "run_length_maximum_output_length": cap,
        "zlib_maximum_output_length": cap,
        "brotli_maximum_output_length": cap,
        "image_maximum_buffer_size": cap,
        "stream_decoding_work_maximum_length": 4 * cap,
        "page_tree_maximum_page_entries": max(10 * limits.max_pages, 10_000),
    }
    known = {f.name for f in dataclasses.fields(Configuration)}
    with apply_configuration(None, **{k: v for k, v in wanted.items() if k in known}):
        yield


@dataclass(frozen=True, slots=True)
class PdfText:
    text: str
    pages: int
    title: str | None


# -- the child process ---------------------------------------------------------------


def _limit_self(limits: PdfLimits) -> None:
    """Kernel limits as a backstop to the parent's watch, where the sandbox allows them."""
    if resource is None:
        return
    cpu = math.ceil(limits.max_seconds) + 2
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    vm = _vm_bytes(os.getpid())
    if vm is not None:
        ceiling = vm + 2 * limits.max_memory_mb * 1024 * 1024
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_AS, (ceiling, ceiling))


def _child(conn: Connection, filename: str, data: bytes, limits: PdfLimits) -> None:
    """Entry point of the worker process: extract, send one message, exit."""
    message: tuple[Any, ...]
    try:
        _limit_self(limits)
        from ai_platform.services.knowledge.extract import pdf_text

        text, pages, title = pdf_text(filename, data, limits)
        message = ("ok", text, pages, title)
    except AIServiceError as exc:
        message = ("refused", type(exc).__name__, exc.message, exc.details)
    except MemoryError:
        message = ("memory",)
    except BaseException as exc:  # pypdf on a hostile file can raise nearly anything
        message = ("crashed", type(exc).__name__, traceback.format_exc(limit=8))
    try:
        conn.send(message)
    finally:
        conn.close()


# -- the parent: one worker per PDF, watched ------------------------------------------


@functools.cache
def _context() -> BaseContext:
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        # The server imports these once; each worker is forked from it, already loaded.
        # "__main__" too (the default), or every worker would re-run the main module's
        # imports (uvicorn's, pytest's): it must be import-safe, as multiprocessing asks.
        context.set_forkserver_preload(
            ["__main__", "pypdf", __name__, "ai_platform.services.knowledge.extract"]
        )
        return context
    return multiprocessing.get_context("spawn")


def _proc_fields(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            raw = handle.read().decode("ascii", "replace")
    except OSError:
        return None
    return raw[raw.rfind(")") + 2 :].split()


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_PAGE = mmap.PAGESIZE


def _cpu_seconds(pid: int) -> float | None:
    fields = _proc_fields(pid)
    if fields is None or len(fields) < 13:
        return None
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime + stime


def _rss_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/statm", "rb") as handle:
            resident = int(handle.read().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return resident * _PAGE / (1024 * 1024)


def _vm_bytes(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/statm", "rb") as handle:
            return int(handle.read().split()[0]) * _PAGE
    except (OSError, IndexError, ValueError):
        return None


_REFUSALS: dict[str, type[AIServiceError]] = {
    cls.__name__: cls for cls in (BadRequestError, PayloadTooLargeError, PdfTooComplexError)
}


class PdfExtractor:
    """Reads PDFs in watched child processes, ``limits.workers`` at a time."""

    def __init__(self, limits: PdfLimits) -> None:
        self.limits = limits
        self.gate = WorkGate(
            "PDF extractions", concurrency=limits.workers, capacity=limits.workers,
            wait_s=limits.wait_s,
        )  # fmt: skip
        self._running: set[BaseProcess] = set()

    @property
    def running_pids(self) -> list[int]:
        """Process ids of the workers reading a PDF now (for tests and diagnostics)."""
        return [p.pid for p in list(self._running) if p.pid is not None]

    async def extract(self, filename: str, data: bytes) -> PdfText:
        """Text, page count and title; raises 400, 413 (``pdf_too_complex``) or 503."""
        async with self.gate.admit():
            # Not cancellable: the slot is held until the worker has really ended.
            return await anyio.to_thread.run_sync(self._run, filename, data)

    def kill_all(self) -> None:
        for proc in list(self._running):
            with contextlib.suppress(Exception):
                proc.kill()

    def _run(self, filename: str, data: bytes) -> PdfText:
        context = _context()
        receive, send = context.Pipe(duplex=False)
        proc = context.Process(  # type: ignore[attr-defined]
            target=_child, args=(send, filename, data, self.limits), name="pdf-extract",
            daemon=True,
        )  # fmt: skip
        try:
            proc.start()
            self._running.add(proc)
        finally:
            send.close()
        try:
            message = self._watch(proc, receive, filename)
        finally:
            if proc.is_alive():
                proc.kill()
            proc.join(10)
            self._running.discard(proc)
            receive.close()
        return self._outcome(message, filename)

    def _watch(self, proc: BaseProcess, receive: Connection, filename: str) -> tuple[Any, ...]:
        limits = self.limits
        pid = proc.pid
        assert pid is not None
        started = time.monotonic()
        while True:
            if receive.poll(POLL_S):
                try:
                    message: tuple[Any, ...] = receive.recv()
                except EOFError:  # the worker ended without a word
                    proc.join(5)
                    return ("exited", proc.exitcode)
                return message
            cpu = _cpu_seconds(pid)
            if cpu is not None and cpu > limits.max_seconds:
                proc.kill()
                raise too_complex(
                    filename, "cpu_time", limit_seconds=limits.max_seconds,
                    cpu_seconds=round(cpu, 2),
                )  # fmt: skip
            rss = _rss_mb(pid)
            if rss is not None and rss > limits.max_memory_mb:
                proc.kill()
                raise too_complex(
                    filename, "memory", limit_memory_mb=limits.max_memory_mb,
                    rss_mb=round(rss),
                )  # fmt: skip
            if time.monotonic() - started > limits.wall_seconds:
                proc.kill()
                raise too_complex(filename, "wall_time", limit_seconds=limits.wall_seconds)

    def _outcome(self, message: tuple[Any, ...], filename: str) -> PdfText:
        kind = message[0]
        if kind == "ok":
            return PdfText(text=message[1], pages=message[2], title=message[3])
        if kind == "refused":
            error = _REFUSALS.get(message[1], BadRequestError)
            raise error(message[2], details=message[3])
        limits = self.limits
        if kind == "memory":
            raise too_complex(filename, "memory", limit_memory_mb=limits.max_memory_mb)
        if kind == "exited":
            code = message[1]
            xcpu = getattr(signal, "SIGXCPU", None)  # RLIMIT_CPU's signal (not on Windows)
            if xcpu is not None and code == -xcpu:
                raise too_complex(filename, "cpu_time", limit_seconds=limits.max_seconds)
            raise too_complex(filename, "worker_exited", exit_code=code)
        # "crashed": pypdf raised something unexpected on this file.
        logger.warning("PDF reader failed on %r: %s\n%s", filename, message[1], message[2])
        raise BadRequestError(
            f"{filename!r} could not be read as a PDF ({message[1]})",
            details={"filename": filename},
        )


# -- which extractor a request uses ---------------------------------------------------
#
# The knowledge service's lifespan installs the app's extractor for the event loop it
# runs on (one loop per worker process); ``current_extractor`` finds it. Code that runs
# without the app (a script, a unit test) gets one made from the environment's settings.

_installed: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, list[PdfExtractor]] = (
    weakref.WeakKeyDictionary()
)


def install(extractor: PdfExtractor) -> None:
    _installed.setdefault(asyncio.get_running_loop(), []).append(extractor)


def uninstall(extractor: PdfExtractor) -> None:
    stack = _installed.get(asyncio.get_running_loop(), [])
    with contextlib.suppress(ValueError):
        stack.remove(extractor)


def current_extractor() -> PdfExtractor:
    loop = asyncio.get_running_loop()
    stack = _installed.get(loop)
    if stack:
        return stack[-1]
    from ai_platform.config import get_settings

    extractor = PdfExtractor(PdfLimits.from_settings(get_settings()))
    _installed[loop] = [extractor]
    return extractor
