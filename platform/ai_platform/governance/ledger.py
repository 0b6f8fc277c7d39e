"""The usage ledger: one row per governed request, written in batches off the request path.

``record()`` appends the row to the write-ahead log (``wal.py``: one ``write(2)``, so
it survives ``kill -9``) and puts it on an in-process queue. A background task writes
the queue to ``usage_ledger`` in bulk, every ``LEDGER_FLUSH_INTERVAL_S`` or as soon as
``LEDGER_BATCH_SIZE`` rows wait, whichever comes first, then deletes the log segments
those rows were in. ``checkpoint()`` logs a request still running (its response has
started, its stream is producing) with its usage so far. At start, and every few
seconds, the log segments of dead processes are replayed; rows that cannot be written
at shutdown (database down) stay in the log for the next process to start.

Inserts are idempotent on ``request_id`` (``ON CONFLICT DO NOTHING``): a replayed log
or a re-run job step never makes a second row. That key is always made by the server
(``RequestContextMiddleware``, or a job step's own id); a caller's ``X-Request-ID``
is stored beside it as ``correlation_id`` and is never a key.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ai_platform.db.models import UsageRecord
from ai_platform.governance.wal import INTERRUPTED, Segment, Settle, WriteAheadLog

logger = logging.getLogger("ai_platform.ledger")

WAL_DIRNAME = "ledger-wal"
RECOVERY_INTERVAL_S = 5.0
"""How often a running process looks for the log segments of dead ones."""
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
    correlation_id: str | None = None
    guardrail_events: str | None = None
    """``guardrail_summary`` of what the injection guardrails did, if anything."""
    hops: str | None = None
    """The deployments a routed call tried, ``>``-joined (``hops_summary``)."""

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> LedgerEntry:
        """From a write-ahead log line (orjson's dataclass form, cost as a string)."""
        data = dict(row)
        data["cost_usd"] = Decimal(str(data["cost_usd"]))
        data["created_at"] = datetime.fromisoformat(str(data["created_at"]))
        return cls(**data)


HOPS_CHARS = 300


def hops_summary(hops: list[str]) -> str | None:
    """Hops in order, cut to the column (the last hop, the one that served, is kept)."""
    if not hops:
        return None
    text = ">".join(hops)
    if len(text) <= HOPS_CHARS:
        return text
    return "…>" + text[-(HOPS_CHARS - 2) :]


GUARDRAIL_EVENTS_CHARS = 500


def guardrail_summary(events: list[str]) -> str | None:
    """Events in first-seen order, repeats counted ("link_removed*2"), cut to the column."""
    if not events:
        return None
    counts: dict[str, int] = {}
    for event in events:
        counts[event] = counts.get(event, 0) + 1
    text = ",".join(e if n == 1 else f"{e}*{n}" for e, n in counts.items())
    return text if len(text) <= GUARDRAIL_EVENTS_CHARS else text[: GUARDRAIL_EVENTS_CHARS - 1] + "…"


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
        wal_dir: str | Path | None = None,
        max_pending: int = 100_000,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.batch_size = batch_size
        self.flush_interval_s = flush_interval_s
        self.wal = WriteAheadLog(wal_dir) if wal_dir is not None else None
        self.max_pending = max_pending
        self._queue: asyncio.Queue[LedgerEntry] = asyncio.Queue()
        self._full = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._urgent = 0
        self._insert: Any = None
        self._upsert: Any = None
        self._rotated: list[Segment] = []
        self._next_recovery = 0.0
        self.written = 0
        self.dropped = 0
        self.recovered = 0
        self.on_written: list[Any] = []
        self.replay_settle: Callable[[str, str, str, float], Awaitable[None]] | None = None
        """Makes a budget charge a dead process logged but may not have made."""

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    def checkpoint(self, entry: LedgerEntry, settle: Settle | None = None) -> None:
        """Log a request still running with its usage so far (replayed as
        ``interrupted`` if its process dies before ``record``); ``settle``: the budget
        charge about to be made."""
        if self.wal is not None:
            self.wal.checkpoint(entry.request_id, entry, settle)

    def record(self, entry: LedgerEntry) -> None:
        """Log and queue one row; never awaits."""
        if self.wal is not None:
            self.wal.final(entry.request_id, entry)
        if self._queue.qsize() >= self.max_pending:
            # Refusing to grow without bound beats exhausting memory while the
            # database is away; with the log the row is replayed at the next start.
            self.dropped += 1
            logger.error("ledger queue full; row left to the log", extra={"row": entry.request_id})
            return
        self._queue.put_nowait(entry)
        if self._queue.qsize() >= self.batch_size:
            self._full.set()

    async def start(self) -> None:
        if self._task is None:
            if self.wal is not None:
                self.wal.open()
                await self.recover()
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
                logger.exception("ledger could not be flushed at shutdown; rows stay in the log")
        if self.wal is not None:
            if self._queue.qsize():
                # Left on disk, unlocked: the next process to start replays them.
                for segment in self._rotated:
                    segment.close()
                self._rotated = []
                self.wal.close()
            else:
                self._retire_rotated()
                self.wal.close_and_remove()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                first = await asyncio.wait_for(self._queue.get(), RECOVERY_INTERVAL_S)
            except TimeoutError:
                await self._recover_now_and_then()
                continue
            deadline = loop.time() + self.flush_interval_s
            while self._queue.qsize() + 1 < self.batch_size and not self._urgent:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                self._full.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._full.wait(), remaining)
            # Rotate, then take everything queued, with no await in between: every row
            # of the rotated segments is then in this write, so once it commits the
            # segments can go.
            self._rotate()
            batch = [first, *self._take(self._queue.qsize())]
            for start in range(0, len(batch), self.batch_size):
                await self._write_with_retry(batch[start : start + self.batch_size])
            self._retire_rotated()
            await self._recover_now_and_then()

    def _rotate(self) -> None:
        if self.wal is not None:
            old = self.wal.rotate()
            if old is not None:
                self._rotated.append(old)

    def _retire_rotated(self) -> None:
        rotated, self._rotated = self._rotated, []
        for segment in rotated:
            WriteAheadLog.retire(segment)

    def _take(self, n: int) -> list[LedgerEntry]:
        out: list[LedgerEntry] = []
        while len(out) < n:
            try:
                out.append(self._queue.get_nowait())
            except asyncio.QueueEmpty:
                break
        return out

    async def _drain(self, *, retry: bool = False) -> None:
        self._rotate()
        while True:
            batch = self._take(self.batch_size)
            if not batch:
                break
            await self._write_with_retry(batch, attempts=3 if retry else 1)
        self._retire_rotated()

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

    async def _write(self, batch: list[LedgerEntry], *, replay: bool = False) -> None:
        rows = [asdict(e) for e in batch]
        async with self.sessionmaker() as session:
            if self._insert is None:
                self._prepare(session.get_bind().dialect.name)
            connection = await session.connection()
            await connection.execute(self._upsert if replay else self._insert, rows)
            await session.commit()

    def _prepare(self, dialect: str) -> None:
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        # Core statements on the table: no ORM unit-of-work per row.
        self._insert = insert(USAGE_TABLE).on_conflict_do_nothing(index_elements=["request_id"])
        # A replayed final row replaces the ``interrupted`` row that an earlier replay
        # made from a checkpoint; a final row is never replaced.
        upsert = insert(USAGE_TABLE)
        columns = [c.name for c in USAGE_TABLE.columns if c.name not in ("id", "request_id")]
        self._upsert = upsert.on_conflict_do_update(
            index_elements=["request_id"],
            set_={name: upsert.excluded[name] for name in columns},
            where=USAGE_TABLE.c.outcome == INTERRUPTED,
        )

    # -- recovery: the log segments of processes that died ----------------------------

    async def _recover_now_and_then(self) -> None:
        if self.wal is None or time.monotonic() < self._next_recovery:
            return
        self._next_recovery = time.monotonic() + RECOVERY_INTERVAL_S
        try:
            await self.recover()
        except Exception:
            logger.warning("ledger log recovery failed; retrying later", exc_info=True)

    async def recover(self) -> int:
        """Write the rows of dead processes' log segments; return how many."""
        if self.wal is None:
            return 0
        segments, rows, settles = await asyncio.to_thread(self.wal.claim_orphans)
        if not rows:
            for segment in segments:
                WriteAheadLog.retire(segment)
            return 0
        try:
            entries = [LedgerEntry.from_row(row) for row in rows]
            for start in range(0, len(entries), self.batch_size):
                await self._write(entries[start : start + self.batch_size], replay=True)
            if self.replay_settle is not None:
                for charge in settles:
                    await self.replay_settle(*charge)
        except BaseException:
            for segment in segments:
                segment.close()  # release the claim: another process may try
            raise
        for segment in segments:
            WriteAheadLog.retire(segment)
        self.recovered += len(entries)
        logger.warning(
            "ledger rows recovered from the log of a stopped process",
            extra={
                "rows": len(entries),
                "interrupted": sum(1 for e in entries if e.outcome == INTERRUPTED),
            },
        )
        return len(entries)


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
