"""Streaming chat: deltas, tool calls assembled from deltas, usage from the final chunk,
time to first token, and retries only before the first chunk."""

from __future__ import annotations

import httpx
import pytest

from ai_platform.core.errors import UpstreamError
from ai_platform.llm.types import ContentDelta, StreamDone, StreamEvent, ToolCallReady

from .upstream_fakes import Upstream, chunk, error, make_client, sse, usage_chunk

HI = [{"role": "user", "content": "hi"}]


async def collect(client: object, **kwargs: object) -> list[StreamEvent]:
    stream = client.stream_chat(HI, **kwargs)  # type: ignore[attr-defined]
    return [event async for event in stream]


async def test_stream_yields_deltas_and_a_final_event_with_usage() -> None:
    upstream = Upstream(
        sse(
            [
                chunk(role="assistant", content=""),
                chunk(content="Hel"),
                chunk(content="lo"),
                chunk(content="!", finish_reason="stop"),
                usage_chunk(1000, 3, cached=600),
            ]
        )
    )
    client = make_client(upstream)
    events = await collect(client)
    body = upstream.bodies[0]
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert [e.text for e in events if isinstance(e, ContentDelta)] == ["Hel", "lo", "!"]
    done = events[-1]
    assert isinstance(done, StreamDone)
    assert done.result.content == "Hello!"
    assert done.finish_reason == "stop"
    assert done.usage.prompt_tokens == 1000
    assert done.usage.completion_tokens == 3
    assert done.usage.cached_tokens == 600
    assert done.usage.estimated is False
    # (400 * 0.15 + 600 * 0.075 + 3 * 0.60) / 1M
    assert done.cost_usd == 0.0001068
    assert done.result.model == "gpt-4o-mini-2024-07-18"
    assert done.ttft_ms is not None
    assert 0 <= done.ttft_ms <= done.result.latency_ms
    await client.aclose()


async def test_tool_calls_are_assembled_from_deltas() -> None:
    upstream = Upstream(
        sse(
            [
                chunk(role="assistant", content=None),
                chunk(
                    tool_calls=[
                        {
                            "index": 0,
                            "id": "call_a",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": ""},
                        }
                    ]
                ),
                chunk(tool_calls=[{"index": 0, "function": {"arguments": '{"ci'}}]),
                chunk(tool_calls=[{"index": 0, "function": {"arguments": 'ty": "Par'}}]),
                chunk(tool_calls=[{"index": 0, "function": {"arguments": 'is"}'}}]),
                chunk(
                    tool_calls=[
                        {
                            "index": 1,
                            "id": "call_b",
                            "type": "function",
                            "function": {"name": "get_time", "arguments": '{"tz": "CET"}'},
                        }
                    ]
                ),
                chunk(finish_reason="tool_calls"),
                usage_chunk(50, 20),
            ]
        )
    )
    client = make_client(upstream)
    events = await collect(client)
    ready = [e for e in events if isinstance(e, ToolCallReady)]
    assert [(e.tool_call.id, e.tool_call.name, e.tool_call.arguments) for e in ready] == [
        ("call_a", "get_weather", {"city": "Paris"}),
        ("call_b", "get_time", {"tz": "CET"}),
    ]
    assert ready[0].tool_call.raw_arguments == '{"city": "Paris"}'
    assert not any(isinstance(e, ContentDelta) for e in events)
    done = events[-1]
    assert isinstance(done, StreamDone)
    assert done.finish_reason == "tool_calls"
    assert done.result.content is None
    assert [c.name for c in done.result.tool_calls] == ["get_weather", "get_time"]
    # tool calls are announced before the final event
    assert events.index(ready[-1]) < len(events) - 1
    await client.aclose()


async def test_retries_happen_before_the_first_chunk() -> None:
    upstream = Upstream(
        error(503),
        sse([chunk(content="ok", finish_reason="stop"), usage_chunk(5, 1)]),
    )
    client = make_client(upstream)
    events = await collect(client)
    done = events[-1]
    assert isinstance(done, StreamDone)
    assert done.result.content == "ok"
    assert done.result.attempts == 2
    await client.aclose()


async def test_a_stream_broken_before_its_first_chunk_is_retried() -> None:
    upstream = Upstream(
        sse([chunk(content="never seen")], fail_after=0),
        sse([chunk(content="second try", finish_reason="stop"), usage_chunk(5, 2)]),
    )
    client = make_client(upstream)
    events = await collect(client)
    assert [e.text for e in events if isinstance(e, ContentDelta)] == ["second try"]
    await client.aclose()


async def test_failure_after_the_first_chunk_is_raised_not_retried() -> None:
    upstream = Upstream(
        sse(
            [chunk(content="partial "), chunk(content="answer"), chunk(content="lost")],
            fail_after=2,
        ),
        sse([chunk(content="must not be used", finish_reason="stop")]),
    )
    client = make_client(upstream)
    seen: list[str] = []
    with pytest.raises(UpstreamError) as caught:
        async for event in client.stream_chat(HI):
            if isinstance(event, ContentDelta):
                seen.append(event.text)
    assert seen == ["partial ", "answer"]
    assert caught.value.status_code == 502
    assert len(upstream.requests) == 1
    await client.aclose()


async def test_stream_without_usage_gets_an_estimate() -> None:
    upstream = Upstream(sse([chunk(content="hello world", finish_reason="stop")]))
    client = make_client(upstream)
    events = await collect(client)
    done = events[-1]
    assert isinstance(done, StreamDone)
    assert done.usage.estimated is True
    assert done.usage.prompt_tokens == 8  # 3 priming + 3 per message + "hi" (2)
    assert done.usage.completion_tokens == 3
    await client.aclose()


async def test_first_token_arrives_well_before_the_last() -> None:
    words = [chunk(content=f"w{i} ") for i in range(5)]
    upstream = Upstream(sse([*words, chunk(finish_reason="stop"), usage_chunk(5, 5)], delay_s=0.05))
    client = make_client(upstream)
    events = await collect(client)
    done = events[-1]
    assert isinstance(done, StreamDone)
    assert done.ttft_ms is not None
    # frames are 50 ms apart: the first text came at least ~4 gaps before the end
    assert done.result.latency_ms - done.ttft_ms > 150
    await client.aclose()


async def test_closing_the_stream_early_releases_the_response() -> None:
    upstream = Upstream(sse([chunk(content=f"{i}") for i in range(100)]))
    client = make_client(upstream)
    stream = client.stream_chat(HI)
    first = await anext(stream)
    assert isinstance(first, ContentDelta)
    await stream.aclose()
    # the client stays usable and the breaker saw a success
    assert client.breaker.consecutive_failures == 0
    await client.aclose()


async def test_n_choices_stream_separately() -> None:
    upstream = Upstream(
        sse(
            [
                chunk(content="A", index=0),
                chunk(content="B", index=1),
                chunk(content="a", index=0, finish_reason="stop"),
                chunk(content="b", index=1, finish_reason="length"),
                usage_chunk(5, 4),
            ]
        )
    )
    client = make_client(upstream)
    events = await collect(client, n=2)
    done = events[-1]
    assert isinstance(done, StreamDone)
    assert [(c.index, c.content, c.finish_reason) for c in done.result.choices] == [
        (0, "Aa", "stop"),
        (1, "Bb", "length"),
    ]
    assert done.result.content == "Aa"
    await client.aclose()


async def test_an_error_event_mid_stream_is_an_upstream_error_against_the_provider() -> None:
    upstream = Upstream(
        sse(
            [
                chunk(content="Hel"),
                {"error": {"message": "the model crashed", "type": "server_error"}},
            ]
        )
    )
    client = make_client(upstream, llm_max_retries=0)
    seen: list[StreamEvent] = []
    with pytest.raises(UpstreamError) as failed:
        async for event in client.stream_chat(HI):
            seen.append(event)
    assert [e.text for e in seen if isinstance(e, ContentDelta)] == ["Hel"]
    assert "the model crashed" in failed.value.message
    assert client.breaker.consecutive_failures == 1
    await client.aclose()


async def test_a_completion_without_choices_is_an_upstream_error() -> None:
    upstream = Upstream(httpx.Response(200, json={"id": "x", "object": "chat.completion"}))
    client = make_client(upstream, llm_max_retries=0)
    with pytest.raises(UpstreamError) as failed:
        await client.chat(HI)
    assert failed.value.status_code == 502
    await client.aclose()
