"""A real platform in a child process and Debian's Chromium driven by Playwright.

Chromium comes from the system (``apt-get install chromium``), never from
``playwright install``. Without it the browser tests are skipped, unless ``CI`` is
set: then they fail, so CI never skips them silently.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    async_playwright,
)

from ai_platform.db.migrate import upgrade
from ai_platform.gateway.app import create_app
from ai_platform.harness.processes import ROOT
from ai_platform.harness.serving import serve_in_background
from ai_platform.harness.tenants import Tenant, tenant_for
from tests.support import make_settings

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
DOCUMENTS = [
    {
        "title": "Tent care",
        "text": "Dry a tent fully before you store it, or it will grow mould. Clean it with "
        "mild soap and cold water; never machine-wash it. Re-seal the seams once a season.",
    },
    {
        "title": "Returns and warranty",
        "text": "Unused items can be returned within 30 days for a full refund. Tents carry a "
        "two-year warranty on seams, zips and poles; wear and tear is not covered.",
    },
]
DOC_IMAGES = ROOT / "docs" / "images"


@dataclass(frozen=True)
class Platform:
    url: str
    host: str
    admin: Tenant
    client: Tenant
    artifacts: Path


def _chromium() -> str:
    path = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    if path is None:
        reason = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(reason + " and CI is set: the browser tests must run", pytrace=False)
        pytest.skip(reason)
    return path


@pytest.fixture(scope="module")
async def platform_server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Platform]:
    """The platform under uvicorn on its own SQLite database, with a fast simulator; an
    admin and a client tenant; a directory for screenshots (``ARTIFACTS_DIR`` if set)."""
    data_dir = tmp_path_factory.mktemp("web-platform")
    url = f"sqlite+aiosqlite:///{data_dir / 'platform.db'}"
    await upgrade(url)
    # Paced so a streamed answer arrives token by token, fast enough that a research
    # job finishes in a few seconds.
    settings = make_settings(
        url, data_dir, simulator_ttft_ms=20, simulator_tokens_per_s=150, simulator_jitter=0
    )
    admin = await tenant_for(settings, "web-admin", admin=True, rpm=100_000)
    client = await tenant_for(settings, "web-client", rpm=100_000, budget_usd=5.0)
    artifacts = Path(os.environ.get("ARTIFACTS_DIR") or tmp_path_factory.mktemp("web-artifacts"))
    await asyncio.to_thread(artifacts.mkdir, parents=True, exist_ok=True)
    # Its own loop in a thread: the browser's traffic never waits on the test's loop.
    async with serve_in_background(create_app(settings), in_thread=True) as base_url:
        async with httpx.AsyncClient(base_url=base_url, headers=client.headers) as http:
            resp = await http.post("/api/v1/knowledge/ingest", json={"documents": DOCUMENTS})
            assert resp.status_code == 201, resp.text
        host = urlsplit(base_url).netloc
        yield Platform(base_url, host, admin, client, artifacts)


@pytest.fixture(scope="module")
async def playwright_instance() -> AsyncIterator[Playwright]:
    async with async_playwright() as p:
        yield p


@pytest.fixture(scope="module")
async def browser(playwright_instance: Playwright) -> AsyncIterator[Browser]:
    executable = _chromium()
    browser = await playwright_instance.chromium.launch(
        executable_path=executable, args=["--no-sandbox", "--disable-dev-shm-usage"]
    )
    yield browser
    await browser.close()


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    ctx = await browser.new_context(viewport={"width": 1360, "height": 900})
    yield ctx
    await ctx.close()


@pytest.fixture
async def page(context: BrowserContext) -> AsyncIterator[Page]:
    """A page that fails the test on an uncaught script error, or on anything the
    playground's Content-Security-Policy refused (an inline handler, an outside host)."""
    page = await context.new_page()
    page.set_default_timeout(20_000)
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"uncaught: {exc}"))

    def refused(message: ConsoleMessage) -> None:
        on_playground = urlsplit(page.url).path == "/"
        if on_playground and "Content Security Policy" in message.text:
            problems.append(f"CSP: {message.text}")

    page.on("console", refused)
    yield page
    assert problems == []


async def keep_screenshot(
    page: Page, platform: Platform, name: str, *, for_docs: bool = False
) -> Path:
    """A screenshot of the viewport in the artifacts directory; with ``DOC_SCREENSHOTS=1``
    set, also the README's copy in ``docs/images``."""
    path = platform.artifacts / f"{name}.png"
    await page.screenshot(path=str(path))
    if for_docs and os.environ.get("DOC_SCREENSHOTS"):
        DOC_IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOC_IMAGES / f"{name}.png")
    return path
