"""Hostile input is never a 500: Schemathesis over the app's own /openapi.json.

Every operation in the published schema is fuzzed with schema-valid (positive) and
schema-violating (negative) requests, authenticated as an admin tenant, on SQLite and
on PostgreSQL. The app runs with its lifespan on the test's event loop (``running_app``);
Schemathesis generates and validates in a worker thread and each request is sent back to
the loop through the in-process httpx client, so engines and pools stay on one loop.

Checks: no response >= 500, the status code is documented, the content type is
documented. The run is bounded (``MAX_EXAMPLES`` per operation and mode) and
derandomized, so a CI failure reproduces locally with the same inputs.

No operation is excluded: research start does queue background jobs, but with the
simulator's latencies at zero they finish quickly and the lifespan drains them.
"""

from __future__ import annotations

import functools
import os
import time
from typing import Any

import anyio
import anyio.to_thread
import httpx
import requests
import schemathesis
from anyio.from_thread import run as run_on_loop
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    status_code_conformance,
)

from ai_platform.config import Settings
from ai_platform.gateway.app import create_app
from tests.support import make_tenant, running_app

# Per operation and mode; raise it for a deeper local hunt: AIP_FUZZ_EXAMPLES=200 pytest ...
MAX_EXAMPLES = int(os.environ.get("AIP_FUZZ_EXAMPLES", "15"))
BASE_URL = "http://testserver"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance]
# Keyword arguments of ``requests.Request`` that Schemathesis' serializer may produce.
_REQUEST_KWARGS = ("method", "url", "headers", "params", "cookies", "json", "data", "files")


def _send(
    client: httpx.AsyncClient, case: schemathesis.Case[Any], auth: dict[str, str]
) -> httpx.Response:
    """Serialize ``case`` the way Schemathesis sends it, then send it on the app's loop."""
    kwargs = case.as_transport_kwargs(base_url=BASE_URL, headers=auth)
    prepared = requests.Request(**{k: kwargs[k] for k in _REQUEST_KWARGS if k in kwargs}).prepare()
    body = prepared.body.encode() if isinstance(prepared.body, str) else prepared.body
    assert body is None or isinstance(body, bytes), type(body)
    headers = [
        (name, value if isinstance(value, str) else value.decode("latin-1"))
        for name, value in prepared.headers.items()
    ]
    call = functools.partial(
        client.request,
        prepared.method or "GET",
        prepared.url or BASE_URL,
        headers=headers,
        content=body,
    )
    response: httpx.Response = run_on_loop(call)
    return response


def _fuzz(
    schema: schemathesis.BaseSchema, client: httpx.AsyncClient, auth: dict[str, str]
) -> list[str]:
    """Run every operation in both generation modes; return one line per failing one."""
    failures: list[str] = []
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):
            failures.append(f"the published schema has an invalid operation: {result.err()}")
            continue
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @hypothesis_settings(
                max_examples=MAX_EXAMPLES,
                derandomize=True,
                database=None,
                deadline=None,
                phases=[Phase.explicit, Phase.generate, Phase.shrink],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def check(case: schemathesis.Case[Any]) -> None:
                case.validate_response(_send(client, case, auth), checks=CHECKS)

            try:
                check()
            except Unsatisfiable:
                continue  # no parameters and no body: there is no negative input to make
            except (Exception, BaseExceptionGroup) as exc:  # named by operation; the run goes on
                failures.append(f"{operation.label} [{mode.value}]: {exc}")
    return failures


async def test_schemathesis_finds_no_server_errors(settings: Settings) -> None:
    started = time.perf_counter()
    app = create_app(settings)
    async with running_app(app) as client:
        tenant = await make_tenant(settings, admin=True, rpm=10**6, tpd=10**9, budget_usd=10**6)
        published = await client.get("/openapi.json")
        assert published.status_code == 200
        schema = schemathesis.openapi.from_dict(published.json())
        failures = await anyio.to_thread.run_sync(_fuzz, schema, client, dict(tenant.headers))
    elapsed = time.perf_counter() - started
    assert not failures, "\n\n".join(failures)
    # Bounded so it fits CI; a slow run means generation or the app regressed.
    assert elapsed < 120, f"schemathesis run took {elapsed:.1f}s"


async def test_sse_routes_document_their_errors_as_json(sqlite_settings: Settings) -> None:
    """Regression: errors on an SSE route were documented only as text/event-stream."""
    async with running_app(create_app(sqlite_settings)) as client:
        spec = (await client.get("/openapi.json")).json()
    for path, method in [
        ("/api/v1/agent/chat/stream", "post"),
        ("/api/v1/research/{task_id}/events", "get"),
    ]:
        responses = spec["paths"][path][method]["responses"]
        assert "text/event-stream" in responses["200"]["content"]
        for status in ("401", "422", "500"):
            assert "application/json" in responses[status]["content"], (path, status)
