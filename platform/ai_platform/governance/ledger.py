"""The usage ledger: one row per governed request, written in batches off the request path.

``record()`` only puts the row on an in-process queue. A background task writes the
queue to ``usage_ledger`` in bulk, every ``LEDGER_FLUSH_INTERVAL_S`` or as soon as
``LEDGER_BATCH_SIZE`` rows wait, whichever comes first. ``aclose()`` drains the queue,
so a graceful stop loses nothing; rows that still cannot be written then (database
down) are spooled to a JSON-lines file in ``DATA_DIR`` and replayed at the next start.

Inserts are idempotent on ``request_id`` (``ON CONFLICT DO NOTHING``): a replayed
spool or a re-run job step never makes a second row.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import orjson
from sqlalchemy import Table, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ai_platform.db.models import UsageRecord

logger = logging.getLogger("ai_platform.ledger")

SPOOL_GLOB = "ledger-spool-*.jsonl"
COST_PLACES = Decimal("1e-10")
USAGE_TABLE = cast(Table, UsageRecord.__table__)


@dataclass(slots=True)
class LedgerEntry:
    request_id: str
    client_id: str
    service: str
    route: str
    model: str | None
    prompt_tokens: int
    completion_tokens: int
    cost_usd: Decimal
    latency_ms: float
    status_code: int
    outcome: str
    flagged: bool
    created_at: datetime

    def as_json(self) -> bytes:
        data = asdict(self)
        data["cost_usd"] = str(self.cost_usd)
        data["created_at"] = self.created_at.isoformat()
        return orjson.dumps(data)

    @classmethod
    def from_json(cls, line: bytes) -> LedgerEntry:
        data: dict[str, Any] = orjson.loads(line)
        data["cost_usd"] = Decimal(data["cost_usd"])
        data["created_at"] = datetime.fromisoformat(data["created_at"])
        return cls(**data)


def cost_decimal(usd: float) -> Decimal:
    """The ledger's value for a float cost: the same 10 places the envelope shows."""
    return Decimal(repr(round(usd, 10))).quantize(COST_PLACES)


class UsageLedger:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        batch_size: int = 200,
        flush_interval_s: float = 0.5,
        spool_dir: str | Path | None = None,
        max_pending: int = 100_000,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.batch_size = batch_size
        self.flush_interval_s = flush_interval_s
        self.spool_dir = Path(spool_dir) if spool_dir is not None else None
        self.max_pending = max_pending
        self._queue: asyncio.Queue[LedgerEntry] = asyncio.Queue()
        self._full = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._urgent = 0
        self._insert: Any = None
        self.written = 0
        self.dropped = 0
        self.on_written: list[Any] = []

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    def record(self, entry: LedgerEntry) -> None:
        """Queue one row; never blocks, never awaits."""
        if self._queue.qsize() >= self.max_pending:
            # Refusing to grow without bound beats exhausting memory while the
            # database is away; the loss is counted and logged.
            self.dropped += 1
            logger.error("ledger queue full; row dropped", extra={"row": entry.request_id})
            return
        self._queue.put_nowait(entry)
        if self._queue.qsize() >= self.batch_size:
            self._full.set()

    async def start(self) -> None:
        if self._task is None:
            await self._replay_spool()
            self._task = asyncio.create_task(self._run(), name="usage-ledger-flusher")

    async def flush(self) -> None:
        """Wait until every row recorded so far is in the database."""
        if self._task is None or self._task.done():
            await self._drain()
            return
        self._urgent += 1
        self._full.set()
        try:
            await self._queue.join()
        finally:
            self._urgent -= 1

    async def aclose(self, timeout_s: float = 10.0) -> None:
        """Write everything still queued, then stop the flusher."""
        task, self._task = self._task, None
        if task is not None:
            self._urgent += 1
            self._full.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._queue.join(), timeout_s)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._queue.qsize():
            try:
                await asyncio.wait_for(self._drain(retry=True), timeout_s)
            except Exception:
                logger.exception("ledger could not be flushed at shutdown; spooling rows")
        await self._spool_remaining()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            first = await self._queue.get()
            batch = [first, *self._take(self.batch_size - 1)]
            deadline = loop.time() + self.flush_interval_s
            while len(batch) < self.batch_size and not self._urgent:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                self._full.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._full.wait(), remaining)
                batch.extend(self._take(self.batch_size - len(batch)))
            await self._write_with_retry(batch)

    def _take(self, n: int) -> list[LedgerEntry]:
        out: list[LedgerEntry] = []
        while len(out) < n:
            try:
                out.append(self._queue.get_nowait())
            except asyncio.QueueEmpty:
                break
        return out

    async def _drain(self, *, retry: bool = False) -> None:
        while True:
            batch = self._take(self.batch_size)
            if not batch:
                return
            await self._write_with_retry(batch, attempts=3 if retry else 1)

    async def _write_with_retry(self, batch: list[LedgerEntry], attempts: int = 0) -> None:
        """Write a batch, retrying with backoff; ``attempts=0`` retries until cancelled."""
        delay = 0.1
        tries = 0
        while True:
            tries += 1
            try:
                await self._write(batch)
            except asyncio.CancelledError:
                self._requeue(batch)
                raise
            except Exception:
                if attempts and tries >= attempts:
                    self._requeue(batch)
                    raise
                logger.warning(
                    "ledger write failed; retrying", exc_info=True, extra={"rows": len(batch)}
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            self._done(batch)
            return

    def _requeue(self, batch: list[LedgerEntry]) -> None:
        for entry in batch:
            self._queue.task_done()
            self._queue.put_nowait(entry)

    def _done(self, batch: list[LedgerEntry]) -> None:
        self.written += len(batch)
        for callback in self.on_written:
            callback(len(batch))
        for _ in batch:
            self._queue.task_done()

    async def _write(self, batch: list[LedgerEntry]) -> None:
        rows = [asdict(e) for e in batch]
        async with self.sessionmaker() as session:
            if self._insert is None:
                dialect = session.get_bind().dialect.name
                insert = pg_insert if dialect == "postgresql" else sqlite_insert
                # A Core insert on the table: no ORM unit-of-work per row.
                self._insert = insert(USAGE_TABLE).on_conflict_do_nothing(
                    index_elements=["request_id"]
                )
            connection = await session.connection()
            await connection.execute(self._insert, rows)
            await session.commit()

    # -- spool: rows that outlived a failed shutdown flush ------------------------------

    async def _spool_remaining(self) -> None:
        rows = self._take(self._queue.qsize())
        if not rows:
            return
        for _ in rows:
            self._queue.task_done()
        if self.spool_dir is None:
            logger.error("ledger rows lost at shutdown", extra={"rows": len(rows)})
            return
        path = await asyncio.to_thread(_append_spool, self.spool_dir, rows)
        logger.error("ledger rows spooled", extra={"rows": len(rows), "path": str(path)})

    async def _replay_spool(self) -> None:
        if self.spool_dir is None:
            return
        for path, entries in await asyncio.to_thread(_claim_spools, self.spool_dir):
            for start in range(0, len(entries), self.batch_size):
                await self._write(entries[start : start + self.batch_size])
            await asyncio.to_thread(path.unlink)
            logger.info("ledger spool replayed", extra={"rows": len(entries), "path": str(path)})


def _append_spool(directory: Path, rows: list[LedgerEntry]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"ledger-spool-{os.getpid()}.jsonl"
    with path.open("ab") as fh:
        fh.writelines(entry.as_json() + b"\n" for entry in rows)
    return path


def _claim_spools(directory: Path) -> list[tuple[Path, list[LedgerEntry]]]:
    """Rename each spool file to this process's name (another worker may be starting
    too) and read it."""
    if not directory.is_dir():
        return []
    claimed = []
    for path in sorted(directory.glob(SPOOL_GLOB)):
        mine = path.with_suffix(f".replay-{os.getpid()}")
        try:
            path.rename(mine)
        except OSError:
            continue
        lines = mine.read_bytes().splitlines()
        claimed.append((mine, [LedgerEntry.from_json(line) for line in lines if line.strip()]))
    return claimed


async def spent_since(
    sessionmaker: async_sessionmaker[AsyncSession], client_id: str, since: datetime
) -> float:
    """USD a client spent since ``since`` according to the ledger."""
    async with sessionmaker() as session:
        total = await session.scalar(
            select(func.coalesce(func.sum(UsageRecord.cost_usd), 0)).where(
                UsageRecord.client_id == client_id, UsageRecord.created_at >= since
            )
        )
    return float(total or 0)


def utcnow() -> datetime:
    return datetime.now(UTC)
