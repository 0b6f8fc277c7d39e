"""The official openai SDK (AsyncOpenAI, unmodified) against the simulator over real HTTP."""

from __future__ import annotations

import asyncio
import json
import math

import httpx
import openai
import pytest
from openai import AsyncOpenAI

from ai_platform.llm.simulator import EmbeddedSimulator, estimate

from .conftest import png_data_url

USER = [{"role": "user", "content": "How should I size the connection pool of my web service?"}]
ORDER_TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_order_status",
            "description": "Look up the shipping status of a customer's order",
            "parameters": {
                "type": "object",
                "properties": {"order_id": {"type": "string", "pattern": "^ORD-[0-9]+$"}},
                "required": ["order_id"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "search_knowledge_base",
            "description": "Search help articles",
            "parameters": {
                "type": "object",
                "properties": {
                    "query": {"type": "string"},
                    "limit": {"type": "integer", "minimum": 1},
                    "language": {"type": "string", "enum": ["en", "de", "fr"]},
                },
                "required": ["query"],
            },
        },
    },
]


async def test_models_list_and_retrieve(sdk: AsyncOpenAI) -> None:
    ids = [m.id async for m in sdk.models.list()]
    for name in ("gpt-4o", "gpt-4o-mini", "gpt-4.1-nano", "o3-mini", "o4-mini", "sim-chat"):
        assert name in ids
    assert "text-embedding-3-small" in ids and "sim-embed" in ids
    model = await sdk.models.retrieve("gpt-4.1-mini")
    assert model.id == "gpt-4.1-mini" and model.object == "model"
    with pytest.raises(openai.NotFoundError):
        await sdk.models.retrieve("gpt-0-imaginary")


async def test_chat_completion_shape_and_usage(sdk: AsyncOpenAI) -> None:
    result = await sdk.chat.completions.create(model="gpt-4o-mini", messages=USER)
    assert result.model == "gpt-4o-mini"
    assert result.system_fingerprint == "simulator"
    assert result.object == "chat.completion"
    choice = result.choices[0]
    assert choice.finish_reason == "stop"
    assert choice.message.role == "assistant"
    assert choice.message.content and "connection pool" in choice.message.content
    usage = result.usage
    assert usage is not None
    assert usage.prompt_tokens > 10 and usage.completion_tokens > 10
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens

    again = await sdk.chat.completions.create(model="gpt-4o-mini", messages=USER)
    assert again.choices[0].message.content == choice.message.content
    assert again.id != result.id


async def test_dated_snapshot_names_resolve(sdk: AsyncOpenAI) -> None:
    result = await sdk.chat.completions.create(model="gpt-4o-2024-08-06", messages=USER)
    assert result.model == "gpt-4o-2024-08-06"


async def test_streaming_matches_the_json_reply_and_reports_usage(sdk: AsyncOpenAI) -> None:
    whole = await sdk.chat.completions.create(model="gpt-4o", messages=USER)
    stream = await sdk.chat.completions.create(
        model="gpt-4o", messages=USER, stream=True, stream_options={"include_usage": True}
    )
    pieces: list[str] = []
    finish: list[str] = []
    usage_chunks = []
    async for chunk in stream:
        assert chunk.object == "chat.completion.chunk"
        assert chunk.model == "gpt-4o" and chunk.system_fingerprint == "simulator"
        if not chunk.choices:
            usage_chunks.append(chunk.usage)
            continue
        delta = chunk.choices[0].delta
        if delta.content:
            pieces.append(delta.content)
        if chunk.choices[0].finish_reason:
            finish.append(chunk.choices[0].finish_reason)
    assert "".join(pieces) == whole.choices[0].message.content
    assert finish == ["stop"]
    assert len(usage_chunks) == 1 and usage_chunks[0] is not None
    assert usage_chunks[0].completion_tokens == len(pieces)
    assert whole.usage is not None
    assert usage_chunks[0].prompt_tokens == whole.usage.prompt_tokens


async def test_stream_without_include_usage_has_no_usage_chunk(sdk: AsyncOpenAI) -> None:
    stream = await sdk.chat.completions.create(model="gpt-4o", messages=USER, stream=True)
    chunks = [chunk async for chunk in stream]
    assert all(chunk.choices for chunk in chunks)
    assert all(chunk.usage is None for chunk in chunks)


@pytest.mark.parametrize("param", ["max_tokens", "max_completion_tokens"])
async def test_length_limit(sdk: AsyncOpenAI, param: str) -> None:
    limits = {param: 5}
    result = await sdk.chat.completions.create(model="o4-mini", messages=USER, **limits)
    assert result.choices[0].finish_reason == "length"
    assert result.usage.completion_tokens == 5
    full = await sdk.chat.completions.create(model="o4-mini", messages=USER)
    content = result.choices[0].message.content
    assert content and full.choices[0].message.content.startswith(content)

    stream = await sdk.chat.completions.create(
        model="o4-mini",
        messages=USER,
        stream=True,
        stream_options={"include_usage": True},
        **limits,
    )
    pieces, reasons, usage = [], [], None
    async for chunk in stream:
        if chunk.choices:
            pieces.append(chunk.choices[0].delta.content or "")
            reasons.append(chunk.choices[0].finish_reason)
        else:
            usage = chunk.usage
    assert "".join(pieces) == content
    assert reasons[-1] == "length"
    assert usage is not None and usage.completion_tokens == 5


async def test_n_choices_and_stop_sequence(sdk: AsyncOpenAI) -> None:
    result = await sdk.chat.completions.create(model="gpt-4.1", messages=USER, n=3)
    assert [c.index for c in result.choices] == [0, 1, 2]
    texts = {c.message.content for c in result.choices}
    assert len(texts) > 1  # choices differ, like samples would
    assert result.usage is not None
    assert result.usage.completion_tokens == sum(
        len(estimate.pieces(c.message.content or "")) for c in result.choices
    )

    full = result.choices[0].message.content or ""
    cut = full.split(".")[0]
    stopped = await sdk.chat.completions.create(model="gpt-4.1", messages=USER, stop=["."])
    assert stopped.choices[0].message.content == cut
    assert stopped.choices[0].finish_reason == "stop"


async def test_tool_call_round_trip(sdk: AsyncOpenAI) -> None:
    messages: list[dict[str, object]] = [
        {"role": "user", "content": "Where is my order ORD-1234? It has not arrived."}
    ]
    first = await sdk.chat.completions.create(model="gpt-4o", messages=messages, tools=ORDER_TOOLS)
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    calls = choice.message.tool_calls
    assert calls is not None and len(calls) == 1
    assert calls[0].function.name == "get_order_status"
    assert json.loads(calls[0].function.arguments) == {"order_id": "ORD-1234"}
    assert calls[0].id.startswith("call_")

    messages.append(choice.message.model_dump(exclude_none=True))
    messages.append(
        {
            "role": "tool",
            "tool_call_id": calls[0].id,
            "content": json.dumps(
                {"order_id": "ORD-1234", "status": "in transit", "eta": "2025-03-04"}
            ),
        }
    )
    second = await sdk.chat.completions.create(model="gpt-4o", messages=messages, tools=ORDER_TOOLS)
    answer = second.choices[0].message.content
    assert second.choices[0].finish_reason == "stop"
    assert answer and "in transit" in answer and "2025-03-04" in answer
    assert "get_order_status" in answer


async def test_tool_arguments_from_the_message(sdk: AsyncOpenAI) -> None:
    result = await sdk.chat.completions.create(
        model="gpt-4o",
        messages=[
            {"role": "user", "content": "Search the help articles for refund rules, top 3, in de"}
        ],
        tools=ORDER_TOOLS,
    )
    calls = result.choices[0].message.tool_calls
    assert calls is not None and calls[0].function.name == "search_knowledge_base"
    args = json.loads(calls[0].function.arguments)
    assert args["limit"] == 3
    assert args["language"] == "de"
    assert "refund rules" in args["query"]


async def test_auto_skips_tools_for_unrelated_messages(sdk: AsyncOpenAI) -> None:
    result = await sdk.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "Hello there, how are you today?"}],
        tools=ORDER_TOOLS,
    )
    assert result.choices[0].message.tool_calls is None
    assert result.choices[0].message.content


async def test_tool_choice_forced_required_and_none(sdk: AsyncOpenAI) -> None:
    unrelated = [{"role": "user", "content": "Tell me a joke about penguins."}]
    forced = await sdk.chat.completions.create(
        model="gpt-4o-mini",
        messages=unrelated,
        tools=ORDER_TOOLS,
        tool_choice={"type": "function", "function": {"name": "search_knowledge_base"}},
    )
    calls = forced.choices[0].message.tool_calls
    assert calls is not None and calls[0].function.name == "search_knowledge_base"
    assert json.loads(calls[0].function.arguments)["query"] == unrelated[0]["content"]
    # As the provider does, a forced function ends with "stop", not "tool_calls".
    assert forced.choices[0].finish_reason == "stop"

    required = await sdk.chat.completions.create(
        model="gpt-4o-mini", messages=unrelated, tools=ORDER_TOOLS, tool_choice="required"
    )
    assert required.choices[0].message.tool_calls is not None
    assert required.choices[0].finish_reason == "tool_calls"

    none = await sdk.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Where is order ORD-77?"}],
        tools=ORDER_TOOLS,
        tool_choice="none",
    )
    assert none.choices[0].message.tool_calls is None


async def test_streamed_tool_call_reassembles(sdk: AsyncOpenAI) -> None:
    stream = await sdk.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "Status of order ORD-555 please"}],
        tools=ORDER_TOOLS,
        stream=True,
    )
    name, args, reasons = "", "", []
    async for chunk in stream:
        for call in chunk.choices[0].delta.tool_calls or []:
            if call.function and call.function.name:
                name += call.function.name
            if call.function and call.function.arguments:
                args += call.function.arguments
        reasons.append(chunk.choices[0].finish_reason)
    assert name == "get_order_status"
    assert json.loads(args) == {"order_id": "ORD-555"}
    assert reasons[-1] == "tool_calls"


async def test_json_mode(sdk: AsyncOpenAI) -> None:
    result = await sdk.chat.completions.create(
        model="gpt-4.1-mini",
        response_format={"type": "json_object"},
        messages=[
            {
                "role": "system",
                "content": "Reply in JSON with keys sentiment, summary and keywords.",
            },
            {"role": "user", "content": "The parcel came late and the box was damaged."},
        ],
    )
    data = json.loads(result.choices[0].message.content or "")
    assert set(data) == {"sentiment", "summary", "keywords"}
    assert data["sentiment"] == "negative"
    assert isinstance(data["keywords"], list) and "parcel" in data["keywords"]

    plain = await sdk.chat.completions.create(
        model="gpt-4.1-mini",
        response_format={"type": "json_object"},
        messages=[{"role": "user", "content": "Answer as json: what is a ledger?"}],
    )
    assert set(json.loads(plain.choices[0].message.content or "")) == {"answer"}

    with pytest.raises(openai.BadRequestError) as caught:
        await sdk.chat.completions.create(
            model="gpt-4.1-mini",
            response_format={"type": "json_object"},
            messages=[{"role": "user", "content": "no format word here"}],
        )
    assert "json" in caught.value.message


async def test_json_schema_response_format(sdk: AsyncOpenAI) -> None:
    schema = {
        "type": "object",
        "properties": {
            "email": {"type": "string"},
            "priority": {"type": "string", "enum": ["low", "medium", "high"]},
            "seats": {"type": "integer"},
        },
        "required": ["email", "priority", "seats"],
        "additionalProperties": False,
    }
    result = await sdk.chat.completions.create(
        model="gpt-4o",
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "ticket", "schema": schema, "strict": True},
        },
        messages=[{"role": "user", "content": "High priority: book 4 seats for ana@example.com"}],
    )
    assert json.loads(result.choices[0].message.content or "") == {
        "email": "ana@example.com",
        "priority": "high",
        "seats": 4,
    }


async def test_image_description_reads_the_image(sdk: AsyncOpenAI) -> None:
    url = png_data_url((320, 200), (220, 20, 20), stripe=(20, 40, 230))
    result = await sdk.chat.completions.create(
        model="gpt-4o",
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Describe this image."},
                    {"type": "image_url", "image_url": {"url": url}},
                ],
            }
        ],
    )
    text = result.choices[0].message.content or ""
    assert "PNG" in text and "320x200" in text
    assert text.index("red") < text.index("blue")  # red covers three quarters
    assert result.usage is not None and result.usage.prompt_tokens > 85

    with pytest.raises(openai.BadRequestError) as caught:
        await sdk.chat.completions.create(
            model="gpt-4o",
            messages=[
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "image_url",
                            "image_url": {"url": "data:image/png;base64,bm90IGFuIGltYWdl"},
                        }
                    ],
                }
            ],
        )
    assert caught.value.code == "invalid_image_format"


def _cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


async def test_embeddings(sdk: AsyncOpenAI) -> None:
    texts = [
        "How do I reset my account password?",
        "Steps to reset a forgotten password for your account",
        "Quarterly revenue grew in the European market",
    ]
    result = await sdk.embeddings.create(model="text-embedding-3-small", input=texts)
    vectors = [d.embedding for d in result.data]
    assert [d.index for d in result.data] == [0, 1, 2]
    assert all(len(v) == 1536 for v in vectors)
    assert all(math.isclose(_cosine(v, v), 1.0, rel_tol=1e-5) for v in vectors)
    assert _cosine(vectors[0], vectors[1]) > _cosine(vectors[0], vectors[2]) + 0.2
    assert result.usage.prompt_tokens > 0 and result.model == "text-embedding-3-small"

    large = await sdk.embeddings.create(model="text-embedding-3-large", input=texts[0])
    assert len(large.data[0].embedding) == 3072
    small = await sdk.embeddings.create(
        model="text-embedding-3-small", input=texts[0], dimensions=256
    )
    assert len(small.data[0].embedding) == 256

    # The SDK asks for base64 unless told otherwise; both encodings carry the same vector.
    as_floats = await sdk.embeddings.create(
        model="sim-embed", input=texts[0], encoding_format="float"
    )
    as_default = await sdk.embeddings.create(model="sim-embed", input=texts[0])
    assert as_floats.data[0].embedding == pytest.approx(as_default.data[0].embedding, abs=1e-6)

    with pytest.raises(openai.BadRequestError):
        await sdk.embeddings.create(model="text-embedding-ada-002", input="x", dimensions=64)


async def test_error_statuses(sdk: AsyncOpenAI, sim: EmbeddedSimulator) -> None:
    with pytest.raises(openai.NotFoundError) as unknown:
        await sdk.chat.completions.create(model="gpt-0-imaginary", messages=USER)
    assert unknown.value.code == "model_not_found"
    with pytest.raises(openai.NotFoundError):
        await sdk.embeddings.create(model="gpt-4o", input="chat models do not embed")
    with pytest.raises(openai.BadRequestError) as empty:
        await sdk.chat.completions.create(model="gpt-4o", messages=[])
    assert empty.value.param == "messages"
    with pytest.raises(openai.BadRequestError) as bad_role:
        await sdk.chat.completions.create(
            model="gpt-4o", messages=[{"role": "robot", "content": "x"}]
        )
    assert bad_role.value.param == "messages[0].role"
    with pytest.raises(openai.BadRequestError):
        await sdk.chat.completions.create(model="gpt-4o", messages=USER, n=0)
    with pytest.raises(openai.BadRequestError):
        await sdk.chat.completions.create(model="gpt-4o", messages=USER, temperature=3)

    assert sim.base_url is not None
    async with httpx.AsyncClient(base_url=sim.base_url) as raw:
        bad_json = await raw.post("/chat/completions", content=b"{not json")
        assert bad_json.status_code == 400
        assert bad_json.json()["error"]["type"] == "invalid_request_error"
        missing = await raw.post("/chat/completions", json={"model": "gpt-4o"})
        assert missing.status_code == 400
        assert missing.json()["error"] == {
            "message": "Missing required parameter: 'messages'.",
            "type": "invalid_request_error",
            "param": "messages",
            "code": "missing_required_parameter",
        }
        wrong = await raw.post("/chat/completions", json={"model": "gpt-4o", "messages": "hi"})
        assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "invalid_type"
        nowhere = await raw.get("/nothing-here")
        assert nowhere.status_code == 404 and "error" in nowhere.json()
        method = await raw.get("/chat/completions")
        assert method.status_code == 405


@pytest.mark.parametrize(
    ("rate", "exception", "status"),
    [
        ("rate_429", openai.RateLimitError, 429),
        ("rate_500", openai.InternalServerError, 500),
        ("rate_503", openai.InternalServerError, 503),
    ],
)
async def test_injected_faults_reach_the_sdk(
    sdk: AsyncOpenAI, sim: EmbeddedSimulator, rate: str, exception: type[Exception], status: int
) -> None:
    sim.config.update({"faults": {rate: 1.0, "retry_after_s": 2}})
    with pytest.raises(exception) as caught:
        await sdk.chat.completions.create(model="gpt-4o-mini", messages=USER)
    error = caught.value
    assert isinstance(error, openai.APIStatusError) and error.status_code == status
    assert "simulated" in error.message
    if status == 429:
        assert error.response.headers["retry-after"] == "2"
    with pytest.raises(exception):
        await sdk.embeddings.create(model="sim-embed", input="faults cover embeddings too")
    # Listing models is left alone, so a test can still reach a "failing" provider.
    assert [m async for m in sdk.models.list()]


async def test_fail_next_is_deterministic_and_sdk_retries_recover(sim: EmbeddedSimulator) -> None:
    sim.config.update({"faults": {"fail_next": {"count": 2, "status": 503}, "retry_after_s": 0.01}})
    assert sim.base_url is not None
    async with AsyncOpenAI(base_url=sim.base_url, api_key="sk-test", max_retries=2) as retrying:
        raw = await retrying.chat.completions.with_raw_response.create(
            model="gpt-4o", messages=USER
        )
    assert raw.retries_taken == 2
    assert raw.parse().choices[0].message.content
    assert sim.config.faults.fail_next.count == 0


async def test_stall_trips_the_client_timeout(sim: EmbeddedSimulator) -> None:
    sim.config.update({"faults": {"stall_next": 1, "stall_s": 5}})
    assert sim.base_url is not None
    async with AsyncOpenAI(
        base_url=sim.base_url, api_key="sk-test", max_retries=0, timeout=0.3
    ) as impatient:
        with pytest.raises(openai.APITimeoutError):
            await impatient.chat.completions.create(model="gpt-4o", messages=USER)
        # Only the next request stalled; the one after it is answered (well within the
        # 5 s a stall would hold it, with room for a busy machine).
        result = await impatient.chat.completions.create(model="gpt-4o", messages=USER, timeout=4.0)
    assert result.choices[0].message.content


async def test_twenty_concurrent_calls(sdk: AsyncOpenAI, sim: EmbeddedSimulator) -> None:
    sim.config.update({"ttft_ms": 50, "tokens_per_s": 2000})
    prompts = [f"Question {i}: how do I tune cache number {i}?" for i in range(20)]
    results = await asyncio.gather(
        *(
            sdk.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": p}]
            )
            for p in prompts
        )
    )
    assert len({r.id for r in results}) == 20
    for i, result in enumerate(results):
        assert f"cache number {i}" in (result.choices[0].message.content or "")
