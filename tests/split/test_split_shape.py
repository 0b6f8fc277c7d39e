"""The split shape as local processes, started with the commands the containers run.

The tests share the processes and run top to bottom; the last one stops them.

``ai-platform db upgrade`` once; then, all at once, the simulator, ``ai-platform serve
--services …`` for the services (knowledge alone; agent, research and assistant
together, to start fewer interpreters), ``ai-platform worker`` and the gateway with
``SERVICES__<NAME>__URL`` — on PostgreSQL and Redis. Everything below goes through
the gateway unless it says otherwise.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
import pytest
import redis.asyncio as aioredis
from sqlalchemy import func, select
from sqlalchemy.engine.url import make_url

from ai_platform.config import Settings
from ai_platform.db.engine import create_engine, create_sessionmaker
from ai_platform.db.models import UsageRecord
from ai_platform.governance.auth import ClientInfo
from ai_platform.governance.identity import IDENTITY_HEADER, IdentitySigner
from ai_platform.harness.ports import free_port
from ai_platform.harness.processes import ServerProcess, child_env, simulator_process
from ai_platform.harness.tenants import create_tenant
from ai_platform.harness.waiting import wait_for
from tests.conftest import _unavailable
from tests.services.research.conftest import DOCUMENTS
from tests.support import PG_ADMIN_URL, REDIS_URL

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

SECRET = "split-test-identity-secret-" + "x" * 24
CLI = [sys.executable, "-m", "ai_platform.cli"]
GROUPS = {"knowledge": "knowledge", "others": "agent,research,assistant"}
SERVICE_GROUP = {
    "knowledge": "knowledge",
    "agent": "others",
    "research": "others",
    "assistant": "others",
}


@dataclass
class Split:
    database_url: str
    env: dict[str, str]
    logs: Path
    services: dict[str, ServerProcess] = field(default_factory=dict)
    gateway: ServerProcess | None = None
    worker: ServerProcess | None = None
    headers: dict[str, str] = field(default_factory=dict)
    client_id: str = ""

    @property
    def url(self) -> str:
        assert self.gateway is not None
        return self.gateway.url

    def service(self, name: str) -> ServerProcess:
        return self.services[SERVICE_GROUP[name]]

    def group(self, group: str, port: int) -> ServerProcess:
        process = ServerProcess(
            f"service-{group}",
            [*CLI, "serve", "--services", GROUPS[group], "--port", str(port)],
            port=port,
            env=self.env,
            log_path=self.logs / f"{group}.log",
        )
        self.services[group] = process
        return process


def _run(command: list[str], env: dict[str, str]) -> str:
    import subprocess

    done = subprocess.run(command, env=child_env(env), capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    return done.stdout.decode()


async def _database() -> str:
    admin = make_url(PG_ADMIN_URL)
    dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"aip_split_{uuid.uuid4().hex[:10]}"
    try:
        conn = await asyncpg.connect(dsn, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        _unavailable("PostgreSQL at 127.0.0.1:5432", exc)
        raise
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return admin.set(database=name).render_as_string(hide_password=False)


async def _drop(url: str) -> None:
    admin = make_url(PG_ADMIN_URL)
    dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn, timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(scope="module")
async def split(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Split]:
    probe = aioredis.from_url(REDIS_URL)
    try:
        await probe.ping()
    except Exception as exc:
        _unavailable("Redis at 127.0.0.1:6379", exc)
        raise
    finally:
        await probe.aclose()
    database_url = await _database()
    logs = tmp_path_factory.mktemp("split")
    tag = uuid.uuid4().hex[:10]
    simulator = simulator_process(
        ttft_ms=0, tokens_per_s=40, port=free_port(), log_path=logs / "simulator.log"
    )
    env = {
        "ENVIRONMENT": "test",
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "REDIS_KEY_PREFIX": f"aip-split-{tag}",
        "RESEARCH_QUEUE_NAME": f"aip-split:{tag}:research",
        "SERVICE_IDENTITY_SECRET": SECRET,
        "DATA_DIR": str(logs / "data"),
        "LOG_LEVEL": "WARNING",
        "ACCESS_LOG": "false",
        "AUTH_CACHE_TTL_S": "0",
        "LLM_PROVIDER": "simulator",
        "PROMETHEUS_MULTIPROC_DIR": str(logs / "metrics"),
    }
    split = Split(database_url, env, logs)
    try:
        await asyncio.to_thread(_run, [*CLI, "db", "upgrade"], env)
        tenant = await create_tenant(
            database_url, Settings(_env_file=None).secret_key.get_secret_value(), rpm=100_000
        )
        split.headers = tenant.headers
        split.client_id = tenant.client_id

        # Ports first, so every process can start at once.
        env["LLM_BASE_URL"] = simulator.url + "/v1"
        for group in GROUPS:
            split.group(group, free_port())
        for name, group in SERVICE_GROUP.items():
            env[f"SERVICES__{name.upper()}__URL"] = split.services[group].url
        port = free_port()
        split.gateway = ServerProcess(
            "gateway",
            [*CLI, "serve", "--port", str(port)],
            port=port,
            env=env,
            log_path=logs / "gateway.log",
        )
        # The worker has no HTTP port: it is "healthy" with the gateway, and proves
        # itself by finishing a job below.
        split.worker = ServerProcess(
            "worker", [*CLI, "worker"], port=port, env=env, log_path=logs / "worker.log"
        )
        processes = [simulator, *split.services.values(), split.gateway, split.worker]
        await asyncio.gather(*(asyncio.to_thread(p.start) for p in processes))
        yield split
    finally:
        running = [split.gateway, split.worker, *split.services.values(), simulator]
        await asyncio.gather(*(asyncio.to_thread(p.stop) for p in running if p is not None))
        await _drop(database_url)


@pytest.fixture
async def http(split: Split) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=split.url, timeout=30) as client:
        yield client


async def _ledger_count(split: Split, request_id: str) -> int:
    engine = create_engine(split.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            count = await session.scalar(
                select(func.count()).where(UsageRecord.request_id == request_id)
            )
            return int(count or 0)
    finally:
        await engine.dispose()


REQUEST_IDS: dict[str, str] = {}
"""Request ids of calls whose ledger rows the last test counts."""


async def test_every_service_answers_through_the_gateway(
    split: Split, http: httpx.AsyncClient
) -> None:
    ingest = await http.post(
        "/api/v1/knowledge/ingest", json={"documents": DOCUMENTS}, headers=split.headers
    )
    assert ingest.status_code == 201, ingest.text

    search = await http.post(
        "/api/v1/knowledge/search",
        json={"query": "tent warranty", "max_results": 2},
        headers={**split.headers, "traceparent": "00-" + "a" * 32 + "-" + "b" * 16 + "-01"},
    )
    assert search.status_code == 200, search.text
    body = search.json()
    assert body["data"] and "tent" in body["data"][0]["content"].lower()
    # The envelope and the header carry the gateway's request id; the gateway's
    # rate-limit headers replace the service's.
    assert body["metadata"]["request_id"] == search.headers["x-request-id"]
    assert int(search.headers["x-ratelimit-limit"]) == 100000
    REQUEST_IDS["knowledge"] = search.headers["x-request-id"]

    chat = await http.post(
        "/api/v1/assistant/chat", json={"message": "Say: hello there"}, headers=split.headers
    )
    assert chat.status_code == 200, chat.text
    assert chat.json()["data"]["reply"] == "hello there"

    tickets = await http.get("/api/v1/agent/tickets", headers=split.headers)
    assert tickets.status_code == 200, tickets.text

    me = await http.get("/api/v1/me", headers=split.headers)
    assert me.status_code == 200 and me.json()["data"]["client_id"] == split.client_id

    anonymous = await http.post("/api/v1/knowledge/search", json={"query": "tent"})
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "unauthorized"

    ready = await http.get("/health/ready")
    assert ready.status_code == 200, ready.text
    checks = ready.json()["checks"]
    assert {f"service:{n}" for n in SERVICE_GROUP} <= set(checks)


async def test_sse_passes_through_the_proxy_event_by_event(
    split: Split, http: httpx.AsyncClient
) -> None:
    # Events parsed per network read: a proxy that buffered the stream would hand the
    # client every event in one read, at the end.
    reads: list[list[str]] = []
    events: list[tuple[str, Any]] = []
    buffer = b""
    async with http.stream(
        "POST",
        "/api/v1/agent/chat/stream",
        json={"message": "Search the knowledge base: what does the tent warranty cover?"},
        headers=split.headers,
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        request_id = response.headers["x-request-id"]
        async for chunk in response.aiter_raw():
            buffer += chunk
            names = []
            while b"\n\n" in buffer:
                block, buffer = buffer.split(b"\n\n", 1)
                lines = dict(
                    line.split(": ", 1) for line in block.decode().splitlines() if ": " in line
                )
                if "event" in lines:
                    names.append(lines["event"])
                    events.append((lines["event"], orjson.loads(lines.get("data", "null"))))
            if names:
                reads.append(names)
    names = [name for name, _ in events]
    assert names[:2] == ["tool_call", "tool_result"] and names[-1] == "done"
    # The agent searched the knowledge service over HTTP, with the caller's identity.
    assert events[0][1]["name"] == "search_knowledge"
    assert events[1][1]["failed"] is False
    tokens = names.count("token")
    assert tokens >= 5
    # Several events reached the client in reads before the one that ended the stream.
    before_last = sum(len(r) for r in reads[:-1])
    assert len(reads) >= 3 and before_last >= 3
    done = events[-1][1]
    assert done["request_id"] == request_id
    REQUEST_IDS["agent"] = request_id


async def test_a_research_job_is_finished_by_the_separate_worker(
    split: Split, http: httpx.AsyncClient
) -> None:
    start = await http.post(
        "/api/v1/research/start",
        json={"question": "How should I care for my tent?", "max_sub_questions": 1},
        headers=split.headers,
    )
    assert start.status_code == 202, start.text
    task_id = start.json()["data"]["task_id"]

    async def finished() -> dict[str, Any] | None:
        view = await http.get(f"/api/v1/research/{task_id}", headers=split.headers)
        assert view.status_code == 200, view.text
        data: dict[str, Any] = view.json()["data"]
        return data if data["status"] in ("completed", "failed", "cancelled") else None

    view = await wait_for(finished, timeout_s=40, interval_s=0.2, what="the research job")
    assert view["status"] == "completed", view.get("error")
    # The researcher's passages came from the knowledge service, over HTTP from the
    # worker with the job's identity: its answer is grounded in the ingested documents.
    answers = view["partial_results"]
    assert answers and all(a["grounded"] for a in answers), answers
    titles = {source["title"] for a in answers for source in a["sources"]}
    assert titles & {d["title"] for d in DOCUMENTS}, titles


async def test_a_dead_service_is_a_503_for_it_alone_then_recovers(
    split: Split, http: httpx.AsyncClient
) -> None:
    knowledge = split.service("knowledge")
    knowledge.kill()  # SIGKILL: a crash
    down = await http.post(
        "/api/v1/knowledge/search", json={"query": "shipping"}, headers=split.headers
    )
    assert down.status_code == 503
    error = down.json()
    assert error["error"]["code"] == "service_unavailable"
    assert error["metadata"]["request_id"] == down.headers["x-request-id"]

    others = await http.post(
        "/api/v1/assistant/chat", json={"message": "Say: still here"}, headers=split.headers
    )
    assert others.status_code == 200 and others.json()["data"]["reply"] == "still here"
    ready = await http.get("/health/ready")
    assert ready.status_code == 503
    checks = ready.json()["checks"]
    assert checks["service:knowledge"].startswith("error")
    assert checks["service:assistant"] == "ok"

    await asyncio.to_thread(split.group("knowledge", knowledge.port).start)
    back = await http.post(
        "/api/v1/knowledge/search", json={"query": "shipping"}, headers=split.headers
    )
    assert back.status_code == 200, back.text
    assert (await http.get("/health/ready")).status_code == 200


async def test_a_service_refuses_calls_that_did_not_come_through_the_gateway(
    split: Split,
) -> None:
    knowledge = split.service("knowledge").url
    body = {"query": "tent"}
    client = ClientInfo(split.client_id, "x", "key", frozenset({"knowledge"}), 10**5, 10**9, 10.0)
    forged = IdentitySigner("not-the-secret").sign(client, "req_forged")
    expired = IdentitySigner(SECRET).sign(client, "req_old", now=0.0)
    valid = IdentitySigner(SECRET).sign(client, "req_" + uuid.uuid4().hex)
    async with httpx.AsyncClient(base_url=knowledge, timeout=10) as direct:
        for headers in (
            split.headers,  # an API key is not enough: only the gateway checks keys
            {IDENTITY_HEADER: forged},
            {IDENTITY_HEADER: expired},
            {IDENTITY_HEADER: valid[:-2] + ("AA" if not valid.endswith("AA") else "BB")},
        ):
            refused = await direct.post("/api/v1/knowledge/search", json=body, headers=headers)
            assert refused.status_code == 401, headers
            assert refused.json()["error"]["code"] == "unauthorized"
        accepted = await direct.post(
            "/api/v1/knowledge/search", json=body, headers={IDENTITY_HEADER: valid}
        )
        assert accepted.status_code == 200, accepted.text
        # Probes stay open.
        assert (await direct.get("/health")).status_code == 200


async def test_each_forwarded_request_leaves_exactly_one_ledger_row(split: Split) -> None:
    # Stopping the processes flushes their ledger writers: every row is in by now.
    assert split.gateway is not None
    await asyncio.gather(
        *(asyncio.to_thread(p.stop) for p in [split.gateway, *split.services.values()])
    )
    assert set(REQUEST_IDS) == {"knowledge", "agent"}
    for request_id in REQUEST_IDS.values():
        assert await _ledger_count(split, request_id) == 1, request_id
