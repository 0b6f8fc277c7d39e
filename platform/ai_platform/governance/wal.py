"""The ledger's write-ahead log: usage is on disk before the client has the response.

The ledger writes rows to the database in batches, off the request path; a process
killed between a response and the next batch would lose those rows (and, without
Redis, the spend they record, since budgets reload from the ledger). So every row is
first appended to a per-process segment file, one JSON line each, with one
``write(2)`` call: that survives ``kill -9`` of the process (the kernel holds the
page), though not a power cut, which would need an fsync per request.

Two kinds of line, both keyed by the server-made ``request_id``:

- a *checkpoint*: a request still running (the response has started, a stream is
  producing tokens) with its usage so far;
- a *final* line: the row the ledger will insert.

Segments rotate: the flusher calls ``rotate()``, which moves every request still
running to a new segment (its latest checkpoint rewritten there) and returns the old
segment, to be deleted once the rows queued before the rotation are committed.

Each live segment holds an exclusive ``flock``. A segment nobody holds belongs to a
dead process: ``orphans()`` claims it (the lock is taken without waiting, so two
recovering workers never both replay one), and its last line per request becomes a
row; a request that never got a final line is recorded as ``interrupted`` with the
usage of its last checkpoint.
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import logging
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import orjson

logger = logging.getLogger("ai_platform.ledger")

SEGMENT_GLOB = "ledger-wal-*.jsonl"
INTERRUPTED = "interrupted"

Settle = tuple[str, str, str, float]
"""A budget charge in flight: (client id, month, reservation id, USD)."""


@dataclass
class Segment:
    path: Path
    fd: int

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)  # releases the flock


def _open_locked(path: Path) -> Segment:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return Segment(path, fd)


class WriteAheadLog:
    """Append-only segment files of ledger lines; see the module docstring."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self._segment: Segment | None = None
        self._running: dict[str, bytes] = {}
        self._sequence = itertools.count()

    def open(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        if self._segment is None:
            self._segment = self._new_segment()

    def _new_segment(self) -> Segment:
        # pid and sequence order one process's segments; the random part keeps a
        # reused pid (a restarted container) from appending to an orphan.
        seq = next(self._sequence)
        name = f"ledger-wal-{os.getpid()}-{seq:09d}-{uuid.uuid4().hex[:8]}.jsonl"
        return _open_locked(self.directory / name)

    def _append(self, line: bytes) -> None:
        if self._segment is None:
            self.open()
        assert self._segment is not None
        os.write(self._segment.fd, line)

    def checkpoint(self, request_id: str, row: object, settle: Settle | None = None) -> None:
        """A request still running, with its usage so far (the latest one wins).

        ``row`` is anything orjson serializes (a dataclass is, natively and fast);
        other values (``Decimal``) are written as ``str``. ``settle`` names a budget
        charge about to be made, so that a replay can make it if the process dies
        before it lands (the budget's settle is idempotent).
        """
        line = (
            orjson.dumps({"kind": "checkpoint", "row": row, "settle": settle}, default=str)
            + b"\n"
        )
        self._running[request_id] = line
        self._append(line)

    def final(self, request_id: str, row: object) -> None:
        """The request's ledger row."""
        self._running.pop(request_id, None)
        self._append(orjson.dumps({"kind": "final", "row": row}, default=str) + b"\n")

    def rotate(self) -> Segment | None:
        """Start a new segment holding the running requests' checkpoints; return the old
        one (delete it with ``retire`` once what was queued before is committed)."""
        old = self._segment
        if old is None:
            return None
        self._segment = self._new_segment()
        if self._running:
            os.write(self._segment.fd, b"".join(self._running.values()))
        return old

    @staticmethod
    def retire(segment: Segment) -> None:
        with contextlib.suppress(FileNotFoundError):
            segment.path.unlink()
        segment.close()

    def close(self) -> None:
        """Stop writing; the segment stays on disk (and unlocked) if not retired."""
        if self._segment is not None:
            self._segment.close()
            self._segment = None

    def close_and_remove(self) -> None:
        """Everything in the current segment is committed: remove it."""
        if self._segment is not None:
            self.retire(self._segment)
            self._segment = None

    # -- recovery ---------------------------------------------------------------------

    def claim_orphans(self) -> tuple[list[Segment], list[dict[str, object]], list[Settle]]:
        """Claim every segment no live process holds; return them with their rows.

        Rows are merged across the claimed segments (a request moved by a rotation
        appears in two): a final line beats a checkpoint, a later checkpoint an
        earlier one. Write the rows (a final row may replace an ``interrupted`` one) and
        make the budget charges of interrupted requests (idempotent), then ``retire``
        each segment; if that fails, ``close`` them to release the claim.
        """
        if not self.directory.is_dir():
            return [], [], []
        mine = self._segment.path if self._segment is not None else None
        claimed: list[Segment] = []
        lines: list[bytes] = []
        for path in sorted(self.directory.glob(SEGMENT_GLOB), key=_segment_order):
            if path == mine:
                continue
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)  # a live process holds it
                continue
            segment = Segment(path, fd)
            try:
                lines.extend(path.read_bytes().splitlines())
            except OSError:
                segment.close()
                continue
            claimed.append(segment)
        rows, settles = rows_of(lines)
        return claimed, rows, settles


def _segment_order(path: Path) -> tuple[int, int, str]:
    parts = path.stem.split("-")
    try:
        return int(parts[2]), int(parts[3]), path.name
    except (IndexError, ValueError):
        return 0, 0, path.name


def rows_of(lines: list[bytes]) -> tuple[list[dict[str, object]], list[Settle]]:
    """One row per request: its final line if any, else its last checkpoint marked
    ``interrupted``; and the budget charges named by requests that never finished.
    A torn line (the process died inside ``write``) is skipped."""
    latest: dict[str, dict[str, object]] = {}
    charges: dict[str, dict[str, Settle]] = {}
    """request id -> reservation id -> its latest charge (a stream's estimate is
    replaced by the actual cost logged when it finished)"""
    done: set[str] = set()
    for raw in lines:
        if not raw.strip():
            continue
        try:
            line = orjson.loads(raw)
            row = dict(line["row"])
            request_id = str(row["request_id"])
            settle = line.get("settle")
            charge = (
                (str(settle[0]), str(settle[1]), str(settle[2]), float(settle[3]))
                if settle
                else None
            )
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, IndexError):
            logger.warning("skipping a torn ledger log line")
            continue
        if line.get("kind") == "final":
            done.add(request_id)
            charges.pop(request_id, None)
        elif request_id in done:
            continue
        else:
            row["outcome"] = INTERRUPTED
            if charge is not None:
                charges.setdefault(request_id, {})[charge[2]] = charge
        latest[request_id] = row
    return list(latest.values()), [c for per in charges.values() for c in per.values()]
