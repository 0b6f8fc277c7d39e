"""Running the simulator: embedded in a running event loop, or as its own server.

Embedded mode serves real HTTP on an ephemeral loopback port, because httpx's
``ASGITransport`` buffers whole responses and so cannot carry a stream; the platform's
lifespan starts it and the openai SDK reaches it like any provider.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
from collections.abc import Generator, Sequence

import uvicorn

from ai_platform.core.net import listening_socket

from .app import SimulatorApp, create_app
from .config import SimulatorConfig


class _EmbeddedServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        # The host process owns SIGINT/SIGTERM; an embedded server must not take them.
        yield


class EmbeddedSimulator:
    """The simulator on ``127.0.0.1:<ephemeral port>`` inside the current event loop.

    ``await start()`` returns the base URL to give the openai SDK
    (``http://127.0.0.1:PORT/v1``); ``await stop()`` shuts it down. ``config`` is the
    live configuration: change it and the next request sees the change.
    """

    def __init__(
        self,
        config: SimulatorConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        shutdown_timeout_s: float = 2.0,
    ) -> None:
        self.config = config if config is not None else SimulatorConfig()
        self.app: SimulatorApp = create_app(self.config)
        self._host = host
        self._port = port
        self._shutdown_timeout_s = shutdown_timeout_s
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self.base_url: str | None = None

    @property
    def port(self) -> int:
        if self.base_url is None:
            raise RuntimeError("the simulator is not running")
        return int(self.base_url.rsplit(":", 1)[1].split("/", 1)[0])

    async def start(self) -> str:
        if self._task is not None:
            raise RuntimeError("the simulator is already running")
        sock = listening_socket(self._host, self._port)
        port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            lifespan="off",
            access_log=False,
            log_config=None,
            log_level="warning",
            server_header=False,
            timeout_graceful_shutdown=max(1, math.ceil(self._shutdown_timeout_s)),
        )
        server = _EmbeddedServer(config)
        self._server = server
        self._task = asyncio.create_task(server.serve(sockets=[sock]), name="ai-platform-simulator")
        while not server.started:
            if self._task.done():
                sock.close()
                self._task.result()  # re-raise the startup error
                raise RuntimeError("the simulator stopped during startup")
            await asyncio.sleep(0.005)
        self.base_url = f"http://{self._host}:{port}/v1"
        return self.base_url

    async def stop(self) -> None:
        server, task = self._server, self._task
        self._server = self._task = None
        self.base_url = None
        if server is None or task is None:
            return
        server.should_exit = True
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout=self._shutdown_timeout_s + 3)
        except TimeoutError:
            server.force_exit = True
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def __aenter__(self) -> EmbeddedSimulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


def serve(
    host: str = "127.0.0.1",
    port: int = 8100,
    config: SimulatorConfig | None = None,
    *,
    log_level: str = "info",
    access_log: bool = False,
) -> None:
    """Run the simulator as its own server (blocking) with uvloop and httptools.

    With no ``config``, configuration comes from ``SIMULATOR_*`` environment variables.
    """
    app = create_app(config if config is not None else SimulatorConfig.from_env())
    uvicorn.run(
        app,
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        lifespan="off",
        access_log=access_log,
        log_level=log_level,
        server_header=False,
    )


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m ai_platform.llm.simulator [--port 8100] [--ttft-ms 0] ...``."""
    parser = argparse.ArgumentParser(
        prog="python -m ai_platform.llm.simulator",
        description="OpenAI-compatible simulator: a stand-in for a provider, not a model.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--ttft-ms", type=float, help="time to first token, milliseconds")
    parser.add_argument("--tokens-per-s", type=float, help="token rate; 0 = unpaced")
    parser.add_argument("--jitter", type=float, help="fraction, 0..1")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--log-level", default="info")
    parser.add_argument("--access-log", action="store_true")
    args = parser.parse_args(argv)
    config = SimulatorConfig.from_env()
    overrides = {
        "ttft_ms": args.ttft_ms,
        "tokens_per_s": args.tokens_per_s,
        "jitter": args.jitter,
        "seed": args.seed,
    }
    config.update({k: v for k, v in overrides.items() if v is not None})
    serve(args.host, args.port, config, log_level=args.log_level, access_log=args.access_log)
