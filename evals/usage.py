"""Tokens and cost per case from the platform's usage ledger.

The ledger holds one row per governed request (prompt and completion tokens, cost,
model), written in batches shortly after each request ends. The admin report
``GET /api/v1/admin/usage/requests`` pages through them newest first; this reads the
eval tenant's rows of the run's day until every request id of the run is found
(waiting for the last batch), then sums each case's rows.

A key without the admin scope cannot read the ledger (403): the cases then keep the
usage their responses reported (see ``Reply.usage``).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import date
from typing import Any

from evals.client import EvalClient
from evals.results import CaseResult, Usage

LEDGER = "/api/v1/admin/usage/requests"
PAGE = 200


async def _scan(
    client: EvalClient,
    client_id: str | None,
    day: date,
    wanted: set[str],
    found: dict[str, dict[str, Any]],
    newer_than: int,
) -> tuple[int, bool]:
    """One newest-first pass down to ledger row ``newer_than``; returns the newest row
    id seen and whether the ledger could be read."""
    params: dict[str, Any] = {"limit": PAGE, "start": day.isoformat()}
    if client_id:
        params["client_id"] = client_id
    newest = newer_than
    before: int | None = None
    while True:
        if before is not None:
            params["before_id"] = before
        reply = await client.get(LEDGER, params=params)
        if not reply.ok or not isinstance(reply.data, dict):
            return newest, False
        items = reply.data.get("items") or []
        for row in items:
            row_id = int(row["id"])
            newest = max(newest, row_id)
            if row_id <= newer_than:
                return newest, True
            if row["request_id"] in wanted:
                found[row["request_id"]] = row
        before = reply.data.get("next_before_id")
        if before is None or wanted <= found.keys():
            return newest, True


def _sum(rows: list[dict[str, Any]]) -> Usage:
    models = Counter(str(r["model"]) for r in rows if r.get("model"))
    return Usage(
        tokens_in=sum(int(r["prompt_tokens"]) for r in rows),
        tokens_out=sum(int(r["completion_tokens"]) for r in rows),
        cost_usd=sum(float(r["cost_usd"]) for r in rows),
        model=models.most_common(1)[0][0] if models else None,
        source="ledger",
    )


async def attach_ledger_usage(
    client: EvalClient,
    results: list[CaseResult],
    *,
    client_id: str | None,
    day: date,
    timeout_s: float = 15.0,
) -> dict[str, int | bool]:
    """Replace each case's usage with its ledger rows' sums when every row is there.

    Returns counts for the report: requests wanted and found, and whether the ledger
    was readable at all.
    """
    wanted = {rid for r in results for rid in r.request_ids}
    found: dict[str, dict[str, Any]] = {}
    newest = 0
    readable = True
    deadline = time.monotonic() + timeout_s
    while wanted:
        # Ledger ids grow as rows are written: a later pass only reads newer rows.
        newest, readable = await _scan(client, client_id, day, wanted, found, newest)
        if not readable or wanted <= found.keys() or time.monotonic() > deadline:
            break
        # The last batch may not be flushed yet (LEDGER_FLUSH_INTERVAL_S).
        await asyncio.sleep(0.5)
    for result in results:
        rows = [found[rid] for rid in result.request_ids if rid in found]
        if result.request_ids and len(rows) == len(result.request_ids):
            ledger = _sum(rows)
            if ledger.model is None:
                ledger.model = result.usage.model
            result.usage = ledger
    return {"requests": len(wanted), "found": len(found), "readable": readable}
