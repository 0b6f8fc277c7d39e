"""The helpers the lessons share: a real server in the background, the platform in-process
or served, tenants, and stable printing."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from ai_platform.notebook import serve_in_background, show, start_platform, stopwatch


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/loop")
    async def loop() -> dict[str, str]:
        return {"thread": threading.current_thread().name}

    return app


async def _refused(url: str) -> bool:
    try:
        async with httpx.AsyncClient(base_url=url, timeout=2) as http:
            await http.get("/loop")
    except httpx.ConnectError:
        return True
    return False


@pytest.mark.parametrize("in_thread", [False, True])
async def test_serve_in_background_serves_then_stops(in_thread: bool) -> None:
    async with serve_in_background(_app(), in_thread=in_thread) as url:
        assert url.startswith("http://127.0.0.1:")
        async with httpx.AsyncClient(base_url=url) as http:
            response = await http.get("/loop")
        assert response.status_code == 200
        served_by = response.json()["thread"]
        assert (served_by != threading.current_thread().name) is in_thread
    assert await _refused(url)


async def test_thread_server_answers_while_the_callers_loop_is_blocked() -> None:
    async with serve_in_background(_app(), in_thread=True) as url:
        answered = threading.Event()

        def fetch() -> None:
            if httpx.get(f"{url}/loop", timeout=10).status_code == 200:
                answered.set()

        threading.Thread(target=fetch, daemon=True).start()
        # Blocks this loop on purpose: only a server on its own loop can answer meanwhile.
        assert answered.wait(timeout=10)


@pytest.mark.parametrize("in_thread", [False, True])
async def test_failed_startup_is_raised_not_exited(in_thread: bool) -> None:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        raise RuntimeError("no database")
        yield

    with pytest.raises(RuntimeError, match="stopped during startup") as info:
        async with serve_in_background(
            FastAPI(lifespan=lifespan), lifespan="on", in_thread=in_thread, log_level="critical"
        ):
            pass
    assert "uvicorn exited" in str(info.value.__cause__)


@pytest.mark.parametrize("serve", [False, True])
async def test_start_platform_authenticates_and_cleans_up(serve: bool) -> None:
    nb = await start_platform(serve=serve, access_log=False)
    try:
        me = await nb.client.get("/api/v1/me", headers=nb.headers)
        assert me.status_code == 200
        assert nb.tenant is not None and me.json()["data"]["client_id"] == nb.tenant.client_id
        other = await nb.new_tenant(admin=True)
        who = await nb.client.get("/api/v1/me", headers=other.headers)
        assert who.json()["data"]["scopes"] == ["admin", "services"]
        assert (await nb.client.get("/api/v1/me")).status_code == 401
        assert nb.state.settings is nb.settings
    finally:
        data: Path = nb.data_dir
        await nb.aclose()
    assert not await asyncio.to_thread(data.exists)


async def test_start_platform_without_tenant() -> None:
    async with await start_platform(tenant=False) as nb:
        with pytest.raises(RuntimeError, match="tenant=False"):
            _ = nb.headers


def test_show_prints_status_headers_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    response = httpx.Response(201, json={"b": 1}, headers={"X-Request-ID": "req_x"})
    show(response, headers=["x-request-id"])
    assert capsys.readouterr().out == '201 Created\nx-request-id: req_x\n{\n  "b": 1\n}\n'
    show(httpx.Response(200, text="plain"))
    assert capsys.readouterr().out == "200 OK\nplain\n"


def test_stopwatch_is_live_inside_and_fixed_after() -> None:
    with stopwatch() as sw:
        inside = sw.seconds
        assert inside >= 0
    after = sw.seconds
    assert after >= inside
    assert sw.seconds == after
    assert sw.ms == after * 1000
