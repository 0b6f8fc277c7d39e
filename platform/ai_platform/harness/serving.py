"""A real uvicorn server for an ASGI app, inside this process.

httpx's ``ASGITransport`` buffers whole responses, so streaming, time to first token
and latency need a real server. This one binds an ephemeral loopback port (read from
the socket, so no other process can take it) and runs either as a task on the
caller's loop or on its own loop in a daemon thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import threading
from collections.abc import AsyncIterator, Generator
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from ai_platform.harness.ports import listening_socket
from ai_platform.harness.waiting import WaitTimeout, wait_for


class _QuietSignals(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        # A kernel or pytest owns SIGINT; a server started inside it must not take it.
        yield


@contextlib.asynccontextmanager
async def serve_in_background(
    app: ASGIApp,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    in_thread: bool = False,
    lifespan: str = "auto",
    log_level: str = "warning",
    startup_timeout_s: float = 30.0,
    shutdown_timeout_s: float = 5.0,
    **config: Any,
) -> AsyncIterator[str]:
    """Serve ``app`` with uvicorn on ``host`` and an ephemeral port; yield its base URL.

    By default the server is a task on the running loop. With ``in_thread=True`` it
    runs on its own loop (uvloop when installed) in a daemon thread: a blocked server
    loop does not block the caller's, and the caller's client does not slow the
    server. ``lifespan="auto"`` runs the app's lifespan if it has one; extra keyword
    arguments go to ``uvicorn.Config``. The server is stopped (gracefully, then
    forced) when the block exits.
    """
    sock = listening_socket(host, port)
    bound_port = sock.getsockname()[1]
    settings = uvicorn.Config(
        app,
        lifespan=lifespan,  # type: ignore[arg-type]
        access_log=False,
        log_config=None,
        log_level=log_level,
        server_header=False,
        timeout_graceful_shutdown=max(1, math.ceil(shutdown_timeout_s)),
        **config,
    )
    server = _QuietSignals(settings)
    failure: list[BaseException] = []

    async def serve() -> None:
        try:
            await server.serve(sockets=[sock])
        except SystemExit as exc:
            # uvicorn exits the process when the app's lifespan fails to start; here that
            # would take the caller (or the thread's loop) down with it.
            raise RuntimeError(f"uvicorn exited with status {exc.code}") from None

    if in_thread:

        def run() -> None:
            try:
                with asyncio.Runner(loop_factory=settings.get_loop_factory()) as runner:
                    runner.run(serve())
            except BaseException as exc:  # reported to the caller, not to the thread hook
                failure.append(exc)

        thread = threading.Thread(target=run, name=f"uvicorn-{bound_port}", daemon=True)
        thread.start()

        def stopped() -> bool:
            return not thread.is_alive()

    else:
        task = asyncio.create_task(serve(), name=f"uvicorn-{bound_port}")

        def stopped() -> bool:
            return task.done()

    def started() -> bool:
        if stopped():
            if not in_thread and task.exception() is not None:
                failure.append(task.exception())  # type: ignore[arg-type]
            raise RuntimeError("the server stopped during startup") from (
                failure[0] if failure else None
            )
        return bool(server.started)

    try:
        try:
            await wait_for(
                started, timeout_s=startup_timeout_s, interval_s=0.005, what="uvicorn startup"
            )
        except WaitTimeout:
            raise TimeoutError(f"the server did not start within {startup_timeout_s}s") from None
        yield f"http://{host}:{bound_port}"
    finally:
        server.should_exit = True
        if in_thread:
            await asyncio.to_thread(thread.join, shutdown_timeout_s + 3)
            if thread.is_alive():
                server.force_exit = True
                await asyncio.to_thread(thread.join, 5)
        else:
            try:
                await asyncio.wait_for(asyncio.shield(task), timeout=shutdown_timeout_s + 3)
            except TimeoutError:
                server.force_exit = True
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            except Exception:
                pass  # a failed startup was raised above; a shutdown error leaves nothing open
        sock.close()
