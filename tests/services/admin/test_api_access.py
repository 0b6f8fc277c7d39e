"""Admin routes: admin keys only, governed and ledgered like every route; OpenAPI."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from ai_platform.config import Settings
from ai_platform.db.engine import create_engine, create_sessionmaker
from ai_platform.gateway.app import create_app
from ai_platform.governance.tenants import list_clients
from tests.services.admin.conftest import assert_error, data
from tests.support import Tenant, make_tenant, running_app

CLIENT = "cli_0000000000000000"
KEY = "key_0000000000000000"
ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("POST", "/api/v1/admin/clients", {"name": "never-created-by-a-non-admin"}),
    ("GET", "/api/v1/admin/clients", None),
    ("GET", f"/api/v1/admin/clients/{CLIENT}", None),
    ("PATCH", f"/api/v1/admin/clients/{CLIENT}", {"rpm_limit": 5}),
    ("POST", f"/api/v1/admin/clients/{CLIENT}/deactivate", None),
    ("POST", f"/api/v1/admin/clients/{CLIENT}/activate", None),
    ("POST", f"/api/v1/admin/clients/{CLIENT}/keys", {"admin": True}),
    ("GET", f"/api/v1/admin/clients/{CLIENT}/keys", None),
    ("POST", f"/api/v1/admin/clients/{CLIENT}/keys/{KEY}/rotate", None),
    ("POST", f"/api/v1/admin/clients/{CLIENT}/keys/{KEY}/revoke", None),
    ("GET", "/api/v1/admin/usage?group_by=service", None),
    ("GET", "/api/v1/admin/usage/requests", None),
    ("GET", "/api/v1/admin/usage/requests/req_x", None),
    ("GET", "/api/v1/admin/prices", None),
]


def test_route_table_covers_every_admin_route() -> None:
    app: FastAPI = create_app(Settings(_env_file=None, environment="test"))  # type: ignore[call-arg]
    # Included routers are not flattened into app.routes; the schema lists every route.
    mounted = {
        (method.upper(), path)
        for path, ops in app.openapi()["paths"].items()
        if path.startswith("/api/v1/admin")
        for method in ops
    }
    listed = {
        (m, p.split("?")[0].replace(CLIENT, "{client_id}").replace(KEY, "{key_id}"))
        for m, p, _ in ROUTES
    }
    listed = {(m, p.replace("/requests/req_x", "/requests/{request_id}")) for m, p in listed}
    assert mounted == listed


async def _call(client: httpx.AsyncClient, method: str, path: str, body: Any, **kw: Any) -> Any:
    return await client.request(method, path, json=body, **kw)


async def test_every_route_needs_a_key(settings: Settings) -> None:
    async with running_app(create_app(settings)) as client:
        for method, path, body in ROUTES:
            resp = await _call(client, method, path, body)
            assert_error(resp, 401, "unauthorized")
            assert "www-authenticate" in resp.headers


async def test_every_route_refuses_a_key_without_the_admin_scope(settings: Settings) -> None:
    tenant = await make_tenant(settings, rpm=100_000)
    async with running_app(create_app(settings)) as client:
        for method, path, body in ROUTES:
            resp = await _call(client, method, path, body, headers=tenant.headers)
            body_ = assert_error(resp, 403, "forbidden")
            assert "admin" in body_["error"]["message"]
    engine = create_engine(settings.database_url)
    async with create_sessionmaker(engine)() as session:
        names = {c.name for c in await list_clients(session)}
    await engine.dispose()
    assert "never-created-by-a-non-admin" not in names


async def test_admin_requests_are_ledgered_including_refusals(
    settings: Settings, admin: Tenant
) -> None:
    outsider = await make_tenant(settings, rpm=100_000)
    app = create_app(settings)
    async with running_app(app) as client:
        ok = await client.get("/api/v1/admin/clients?limit=1", headers=admin.headers)
        refused = await client.get("/api/v1/admin/prices", headers=outsider.headers)
        assert (ok.status_code, refused.status_code) == (200, 403)
        await app.state.platform.governor.ledger.flush()
        mine = data(
            await client.get(
                f"/api/v1/admin/usage/requests/{ok.headers['x-request-id']}",
                headers=admin.headers,
            )
        )
        theirs = data(
            await client.get(
                f"/api/v1/admin/usage/requests?client_id={outsider.client_id}",
                headers=admin.headers,
            )
        )
    assert (mine["client_id"], mine["service"], mine["status_code"]) == (
        admin.client_id,
        "admin",
        200,
    )
    assert mine["route"] == "/api/v1/admin/clients"
    assert [(r["request_id"], r["service"], r["status_code"]) for r in theirs["items"]] == [
        (refused.headers["x-request-id"], "admin", 403)
    ]


async def test_admin_routes_are_rate_limited(settings: Settings) -> None:
    slow = await make_tenant(settings, admin=True, rpm=2)
    async with running_app(create_app(settings)) as client:
        codes = [
            (await client.get("/api/v1/admin/prices", headers=slow.headers)).status_code
            for _ in range(3)
        ]
        last = await client.get("/api/v1/admin/prices", headers=slow.headers)
    assert codes == [200, 200, 429]
    assert_error(last, 429, "rate_limited")
    assert int(last.headers["retry-after"]) >= 1


async def test_prices_are_the_table_in_use(settings: Settings, admin: Tenant) -> None:
    app = create_app(settings)
    async with running_app(app) as client:
        table = data(await client.get("/api/v1/admin/prices", headers=admin.headers))
        expected = app.state.platform.governor.prices.as_dict()
    assert table == expected
    mini = table["models"]["gpt-4o-mini"]
    assert mini["kind"] == "chat" and mini["input_per_1m"] > 0 and mini["output_per_1m"] > 0
    assert table["fallback"]["model"] in table["models"]


async def test_prices_honour_a_price_file(settings: Settings, admin: Tenant, tmp_path: Any) -> None:
    path = tmp_path / "prices.json"
    path.write_text('{"models": {"house-model": {"input": "1.25", "output": "2.5"}}}')
    custom = settings.model_copy(update={"price_table_path": str(path)})
    async with running_app(create_app(custom)) as client:
        table = data(await client.get("/api/v1/admin/prices", headers=admin.headers))
    assert table["models"]["house-model"]["input_per_1m"] == 1.25
    assert table["sources"][-1] == str(path)


def test_openapi_declares_errors_and_examples() -> None:
    app = create_app(Settings(_env_file=None, environment="test"))  # type: ignore[call-arg]
    spec = app.openapi()
    paths = {p: ops for p, ops in spec["paths"].items() if p.startswith("/api/v1/admin")}
    assert len(paths) == 11
    for path, ops in paths.items():
        for method, op in ops.items():
            assert op["tags"] == ["Administration"], (method, path)
            declared = set(op["responses"])
            assert {"401", "403", "422", "429"} <= declared, (method, path, declared)
            for code in declared - {"200", "201"}:
                ref = op["responses"][code]["content"]["application/json"]["schema"]["$ref"]
                assert ref.endswith("/ErrorResponse"), (method, path, code)
    assert {"404", "409"} <= set(paths["/api/v1/admin/clients/{client_id}"]["patch"]["responses"])
    assert "400" in paths["/api/v1/admin/usage"]["get"]["responses"]
    schemas = spec["components"]["schemas"]
    for name in (
        "ClientCreate",
        "ClientUpdate",
        "ClientOut",
        "KeyCreate",
        "IssuedKeyOut",
        "UsageReport",
        "LedgerRecord",
        "PriceTableOut",
    ):
        assert schemas[name].get("examples"), name
