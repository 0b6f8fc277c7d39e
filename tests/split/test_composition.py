"""The composition root in process: what each shape mounts, and how a service process
and a gateway treat a call (no child processes; the split itself is in
``test_split_shape``)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import func, select
from starlette.routing import Mount

from ai_platform.config import ServiceEndpoint, Settings
from ai_platform.db.engine import create_engine, create_sessionmaker
from ai_platform.db.models import UsageRecord
from ai_platform.gateway.app import create_app
from ai_platform.governance.auth import ClientInfo
from ai_platform.governance.identity import IDENTITY_HEADER, IdentitySigner
from ai_platform.harness.ports import free_port
from tests.support import make_settings, make_tenant, running_app

SECRET = "composition-test-secret-" + "x" * 20


def _prefixes(app: FastAPI) -> set[str]:
    paths = app.openapi()["paths"]
    return {"/".join(p.split("/")[:4]) for p in paths if p.startswith("/api/v1/")}


def _mounts(app: FastAPI) -> set[str]:
    return {r.path for r in app.router.routes if isinstance(r, Mount)}


def test_each_shape_mounts_only_what_it_runs(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    monolith = create_app(make_settings(url, tmp_path))
    assert {
        "/api/v1/knowledge",
        "/api/v1/agent",
        "/api/v1/research",
        "/api/v1/assistant",
        "/api/v1/admin",
        "/api/v1/me",
    } <= _prefixes(monolith)
    assert monolith.state.proxy is None

    service = create_app(make_settings(url, tmp_path, serve_services="knowledge"))
    assert _prefixes(service) == {"/api/v1/knowledge"}
    assert service.state.proxy is None

    remote = make_settings(url, tmp_path).services.model_copy(
        update={"agent": ServiceEndpoint(url="http://127.0.0.1:9")}
    )
    gateway = create_app(make_settings(url, tmp_path).model_copy(update={"services": remote}))
    assert "/api/v1/agent" not in _prefixes(gateway)  # not served here ...
    assert "/api/v1/agent" in _mounts(gateway)  # ... but proxied
    assert "/api/v1/knowledge" in _prefixes(gateway)
    assert set(gateway.state.proxy.upstreams) == {"agent"}


async def _ledger_rows(settings: Settings, request_id: str) -> int:
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            count = await session.scalar(
                select(func.count()).where(UsageRecord.request_id == request_id)
            )
            return int(count or 0)
    finally:
        await engine.dispose()


async def test_a_service_process_trusts_the_identity_not_the_key(
    sqlite_settings: Settings,
) -> None:
    settings = sqlite_settings.model_copy(
        update={
            "serve_services": "knowledge",
            "service_identity_secret": SecretStr(SECRET),
            "ledger_flush_interval_s": 0.05,
        }
    )
    tenant = await make_tenant(settings)
    client = ClientInfo(tenant.client_id, "t", tenant.key_id, frozenset(), 100, 10**6, 5.0)
    signer = IdentitySigner(SECRET)
    body = {"query": "anything", "mode": "fulltext"}
    async with running_app(create_app(settings)) as http:
        keyed = await http.post("/api/v1/knowledge/search", json=body, headers=tenant.headers)
        assert keyed.status_code == 401
        assert keyed.json()["error"]["code"] == "unauthorized"
        assert (await http.get("/health")).status_code == 200

        plain = await http.post(
            "/api/v1/knowledge/search",
            json=body,
            headers={IDENTITY_HEADER: signer.sign(client, "req_fromgateway1")},
        )
        assert plain.status_code == 200, plain.text
        # The gateway's request id is the envelope's, and keys the ledger row.
        assert plain.json()["metadata"]["request_id"] == "req_fromgateway1"
        # The same header again (copied off the wire): refused, and no work is done.
        replayed = await http.post(
            "/api/v1/knowledge/search",
            json=body,
            headers={IDENTITY_HEADER: plain.request.headers[IDENTITY_HEADER]},
        )
        assert replayed.status_code == 401
        error = replayed.json()
        assert error["error"]["code"] == "unauthorized"
        assert error["error"]["message"] == "gateway identity already used"
        # An id of its own: a refused identity lends the call nothing, not even its id.
        assert error["metadata"]["request_id"].startswith("req_")
        assert error["metadata"]["request_id"] != "req_fromgateway1"

        nested = await http.post(
            "/api/v1/knowledge/search",
            json=body,
            headers={IDENTITY_HEADER: signer.sign(client, "req_fromcaller01", nested=True)},
        )
        assert nested.status_code == 200, nested.text
        # The gateway counted each of these against the per-minute limit: the service
        # does not count them again (a limit of one still lets every one through).
        strict = ClientInfo(tenant.client_id, "t", tenant.key_id, frozenset(), 1, 10**6, 5.0)
        for n in range(3):
            again = await http.post(
                "/api/v1/knowledge/search",
                json=body,
                headers={IDENTITY_HEADER: signer.sign(strict, f"req_strict{n:08d}")},
            )
            assert again.status_code == 200, again.text
    # Leaving the app flushed the ledger: one row for the forwarded call, none for the
    # nested one (its caller ledgers it).
    assert await _ledger_rows(settings, "req_fromgateway1") == 1
    assert await _ledger_rows(settings, "req_fromcaller01") == 0


async def test_a_gateway_answers_503_for_an_unreachable_service_alone(
    sqlite_settings: Settings,
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    services = sqlite_settings.services.model_copy(
        update={"assistant": ServiceEndpoint(url=dead, connect_timeout_s=1.0)}
    )
    settings = sqlite_settings.model_copy(update={"services": services})
    tenant = await make_tenant(settings)
    async with running_app(create_app(settings)) as http:
        anonymous = await http.post("/api/v1/assistant/chat", json={"message": "hi"})
        assert anonymous.status_code == 401

        down = await http.post(
            "/api/v1/assistant/chat", json={"message": "hi"}, headers=tenant.headers
        )
        assert down.status_code == 503
        assert down.json()["error"]["code"] == "service_unavailable"
        assert down.json()["metadata"]["request_id"] == down.headers["x-request-id"]
        assert down.headers["retry-after"] == "1"

        here = await http.post(
            "/api/v1/knowledge/search",
            json={"query": "x", "mode": "fulltext"},
            headers=tenant.headers,
        )
        assert here.status_code == 200, here.text

        ready = await http.get("/health/ready")
        assert ready.status_code == 503
        assert ready.json()["checks"]["service:assistant"].startswith("error")
        assert ready.json()["checks"]["database"] == "ok"
