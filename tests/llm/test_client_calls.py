"""Chat and embedding calls: what goes on the wire, what comes back, and what it costs."""

from __future__ import annotations

import base64
import json

import httpx
import openai
import pytest

from ai_platform.core.errors import UpstreamError
from ai_platform.llm.client import LLMClient, image_part
from ai_platform.llm.pricing import PriceTable
from ai_platform.llm.transports import WireTransport
from ai_platform.llm.types import ToolCall

from .upstream_fakes import (
    Upstream,
    completion,
    embeddings,
    error,
    make_client,
    settings,
)

HI = [{"role": "user", "content": "hi"}]


async def test_chat_request_and_result() -> None:
    upstream = Upstream(
        completion(
            "Hello!",
            prompt_tokens=1234,
            completion_tokens=567,
            cached_tokens=200,
            headers={"x-request-id": "req_abc"},
        )
    )
    client = make_client(upstream)
    result = await client.chat(HI, temperature=0.2)
    body = upstream.bodies[0]
    assert upstream.requests[0].url == "http://upstream.test/v1/chat/completions"
    assert upstream.requests[0].headers["authorization"] == "Bearer sk-test"
    assert body == {
        "model": "gpt-4o-mini",
        "messages": HI,
        "max_tokens": 256,
        "temperature": 0.2,
    }
    assert result.content == "Hello!"
    assert result.finish_reason == "stop"
    assert result.model == "gpt-4o-mini-2024-07-18"
    assert result.usage.prompt_tokens == 1234
    assert result.usage.completion_tokens == 567
    assert result.usage.cached_tokens == 200
    assert result.usage.total_tokens == 1801
    assert result.usage.estimated is False
    # (1034 * 0.15 + 200 * 0.075 + 567 * 0.60) / 1M
    assert result.cost_usd == 0.0005103
    assert result.price_known is True
    assert result.request_id == "req_abc"
    assert result.latency_ms > 0
    assert result.ttft_ms is None
    await client.aclose()


async def test_reasoning_models_get_max_completion_tokens() -> None:
    upstream = Upstream(completion(model="o4-mini-2025-04-16"))
    client = make_client(upstream)
    await client.chat(HI, model="o4-mini", max_tokens=99)
    assert upstream.bodies[0]["max_completion_tokens"] == 99
    assert "max_tokens" not in upstream.bodies[0]
    await client.aclose()


async def test_json_mode_tools_and_n_are_passed_through() -> None:
    tool = {
        "type": "function",
        "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}},
    }
    upstream = Upstream(completion('{"a": 1}'))
    client = make_client(upstream)
    await client.chat(
        HI,
        response_format={"type": "json_object"},
        tools=[tool],
        tool_choice="auto",
        n=2,
        extra={"seed": 7},
    )
    body = upstream.bodies[0]
    assert body["response_format"] == {"type": "json_object"}
    assert body["tools"] == [tool]
    assert body["tool_choice"] == "auto"
    assert body["n"] == 2
    assert body["seed"] == 7
    await client.aclose()


async def test_tool_calls_are_parsed() -> None:
    calls = [
        {
            "id": "call_1",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
        },
        {"id": "call_2", "type": "function", "function": {"name": "broken", "arguments": "{oops"}},
    ]
    upstream = Upstream(completion(None, tool_calls=calls, finish_reason="tool_calls"))
    client = make_client(upstream)
    result = await client.chat(HI)
    assert result.content is None
    assert result.finish_reason == "tool_calls"
    assert result.tool_calls == [
        ToolCall("call_1", "get_weather", {"city": "Paris"}, '{"city": "Paris"}'),
        ToolCall("call_2", "broken", "{oops", "{oops"),
    ]
    await client.aclose()


async def test_unknown_model_is_priced_at_the_fallback_and_flagged() -> None:
    upstream = Upstream(
        completion(model="llama-3.1-8b-instruct", prompt_tokens=1000, completion_tokens=1000)
    )
    client = make_client(upstream)
    result = await client.chat(HI, model="llama-3.1-8b-instruct")
    assert result.price_known is False
    assert result.cost_usd == 0.0125  # gpt-4o rates: 1000 * 2.50 + 1000 * 10.00
    await client.aclose()


async def test_reported_model_is_priced_when_the_request_named_something_else() -> None:
    # e.g. Azure: the request names a deployment, the response the model that ran.
    upstream = Upstream(
        completion(model="gpt-4o-2024-08-06", prompt_tokens=1000, completion_tokens=0)
    )
    client = make_client(upstream)
    result = await client.chat(HI, model="prod-chat-deployment")
    assert result.price_known is True
    assert result.cost_usd == 0.0025
    await client.aclose()


async def test_simulator_names_are_priced_as_real_models() -> None:
    upstream = Upstream(completion(model="sim-chat", prompt_tokens=1_000_000, completion_tokens=0))
    client = make_client(upstream)
    result = await client.chat(HI, model="sim-chat")
    assert result.price_known is True
    assert result.cost_usd == 0.15
    await client.aclose()


async def test_missing_usage_is_estimated() -> None:
    upstream = Upstream(completion("hello world", usage=False))
    client = make_client(upstream)
    result = await client.chat([{"role": "user", "content": "hello world"}])
    assert result.usage.estimated is True
    assert result.usage.prompt_tokens == 9  # 3 priming + 3 per message + 3 for the text
    assert result.usage.completion_tokens == 3
    assert result.cost_usd > 0
    await client.aclose()


async def test_embed_keeps_order_and_prices_usage() -> None:
    upstream = Upstream(
        embeddings([[0.1, 0.2], [0.3, 0.4]], model="text-embedding-3-small", prompt_tokens=12_345)
    )
    client = make_client(upstream)
    result = await client.embed(["first", "second"], model="text-embedding-3-large")
    assert upstream.requests[0].url.path == "/v1/embeddings"
    assert upstream.bodies[0] == {
        "model": "text-embedding-3-large",
        "input": ["first", "second"],
        "encoding_format": "float",
    }
    assert result.vectors == [[0.1, 0.2], [0.3, 0.4]]
    assert result.dimensions == 2
    assert result.usage.prompt_tokens == 12_345
    # priced as the model the server reports: 12345 * 0.02 / 1M
    assert result.cost_usd == 0.0002469
    await client.aclose()


async def test_embed_splits_large_batches() -> None:
    async def answer(request: httpx.Request) -> httpx.Response:
        texts = json.loads(request.content)["input"]
        vectors = [[float(len(t))] for t in texts]
        return embeddings(vectors, model="text-embedding-3-small", prompt_tokens=len(texts))

    upstream = Upstream(answer)
    client = make_client(upstream)
    texts = ["x" * (i % 7 + 1) for i in range(2500)]
    result = await client.embed(texts)
    assert [len(body["input"]) for body in upstream.bodies] == [2048, 452]
    assert result.vectors == [[float(len(t))] for t in texts]
    assert result.usage.prompt_tokens == 2500
    assert result.attempts == 2
    await client.aclose()


async def test_embed_retries_like_chat() -> None:
    upstream = Upstream(
        error(503), embeddings([[1.0]], model="text-embedding-3-small", prompt_tokens=1)
    )
    client = make_client(upstream)
    result = await client.embed(["a"])
    assert result.attempts == 2
    await client.aclose()


async def test_ping_lists_models_with_a_short_timeout() -> None:
    upstream = Upstream(httpx.Response(200, json={"object": "list", "data": []}))
    client = make_client(upstream)
    await client.ping(timeout_s=1.25)
    request = upstream.requests[0]
    assert (request.method, request.url.path) == ("GET", "/v1/models")
    assert request.extensions["timeout"]["read"] == 1.25
    await client.aclose()


async def test_ping_failure_is_mapped_and_does_not_move_the_breaker() -> None:
    upstream = Upstream(error(503))
    client = make_client(upstream, llm_breaker_failures=1)
    with pytest.raises(UpstreamError):
        await client.ping()
    assert len(upstream.requests) == 1
    assert client.breaker.consecutive_failures == 0
    await client.aclose()


async def test_azure_uses_the_deployment_as_model() -> None:
    upstream = Upstream(
        completion(model="gpt-4o-2024-08-06", prompt_tokens=10, completion_tokens=2)
    )
    client = LLMClient.from_settings(
        settings(
            llm_provider="azure",
            llm_base_url=None,
            azure_openai_endpoint="https://res.openai.azure.com",
            azure_openai_api_key="azure-key",
            azure_openai_api_version="2024-10-21",
            azure_openai_deployment="chat-prod",
        ),
        http_client=upstream.http_client(),
    )
    result = await client.chat(HI)
    request = upstream.requests[0]
    assert request.url.path == "/openai/deployments/chat-prod/chat/completions"
    assert request.url.params["api-version"] == "2024-10-21"
    assert request.headers["api-key"] == "azure-key"
    assert upstream.bodies[0]["model"] == "chat-prod"
    assert result.cost_usd == 0.000045  # gpt-4o: 10 * 2.50 + 2 * 10.00
    await client.aclose()


def test_simulator_without_an_address_is_refused() -> None:
    with pytest.raises(ValueError, match="base_url"):
        LLMClient.from_settings(
            settings(llm_provider="simulator", llm_api_key="sk-simulator", llm_base_url=None)
        )


async def test_base_url_argument_overrides_settings() -> None:
    upstream = Upstream(completion())
    client = LLMClient.from_settings(
        settings(llm_provider="simulator", llm_api_key="sk-simulator", llm_base_url=None),
        base_url="http://127.0.0.1:9/v1",
        http_client=upstream.http_client(),
    )
    await client.chat(HI)
    assert str(upstream.requests[0].url) == "http://127.0.0.1:9/v1/chat/completions"
    assert client.provider == "simulator"
    await client.aclose()


async def test_aiohttp_backend_builds_an_aiohttp_transport() -> None:
    client = LLMClient.from_settings(
        settings(llm_transport="sdk", llm_http_backend="aiohttp"), prices=PriceTable.load()
    )
    assert isinstance(client.sdk._client, openai.DefaultAioHttpClient)
    await client.aclose()


async def test_the_wire_transport_is_the_default_and_has_no_sdk() -> None:
    client = LLMClient.from_settings(settings(), prices=PriceTable.load())
    assert isinstance(client.routes.primary_deployment.transport, WireTransport)
    with pytest.raises(AttributeError):
        client.sdk  # noqa: B018
    await client.aclose()


def test_worst_case_cost_uses_estimate_and_output_limit() -> None:
    client = make_client(Upstream(completion()))
    # 9 prompt tokens (see above) at 0.15, 256 output tokens at 0.60, per 1M
    assert client.worst_case_cost_usd([{"role": "user", "content": "hello world"}]) == (
        (9 * 0.15 + 256 * 0.60) / 1_000_000
    )


def test_image_part_is_a_data_url() -> None:
    part = image_part(b"\x89PNG\r\n", "image/png", detail="low")
    assert part["type"] == "image_url"
    url = part["image_url"]["url"]
    assert url.startswith("data:image/png;base64,")
    assert base64.b64decode(url.split(",", 1)[1]) == b"\x89PNG\r\n"
    assert part["image_url"]["detail"] == "low"
    assert image_part(b"x", "IMAGE/JPG")["image_url"]["url"].startswith("data:image/jpeg;")
    with pytest.raises(ValueError, match="unsupported image type"):
        image_part(b"x", "application/pdf")
