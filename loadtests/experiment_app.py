"""The async concurrency experiment: one simulated LLM call behind three endpoint styles.

Every endpoint makes the same chat completion against the same upstream (the bundled
simulator, run as its own server with ``ttft_ms`` set, so each call takes that long);
they differ only in how the wait happens:

- ``POST /async``    ``async def`` awaiting ``AsyncOpenAI``: the event loop serves other
  requests while this one waits; concurrency is bounded by the upstream, not the app.
- ``POST /sync``     plain ``def`` with the sync ``OpenAI`` client: FastAPI runs it in
  anyio's thread pool, whose default limiter holds 40 tokens, so at most 40 calls wait
  at once per process (``40 / latency`` requests per second).
- ``POST /blocking`` ``async def`` calling the sync client: the wait happens on the
  event loop thread itself, so the whole process serves one request at a time.

Configuration comes from the environment, so ``uvicorn --workers N`` children see it:

``EXPERIMENT_LLM``           ``simulator`` (default) or ``sleep`` (no HTTP at all:
                             ``asyncio.sleep`` / ``time.sleep`` — a control that
                             separates the wait from the HTTP client's own cost)
``EXPERIMENT_LLM_BASE_URL``  the OpenAI-compatible upstream (default
                             ``http://127.0.0.1:8100/v1``, ``ai-platform simulator``)
``EXPERIMENT_LATENCY_MS``    the wait in ``sleep`` mode (default 1000)
``EXPERIMENT_MODEL``         chat model name (default ``gpt-4o-mini``)
``EXPERIMENT_HTTP``          ``httpx`` (the SDK default) or ``aiohttp`` for the async client
``EXPERIMENT_THREAD_TOKENS`` resize anyio's default thread limiter (default: leave it at 40)

Run it: ``uvicorn loadtests.experiment_app:create_app --factory --port 8001``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Literal

import anyio.to_thread
from fastapi import FastAPI, Request
from openai import AsyncOpenAI, DefaultAioHttpClient, OpenAI
from pydantic import BaseModel, Field

Style = Literal["async", "sync", "blocking"]
STYLES: tuple[Style, ...] = ("async", "sync", "blocking")
DEFAULT_BASE_URL = "http://127.0.0.1:8100/v1"


@dataclass(frozen=True)
class ExperimentConfig:
    llm: Literal["simulator", "sleep"] = "simulator"
    base_url: str = DEFAULT_BASE_URL
    latency_ms: float = 1000.0
    model: str = "gpt-4o-mini"
    http: Literal["httpx", "aiohttp"] = "httpx"
    thread_tokens: int | None = None
    timeout_s: float = 300.0

    @classmethod
    def from_env(cls) -> ExperimentConfig:
        env = os.environ
        llm = env.get("EXPERIMENT_LLM", "simulator")
        http = env.get("EXPERIMENT_HTTP", "httpx")
        if llm not in ("simulator", "sleep"):
            raise ValueError(f"EXPERIMENT_LLM must be simulator or sleep, not {llm!r}")
        if http not in ("httpx", "aiohttp"):
            raise ValueError(f"EXPERIMENT_HTTP must be httpx or aiohttp, not {http!r}")
        tokens = env.get("EXPERIMENT_THREAD_TOKENS")
        return cls(
            llm=llm,  # type: ignore[arg-type]
            base_url=env.get("EXPERIMENT_LLM_BASE_URL", DEFAULT_BASE_URL),
            latency_ms=float(env.get("EXPERIMENT_LATENCY_MS", "1000")),
            model=env.get("EXPERIMENT_MODEL", "gpt-4o-mini"),
            http=http,  # type: ignore[arg-type]
            thread_tokens=int(tokens) if tokens else None,
        )


class Ask(BaseModel):
    prompt: str = Field(default="Say: hello from the experiment", min_length=1, max_length=2000)


class Answer(BaseModel):
    style: Style
    reply: str
    completion_tokens: int


@dataclass
class ExperimentState:
    config: ExperimentConfig
    async_client: AsyncOpenAI
    sync_client: OpenAI


def _state(request: Request) -> ExperimentState:
    state: ExperimentState = request.app.state.experiment
    return state


def _messages(ask: Ask) -> list[dict[str, str]]:
    return [{"role": "user", "content": ask.prompt}]


async def _call_async(state: ExperimentState, ask: Ask) -> tuple[str, int]:
    if state.config.llm == "sleep":
        await asyncio.sleep(state.config.latency_ms / 1000)
        return "slept", 0
    completion = await state.async_client.chat.completions.create(
        model=state.config.model,
        messages=_messages(ask),  # type: ignore[arg-type]
    )
    usage = completion.usage.completion_tokens if completion.usage else 0
    return completion.choices[0].message.content or "", usage


def _call_sync(state: ExperimentState, ask: Ask) -> tuple[str, int]:
    if state.config.llm == "sleep":
        time.sleep(state.config.latency_ms / 1000)
        return "slept", 0
    completion = state.sync_client.chat.completions.create(
        model=state.config.model,
        messages=_messages(ask),  # type: ignore[arg-type]
    )
    usage = completion.usage.completion_tokens if completion.usage else 0
    return completion.choices[0].message.content or "", usage


class QuietShutdownCancellations(logging.Filter):
    """Drops uvicorn's traceback for each request it cancels at shutdown.

    A step ends with requests still queued (for the thread pool, or behind a blocked
    loop); the runner stops the server with a short graceful timeout rather than wait
    minutes for them. uvicorn then cancels each one and logs "Exception in ASGI
    application" with a ``CancelledError`` traceback per request — hundreds per run —
    after its own one line, "Cancel N running task(s), timeout graceful shutdown
    exceeded", which already says what happened. Other errors pass.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, asyncio.CancelledError)


def quiet_shutdown_cancellations() -> None:
    """Install ``QuietShutdownCancellations`` on uvicorn's error logger (once)."""
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, QuietShutdownCancellations) for f in logger.filters):
        logger.addFilter(QuietShutdownCancellations())


def create_app(config: ExperimentConfig | None = None) -> FastAPI:
    """The experiment app; with no ``config``, read ``EXPERIMENT_*`` from the environment."""
    cfg = config if config is not None else ExperimentConfig.from_env()
    quiet_shutdown_cancellations()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if cfg.thread_tokens is not None:
            anyio.to_thread.current_default_thread_limiter().total_tokens = cfg.thread_tokens
        # No retries: a retry would hide a failure and stretch the measured latency.
        async_client = AsyncOpenAI(
            base_url=cfg.base_url,
            api_key="sk-simulator",
            max_retries=0,
            timeout=cfg.timeout_s,
            http_client=DefaultAioHttpClient() if cfg.http == "aiohttp" else None,
        )
        sync_client = OpenAI(
            base_url=cfg.base_url, api_key="sk-simulator", max_retries=0, timeout=cfg.timeout_s
        )
        app.state.experiment = ExperimentState(cfg, async_client, sync_client)
        try:
            yield
        finally:
            await async_client.close()
            sync_client.close()

    app = FastAPI(title="Async concurrency experiment", lifespan=lifespan)

    @app.post("/async")
    async def async_style(ask: Ask, request: Request) -> Answer:
        """Awaits the async client: the loop is free while the upstream thinks."""
        reply, tokens = await _call_async(_state(request), ask)
        return Answer(style="async", reply=reply, completion_tokens=tokens)

    @app.post("/sync")
    def sync_style(ask: Ask, request: Request) -> Answer:
        """A plain function: FastAPI runs it on a worker thread from anyio's pool."""
        reply, tokens = _call_sync(_state(request), ask)
        return Answer(style="sync", reply=reply, completion_tokens=tokens)

    @app.post("/blocking")
    async def blocking_style(ask: Ask, request: Request) -> Answer:
        """The anti-pattern on purpose: a blocking call on the event loop thread."""
        reply, tokens = _call_sync(_state(request), ask)
        return Answer(style="blocking", reply=reply, completion_tokens=tokens)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/info")
    async def info(request: Request) -> dict[str, object]:
        """What bounds each style in this process: the thread pool, the upstream."""
        state = _state(request)
        return {
            "pid": os.getpid(),
            "llm": state.config.llm,
            "base_url": state.config.base_url,
            "http": state.config.http,
            "thread_tokens": anyio.to_thread.current_default_thread_limiter().total_tokens,
        }

    return app
