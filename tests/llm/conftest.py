"""Fixtures for the simulator tests: one embedded simulator over real HTTP per session.

``sim`` is that simulator, ``sdk`` the official openai client pointed at it.

Each test that uses them gets the same server with its configuration reset to zero latency and no
faults, and an ``AsyncOpenAI`` client that never retries unless a test asks it to.
"""

from __future__ import annotations

import base64
import io
from collections.abc import AsyncIterator

import pytest
from openai import AsyncOpenAI
from PIL import Image

from ai_platform.llm.simulator import EmbeddedSimulator, SimulatorConfig


@pytest.fixture(scope="session")
async def shared_simulator() -> AsyncIterator[EmbeddedSimulator]:
    simulator = EmbeddedSimulator(SimulatorConfig())
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture
async def sim(shared_simulator: EmbeddedSimulator) -> AsyncIterator[EmbeddedSimulator]:
    shared_simulator.config.replace_with(SimulatorConfig())
    yield shared_simulator
    shared_simulator.config.replace_with(SimulatorConfig())


@pytest.fixture
async def sdk(sim: EmbeddedSimulator) -> AsyncIterator[AsyncOpenAI]:
    assert sim.base_url is not None
    async with AsyncOpenAI(base_url=sim.base_url, api_key="sk-test", max_retries=0) as sdk:
        yield sdk


def png_data_url(
    size: tuple[int, int],
    colour: tuple[int, int, int],
    *,
    stripe: tuple[int, int, int] | None = None,
) -> str:
    """A PNG of one colour; with ``stripe``, its right quarter is that colour instead."""
    image = Image.new("RGB", size, colour)
    if stripe is not None:
        width, height = size
        image.paste(stripe, (width - width // 4, 0, width, height))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
