"""Bounded image decoding: header checks before any decode, a cap on decodes at once,
a budget of pixels in flight, and 413/503 envelopes when an image cannot fit.

A spy replaces ``decode_image`` (the one function that decompresses pixels): it counts
the decodes inside it at once and the pixels they hold, and can hold them there until
the test lets them go, so every claim is checked by polling a condition, not by timing.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from PIL import ImageFile

from ai_platform.config import Settings
from ai_platform.core.errors import PayloadTooLargeError
from ai_platform.gateway.app import create_app
from ai_platform.harness.waiting import wait_for
from ai_platform.services.assistant import images as images_module
from ai_platform.services.assistant import service
from ai_platform.services.assistant.images import (
    ImageDecoder,
    ImageHeader,
    ImageLimits,
    PreparedImage,
)
from tests.services.agent.support import conversation_count
from tests.services.assistant.images import encoded
from tests.support import make_tenant, running_app

ANALYZE = "/api/v1/assistant/analyze"


class DecodeSpy:
    """Stands in for ``images.decode_image``; runs in the decode worker threads."""

    def __init__(self) -> None:
        self.real = images_module.decode_image
        self.lock = threading.Lock()
        self.go = threading.Event()
        self.calls = 0
        self.inside = 0
        self.peak_inside = 0
        self.pixels = 0
        self.peak_pixels = 0

    def __call__(self, data: bytes, header: ImageHeader) -> PreparedImage:
        with self.lock:
            self.calls += 1
            self.inside += 1
            self.pixels += header.pixels
            self.peak_inside = max(self.peak_inside, self.inside)
            self.peak_pixels = max(self.peak_pixels, self.pixels)
        try:
            if not self.go.wait(60):
                raise RuntimeError("the test never let the decodes go")
            return self.real(data, header)
        finally:
            with self.lock:
                self.inside -= 1
                self.pixels -= header.pixels


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> Iterator[DecodeSpy]:
    decode = DecodeSpy()
    monkeypatch.setattr(images_module, "decode_image", decode)
    yield decode
    decode.go.set()  # never leave a worker thread parked after a failed test


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every Pillow ``ImageFile.load`` call (the pixel decode), by image format."""
    seen: list[str] = []
    real = ImageFile.ImageFile.load

    def counting(self: ImageFile.ImageFile) -> Any:
        seen.append(self.format or "?")
        return real(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", counting)
    yield seen


@asynccontextmanager
async def app_with(
    settings: Settings, **limits: Any
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = create_app(settings.model_copy(update=limits))
    async with running_app(app) as client:
        yield app, client


def decoder_of(app: FastAPI) -> ImageDecoder:
    platform = app.state.platform
    return service.image_decoder(platform)


def png_files(name: str, size: tuple[int, int]) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("images", (name, encoded(size, (10, 120, 200)), "image/png"))]


def refused(resp: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    body: dict[str, Any] = resp.json()
    assert body["status"] == "error" and body["error"]["code"] == code
    assert body["metadata"]["request_id"] == resp.headers["x-request-id"]
    return body


# -- without HTTP ------------------------------------------------------------------------


async def test_an_image_over_the_pixel_limit_is_refused_from_its_header(
    spy: DecodeSpy, loads: list[str]
) -> None:
    decoder = ImageDecoder(ImageLimits(max_pixels=10_000))
    data = encoded((101, 100), (0, 0, 0))
    with pytest.raises(PayloadTooLargeError) as caught:
        await decoder.prepare(data, index=0, filename="wide.png", content_type="image/png")
    assert caught.value.details["pixels"] == 10_100
    assert caught.value.details["limit_pixels"] == 10_000
    assert spy.calls == 0 and loads == []
    assert decoder.gate.peak_active == 0  # it never even asked for a slot


async def test_an_accepted_image_is_decoded_once_and_releases_its_pixels(
    spy: DecodeSpy, loads: list[str]
) -> None:
    spy.go.set()
    decoder = ImageDecoder(ImageLimits(max_pixels=10_000, pixels_in_flight=20_000))
    image = await decoder.prepare(
        encoded((100, 100), (0, 0, 0)), index=0, filename="ok.png", content_type="image/png"
    )
    assert (image.width, image.height) == (100, 100)
    assert spy.calls == 1 and loads and set(loads) == {"PNG"}
    assert decoder.gate.peak_in_flight == 10_000
    assert (decoder.gate.active, decoder.gate.in_flight) == (0, 0)


# -- through the API --------------------------------------------------------------------


async def test_over_the_configured_pixel_limit_is_413_and_never_decoded(
    settings: Settings, spy: DecodeSpy, loads: list[str]
) -> None:
    spy.go.set()
    async with app_with(settings, assistant_max_image_pixels=10_000) as (_, client):
        tenant = await make_tenant(settings)
        resp = await client.post(
            ANALYZE, files=png_files("big.png", (200, 100)), headers=tenant.headers
        )
        body = refused(resp, 413, "payload_too_large")
        assert "more than 10000 pixels" in body["error"]["message"]
        assert body["error"]["details"]["pixels"] == 20_000
        assert spy.calls == 0 and loads == []  # refused from the header alone
        # A small image still goes through.
        ok = await client.post(ANALYZE, files=png_files("s.png", (50, 50)), headers=tenant.headers)
        assert ok.status_code == 200, ok.text
    assert spy.calls == 1
    assert await conversation_count(settings, tenant.client_id) == 1


async def test_an_image_larger_than_the_whole_pixel_budget_is_413_not_queued(
    settings: Settings, spy: DecodeSpy
) -> None:
    async with app_with(settings, image_pixels_in_flight=5_000) as (app, client):
        tenant = await make_tenant(settings)
        resp = await client.post(
            ANALYZE, files=png_files("big.png", (100, 100)), headers=tenant.headers
        )
        body = refused(resp, 413, "payload_too_large")
        assert "more than this server decodes at once" in body["error"]["message"]
        details = body["error"]["details"]
        assert details["pixels"] == 10_000 and details["limit_pixels_in_flight"] == 5_000
        assert decoder_of(app).gate.waiting == 0
    assert spy.calls == 0
    assert await conversation_count(settings, tenant.client_id) == 0


async def test_concurrent_requests_never_decode_more_than_the_cap_at_once(
    settings: Settings, spy: DecodeSpy
) -> None:
    requests = 5
    async with app_with(settings, image_decode_concurrency=2) as (app, client):
        tenant = await make_tenant(settings, rpm=1000)
        gate = decoder_of(app).gate
        sent = [
            asyncio.create_task(
                client.post(ANALYZE, files=png_files(f"{n}.png", (40, 40)), headers=tenant.headers)
            )
            for n in range(requests)
        ]
        # Two decodes are held inside the spy; the other three queue at the gate.
        await wait_for(lambda: spy.inside == 2 and gate.waiting == requests - 2,
                       what="2 decoding and 3 waiting")  # fmt: skip
        assert spy.inside == 2 and spy.calls == 2
        spy.go.set()
        responses = await asyncio.gather(*sent)
    assert [r.status_code for r in responses] == [200] * requests
    assert spy.calls == requests and spy.peak_inside == 2
    assert gate.peak_active == 2 and (gate.active, gate.in_flight) == (0, 0)


async def test_the_pixel_budget_limits_decodes_before_the_slots_do(
    settings: Settings, spy: DecodeSpy
) -> None:
    side = 100
    async with app_with(
        settings, image_decode_concurrency=4, image_pixels_in_flight=side * side * 5 // 2
    ) as (app, client):
        tenant = await make_tenant(settings, rpm=1000)
        gate = decoder_of(app).gate
        sent = [
            asyncio.create_task(
                client.post(
                    ANALYZE, files=png_files(f"{n}.png", (side, side)), headers=tenant.headers
                )
            )
            for n in range(4)
        ]
        # Four slots, but pixels for only two 100x100 images.
        await wait_for(lambda: spy.inside == 2 and gate.waiting == 2, what="2 in, 2 waiting")
        assert spy.pixels == 2 * side * side <= gate.capacity
        spy.go.set()
        responses = await asyncio.gather(*sent)
    assert [r.status_code for r in responses] == [200] * 4
    assert spy.peak_inside == 2 and spy.peak_pixels == 2 * side * side
    assert gate.peak_in_flight <= gate.capacity


async def test_waiting_too_long_for_the_budget_is_503_with_retry_after(
    settings: Settings, spy: DecodeSpy
) -> None:
    async with app_with(
        settings, image_decode_concurrency=1, image_decode_wait_s=0.05
    ) as (app, client):
        first = await make_tenant(settings)
        second = await make_tenant(settings)
        gate = decoder_of(app).gate
        holding = asyncio.create_task(
            client.post(ANALYZE, files=png_files("a.png", (30, 30)), headers=first.headers)
        )
        await wait_for(lambda: spy.inside == 1, what="the first decode to start")
        resp = await client.post(
            ANALYZE, files=png_files("b.png", (30, 30)), headers=second.headers
        )
        body = refused(resp, 503, "server_busy")
        assert int(resp.headers["retry-after"]) >= 1
        assert body["error"]["details"]["resource"] == "image decodes"
        assert gate.refused_busy == 1 and gate.waiting == 0
        spy.go.set()
        assert (await holding).status_code == 200
    assert spy.calls == 1
    assert await conversation_count(settings, second.client_id) == 0
