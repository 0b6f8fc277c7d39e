"""Throughput and memory of the LLM simulator served on its own, on one core.

Starts ``python -m ai_platform.llm.simulator`` as a separate uvicorn process (one
worker, uvloop + httptools, access log off, zero latency, no faults), pins it to one
CPU, and drives it from other process(es) pinned to the remaining CPU(s) with
non-streaming chat completions over keep-alive connections. Prints requests per
second, latency percentiles and the server's RSS after warm-up, during and at the end.

Generators:
  python  (default) a raw asyncio/uvloop HTTP/1.1 client: a prebuilt request, responses
          framed by Content-Length. Far cheaper per request than aiohttp or httpx, so
          on a 2-core machine it is less likely than they are to be the bottleneck.
  wrk     the C load generator, if installed (``apt-get install wrk``).

    python benchmarks/simulator_throughput.py                     # 200k requests
    python benchmarks/simulator_throughput.py --requests 500000 --connections 128
    python benchmarks/simulator_throughput.py --generator wrk --duration 30
    python benchmarks/simulator_throughput.py --stream            # SSE, unpaced
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import orjson
import psutil

sys.path[:0] = [str(Path(__file__).resolve().parents[1])]

from benchmarks.loadgen import drive, free_port, percentile  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

CHAT_BODY = {
    "model": "gpt-4o-mini",
    "messages": [
        {"role": "system", "content": "You are a helpful assistant for an online shop."},
        {"role": "user", "content": "How do I make my Python web service faster under load?"},
    ],
    "max_tokens": 128,
}


def start_server(port: int, cpu: int | None) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIMULATOR_")}
    env["PYTHONPATH"] = str(ROOT / "platform") + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [
        sys.executable, "-m", "ai_platform.llm.simulator", "--host", "127.0.0.1",
        "--port", str(port), "--ttft-ms", "0", "--tokens-per-s", "0", "--log-level", "warning",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env)
    if cpu is not None:
        os.sched_setaffinity(proc.pid, {cpu})
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"simulator exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as sock:
                sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                if sock.recv(64).startswith(b"HTTP/1.1 200"):
                    return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("simulator did not start within 20 s")


def build_request(port: int, stream: bool) -> bytes:
    body = dict(CHAT_BODY)
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    payload = orjson.dumps(body)
    head = (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nAuthorization: Bearer sk-bench\r\n"
        f"Content-Length: {len(payload)}\r\n\r\n"
    )
    return head.encode() + payload


# -- the raw asyncio generator -----------------------------------------------------------


def _worker(
    port: int, request: bytes, connections: int, count: int, cpus: set[int], out: mp.Queue
) -> None:  # type: ignore[type-arg]
    if cpus:
        os.sched_setaffinity(0, cpus)
    import uvloop

    started = time.perf_counter()
    result = uvloop.run(drive(port, request, connections, count))
    elapsed = time.perf_counter() - started
    errors = sum(n for status, n in result.statuses.items() if status != 200)
    out.put((result.done, errors, elapsed, result.latencies))


def run_python(
    port: int, request: bytes, total: int, connections: int, processes: int, cpus: set[int]
) -> tuple[int, int, float, list[float]]:
    ctx = mp.get_context("spawn")
    queue: mp.Queue = ctx.Queue()  # type: ignore[type-arg]
    per = total // processes
    procs = [
        ctx.Process(
            target=_worker, args=(port, request, connections // processes, per, cpus, queue)
        )
        for _ in range(processes)
    ]
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    # Each generator times its own run, so process start-up is not counted.
    elapsed = max(r[2] for r in results)
    for p in procs:
        p.join()
    done = sum(r[0] for r in results)
    errors = sum(r[1] for r in results)
    latencies = [x for r in results for x in r[3]]
    return done, errors, elapsed, latencies


# -- wrk -----------------------------------------------------------------------------------


def run_wrk(
    port: int, duration: int, connections: int, threads: int, cpus: set[int], stream: bool
) -> tuple[int, int, float, str]:
    body = dict(CHAT_BODY)
    if stream:
        body["stream"] = True
    script = (
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f"wrk.body = [[{orjson.dumps(body).decode()}]]\n"
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(script)
        path = fh.name
    cmd = [
        "wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s", "--latency",
        "-s", path, f"http://127.0.0.1:{port}/v1/chat/completions",
    ]  # fmt: skip
    if cpus:
        cmd = ["taskset", "-c", ",".join(map(str, sorted(cpus))), *cmd]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    os.unlink(path)
    done = errors = 0
    for line in out.splitlines():
        parts = line.split()
        if "requests in" in line:
            done = int(parts[0])
        if line.strip().startswith("Non-2xx"):
            errors = int(parts[-1])
    return done, errors, float(duration), out


# -- main ----------------------------------------------------------------------------------


class _RssSampler(threading.Thread):
    def __init__(self, pid: int, every_s: float = 1.0) -> None:
        super().__init__(daemon=True)
        self.proc = psutil.Process(pid)
        self.every_s = every_s
        self.samples: list[int] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(self.every_s):
            try:
                self.samples.append(self.proc.memory_info().rss)
            except psutil.Error:
                return


def mib(n: float) -> str:
    return f"{n / 2**20:.1f} MiB"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--generator", choices=("python", "wrk"), default="python")
    parser.add_argument(
        "--requests", type=int, default=200_000, help="python generator: timed requests"
    )
    parser.add_argument("--warmup", type=int, default=10_000)
    parser.add_argument("--duration", type=int, default=30, help="wrk: seconds")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--processes", type=int, default=1, help="python generator processes")
    parser.add_argument("--stream", action="store_true", help="SSE streaming instead of JSON")
    args = parser.parse_args()

    cores = sorted(os.sched_getaffinity(0))
    server_cpu = cores[0]
    client_cpus = set(cores[1:]) or set(cores)
    port = free_port()
    server = start_server(port, server_cpu)
    request = build_request(port, args.stream)
    kind = "streaming" if args.stream else "non-streaming"
    print(
        f"simulator pid {server.pid} on CPU {server_cpu}; generator on CPU(s) {sorted(client_cpus)}"
    )
    print(f"workload: {kind} chat completions, {args.connections} keep-alive connections")
    try:
        run_python(port, request, args.warmup, min(args.connections, 16), 1, client_cpus)
        proc = psutil.Process(server.pid)
        rss_start = proc.memory_info().rss
        cpu_start = proc.cpu_times()
        sampler = _RssSampler(server.pid)
        sampler.start()
        if args.generator == "python":
            done, errors, elapsed, latencies = run_python(
                port, request, args.requests, args.connections, args.processes, client_cpus
            )
            extra = (
                f"latency p50 {percentile(latencies, 50) * 1000:.2f} ms, "
                f"p99 {percentile(latencies, 99) * 1000:.2f} ms"
            )
        else:
            if shutil.which("wrk") is None:
                raise SystemExit("wrk is not installed (apt-get install -y wrk)")
            done, errors, elapsed, report = run_wrk(
                port,
                args.duration,
                args.connections,
                max(1, len(client_cpus)),
                client_cpus,
                args.stream,
            )
            extra = "\n" + report
        sampler.stop.set()
        sampler.join()
        cpu_end = proc.cpu_times()
        rss_end = proc.memory_info().rss
        busy = (cpu_end.user + cpu_end.system) - (cpu_start.user + cpu_start.system)
        samples = sampler.samples or [rss_end]
        print(
            f"generator: {args.generator}; requests {done:,} in {elapsed:.1f} s, non-200: {errors}"
        )
        print(f"throughput: {done / elapsed:,.0f} req/s; {extra}")
        print(f"server CPU busy: {busy / elapsed:.0%} of one core")
        print(
            f"server RSS: start {mib(rss_start)}, max during run {mib(max(samples))}, "
            f"end {mib(rss_end)} (growth {mib(rss_end - rss_start)})"
        )
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    main()
