"""GenAI spans: one per governed request, a child per LLM call, semantic-convention names."""

from __future__ import annotations

from pathlib import Path

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from ai_platform.core.errors import UpstreamError
from ai_platform.db.engine import create_engine, create_sessionmaker
from ai_platform.governance.auth import ClientInfo
from ai_platform.governance.governor import Governor
from ai_platform.governance.screening import InjectionDetector
from ai_platform.governance.tracing import Tracing
from ai_platform.llm.client import LLMClient
from ai_platform.llm.pricing import PriceTable
from ai_platform.llm.simulator import EmbeddedSimulator, FailNext
from tests.governance.support import governed_settings

CLIENT = ClientInfo("cli_trace", "trace", "key_trace", frozenset(), 100, 100_000, 10.0)


def test_tracing_is_off_without_an_endpoint(sqlite_url: str, tmp_path: Path) -> None:
    tracing = Tracing.from_settings(governed_settings(sqlite_url, tmp_path))
    assert not tracing.enabled
    assert tracing.start_llm(None, operation="chat", model="m") is None


async def test_llm_calls_become_genai_client_spans(sqlite_url: str, tmp_path: Path) -> None:
    settings = governed_settings(sqlite_url, tmp_path, llm_max_retries=0)
    exporter = InMemorySpanExporter()
    prices = PriceTable.load()
    engine = create_engine(settings.database_url)
    async with EmbeddedSimulator() as sim:
        llm = LLMClient.from_settings(settings, base_url=sim.base_url, prices=prices)
        governor = Governor(
            settings,
            llm,
            prices,
            InjectionDetector(threshold=settings.injection_threshold),
            sessionmaker=create_sessionmaker(engine),
            tracing=Tracing.from_settings(settings, exporter=exporter),
        )
        await governor.start()
        try:
            ctx = await governor.begin(CLIENT, "knowledge", "/api/v1/knowledge/answer", "req_t1")
            result = await ctx.chat([{"role": "user", "content": "hello"}], max_tokens=32)
            async for _ in ctx.stream_chat([{"role": "user", "content": "again"}], max_tokens=16):
                pass
            sim.config.faults.fail_next = FailNext(count=1, status=500)
            with pytest.raises(UpstreamError):
                await ctx.embed(["a document"])
            await ctx.finish()
        finally:
            await governor.aclose()
            await llm.aclose()
            await engine.dispose()

    spans = {s.name: s for s in exporter.get_finished_spans()}
    request = spans["governed knowledge /api/v1/knowledge/answer"]
    chat = [s for s in exporter.get_finished_spans() if s.name == "chat gpt-4o-mini"]
    assert len(chat) == 2
    first = chat[0]
    assert first.kind.name == "CLIENT"
    assert first.parent is not None and first.parent.span_id == request.context.span_id
    attrs = dict(first.attributes or {})
    assert attrs["gen_ai.operation.name"] == "chat"
    assert attrs["gen_ai.system"] == "simulator"
    assert attrs["gen_ai.request.model"] == "gpt-4o-mini"
    assert attrs["gen_ai.request.max_tokens"] == 32
    assert attrs["gen_ai.usage.input_tokens"] == result.usage.prompt_tokens
    assert attrs["gen_ai.usage.output_tokens"] == result.usage.completion_tokens
    assert attrs["gen_ai.response.finish_reasons"] == (result.finish_reason,)
    assert dict(chat[1].attributes or {})["ai_platform.stream"] is True
    failed = spans["embeddings text-embedding-3-small"]
    assert failed.status.status_code.name == "ERROR"
    assert dict(failed.attributes or {})["error.type"] == "upstream_error"
    req_attrs = dict(request.attributes or {})
    assert req_attrs["ai_platform.outcome"] == "ok"
    assert req_attrs["ai_platform.client_id"] == "cli_trace"
