"""What running researchers in parallel buys a research job, and jobs per minute.

Runs the platform in-process (SQLite in a temporary directory, the embedded simulator
paced like a hosted model: ``--ttft-ms`` before the first token, ``--tokens-per-s``
after it), ingests three short documents and then:

1. runs one job with four sub-questions and compares the research phase's wall time
   (plan step done → last researcher done) with the sum of the researchers' own
   durations, which is what running them one after another would cost;
2. submits ``--jobs`` jobs at once and reports the wall time until all completed
   (the in-process runner runs ``RESEARCH_MAX_CONCURRENT_JOBS`` at a time, default 4).

    python benchmarks/research_jobs.py                      # 200 ms TTFT, 200 tok/s, 8 jobs
    python benchmarks/research_jobs.py --ttft-ms 500 --jobs 12
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from sqlalchemy import select

from ai_platform.config import Settings
from ai_platform.db.engine import create_engine, create_sessionmaker
from ai_platform.db.migrate import upgrade
from ai_platform.gateway.app import create_app
from ai_platform.governance.keys import DEFAULT_SCOPES
from ai_platform.governance.tenants import create_client, issue_key
from ai_platform.services.research.models import ResearchStep

BASE = "/api/v1/research"
QUESTION = (
    "How should I dry a tent? How should I clean a tent? "
    "What does the tent warranty cover? How long does standard shipping take?"
)
DOCUMENTS = [
    {
        "title": "Tent care",
        "text": "Always dry a tent completely before storing it, or mildew will form. Clean "
        "the tent fabric with lukewarm water and a soft sponge; never use detergent.",
    },
    {
        "title": "Tent warranty",
        "text": "The tent warranty covers manufacturing defects in seams, zippers and poles "
        "for five years. It does not cover damage from fire or misuse.",
    },
    {
        "title": "Shipping",
        "text": "Standard shipping takes three to five business days. Express shipping "
        "arrives the next business day when ordered before noon.",
    },
]


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def _key(settings: Settings) -> str:
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            client = await create_client(session, "bench-research", rpm=100_000, tpd=10**9)
            issued = await issue_key(
                session, settings.secret_key.get_secret_value(), client.id,
                scopes=list(DEFAULT_SCOPES),
            )  # fmt: skip
            await session.commit()
            return issued.plaintext
    finally:
        await engine.dispose()


async def _wait(http: httpx.AsyncClient, task_id: str) -> dict[str, Any]:
    while True:
        view: dict[str, Any] = (await http.get(f"{BASE}/{task_id}")).json()["data"]
        if view["status"] in ("completed", "failed", "cancelled"):
            return view
        await asyncio.sleep(0.05)


async def _steps(settings: Settings, task_id: str) -> dict[str, ResearchStep]:
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            rows = await session.execute(select(ResearchStep).where(ResearchStep.job_id == task_id))
            return {s.key: s for s in rows.scalars()}
    finally:
        await engine.dispose()


async def main(ttft_ms: float, tokens_per_s: float, jobs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        await upgrade(url)
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            environment="test",
            database_url=url,
            data_dir=tmp,
            access_log=False,
            log_level="WARNING",
            simulator_ttft_ms=ttft_ms,
            simulator_tokens_per_s=tokens_per_s,
            simulator_jitter=0,
        )
        key = await _key(settings)
        app = create_app(settings)
        async with LifespanManager(app, startup_timeout=30, shutdown_timeout=30) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://bench", headers={"X-API-Key": key}
            ) as http:
                resp = await http.post("/api/v1/knowledge/ingest", json={"documents": DOCUMENTS})
                assert resp.status_code == 201, resp.text

                body = {"question": QUESTION, "max_sub_questions": 4}
                task_id = (await http.post(f"{BASE}/start", json=body)).json()["data"]["task_id"]
                view = await _wait(http, task_id)
                assert view["status"] == "completed", view
                steps = await _steps(settings, task_id)
                research = [s for k, s in steps.items() if k.startswith("research:")]
                phase = (
                    max(_utc(s.created_at) for s in research) - _utc(steps["plan"].created_at)
                ).total_seconds()
                sequential = sum(s.latency_ms for s in research) / 1000
                job_s = (
                    datetime.fromisoformat(view["finished_at"])
                    - datetime.fromisoformat(view["started_at"])
                ).total_seconds()
                print(f"simulator: {ttft_ms:.0f} ms to first token, {tokens_per_s:.0f} tokens/s")
                print(f"one job, {len(research)} sub-questions: {job_s:.2f} s end to end")
                print(
                    f"  research phase {phase:.2f} s in parallel vs {sequential:.2f} s "
                    f"one after another ({sequential / phase:.1f}x)"
                )
                for key_, step in sorted(steps.items()):
                    print(f"  {key_:<11} {step.latency_ms:8.0f} ms")

                started = time.perf_counter()
                ids = [
                    (await http.post(f"{BASE}/start", json=body)).json()["data"]["task_id"]
                    for _ in range(jobs)
                ]
                views = await asyncio.gather(*(_wait(http, i) for i in ids))
                wall = time.perf_counter() - started
                assert all(v["status"] == "completed" for v in views)
                per_job = [
                    (
                        datetime.fromisoformat(v["finished_at"])
                        - datetime.fromisoformat(v["started_at"])
                    ).total_seconds()
                    for v in views
                ]
                print(
                    f"{jobs} jobs submitted at once: all done in {wall:.2f} s "
                    f"({jobs / wall * 60:.0f} jobs/min); per job median "
                    f"{statistics.median(per_job):.2f} s"
                )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ttft-ms", type=float, default=200.0)
    parser.add_argument("--tokens-per-s", type=float, default=200.0)
    parser.add_argument("--jobs", type=int, default=8)
    args = parser.parse_args()
    asyncio.run(main(args.ttft_ms, args.tokens_per_s, args.jobs))
