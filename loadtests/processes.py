"""Child processes of a load test: servers started for the run, and their CPU use.

Every server is its own process (never a thread of the load generator), so the
generator's CPU, the server's and the simulator's can be told apart with psutil.
Starting, health-waiting and stopping them is ``ai_platform.harness.processes``.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil  # type: ignore[import-untyped]

from ai_platform.harness.ports import free_port
from ai_platform.harness.processes import ROOT, ServerProcess, child_env, simulator_process

__all__ = [
    "ROOT",
    "CpuSampler",
    "CpuSeries",
    "ServerProcess",
    "child_env",
    "experiment_server",
    "free_port",
    "process_tree",
    "simulator_server",
]


def simulator_server(
    *,
    ttft_ms: float,
    tokens_per_s: float = 0.0,
    jitter: float = 0.0,
    log_path: Path | None = None,
) -> ServerProcess:
    """``ai-platform simulator`` as its own server (a stand-in for a provider, not a model)."""
    return simulator_process(
        ttft_ms=ttft_ms, tokens_per_s=tokens_per_s, jitter=jitter, log_path=log_path
    )


def experiment_server(
    *,
    llm_base_url: str | None,
    latency_ms: float,
    workers: int = 1,
    http: str = "httpx",
    thread_tokens: int | None = None,
    log_path: Path | None = None,
) -> ServerProcess:
    """The experiment app under uvicorn (uvloop, httptools, no access log)."""
    port = free_port()
    env = {
        "EXPERIMENT_LLM": "simulator" if llm_base_url else "sleep",
        "EXPERIMENT_LLM_BASE_URL": llm_base_url or "",
        "EXPERIMENT_LATENCY_MS": str(latency_ms),
        "EXPERIMENT_HTTP": http,
    }
    if thread_tokens is not None:
        env["EXPERIMENT_THREAD_TOKENS"] = str(thread_tokens)
    command = [
        sys.executable, "-m", "uvicorn", "loadtests.experiment_app:create_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
        "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning",
        # A blocked loop may hold hundreds of queued requests; do not drain them at exit.
        "--timeout-graceful-shutdown", "1",
    ]  # fmt: skip
    return ServerProcess("experiment app", command, port=port, env=env, log_path=log_path)


def process_tree(pid: int) -> list[psutil.Process]:
    try:
        parent = psutil.Process(pid)
        return [parent, *parent.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


@dataclass
class CpuSeries:
    """CPU samples of a group of processes, in percent of one core."""

    samples: list[float] = field(default_factory=list)
    per_process_max: list[float] = field(default_factory=list)

    @property
    def mean(self) -> float:
        return sum(self.samples) / len(self.samples) if self.samples else 0.0

    @property
    def peak(self) -> float:
        return max(self.samples, default=0.0)

    @property
    def busiest_process_mean(self) -> float:
        """Mean of the busiest single process: a Python process can use only one core."""
        return (
            sum(self.per_process_max) / len(self.per_process_max) if self.per_process_max else 0.0
        )


class CpuSampler:
    """Samples the CPU of named process trees in a background thread.

    ``start_measuring()`` drops the samples taken so far (the spawn ramp), so the
    numbers describe the measured window.
    """

    def __init__(self, roots: Mapping[str, Sequence[int]], interval_s: float = 0.5) -> None:
        self.roots = {name: list(pids) for name, pids in roots.items()}
        self.interval_s = interval_s
        self.series: dict[str, CpuSeries] = {name: CpuSeries() for name in roots}
        self._known: dict[int, psutil.Process] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cpu-sampler", daemon=True)

    def _tree(self, pid: int) -> list[psutil.Process]:
        found = []
        for proc in process_tree(pid):
            known = self._known.get(proc.pid)
            if known is None:
                known = self._known[proc.pid] = proc
                with contextlib.suppress(psutil.Error):
                    known.cpu_percent(None)  # the first call only sets the baseline
            found.append(known)
        return found

    def _run(self) -> None:
        for pids in self.roots.values():
            for pid in pids:
                self._tree(pid)
        while not self._stop.wait(self.interval_s):
            for name, pids in self.roots.items():
                values = []
                for proc in (p for pid in pids for p in self._tree(pid)):
                    with contextlib.suppress(psutil.Error):
                        values.append(proc.cpu_percent(None))
                if values:
                    self.series[name].samples.append(sum(values))
                    self.series[name].per_process_max.append(max(values))

    def start(self) -> CpuSampler:
        self._thread.start()
        return self

    def start_measuring(self) -> None:
        for series in self.series.values():
            series.samples.clear()
            series.per_process_max.clear()

    def stop(self) -> dict[str, CpuSeries]:
        self._stop.set()
        self._thread.join(5)
        return self.series

    @contextlib.contextmanager
    def running(self) -> Iterator[CpuSampler]:
        self.start()
        try:
            yield self
        finally:
            self.stop()
