"""Knowledge base quality and latency on the Northwind corpus and its question suite.

Runs the platform in-process (bundled simulator: its embeddings are feature-hashed
words, its answers extractive), ingests ``services/knowledge/data/corpus.jsonl`` for a
fresh tenant and asks every question of ``evals/suites/knowledge_search.jsonl``
through the HTTP API, in full-text and in hybrid mode. Prints, per database and mode:

- retrieval: hit@1 (a relevant document ranked first), recall@5, MRR@5;
- answers (``/answer``): share of expected facts found in the answer, share of
  answers citing a relevant document, and the "I don't know" rate on the
  unanswerable questions;
- search latency in process (p50/p95, ms), and the Python cosine scan of
  ``--scan`` 1,536-dimension vectors (the per-search cost of hybrid mode at that
  tenant size).

    python benchmarks/knowledge_retrieval.py              # SQLite
    python benchmarks/knowledge_retrieval.py --postgres   # and PostgreSQL at 127.0.0.1
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "platform")]

import asyncpg  # noqa: E402
import httpx  # noqa: E402
from asgi_lifespan import LifespanManager  # noqa: E402
from sqlalchemy.engine.url import make_url  # noqa: E402

from ai_platform.config import Settings  # noqa: E402
from ai_platform.db.engine import create_engine, create_sessionmaker  # noqa: E402
from ai_platform.db.migrate import upgrade  # noqa: E402
from ai_platform.gateway.app import create_app  # noqa: E402
from ai_platform.governance.tenants import create_client, issue_key  # noqa: E402
from ai_platform.harness.stats import percentile  # noqa: E402
from ai_platform.services.knowledge.demo import corpus  # noqa: E402
from ai_platform.services.knowledge.ranking import (  # noqa: E402
    pack_vector,
    rank_by_similarity,
    unit_vector,
)

SUITE = ROOT / "evals" / "suites" / "knowledge_search.jsonl"
PG_ADMIN_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
BASE = "/api/v1/knowledge"


def settings_for(url: str, tmp: str) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        environment="test",
        database_url=url,
        data_dir=tmp,
        access_log=False,
        log_level="WARNING",
        simulator_ttft_ms=0,
        simulator_tokens_per_s=0,
        simulator_jitter=0,
        default_rpm=100_000,
        default_tpd=100_000_000,
    )


async def tenant_key(settings: Settings) -> str:
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            client = await create_client(session, f"bench-{uuid.uuid4().hex[:8]}")
            issued = await issue_key(session, settings.secret_key.get_secret_value(), client.id)
            await session.commit()
            return issued.plaintext
    finally:
        await engine.dispose()


async def run(url: str, label: str) -> None:
    await upgrade(url)
    with tempfile.TemporaryDirectory() as tmp:
        settings = settings_for(url, tmp)
        key = await tenant_key(settings)
        headers = {"X-API-Key": key}
        suite = [json.loads(line) for line in SUITE.read_text().splitlines() if line.strip()]
        app = create_app(settings)
        async with LifespanManager(app, startup_timeout=30) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://b") as http:
                docs = [
                    {k: r[k] for k in ("title", "text", "source", "metadata")} for r in corpus()
                ]
                started = time.perf_counter()
                resp = await http.post(f"{BASE}/ingest", headers=headers, json={"documents": docs})
                resp.raise_for_status()
                ingest_ms = (time.perf_counter() - started) * 1000
                chunks = resp.json()["data"]["total_chunks"]
                print(
                    f"\n{label}: ingested {len(docs)} documents, "
                    f"{chunks} chunks in {ingest_ms:.0f} ms"
                )
                print(
                    f"{'mode':9} {'hit@1':>6} {'rec@5':>6} {'MRR':>6} {'facts':>6} "
                    f"{'cited':>6} {'idk':>5} {'p50 ms':>7} {'p95 ms':>7}"
                )
                for mode in ("fulltext", "hybrid"):
                    await evaluate(http, headers, suite, mode)


async def evaluate(
    http: httpx.AsyncClient, headers: dict[str, str], suite: list[dict[str, Any]], mode: str
) -> None:
    hit1 = recall5 = mrr = 0.0
    facts_found = facts_total = cited_ok = answerable = idk = unanswerable = 0
    latencies: list[float] = []
    for case in suite:
        body: dict[str, Any] = {"query": case["question"], "max_results": 5, "mode": mode}
        if case.get("filters"):
            body["filters"] = case["filters"]
        started = time.perf_counter()
        resp = await http.post(f"{BASE}/search", headers=headers, json=body)
        latencies.append((time.perf_counter() - started) * 1000)
        resp.raise_for_status()
        found = [h["metadata"].get("corpus_id") for h in resp.json()["data"]]
        relevant = set(case["relevant_ids"])
        ask: dict[str, Any] = {"question": case["question"], "mode": mode}
        if case.get("filters"):
            ask["filters"] = case["filters"]
        answer = (await http.post(f"{BASE}/answer", headers=headers, json=ask)).json()["data"]
        if not case.get("answerable", True):
            unanswerable += 1
            idk += answer["answer"].startswith("I don't know")
            continue
        answerable += 1
        hit1 += bool(found) and found[0] in relevant
        recall5 += any(f in relevant for f in found)
        mrr += next((1 / (i + 1) for i, f in enumerate(found) if f in relevant), 0.0)
        facts_total += len(case["expected_facts"])
        facts_found += sum(f.lower() in answer["answer"].lower() for f in case["expected_facts"])
        cited = {c["document_id"] for c in answer["citations"]}
        hits_by_doc = {
            h["document_id"]: h["metadata"].get("corpus_id") for h in resp.json()["data"]
        }
        cited_ok += any(hits_by_doc.get(d) in relevant for d in cited) or any(
            c["title"] in case["relevant_titles"] for c in answer["citations"]
        )
    n = answerable
    print(
        f"{mode:9} {hit1 / n:6.3f} {recall5 / n:6.3f} {mrr / n:6.3f} "
        f"{facts_found / facts_total:6.3f} {cited_ok / n:6.3f} "
        f"{idk}/{unanswerable:<3} {statistics.median(latencies):7.1f} "
        f"{percentile(latencies, 95):7.1f}"
    )


def scan_cost(count: int) -> None:
    rng = random.Random(7)
    vectors = [
        (i, pack_vector(unit_vector(rng.gauss(0, 1) for _ in range(1536)))) for i in range(count)
    ]
    query = unit_vector(rng.gauss(0, 1) for _ in range(1536))
    runs = []
    for _ in range(5):
        started = time.perf_counter()
        rank_by_similarity(query, vectors, 50)
        runs.append((time.perf_counter() - started) * 1000)
    print(
        f"\ncosine scan of {count} x 1536-d vectors in Python: "
        f"median {statistics.median(runs):.0f} ms (5 runs)"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true", help="also run on PostgreSQL")
    parser.add_argument("--scan", type=int, default=2000, help="vectors in the scan timing")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        await run(f"sqlite+aiosqlite:///{tmp}/kb.db", "SQLite (FTS5 bm25)")
    if args.postgres:
        admin = make_url(PG_ADMIN_URL)
        dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)
        name = f"aip_bench_{uuid.uuid4().hex[:8]}"
        conn = await asyncpg.connect(dsn)
        await conn.execute(f'CREATE DATABASE "{name}"')
        await conn.close()
        try:
            await run(
                admin.set(database=name).render_as_string(hide_password=False),
                "PostgreSQL (tsvector, ts_rank)",
            )
        finally:
            conn = await asyncpg.connect(dsn)
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.close()
    scan_cost(args.scan)


if __name__ == "__main__":
    asyncio.run(main())
