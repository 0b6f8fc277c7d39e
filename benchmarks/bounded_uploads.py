"""What bounded image decoding and PDF extraction buy: peak memory and CPU per upload.

Images: serves the platform as its own uvicorn process (SQLite in a temporary
directory, the embedded simulator), sends N concurrent ``POST /api/v1/assistant/analyze``
requests, each with one single-colour PNG of SIDE x SIDE pixels (a few hundred KB that
decode to ~120 MB each), and prints the server's peak RSS (``VmHWM``) and the answers'
status codes. Meanwhile it times ``GET /health`` to show whether the event loop stays
responsive.

PDFs: extracts, outside any server, a small PDF whose one page is a compressed content
stream that inflates to ``--pdf-inflated-mb`` megabytes of text operators, and prints
the outcome, the CPU time and the peak RSS of the calling process and of its child
processes (where the bounded code reads PDFs).

Run it against this checkout, and against another source tree (for instance the last
commit, exported without touching the checkout) to compare:

    python benchmarks/bounded_uploads.py
    mkdir -p /tmp/head && git archive HEAD platform | tar -x -C /tmp/head
    python benchmarks/bounded_uploads.py --source /tmp/head/platform

``--source`` only changes the code the image server runs and the PDF extraction uses.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def rss_peak_mib(pid: int) -> float:
    """The process's peak resident set size (``VmHWM``) in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc status")


def png(side: int) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (side, side), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def content_bomb_pdf(target_bytes: int) -> bytes:
    """A one-page PDF whose content stream inflates to about ``target_bytes`` of text."""
    op = b"BT /F1 9 Tf 10 10 Td (AAAAAAAAAAAAAAAAAAAAAAAA) Tj ET\n"
    content = zlib.compress(op * (target_bytes // len(op)), 9)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(content)
        + content
        + b"\nendstream",
    ]
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


# -- steps run in a child process with the chosen source tree on sys.path ------------


async def _setup(database_url: str) -> None:
    from ai_platform.db.migrate import upgrade
    from ai_platform.harness.tenants import create_tenant

    await upgrade(database_url)
    tenant = await create_tenant(database_url, "bench-secret", "bench", rpm=100_000, tpd=10**9)
    print(json.dumps({"key": tenant.api_key}))


class _TreeSampler:
    """Samples the CPU time and RSS of this process's descendants (PDF workers are
    children of a forkserver, so ``RUSAGE_CHILDREN`` does not see them)."""

    def __init__(self) -> None:
        import threading

        self.cpu: dict[int, float] = {}
        self.rss_mib = 0.0
        self.own_cpu_s = 0.0  # the sampler's own thread, to subtract from the caller's
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> _TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        tick = os.sysconf("SC_CLK_TCK")
        page = resource.getpagesize()
        me = os.getpid()
        while not self._stop.wait(0.02):
            self.own_cpu_s = time.thread_time()
            parents: dict[int, int] = {}
            stats: dict[int, list[str]] = {}
            for entry in os.listdir("/proc"):
                if not entry.isdigit():
                    continue
                try:
                    raw = Path(f"/proc/{entry}/stat").read_text()
                    rss = int(Path(f"/proc/{entry}/statm").read_text().split()[1])
                except OSError:
                    continue
                fields = raw[raw.rfind(")") + 2 :].split()
                pid = int(entry)
                parents[pid] = int(fields[1])
                stats[pid] = [*fields, str(rss)]
            for pid, fields in stats.items():
                ancestor = parents.get(pid)
                while ancestor not in (None, 0, 1, me):
                    ancestor = parents.get(ancestor)
                if ancestor != me:
                    continue
                self.cpu[pid] = (int(fields[11]) + int(fields[12])) / tick
                self.rss_mib = max(self.rss_mib, int(fields[-1]) * page / 2**20)


async def _pdf(path: str) -> None:
    from ai_platform.core.errors import AIServiceError
    from ai_platform.services.knowledge.extract import extract

    data = await asyncio.to_thread(Path(path).read_bytes)
    cpu = time.process_time()
    wall = time.perf_counter()
    with _TreeSampler() as tree:
        try:
            result = await extract("bomb.pdf", "application/pdf", data)
            outcome = f"accepted, {len(result.text)} characters"
        except AIServiceError as exc:
            outcome = f"{exc.status_code} {exc.error_code}: {exc.message}"
    print(
        json.dumps(
            {
                "outcome": outcome,
                "wall_s": time.perf_counter() - wall,
                "cpu_s_here": time.process_time() - cpu - tree.own_cpu_s,
                "cpu_s_children": sum(tree.cpu.values()),
                "rss_peak_mib_here": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "rss_peak_mib_children": tree.rss_mib,
            }
        )
    )


# -- the driver --------------------------------------------------------------------------


def _child_env(source: Path, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "LLM_"))}
    env["PYTHONPATH"] = os.pathsep.join([str(source), str(ROOT)])
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def _run_step(source: Path, env: dict[str, str], *args: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, __file__, *args],
        env=_child_env(source, env),
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


async def images(args: argparse.Namespace, source: Path) -> None:
    import httpx

    from ai_platform.harness.ports import free_port
    from ai_platform.harness.processes import ServerProcess

    body = png(args.side)
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            "ENVIRONMENT": "test",
            "SECRET_KEY": "bench-secret",
            "DATABASE_URL": f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}",
            "DATA_DIR": tmp,
            "ACCESS_LOG": "false",
            "LOG_LEVEL": "WARNING",
            "SIMULATOR_TTFT_MS": "0",
            "SIMULATOR_TOKENS_PER_S": "0",
            "SIMULATOR_JITTER": "0",
        }
        key = str(_run_step(source, env, "--step", "setup", env["DATABASE_URL"])["key"])
        port = free_port()
        command = [
            sys.executable, "-m", "uvicorn", "ai_platform.gateway.app:create_app", "--factory",
            "--port", str(port), "--no-access-log", "--log-level", "warning",
        ]  # fmt: skip
        server = ServerProcess("platform", command, port=port, env=_child_env(source, env))
        with server:
            idle = rss_peak_mib(server.pid)
            health: list[float] = []
            done = asyncio.Event()

            async with httpx.AsyncClient(base_url=server.url, timeout=300) as http:

                async def probe() -> None:
                    while not done.is_set():
                        started = time.perf_counter()
                        await http.get("/health")
                        health.append(time.perf_counter() - started)
                        await asyncio.sleep(0.05)

                async def one(n: int) -> int:
                    resp = await http.post(
                        "/api/v1/assistant/analyze",
                        files=[("images", (f"{n}.png", body, "image/png"))],
                        data={"prompt": "What colour is this?"},
                        headers={"X-API-Key": key},
                    )
                    return resp.status_code

                prober = asyncio.create_task(probe())
                started = time.perf_counter()
                codes = await asyncio.gather(*(one(n) for n in range(args.concurrency)))
                elapsed = time.perf_counter() - started
                done.set()
                await prober
            peak = rss_peak_mib(server.pid)
    statuses = {c: codes.count(c) for c in sorted(set(codes))}
    print(
        f"images: {args.concurrency} concurrent analyze, {args.side}x{args.side} PNG "
        f"({len(body) / 1024:.0f} KiB each, {len(body) * args.concurrency / 1e6:.1f} MB total)"
    )
    print(f"  source          {source}")
    print(f"  statuses        {statuses}")
    print(f"  wall            {elapsed:.1f} s")
    print(f"  server RSS      idle {idle:.0f} MiB -> peak {peak:.0f} MiB")
    print(f"  /health         {len(health)} probes, slowest {max(health, default=0) * 1000:.0f} ms")


def pdfs(args: argparse.Namespace, source: Path) -> None:
    data = content_bomb_pdf(args.pdf_inflated_mb * 1_000_000)
    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(data)
        handle.flush()
        result = _run_step(source, {"ENVIRONMENT": "test"}, "--step", "pdf", handle.name)
    print(
        f"pdf: one page, {len(data) / 1024:.0f} KiB file, content stream inflating to "
        f"~{args.pdf_inflated_mb} MB"
    )
    print(f"  source          {source}")
    print(f"  outcome         {result['outcome']}")
    print(f"  wall            {result['wall_s']:.1f} s")
    print(
        f"  CPU             {result['cpu_s_here']:.1f} s in the caller, "
        f"{result['cpu_s_children']:.1f} s in child processes (sampled)"
    )
    print(
        f"  peak RSS        {result['rss_peak_mib_here']:.0f} MiB caller, "
        f"{result['rss_peak_mib_children']:.0f} MiB largest child"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=ROOT / "platform")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--side", type=int, default=6300)
    parser.add_argument("--pdf-inflated-mb", type=int, default=60)
    parser.add_argument("--only", choices=["images", "pdf"])
    parser.add_argument("--step", choices=["setup", "pdf"], help=argparse.SUPPRESS)
    parser.add_argument("arg", nargs="?", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step == "setup":
        asyncio.run(_setup(args.arg))
        return
    if args.step == "pdf":
        asyncio.run(_pdf(args.arg))
        return
    source = args.source.resolve()
    if args.only in (None, "images"):
        asyncio.run(images(args, source))
    if args.only in (None, "pdf"):
        pdfs(args, source)


if __name__ == "__main__":
    main()
