"""Crash safety, measured: ``kill -9`` the platform mid-traffic, restart it, and check
that the ledger kept every answered request and that the restarted budget agrees.

For each configuration ({1, 2} uvicorn workers x {budgets in process memory, in Redis})
the platform (``ai-platform serve``, embedded simulator, 30 ms to first token) keeps
one ``DATA_DIR`` and one database across restarts and gets one tenant. Then:

  control   one round of N governed chats (``POST /api/v1/agent/chat``) at concurrency C,
            run to the end, then a graceful stop (SIGINT) and a restart
  kill      ``--rounds`` rounds: N chats at concurrency C; at a random instant after
            the first answer (``random.uniform`` over a window, ``--seed``; at the latest
            when 90 % are answered) the whole process group gets SIGKILL; no further
            requests are sent; restart

After each restart the script waits (with a deadline) until no write-ahead-log
segment of a dead process is left in ``DATA_DIR/ledger-wal`` (replayed at start, and
by a live process every 5 s), then checks:

  missing       request ids the client saw a 200 for (``X-Request-ID``) that have no
                ledger row (must be 0)
  interrupted   rows replayed from a checkpoint only (outcome ``interrupted``)
  budget        the restarted platform's view of the month's spend against the ledger's
                ``SUM(cost_usd)``: the tenant's ``monthly_budget_usd`` is set to exactly
                that sum and one more chat is sent; it must be refused 429
                ``budget_exceeded`` and ``details.spent_usd`` must equal the sum
                (+- 1e-8, the envelope rounds to 8 places)

What the budget check compares depends on the backend:

- memory, 1 worker: the restarted process loads the month's spend from the ledger at
  its first use of the client (here: the probe), so this checks the replay reached
  the database before the budget read it.
- memory, 2 workers: each worker keeps its own budget counters (documented: run one
  worker or use Redis), so there is no single budget to compare; only the ledger is
  checked.
- Redis: the counters outlive the platform; a restart reads ``spent`` from Redis,
  not from the ledger. So this compares what Redis charged with what the ledger
  holds; the script also reads the Redis hash directly (exact, in 1e-10 USD units).
  A difference is reported as found, not hidden.

    python benchmarks/crash_safety.py                                  # all four, 5 rounds
    python benchmarks/crash_safety.py --configs redis-2w --rounds 10 --seed 7
    python benchmarks/crash_safety.py --database sqlite --configs memory-1w,redis-1w
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import shutil
import signal
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp

sys.path[:0] = [
    str(Path(__file__).resolve().parents[1]),
    str(Path(__file__).resolve().parents[1] / "platform"),
]

from ai_platform.harness.ports import free_port  # noqa: E402
from ai_platform.harness.processes import ServerProcess  # noqa: E402
from ai_platform.harness.stats import percentile  # noqa: E402
from ai_platform.harness.tables import markdown_table  # noqa: E402
from ai_platform.harness.tenants import Tenant, create_tenant  # noqa: E402
from ai_platform.harness.waiting import WaitTimeout, wait_for  # noqa: E402

SECRET = "crash-safety-benchmark-secret-not-for-production-01"
PG_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
ROOMY_BUDGET_USD = Decimal(1000)
"""The tenant's budget while traffic runs: never the limit that refuses a request."""
TOLERANCE_USD = 1e-8
ROUTES = {
    "agent": ("/api/v1/agent/chat", "message", "What is your returns policy? ({i})"),
    "knowledge": ("/api/v1/knowledge/answer", "question", "How long is the warranty? ({i})"),
}
CONFIGS = {
    # name: (uvicorn workers, budgets in Redis)
    "memory-1w": (1, False),
    "memory-2w": (2, False),
    "redis-1w": (1, True),
    "redis-2w": (2, True),
}


# -- the platform --------------------------------------------------------------------


@dataclass
class Deployment:
    name: str
    workers: int
    redis: bool
    database_url: str
    data_dir: Path
    key_prefix: str
    ttft_ms: float
    server: ServerProcess | None = None

    @property
    def wal_dir(self) -> Path:
        return self.data_dir / "ledger-wal"

    def env(self) -> dict[str, str]:
        env = {
            "ENVIRONMENT": "test",
            "SECRET_KEY": SECRET,
            "DATABASE_URL": self.database_url,
            "DATA_DIR": str(self.data_dir),
            "LOG_LEVEL": "ERROR",
            "ACCESS_LOG": "false",
            "SIMULATOR_TTFT_MS": str(self.ttft_ms),
            "SIMULATOR_TOKENS_PER_S": "0",
            "SIMULATOR_JITTER": "0",
            "AUTH_CACHE_TTL_S": "0",  # the probe's budget change must be seen at once
            "REDIS_KEY_PREFIX": self.key_prefix,
        }
        if self.redis:
            env["REDIS_URL"] = REDIS_URL
        if self.workers > 1:
            env["PROMETHEUS_MULTIPROC_DIR"] = str(self.data_dir / "metrics")
        return env

    def start(self) -> ServerProcess:
        """Start (or restart) the platform on this deployment's DATA_DIR and database."""
        port = free_port()
        if self.workers > 1:
            # Must exist before the CLI imports the metrics module (which opens its
            # files there); ``serve`` empties it before starting the workers.
            (self.data_dir / "metrics").mkdir(exist_ok=True)
        command = [
            sys.executable, "-m", "ai_platform.cli", "serve", "--host", "127.0.0.1",
            "--port", str(port), "--workers", str(self.workers),
        ]  # fmt: skip
        self.server = ServerProcess(
            f"platform ({self.name})",
            command,
            port=port,
            env=self.env(),
            clean_env=True,
            log_path=self.data_dir / "server.log",
        ).start()
        return self.server

    def pids(self) -> set[int]:
        """The server's process and its workers (whose log segments carry their pid)."""
        import psutil

        assert self.server is not None
        root = psutil.Process(self.server.pid)
        return {root.pid, *(p.pid for p in root.children(recursive=True))}

    def kill(self) -> None:
        """SIGKILL the whole process group: a crash, no shutdown code runs."""
        assert self.server is not None
        os.killpg(self.server.pid, signal.SIGKILL)
        self.server.kill()  # reaps it
        self.server = None

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop(timeout_s=30)
            self.server = None


def segment_pid(path: Path) -> int | None:
    # ledger-wal-<pid>-<seq>-<id>.jsonl (governance/wal.py)
    try:
        return int(path.name.split("-")[2])
    except (IndexError, ValueError):
        return None


def segments_of(wal_dir: Path, pids: set[int]) -> list[Path]:
    if not wal_dir.is_dir():
        return []
    return [p for p in wal_dir.glob("ledger-wal-*.jsonl") if segment_pid(p) in pids]


# -- traffic -------------------------------------------------------------------------


@dataclass
class Traffic:
    sent: int = 0
    answered: list[str] = field(default_factory=list)
    """X-Request-ID of every response whose status line said 200."""
    cut: int = 0
    """200s whose body did not arrive whole (the server died while sending it)."""
    errors: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    started: float = 0.0
    first_answer: float | None = None
    ended: float | None = None


async def run_traffic(
    base_url: str,
    tenant: Tenant,
    traffic: Traffic,
    *,
    requests: int,
    concurrency: int,
    route: str,
    stop: asyncio.Event,
) -> Traffic:
    path, field_name, text = ROUTES[route]
    numbers = iter(range(requests))
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=60)
    traffic.started = time.monotonic()

    async def worker(session: aiohttp.ClientSession) -> None:
        for i in numbers:
            if stop.is_set():
                return  # the server is being killed: send nothing more
            traffic.sent += 1
            status = 0
            try:
                async with session.post(
                    path, json={field_name: text.format(i=i)}, headers=tenant.headers
                ) as resp:
                    status = resp.status
                    if status == 200:
                        traffic.answered.append(resp.headers["x-request-id"])
                        if traffic.first_answer is None:
                            traffic.first_answer = time.monotonic()
                    await resp.read()
            except (aiohttp.ClientError, OSError, TimeoutError):
                traffic.errors += 1
                if status == 200:
                    traffic.cut += 1
                continue
            traffic.statuses[status] += 1

    async with aiohttp.ClientSession(base_url, connector=connector, timeout=timeout) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    traffic.ended = time.monotonic()
    return traffic


# -- the database, Redis -------------------------------------------------------------


class Ledger:
    """Reads of ``usage_ledger`` and writes of the tenant's budget."""

    def __init__(self, database_url: str) -> None:
        from ai_platform.db.engine import create_engine, create_sessionmaker

        self.engine = create_engine(database_url)
        self.sessionmaker = create_sessionmaker(self.engine)

    async def rows(self, client_id: str) -> dict[str, tuple[str, Decimal, datetime]]:
        """request_id -> (outcome, cost_usd, created_at) for the client."""
        from sqlalchemy import select

        from ai_platform.db.models import UsageRecord

        u = UsageRecord
        async with self.sessionmaker() as session:
            result = await session.execute(
                select(u.request_id, u.outcome, u.cost_usd, u.created_at).where(
                    u.client_id == client_id
                )
            )
            return {r[0]: (r[1], Decimal(r[2]), r[3]) for r in result.all()}

    async def set_budget(self, client_id: str, usd: Decimal) -> None:
        from sqlalchemy import update

        from ai_platform.db.models import Client

        async with self.sessionmaker() as session:
            await session.execute(
                update(Client).where(Client.id == client_id).values(monthly_budget_usd=usd)
            )
            await session.commit()

    async def aclose(self) -> None:
        await self.engine.dispose()


def month_sum(rows: dict[str, tuple[str, Decimal, datetime]]) -> Decimal:
    """SUM(cost_usd) since the first of this month (UTC): what a budget reloads."""
    now = datetime.now(UTC)
    start = datetime(now.year, now.month, 1, tzinfo=UTC)
    total = Decimal(0)
    for _, cost, created in rows.values():
        created = created if created.tzinfo else created.replace(tzinfo=UTC)
        if created >= start:
            total += cost
    return total


async def redis_spent(key_prefix: str, client_id: str) -> Decimal | None:
    """The ``spent`` field of the client's budget hash for this month (exact)."""
    import redis.asyncio as aioredis

    from ai_platform.governance.budget import UNITS_PER_USD, RedisBudget, month_key

    async def no_loader(_client_id: str, _since: datetime) -> float:
        return 0.0

    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        key = RedisBudget(client, no_loader, key_prefix=key_prefix).keys(
            client_id, month_key(datetime.now(UTC))
        )[0]
        raw = await client.hget(key, "spent")
    finally:
        await client.aclose()
    return None if raw is None else Decimal(int(raw)) / UNITS_PER_USD


async def drop_redis_keys(pattern: str) -> None:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        async for key in client.scan_iter(match=pattern, count=1000):
            await client.delete(key)
    finally:
        await client.aclose()


async def create_database(kind: str, root: Path) -> tuple[str, str | None]:
    """A fresh, migrated database: (url, PostgreSQL database name to drop or None)."""
    from ai_platform.db.migrate import upgrade

    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{root / 'platform.db'}"
        await upgrade(url)
        return url, None
    import asyncpg
    from sqlalchemy.engine.url import make_url

    admin = make_url(PG_ADMIN_URL)
    name = f"crash_safety_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(admin.set(drivername="postgresql").render_as_string(False))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = admin.set(database=name).render_as_string(hide_password=False)
    await upgrade(url)
    return url, name


async def drop_database(name: str) -> None:
    import asyncpg
    from sqlalchemy.engine.url import make_url

    admin = make_url(PG_ADMIN_URL)
    conn = await asyncpg.connect(admin.set(drivername="postgresql").render_as_string(False))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


# -- one round -----------------------------------------------------------------------


@dataclass
class RoundResult:
    config: str
    kind: str  # "kill" | "graceful"
    index: int
    traffic: Traffic
    kill_after_s: float | None = None
    """Seconds after the first answer at which the group got SIGKILL."""
    ended_before_kill: bool = False
    capped: bool = False
    """Killed when 90 % of the requests had been answered, before the drawn instant."""
    replay_s: float = 0.0
    left_segments: int = 0
    missing: int = 0
    interrupted: int = 0
    answered_interrupted: int = 0
    ledger_usd: Decimal = Decimal(0)
    probe: str = ""
    budget_usd: float | None = None
    redis_usd: Decimal | None = None
    redis_added: Decimal | None = None
    """How much the Redis-minus-ledger difference grew in this round."""

    @property
    def budget_diff(self) -> float | None:
        if self.budget_usd is None:
            return None
        return self.budget_usd - float(self.ledger_usd)

    @property
    def redis_diff(self) -> Decimal | None:
        return None if self.redis_usd is None else self.redis_usd - self.ledger_usd


async def probe_budget(
    d: Deployment, ledger: Ledger, tenant: Tenant, route: str, spent: Decimal
) -> tuple[str, float | None]:
    """Budget := the ledger's sum; one more call must be refused and report that spend."""
    assert d.server is not None
    path, field_name, _ = ROUTES[route]
    await ledger.set_budget(tenant.client_id, spent)
    try:
        async with (
            aiohttp.ClientSession(d.server.url) as session,
            session.post(path, json={field_name: "One more?"}, headers=tenant.headers) as resp,
        ):
            body: dict[str, Any] = await resp.json(content_type=None)
            status = resp.status
    finally:
        await ledger.set_budget(tenant.client_id, ROOMY_BUDGET_USD)
    error = body.get("error") or {}
    code = error.get("code")
    if status == 429 and code == "budget_exceeded":
        return "refused", float(error["details"]["spent_usd"])
    return f"{status} {code or 'ok'} (not refused)", None


async def one_round(
    d: Deployment,
    ledger: Ledger,
    tenant: Tenant,
    args: argparse.Namespace,
    *,
    kind: str,
    index: int,
    kill_window: tuple[float, float],
    rng: random.Random,
) -> RoundResult:
    assert d.server is not None
    before = await ledger.rows(tenant.client_id)
    interrupted_before = sum(1 for o, _, _ in before.values() if o == "interrupted")
    traffic = Traffic()
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_traffic(
            d.server.url,
            tenant,
            traffic,
            requests=args.requests,
            concurrency=args.concurrency,
            route=args.route,
            stop=stop,
        )
    )
    result = RoundResult(d.name, kind, index, traffic)
    dead = d.pids()
    if kind == "kill":
        await wait_for(
            lambda: traffic.first_answer is not None or task.done(),
            timeout_s=60,
            what="the first answer",
        )
        # A random instant after the first answer, but never after 90 % of the requests
        # were answered (round times vary on a shared machine): the kill lands mid-traffic.
        deadline = time.monotonic() + rng.uniform(*kill_window)
        cap = max(1, int(args.requests * 0.9))
        await wait_for(
            lambda: task.done() or time.monotonic() >= deadline or len(traffic.answered) >= cap,
            timeout_s=kill_window[1] + 120,
            interval_s=0.005,
            what="the kill instant",
        )
        result.capped = len(traffic.answered) >= cap and time.monotonic() < deadline
        result.ended_before_kill = task.done()
        stop.set()
        result.kill_after_s = time.monotonic() - (traffic.first_answer or traffic.started)
        await asyncio.to_thread(d.kill)
        await task
    else:
        await task
        await asyncio.to_thread(d.stop)

    await asyncio.to_thread(d.start)
    # Replayed at start; a live worker also claims dead processes' segments every 5 s.
    started = time.monotonic()
    with contextlib.suppress(WaitTimeout):
        await wait_for(
            lambda: not segments_of(d.wal_dir, dead),
            timeout_s=args.replay_timeout,
            interval_s=0.1,
            what="the dead processes' log segments replayed",
        )
    result.left_segments = len(segments_of(d.wal_dir, dead))

    # The rows are committed before a replayed segment is deleted; poll briefly anyway.
    deadline = time.monotonic() + 5
    while True:
        rows = await ledger.rows(tenant.client_id)
        if all(rid in rows for rid in traffic.answered) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    result.replay_s = time.monotonic() - started
    result.missing = sum(1 for rid in traffic.answered if rid not in rows)
    result.interrupted = (
        sum(1 for o, _, _ in rows.values() if o == "interrupted") - interrupted_before
    )
    result.answered_interrupted = sum(
        1 for rid in traffic.answered if rid in rows and rows[rid][0] == "interrupted"
    )
    result.ledger_usd = month_sum(rows)
    if d.redis:
        result.redis_usd = await redis_spent(d.key_prefix, tenant.client_id)
    if d.workers == 1 or d.redis:
        result.probe, result.budget_usd = await probe_budget(
            d, ledger, tenant, args.route, result.ledger_usd
        )
    else:
        result.probe = "n/a: per-worker budgets"
    return result


def describe(r: RoundResult) -> str:
    t = r.traffic
    kill = (
        f"kill at +{r.kill_after_s:.2f}s"
        + (" (capped at 90% answered)" if r.capped else "")
        + (" (traffic had ended)" if r.ended_before_kill else "")
        if r.kind == "kill"
        else "graceful stop"
    )
    parts = [
        f"{r.config:<10} {r.kind:<8} #{r.index}: {kill}; sent {t.sent}, 200s {len(t.answered)}",
        f"(cut {t.cut}), transport errors {t.errors}, statuses {dict(sorted(t.statuses.items()))};",
        f"replayed in {r.replay_s:.1f}s (segments left {r.left_segments});",
        f"missing {r.missing}, interrupted {r.interrupted}",
        f"(of them answered {r.answered_interrupted});",
        f"ledger ${r.ledger_usd:.10f}; probe {r.probe}",
    ]
    if r.budget_diff is not None:
        parts.append(f"spent_usd-ledger {r.budget_diff:+.2e}")
    if r.redis_diff is not None:
        parts.append(f"redis-ledger {r.redis_diff:+.10f}")
    if r.redis_added is not None:
        parts.append(f"(this round {r.redis_added:+.10f})")
    return " ".join(parts)


# -- a configuration -----------------------------------------------------------------


async def run_config(
    name: str, root: Path, database_url: str, run_id: str, args: argparse.Namespace,
    rng: random.Random,
) -> list[RoundResult]:  # fmt: skip
    workers, use_redis = CONFIGS[name]
    data_dir = root / name
    data_dir.mkdir()
    d = Deployment(
        name, workers, use_redis, database_url, data_dir, f"crash-{run_id}-{name}", args.ttft_ms
    )
    tenant = await create_tenant(
        database_url, SECRET, rpm=10_000_000, tpd=10**12,
        budget_usd=float(ROOMY_BUDGET_USD), prefix=f"crash-{name}",
    )  # fmt: skip
    ledger = Ledger(database_url)
    results: list[RoundResult] = []
    try:
        await asyncio.to_thread(d.start)
        control = await one_round(
            d, ledger, tenant, args, kind="graceful", index=0, kill_window=(0, 0), rng=rng
        )
        print(describe(control), flush=True)
        results.append(control)
        window = args.kill_window
        if window is None:
            # Kill somewhere in the first 80 % of the time traffic ran after its first
            # answer in the control round (so most kills land mid-traffic).
            t = control.traffic
            span = (t.ended or t.started) - (t.first_answer or t.started)
            window = max(0.05, 0.8 * span)
        for i in range(1, args.rounds + 1):
            r = await one_round(
                d, ledger, tenant, args, kind="kill", index=i, kill_window=(0.0, window), rng=rng
            )
            if r.redis_diff is not None and results[-1].redis_diff is not None:
                r.redis_added = r.redis_diff - results[-1].redis_diff
            print(describe(r), flush=True)
            results.append(r)
    finally:
        await asyncio.to_thread(d.stop)
        await ledger.aclose()
        if use_redis and not args.keep:
            await drop_redis_keys(f"{d.key_prefix}*")
    return results


def fmt_usd(value: float | Decimal | None) -> str:
    if value is None:
        return "–"
    return "0" if value == 0 else f"{float(value):.2e}"


def summarize(name: str, rounds: list[RoundResult]) -> list[list[object]]:
    out: list[list[object]] = []
    for kind, label in (("graceful", "graceful stop"), ("kill", "kill -9")):
        chosen = [r for r in rounds if r.kind == kind]
        if not chosen:
            continue
        workers, use_redis = CONFIGS[name]
        if not use_redis and workers > 1:
            budget = "n/a (budgets per worker; ledger only)"
        else:
            diffs = [r.budget_diff for r in chosen]
            refused_all = all(r.probe == "refused" for r in chosen)
            budget = (
                fmt_usd(max(abs(x) for x in diffs if x is not None))
                if any(x is not None for x in diffs)
                else "–"
            )
            if not refused_all:
                budget += f" ({sum(r.probe != 'refused' for r in chosen)} probe(s) not refused)"
            if use_redis:
                rdiffs = [abs(r.redis_diff) for r in chosen if r.redis_diff is not None]
                budget += f"; Redis hash: {fmt_usd(max(rdiffs) if rdiffs else None)}"
        kills = [r.kill_after_s for r in chosen if r.kill_after_s is not None]
        replay = [r.replay_s for r in chosen]
        out.append([
            f"{name} ({'Redis' if use_redis else 'memory'}, {workers} worker{'s' * (workers > 1)})",
            f"{len(chosen)} × {label}",
            sum(r.traffic.sent for r in chosen),
            sum(len(r.traffic.answered) for r in chosen),
            sum(r.missing for r in chosen),
            sum(r.interrupted for r in chosen),
            sum(r.answered_interrupted for r in chosen),
            budget,
            f"{percentile(kills, 50):.2f}" if kills else "–",
            f"{max(replay):.1f}",
            sum(r.left_segments for r in chosen),
        ])  # fmt: skip
    return out


async def amain(args: argparse.Namespace) -> int:
    seed = args.seed if args.seed is not None else random.randrange(1_000_000)
    rng = random.Random(seed)
    run_id = uuid.uuid4().hex[:8]
    root = Path(tempfile.mkdtemp(prefix="crash-safety-"))
    names = [n.strip() for n in args.configs.split(",") if n.strip()]
    unknown = [n for n in names if n not in CONFIGS]
    if unknown:
        raise SystemExit(f"unknown configuration(s) {unknown}; choose from {list(CONFIGS)}")
    database_url, pg_name = await create_database(args.database, root)
    print(
        f"crash safety: configs {names}, {args.rounds} kill rounds + 1 graceful each, "
        f"{args.requests} requests/round at concurrency {args.concurrency} to "
        f"{ROUTES[args.route][0]}, simulator TTFT {args.ttft_ms} ms, database {args.database}, "
        f"seed {seed}, work dir {root}",
        flush=True,
    )
    results: dict[str, list[RoundResult]] = {}
    began = time.monotonic()
    try:
        for name in names:
            results[name] = await run_config(name, root, database_url, run_id, args, rng)
    finally:
        if pg_name and not args.keep:
            await drop_database(pg_name)
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    head = [
        "configuration", "rounds", "requests sent", "200s seen", "rows missing",
        "interrupted rows", "200s ledgered as interrupted", "max abs(budget - ledger) USD",
        "kill at (s after 1st answer, p50)", "max replay wait s", "dead segments left",
    ]  # fmt: skip
    rows = [row for name in names for row in summarize(name, results[name])]
    print()
    print(markdown_table(head, rows, align="llrrrrrlrrr"))
    print(
        "budget - ledger: the restarted platform's spent_usd (429 budget_exceeded details, "
        "8 places) minus the ledger's sum for the month, largest over the rounds; with Redis "
        "the counter outlives restarts, so a difference accumulates over the rounds, and "
        "'Redis hash' is the exact spent field read from Redis."
    )
    print(f"total {time.monotonic() - began:.0f} s; seed {seed}")
    lost = sum(r.missing for rs in results.values() for r in rs)
    return 1 if lost else 0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5, help="kill rounds per configuration")
    parser.add_argument("--requests", type=int, default=300, help="requests per round")
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument(
        "--configs", default=",".join(CONFIGS), help=f"comma-separated subset of {list(CONFIGS)}"
    )
    parser.add_argument(
        "--database",
        choices=("postgres", "sqlite"),
        default="postgres",
        help="a fresh PostgreSQL database (dropped at the end) or a SQLite file "
        "(2 workers on SQLite may hit 'database is locked')",
    )
    parser.add_argument("--route", choices=tuple(ROUTES), default="agent")
    parser.add_argument("--seed", type=int, help="seeds the kill instants (default: random)")
    parser.add_argument(
        "--kill-window",
        type=float,
        help="kill uniformly within this many seconds after the first answer "
        "(default: 80%% of the control round's traffic time)",
    )
    parser.add_argument("--ttft-ms", type=float, default=30.0)
    parser.add_argument("--replay-timeout", type=float, default=30.0)
    parser.add_argument("--keep", action="store_true", help="keep the database, dirs and keys")
    args = parser.parse_args()
    sys.exit(asyncio.run(amain(args)))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
