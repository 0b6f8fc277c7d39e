"""Model routing through ``/v1``: a failing primary deployment falls back to the next,
and the ledger row names each hop and the model that served."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import openai
import pytest

from ai_platform.gateway.app import create_app
from ai_platform.harness.serving import serve_in_background
from ai_platform.llm.simulator import EmbeddedSimulator, SimulatorConfig
from ai_platform.llm.simulator.config import FaultConfig
from tests.openai_api.test_compat import _rows
from tests.support import make_settings, make_tenant

ALIAS = "chat-default"


@pytest.fixture
async def simulators() -> AsyncIterator[tuple[EmbeddedSimulator, EmbeddedSimulator]]:
    primary = EmbeddedSimulator(SimulatorConfig(ttft_ms=0, tokens_per_s=0, jitter=0))
    backup = EmbeddedSimulator(SimulatorConfig(ttft_ms=0, tokens_per_s=0, jitter=0))
    await primary.start()
    await backup.start()
    try:
        yield primary, backup
    finally:
        await primary.stop()
        await backup.stop()


@pytest.mark.parametrize("status", [429, 500])
async def test_a_failing_primary_falls_back_and_the_ledger_names_the_hops(
    sqlite_url: str,
    tmp_path: Path,
    simulators: tuple[EmbeddedSimulator, EmbeddedSimulator],
    status: int,
) -> None:
    primary, backup = simulators
    primary.config.faults = FaultConfig(
        rate_429=1.0 if status == 429 else 0.0, rate_500=1.0 if status == 500 else 0.0
    )
    settings = make_settings(
        sqlite_url,
        tmp_path,
        llm_base_url=primary.base_url,
        llm_max_retries=0,
        llm_deployments=[{"name": "backup", "provider": "simulator", "base_url": backup.base_url}],
        model_routes={ALIAS: ["primary:gpt-4o-mini", "backup:gpt-4o"]},
    )
    tenant = await make_tenant(settings)
    app = create_app(settings)
    async with serve_in_background(app, lifespan="on") as base_url:
        sdk = openai.AsyncOpenAI(api_key=tenant.key, base_url=f"{base_url}/v1", max_retries=0)
        assert ALIAS in {m.id for m in (await sdk.models.list()).data}
        raw = await sdk.chat.completions.with_raw_response.create(
            model=ALIAS, messages=[{"role": "user", "content": "Which deployment answers?"}]
        )
        answer = raw.parse()
        assert answer.choices[0].message.content
        assert answer.model.startswith("gpt-4o")
        assert not answer.model.startswith("gpt-4o-mini")  # the backup's model served
        code = "rate_limited" if status == 429 else "upstream_error"
        expected = f"primary:gpt-4o-mini:{code}>backup:gpt-4o:ok"
        assert raw.headers["x-ai-platform-route"] == expected

        # Streams fall back before their first byte, the same way.
        streamed = await sdk.chat.completions.with_raw_response.create(
            model=ALIAS,
            messages=[{"role": "user", "content": "Stream from whichever deployment answers"}],
            stream=True,
        )
        assert streamed.headers["x-ai-platform-route"] == expected
        assert streamed.headers["x-ai-platform-model"] == "gpt-4o"
        stream = streamed.parse()
        assert "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])

        # With every deployment failing, the caller gets the last failure and the row
        # still says where the call went.
        backup.config.faults = FaultConfig(rate_500=1.0)
        with pytest.raises(openai.APIStatusError) as failed:
            await sdk.chat.completions.create(
                model=ALIAS, messages=[{"role": "user", "content": "Anyone there?"}]
            )
        assert failed.value.status_code == 502
        await sdk.close()
        await app.state.platform.governor.ledger.flush()

    rows = sorted(await _rows(sqlite_url, tenant.client_id), key=lambda r: r.created_at)
    assert [r.status_code for r in rows] == [200, 200, 502]
    assert rows[0].hops == expected and rows[0].model is not None
    assert rows[0].model.startswith("gpt-4o") and not rows[0].model.startswith("gpt-4o-mini")
    assert rows[1].hops == expected
    assert rows[2].hops == f"primary:gpt-4o-mini:{code}>backup:gpt-4o:upstream_error"
    assert rows[2].cost_usd == 0
    assert json.loads(failed.value.response.text)["error"]["type"] == "api_error"


async def test_a_client_uses_only_the_models_its_allow_list_names(
    db_url: str, tmp_path: Path, simulators: tuple[EmbeddedSimulator, EmbeddedSimulator]
) -> None:
    primary, backup = simulators
    settings = make_settings(
        db_url,
        tmp_path,
        llm_base_url=primary.base_url,
        llm_deployments=[{"name": "backup", "provider": "simulator", "base_url": backup.base_url}],
        model_routes={ALIAS: ["primary:gpt-4o-mini", "backup:gpt-4o"]},
    )
    tenant = await make_tenant(settings)
    admin = await make_tenant(settings, admin=True)
    app = create_app(settings)
    async with serve_in_background(app, lifespan="on") as base_url:
        async with httpx.AsyncClient(base_url=base_url, headers=admin.headers) as http:
            changed = await http.patch(
                f"/api/v1/admin/clients/{tenant.client_id}",
                json={"allowed_models": [ALIAS, "text-embedding-3-small"]},
            )
            assert changed.status_code == 200, changed.text
            assert changed.json()["data"]["allowed_models"] == [ALIAS, "text-embedding-3-small"]
            refused = await http.patch(
                f"/api/v1/admin/clients/{tenant.client_id}", json={"allowed_models": [""]}
            )
            assert refused.status_code == 422
        sdk = openai.AsyncOpenAI(api_key=tenant.key, base_url=f"{base_url}/v1", max_retries=0)
        assert sorted(m.id for m in (await sdk.models.list()).data) == [
            ALIAS,
            "text-embedding-3-small",
        ]
        answer = await sdk.chat.completions.create(
            model=ALIAS, messages=[{"role": "user", "content": "Am I allowed this one?"}]
        )
        assert answer.choices[0].message.content
        with pytest.raises(openai.PermissionDeniedError):
            await sdk.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "And this one?"}]
            )
        await sdk.close()
        await app.state.platform.governor.ledger.flush()
    rows = await _rows(db_url, tenant.client_id)
    assert [r.status_code for r in rows] == [200]  # the refusal billed and counted nothing


async def test_the_sdk_transport_carries_the_same_calls(sqlite_url: str, tmp_path: Path) -> None:
    settings = make_settings(sqlite_url, tmp_path, llm_transport="sdk")
    tenant = await make_tenant(settings)
    app = create_app(settings)
    async with serve_in_background(app, lifespan="on") as base_url:
        assert app.state.platform.llm.sdk is not None  # the SDK is underneath
        sdk = openai.AsyncOpenAI(api_key=tenant.key, base_url=f"{base_url}/v1", max_retries=0)
        answer = await sdk.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "Through the SDK, please"}]
        )
        assert answer.usage is not None and answer.usage.completion_tokens > 0
        stream = await sdk.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "Stream through the SDK, please"}],
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks = [chunk async for chunk in stream]
        assert sum(1 for c in chunks if c.choices and c.choices[0].delta.content) > 1
        assert chunks[-1].usage is not None
        vectors = await sdk.embeddings.create(model="text-embedding-3-small", input="one text")
        assert len(vectors.data) == 1
        await sdk.close()
        await app.state.platform.governor.ledger.flush()
    rows = await _rows(sqlite_url, tenant.client_id)
    assert sorted(r.status_code for r in rows) == [200, 200, 200]
    assert all(r.cost_usd > 0 for r in rows)
