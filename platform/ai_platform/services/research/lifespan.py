"""The research service's part of the platform lifespan: its job runner.

The gateway enters ``lifespan(platform)`` after the governor is up and leaves it
before the governor closes, so jobs stopping at shutdown still ledger their steps.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from ai_platform.services.research.runner import start_runner, stop_runner


@asynccontextmanager
async def lifespan(platform: Any) -> AsyncIterator[None]:
    await start_runner(platform)
    try:
        yield
    finally:
        await stop_runner(platform)
