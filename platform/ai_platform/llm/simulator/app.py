"""The simulator's ASGI app: raw ASGI and orjson, no framework on the request path.

Routes (each also without the ``/v1`` prefix, and chat/embeddings also under Azure's
``/openai/deployments/{name}/...``)::

    GET  /v1/models                  GET /v1/models/{id}
    POST /v1/chat/completions        POST /v1/embeddings
    GET  /_simulator/config          POST /_simulator/config   (partial update; "reset")
    GET  /_simulator/stats           GET /health

Faults and latency apply to chat completions and embeddings only, so listing models
and the admin routes keep working while a test makes the "provider" fail.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import os
import random
import time
import zlib
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import ValidationError

from . import embeddings, errors, estimate, images, parse, replies
from .config import FaultConfig, Latency, SimulatorConfig
from .errors import APIError
from .models import SimModel, listing, lookup, model_object
from .parse import ChatRequest

Scope = MutableMapping[str, Any]
ASGIMessage = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[ASGIMessage]]
Send = Callable[[ASGIMessage], Awaitable[None]]

MAX_BODY_BYTES = 64 * 1024 * 1024
SYSTEM_FINGERPRINT = "simulator"
# Paced streams send at least this long apart; faster rates put several tokens per chunk.
MIN_CHUNK_INTERVAL_S = 0.002
# Images larger than this are decoded off the event loop.
INLINE_IMAGE_BYTES = 256 * 1024
INLINE_EMBED_FLOATS = 200_000

_JSON = (b"content-type", b"application/json")
_SSE_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]
_DONE = b"data: [DONE]\n\n"


class _ClientGone(Exception):
    """The client disconnected; there is no one left to answer."""


@dataclass(slots=True)
class _Output:
    content: str | None
    pieces: list[str]
    calls: list[replies.ToolCallDraft]
    finish: str
    tokens: int


def create_app(config: SimulatorConfig | None = None) -> SimulatorApp:
    """The simulator as an ASGI app; it reads ``config`` on every request."""
    return SimulatorApp(config)


def create_app_from_env() -> SimulatorApp:
    """Factory for ``uvicorn --factory``: configuration from ``SIMULATOR_*`` variables."""
    return SimulatorApp(SimulatorConfig.from_env())


class SimulatorApp:
    """An OpenAI-compatible stand-in for a provider. Not a model: see the package doc."""

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config if config is not None else SimulatorConfig()
        self._initial = self.config.model_copy(deep=True)
        self._sequence = itertools.count(1)
        self._run = os.urandom(4).hex()
        self.stats: dict[str, int] = {
            "requests": 0,
            "chat_completions": 0,
            "embeddings": 0,
            "streams": 0,
            "errors": 0,
            "faults": 0,
            "stalls": 0,
            "disconnects": 0,
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await _lifespan(receive, send)

    # -- routing -------------------------------------------------------------------------

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.stats["requests"] += 1
        method: str = scope["method"]
        path: str = scope["path"]
        route = path[3:] if path.startswith("/v1/") else path
        deployment: str | None = None
        if route.startswith("/openai/deployments/"):
            deployment, _, rest = route[len("/openai/deployments/") :].partition("/")
            route = "/" + rest
        try:
            if route == "/chat/completions":
                _allow(method, "POST", path)
                await self._chat(receive, send, await _read_body(receive), deployment)
            elif route == "/embeddings":
                _allow(method, "POST", path)
                await self._embeddings(receive, send, await _read_body(receive), deployment)
            elif route == "/models":
                _allow(method, "GET", path)
                body = {"object": "list", "data": listing(self.config.extra_models)}
                await _send_json(send, 200, orjson.dumps(body))
            elif route.startswith("/models/"):
                _allow(method, "GET", path)
                model = lookup(route[len("/models/") :], self.config.extra_models)
                if model is None:
                    raise errors.model_not_found(route[len("/models/") :])
                await _send_json(send, 200, orjson.dumps(model_object(model)))
            elif path == "/_simulator/config":
                if method == "POST":
                    await self._update_config(await _read_body(receive))
                else:
                    _allow(method, "GET", path)
                await _send_json(send, 200, orjson.dumps(self.config.model_dump()))
            elif path == "/_simulator/stats":
                _allow(method, "GET", path)
                await _send_json(send, 200, orjson.dumps(self.stats))
            elif path in ("/health", "/"):
                _allow(method, "GET", path)
                await _send_json(send, 200, b'{"status":"ok","simulator":true}')
            else:
                raise APIError(404, f"Invalid URL ({method} {path})")
        except APIError as error:
            self.stats["errors"] += 1
            await _send_json(send, error.status, error.body(), error.headers)
        except _ClientGone:
            self.stats["disconnects"] += 1

    async def _update_config(self, body: bytes) -> None:
        patch = parse.load_object(body)
        if patch.pop("reset", False):
            self.config.replace_with(self._initial.model_copy(deep=True))
        try:
            self.config.update(patch)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'config'}: {e['msg']}"
                for e in exc.errors()
            )
            raise errors.invalid(f"Invalid simulator config: {problems}") from None

    def _model(self, name: str, kind: str) -> SimModel:
        model = lookup(name, self.config.extra_models)
        if model is None:
            raise errors.model_not_found(name)
        if model.kind != kind:
            where = "v1/chat/completions" if kind == "chat" else "v1/embeddings"
            raise APIError(
                404,
                f"This is not a{' chat' if kind == 'chat' else 'n embedding'} model and thus "
                f"not supported in the {where} endpoint.",
            )
        return model

    # -- faults and latency --------------------------------------------------------------

    def _rng(
        self, sequence: int, body: bytes, latency: Latency, faults: FaultConfig
    ) -> random.Random | None:
        if latency.jitter <= 0 and faults.total_rate <= 0:
            return None
        seed = (self.config.seed << 64) ^ (sequence << 32) ^ zlib.crc32(body)
        return random.Random(seed)

    async def _faults(
        self, faults: FaultConfig, rng: random.Random | None, receive: Receive
    ) -> None:
        fail_next = faults.fail_next
        if fail_next.count > 0:
            fail_next.count -= 1
            self.stats["faults"] += 1
            raise errors.injected(fail_next.status, faults.retry_after_s)
        stall = False
        if faults.stall_next > 0:
            faults.stall_next -= 1
            stall = True
        elif rng is not None and faults.total_rate > 0:
            draw = rng.random()
            for status, rate in (
                (429, faults.rate_429),
                (500, faults.rate_500),
                (503, faults.rate_503),
            ):
                if draw < rate:
                    self.stats["faults"] += 1
                    raise errors.injected(status, faults.retry_after_s)
                draw -= rate
            stall = draw < faults.rate_stall
        if stall:
            self.stats["stalls"] += 1
            if await _sleep_unless_gone(faults.stall_s, receive):
                raise _ClientGone

    # -- chat completions ----------------------------------------------------------------

    async def _chat(
        self, receive: Receive, send: Send, body: bytes, deployment: str | None
    ) -> None:
        data = parse.load_object(body)
        name = deployment if deployment is not None else parse.model_name(data)
        self._model(name, "chat")
        req = parse.chat_request(data, name)
        config = self.config
        sequence = next(self._sequence)
        latency = config.latency_for(name)
        rng = self._rng(sequence, body, latency, config.faults)
        await self._faults(config.faults, rng, receive)
        await _inspect_images(req)
        self.stats["chat_completions"] += 1

        outputs = [_finish(req, replies.compose(req, i, sequence)) for i in range(req.n)]
        ttft, interval = _pace(latency, rng)
        prompt_tokens = _prompt_tokens(req)
        completion_id = f"chatcmpl-{self._run}{sequence:016x}"
        created = int(time.time())
        if req.stream:
            self.stats["streams"] += 1
            await _stream(
                send, receive, req, outputs, prompt_tokens, ttft, interval, completion_id, created
            )
            return

        longest = max(o.tokens for o in outputs)
        delay = ttft + interval * longest
        if delay > 0:
            await asyncio.sleep(delay)
        completion_tokens = sum(o.tokens for o in outputs)
        response = {
            "id": completion_id,
            "object": "chat.completion",
            "created": created,
            "model": name,
            "choices": [
                {
                    "index": i,
                    "message": _message(o),
                    "logprobs": None,
                    "finish_reason": o.finish,
                }
                for i, o in enumerate(outputs)
            ],
            "usage": _usage(prompt_tokens, completion_tokens),
            "service_tier": "default",
            "system_fingerprint": SYSTEM_FINGERPRINT,
        }
        await _send_json(send, 200, orjson.dumps(response), request_id=completion_id)

    # -- embeddings ----------------------------------------------------------------------

    async def _embeddings(
        self, receive: Receive, send: Send, body: bytes, deployment: str | None
    ) -> None:
        data = parse.load_object(body)
        name = deployment if deployment is not None else parse.model_name(data)
        model = self._model(name, "embedding")
        req = parse.embedding_request(data, name)
        if req.dimensions is not None and not model.custom_dimensions:
            raise errors.invalid("This model does not support specifying dimensions.", "dimensions")
        dims = req.dimensions or model.dimensions
        config = self.config
        sequence = next(self._sequence)
        latency = config.latency_for(name)
        rng = self._rng(sequence, body, latency, config.faults)
        await self._faults(config.faults, rng, receive)
        self.stats["embeddings"] += 1

        ttft, _ = _pace(latency, rng)
        if ttft > 0:
            await asyncio.sleep(ttft)
        if len(req.inputs) * dims > INLINE_EMBED_FLOATS:
            vectors = await asyncio.to_thread(_embed_all, req.inputs, dims, req.encoding)
        else:
            vectors = _embed_all(req.inputs, dims, req.encoding)
        tokens = sum(estimate.count(x) if isinstance(x, str) else len(x) for x in req.inputs)
        response = {
            "object": "list",
            "data": [
                {"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)
            ],
            "model": name,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
        await _send_json(
            send, 200, orjson.dumps(response), request_id=f"req_{self._run}{sequence:x}"
        )


def _embed_all(inputs: list[str | list[int]], dims: int, encoding: str) -> list[Any]:
    vectors = [embeddings.embed(item, dims) for item in inputs]
    if encoding == "base64":
        return [embeddings.to_base64(v) for v in vectors]
    return vectors


# -- chat helpers ------------------------------------------------------------------------


def _finish(req: ChatRequest, draft: replies.Draft) -> _Output:
    limit = req.max_tokens
    if draft.tool_calls:
        calls = draft.tool_calls
        name_tokens = sum(estimate.count(c.name) for c in calls)
        pieces = [p for c in calls for p in estimate.pieces(c.arguments)]
        finish = "stop" if draft.forced else "tool_calls"
        if limit is not None and name_tokens + len(pieces) > limit:
            # One call, cut mid-arguments, is what a provider returns at the limit.
            call = calls[0]
            kept = estimate.pieces(call.arguments)[: max(0, limit - estimate.count(call.name))]
            calls = [replies.ToolCallDraft(call.id, call.name, "".join(kept))]
            return _Output(None, kept, calls, "length", min(limit, name_tokens + len(kept)))
        return _Output(None, pieces, calls, finish, name_tokens + len(pieces))

    content = draft.content or ""
    finish = "stop"
    for stop in req.stop:
        at = content.find(stop)
        if at != -1:
            content = content[:at]
    pieces = estimate.pieces(content)
    if limit is not None and len(pieces) > limit:
        pieces = pieces[:limit]
        content = "".join(pieces)
        finish = "length"
    return _Output(content, pieces, [], finish, len(pieces))


def _message(output: _Output) -> dict[str, Any]:
    if output.calls:
        return {
            "role": "assistant",
            "content": None,
            "refusal": None,
            "tool_calls": [
                {
                    "id": c.id,
                    "type": "function",
                    "function": {"name": c.name, "arguments": c.arguments},
                }
                for c in output.calls
            ],
        }
    return {"role": "assistant", "content": output.content, "refusal": None}


def _usage(prompt_tokens: int, completion_tokens: int) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _prompt_tokens(req: ChatRequest) -> int:
    total = estimate.REPLY_PRIMING
    for message in req.messages:
        total += estimate.MESSAGE_OVERHEAD + estimate.count(message.text)
        if message.name:
            total += 1
        for part in message.images:
            if part.facts is not None and part.facts.remote_url is None:
                total += part.facts.tokens(part.detail)
            else:
                total += estimate.IMAGE_LOW_TOKENS
        for call in message.tool_calls:
            fn = call.get("function")
            if isinstance(fn, dict):
                total += estimate.count(str(fn.get("name", ""))) + estimate.count(
                    str(fn.get("arguments", ""))
                )
    for tool in req.tools:
        total += 8 + estimate.count(tool.name) + estimate.count(tool.description)
        total += estimate.count(orjson.dumps(tool.parameters).decode())
    return total


async def _inspect_images(req: ChatRequest) -> None:
    for message in req.messages:
        for part in message.images:
            if len(part.url) > INLINE_IMAGE_BYTES:
                part.facts = await asyncio.to_thread(images.inspect, part.url, part.param)
            else:
                part.facts = images.inspect(part.url, part.param)


def _pace(latency: Latency, rng: random.Random | None) -> tuple[float, float]:
    ttft = latency.ttft_ms / 1000.0
    rate = latency.tokens_per_s
    if rng is not None and latency.jitter > 0:
        ttft *= 1.0 + latency.jitter * (2.0 * rng.random() - 1.0)
        rate *= 1.0 + latency.jitter * (2.0 * rng.random() - 1.0)
    return max(ttft, 0.0), (1.0 / rate if rate > 0 else 0.0)


def _frame(payload: dict[str, Any]) -> bytes:
    return b"data: " + orjson.dumps(payload) + b"\n\n"


async def _stream(
    send: Send,
    receive: Receive,
    req: ChatRequest,
    outputs: list[_Output],
    prompt_tokens: int,
    ttft: float,
    interval: float,
    completion_id: str,
    created: int,
) -> None:
    base: dict[str, Any] = {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": req.model,
        "service_tier": "default",
        "system_fingerprint": SYSTEM_FINGERPRINT,
    }
    if req.include_usage:
        base["usage"] = None

    def chunk(index: int, delta: dict[str, Any], finish: str | None = None) -> bytes:
        choice = {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}
        return _frame({**base, "choices": [choice]})

    def opening(index: int, output: _Output) -> bytes:
        if output.calls:
            call = output.calls[0]
            first = {
                "index": 0,
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": ""},
            }
            delta = {"role": "assistant", "content": None, "tool_calls": [first], "refusal": None}
        else:
            delta = {"role": "assistant", "content": "", "refusal": None}
        return chunk(index, delta)

    def piece(index: int, output: _Output, text: str) -> bytes:
        if output.calls:
            return chunk(index, {"tool_calls": [{"index": 0, "function": {"arguments": text}}]})
        return chunk(index, {"content": text})

    # Multiple tool calls in one choice stream one after another, each under its own index.
    def call_frames(index: int, output: _Output) -> list[bytes]:
        frames: list[bytes] = []
        for k, call in enumerate(output.calls[1:], start=1):
            head = {
                "index": k,
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            }
            frames.append(chunk(index, {"tool_calls": [head]}))
        return frames

    streams = [(o, estimate.pieces(o.calls[0].arguments) if o.calls else o.pieces) for o in outputs]
    per_chunk = 1
    if 0 < interval < MIN_CHUNK_INTERVAL_S:
        per_chunk = math.ceil(MIN_CHUNK_INTERVAL_S / interval)
    longest = max(len(p) for _, p in streams)
    steps = math.ceil(longest / per_chunk)

    await send({"type": "http.response.start", "status": 200, "headers": _SSE_HEADERS})
    loop = asyncio.get_running_loop()
    start = loop.time()
    paced = ttft > 0 or interval > 0
    watcher = asyncio.ensure_future(_wait_disconnect(receive)) if paced else None
    try:
        if ttft > 0:
            await asyncio.sleep(ttft)
        opening_frames = b"".join(opening(i, o) for i, (o, _) in enumerate(streams))
        if interval == 0:
            # Unpaced: every chunk goes out in one write, still as separate SSE events.
            frames = [opening_frames]
            for step in range(steps):
                for i, (o, ps) in enumerate(streams):
                    part = ps[step * per_chunk : (step + 1) * per_chunk]
                    if part:
                        frames.append(piece(i, o, "".join(part)))
            await send({"type": "http.response.body", "body": b"".join(frames), "more_body": True})
        else:
            await send({"type": "http.response.body", "body": opening_frames, "more_body": True})
            for step in range(steps):
                due = start + ttft + (step + 1) * per_chunk * interval
                delay = due - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                if watcher is not None and watcher.done():
                    raise _ClientGone
                frames = []
                for i, (o, ps) in enumerate(streams):
                    part = ps[step * per_chunk : (step + 1) * per_chunk]
                    if part:
                        frames.append(piece(i, o, "".join(part)))
                await send(
                    {"type": "http.response.body", "body": b"".join(frames), "more_body": True}
                )
        tail = [f for i, (o, _) in enumerate(streams) for f in call_frames(i, o)]
        tail.extend(chunk(i, {}, o.finish) for i, (o, _) in enumerate(streams))
        if req.include_usage:
            usage = _usage(prompt_tokens, sum(o.tokens for o in outputs))
            tail.append(_frame({**base, "choices": [], "usage": usage}))
        tail.append(_DONE)
        await send({"type": "http.response.body", "body": b"".join(tail), "more_body": False})
    finally:
        if watcher is not None:
            watcher.cancel()


# -- ASGI plumbing -----------------------------------------------------------------------


def _allow(method: str, expected: str, path: str) -> None:
    if method != expected:
        raise APIError(405, f"Method not allowed ({method} {path}); use {expected}.")


async def _read_body(receive: Receive) -> bytes:
    message = await receive()
    if message["type"] == "http.disconnect":
        raise _ClientGone
    body: bytes = message.get("body", b"")
    if not message.get("more_body", False):
        return body
    chunks = [body]
    size = len(body)
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _ClientGone
        part: bytes = message.get("body", b"")
        size += len(part)
        if size > MAX_BODY_BYTES:
            raise APIError(413, f"Request body too large: the limit is {MAX_BODY_BYTES} bytes.")
        chunks.append(part)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _send_json(
    send: Send,
    status: int,
    body: bytes,
    extra: list[tuple[bytes, bytes]] | None = None,
    request_id: str | None = None,
) -> None:
    headers = [_JSON]
    if request_id is not None:
        headers.append((b"x-request-id", request_id.encode()))
    if extra:
        headers.extend(extra)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _wait_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _sleep_unless_gone(seconds: float, receive: Receive) -> bool:
    """Sleep, but wake early if the client hangs up; True when it did."""
    watcher = asyncio.ensure_future(_wait_disconnect(receive))
    try:
        done, _ = await asyncio.wait({watcher}, timeout=seconds)
        return bool(done)
    finally:
        watcher.cancel()


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
