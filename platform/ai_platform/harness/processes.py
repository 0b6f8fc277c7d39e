"""Servers run as child processes: started, awaited until healthy, stopped as a group.

Used by the load tests, the benchmarks and the tests that need a server in another
process (a separately started simulator, a platform killed mid-request).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

from ai_platform.harness.ports import free_port
from ai_platform.harness.waiting import WaitTimeout, wait_for_sync

ROOT = Path(__file__).resolve().parents[3]
"""The repository (``platform/`` is the source root of the package)."""

CHILD_ENV_PREFIXES = ("SIMULATOR_", "LLM_", "REDIS_", "DATABASE_", "PROMETHEUS_")


def child_env(extra: Mapping[str, str] | None = None, *, clean: bool = False) -> dict[str, str]:
    """The environment for a child: the repository importable, output unbuffered.

    ``clean=True`` drops the platform's own settings inherited from this process
    (``LLM_*``, ``DATABASE_*`` ...) so that only ``extra`` configures the child.
    """
    env = {
        k: v for k, v in os.environ.items() if not (clean and k.startswith(CHILD_ENV_PREFIXES))
    }
    paths = [str(ROOT), str(ROOT / "platform")]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


def http_ok(url: str, timeout_s: float = 2.0) -> bool:
    """True when ``GET url`` answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False


class ServerProcess:
    """A server started as its own process group; stopped (SIGINT, then SIGKILL) on exit."""

    def __init__(
        self,
        name: str,
        command: Sequence[str],
        *,
        port: int,
        env: Mapping[str, str] | None = None,
        clean_env: bool = False,
        health_path: str = "/health",
        log_path: Path | None = None,
        startup_timeout_s: float = 60.0,
        cwd: Path = ROOT,
        cpus: set[int] | None = None,
    ) -> None:
        self.name = name
        self.command = list(command)
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.health_path = health_path
        self.log_path = log_path
        self.startup_timeout_s = startup_timeout_s
        self.cwd = cwd
        self.cpus = cpus
        self._env = child_env(env, clean=clean_env)
        self.process: subprocess.Popen[bytes] | None = None

    def _pin(self) -> None:
        if self.cpus:
            os.sched_setaffinity(0, self.cpus)

    def start(self) -> ServerProcess:
        """Spawn the process (pinned to ``cpus`` if given) and wait until it is healthy."""
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        try:
            self.process = subprocess.Popen(
                self.command,
                cwd=self.cwd,
                env=self._env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: stopping it stops uvicorn's workers
                preexec_fn=self._pin if self.cpus else None,
            )
        finally:
            if log is not subprocess.DEVNULL:
                log.close()  # type: ignore[union-attr]
        self.wait_healthy()
        return self

    def wait_healthy(self, timeout_s: float | None = None) -> None:
        """Block until the health path answers 200; fail if the process exits first."""

        def healthy() -> bool:
            process = self.process
            if process is None or process.poll() is not None:
                code = None if process is None else process.returncode
                raise RuntimeError(
                    f"{self.name} exited with {code} during startup"
                    + (f"; see {self.log_path}" if self.log_path else "")
                )
            return http_ok(self.url + self.health_path)

        try:
            wait_for_sync(
                healthy,
                timeout_s=timeout_s or self.startup_timeout_s,
                interval_s=0.05,
                what=f"{self.name} answering {self.health_path}",
            )
        except WaitTimeout:
            self.stop()
            raise

    @property
    def pid(self) -> int:
        if self.process is None:
            raise RuntimeError(f"{self.name} is not running")
        return self.process.pid

    def kill(self) -> None:
        """SIGKILL the whole group: a crash, with no shutdown code run."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)

    def stop(self, timeout_s: float = 10.0) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def simulator_process(
    *,
    ttft_ms: float = 0.0,
    tokens_per_s: float = 0.0,
    jitter: float = 0.0,
    port: int | None = None,
    log_path: Path | None = None,
    cpus: set[int] | None = None,
) -> ServerProcess:
    """``ai-platform simulator`` as its own server (a stand-in for a provider, not a model)."""
    port = port or free_port()
    command = [
        sys.executable, "-m", "ai_platform.cli", "simulator",
        "--port", str(port),
        "--ttft-ms", str(ttft_ms),
        "--tokens-per-s", str(tokens_per_s),
        "--jitter", str(jitter),
    ]  # fmt: skip
    return ServerProcess(
        "simulator", command, port=port, clean_env=True, log_path=log_path, cpus=cpus
    )
