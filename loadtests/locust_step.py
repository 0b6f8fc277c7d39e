"""One step of a ramp: Locust headless at a fixed user count, its CSV read back.

Each step is its own Locust run (``--reset-stats`` drops the spawn ramp), so its
statistics describe N users in steady state, not an average over the ramp. With
``distributed=N`` the step is a Locust master and N worker processes on this machine.
"""

from __future__ import annotations

import csv
import math
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from loadtests.processes import ROOT, CpuSampler, child_env, free_port

LOCUSTFILE = ROOT / "loadtests" / "locustfile.py"
# Locust warns at 90% of a core; warn a little earlier, since a sampled mean hides peaks.
GENERATOR_CPU_WARN_PCT = 85.0


@dataclass
class StepSpec:
    label: str
    user_classes: Sequence[str]
    users: int
    spawn_rate: float
    duration_s: float
    host: str
    out_dir: Path
    env: Mapping[str, str] = field(default_factory=dict)
    distributed: int = 0
    sampled: Mapping[str, Sequence[int]] = field(default_factory=dict)

    @property
    def prefix(self) -> Path:
        return self.out_dir / f"{self.label}_u{self.users}"

    @property
    def spawn_s(self) -> float:
        return self.users / self.spawn_rate if self.spawn_rate > 0 else 0.0

    @property
    def run_time_s(self) -> int:
        return math.ceil(self.spawn_s + self.duration_s)


@dataclass
class Row:
    name: str
    method: str
    requests: int
    failures: int
    rps: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    avg_ms: float | None
    max_ms: float | None


@dataclass
class StepResult:
    label: str
    users: int
    duration_s: float
    aggregated: Row
    rows: list[Row]
    generator_cpu_mean: float
    generator_cpu_peak: float
    generator_busiest_process_mean: float
    cpu: dict[str, float]
    locust_cpu_warning: bool
    exit_code: int
    csv_prefix: str
    html: str
    elapsed_s: float

    @property
    def generator_bound(self) -> bool:
        return (
            self.locust_cpu_warning or self.generator_busiest_process_mean > GENERATOR_CPU_WARN_PCT
        )

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["generator_bound"] = self.generator_bound
        return out


def _number(value: str | None) -> float | None:
    if value in (None, "", "N/A"):
        return None
    try:
        return float(value)
    except ValueError:
        return None


def read_stats(path: Path) -> tuple[Row, list[Row]]:
    """The Aggregated row and the per-request rows of a Locust ``_stats.csv``."""
    aggregated: Row | None = None
    rows: list[Row] = []
    with path.open(newline="") as handle:
        for record in csv.DictReader(handle):
            row = Row(
                name=record["Name"],
                method=record["Type"],
                requests=int(record["Request Count"]),
                failures=int(record["Failure Count"]),
                rps=float(record["Requests/s"] or 0),
                p50_ms=_number(record.get("50%")),
                p95_ms=_number(record.get("95%")),
                p99_ms=_number(record.get("99%")),
                avg_ms=_number(record.get("Average Response Time")),
                max_ms=_number(record.get("Max Response Time")),
            )
            if record["Name"] == "Aggregated":
                aggregated = row
            else:
                rows.append(row)
    if aggregated is None:
        raise ValueError(f"{path} has no Aggregated row")
    return aggregated, rows


def locust_command(spec: StepSpec, *, master_port: int | None = None) -> list[str]:
    command = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
        "-u", str(spec.users), "-r", str(spec.spawn_rate), "-t", f"{spec.run_time_s}s",
        "--host", spec.host,
        "--csv", str(spec.prefix), "--html", f"{spec.prefix}.html",
        "--only-summary", "--reset-stats", "--exit-code-on-error", "0",
        "--logfile", f"{spec.prefix}.log",
    ]  # fmt: skip
    if master_port is not None:
        command += [
            "--master", "--master-bind-host", "127.0.0.1", "--master-bind-port", str(master_port),
            "--expect-workers", str(spec.distributed), "--expect-workers-max-wait", "60",
        ]  # fmt: skip
    return [*command, *spec.user_classes]


def worker_command(spec: StepSpec, master_port: int, index: int) -> list[str]:
    return [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--worker",
        "--master-host", "127.0.0.1", "--master-port", str(master_port), "--reset-stats",
        "--logfile", f"{spec.prefix}.worker{index}.log", *spec.user_classes,
    ]  # fmt: skip


def _cpu_warned(spec: StepSpec) -> bool:
    logs = [Path(f"{spec.prefix}.log"), *spec.out_dir.glob(f"{spec.prefix.name}.worker*.log")]
    return any("CPU usage" in log.read_text(errors="replace") for log in logs if log.exists())


def run_step(spec: StepSpec) -> StepResult:
    """Run Locust for one step and return its numbers (CPU of every process included)."""
    spec.out_dir.mkdir(parents=True, exist_ok=True)
    env = child_env(spec.env)
    master_port = free_port() if spec.distributed else None
    started = time.monotonic()
    workers: list[subprocess.Popen[bytes]] = []
    stdout = open(f"{spec.prefix}.stdout.txt", "wb")  # noqa: SIM115
    try:
        master = subprocess.Popen(
            locust_command(spec, master_port=master_port),
            cwd=ROOT,
            env=env,
            stdout=stdout,
            stderr=subprocess.STDOUT,
        )
        for index in range(spec.distributed):
            assert master_port is not None
            workers.append(
                subprocess.Popen(
                    worker_command(spec, master_port, index),
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        roots = {"generator": [master.pid, *(w.pid for w in workers)], **spec.sampled}
        sampler = CpuSampler(roots).start()
        try:
            # Locust needs a moment to import and spawn; measure the steady state only.
            time.sleep(min(spec.spawn_s + 2.0, spec.run_time_s))
            sampler.start_measuring()
            exit_code = master.wait(timeout=spec.run_time_s + 120)
        finally:
            series = sampler.stop()
    finally:
        stdout.close()
        for worker in workers:
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(5)
    stats = Path(f"{spec.prefix}_stats.csv")
    if not stats.exists():
        raise RuntimeError(
            f"Locust wrote no {stats.name} (exit {exit_code}); see {spec.prefix}.log"
        )
    aggregated, rows = read_stats(stats)
    generator = series["generator"]
    return StepResult(
        label=spec.label,
        users=spec.users,
        duration_s=spec.duration_s,
        aggregated=aggregated,
        rows=rows,
        generator_cpu_mean=round(generator.mean, 1),
        generator_cpu_peak=round(generator.peak, 1),
        generator_busiest_process_mean=round(generator.busiest_process_mean, 1),
        cpu={name: round(s.mean, 1) for name, s in series.items() if name != "generator"},
        locust_cpu_warning=_cpu_warned(spec),
        exit_code=exit_code,
        csv_prefix=str(spec.prefix),
        html=f"{spec.prefix}.html",
        elapsed_s=round(time.monotonic() - started, 1),
    )
