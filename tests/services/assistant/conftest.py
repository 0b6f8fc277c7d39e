from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from ai_platform.config import Settings
from ai_platform.gateway.app import create_app
from tests.support import running_app


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(create_app(settings)) as http:
        yield http
