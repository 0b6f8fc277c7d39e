"""The page at ``/`` in a real Chromium against a real platform: sign in, stream an
agent answer, run a research job, upload an image, read the dashboard, open the docs
with nothing leaving the host."""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from PIL import Image
from playwright.async_api import FilePayload, Page, Request, Route, expect

from ai_platform.harness.tenants import Tenant
from ai_platform.harness.waiting import wait_for
from tests.web.conftest import Platform, keep_screenshot

pytestmark = pytest.mark.usefixtures("browser")

# Typed so that mypy can solve wait_for's "value or awaitable of value" parameter.
Check = Callable[[], Awaitable[Any]]
QUESTION = "How should we care for a tent, and what does its warranty cover?"


async def sign_in(page: Page, platform: Platform, tenant: Tenant) -> None:
    await page.goto(platform.url + "/")
    await page.fill("#api-key", tenant.api_key)
    await page.click("#login-form button[type=submit]")
    await expect(page.locator("#who")).to_contain_text(tenant.name)


def api(platform: Platform, tenant: Tenant) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=platform.url, headers=tenant.headers, timeout=30)


async def test_sign_in_shows_who_the_key_belongs_to(page: Page, platform_server: Platform) -> None:
    await page.goto(platform_server.url + "/")
    await page.fill("#api-key", "aip_000000000000_not-a-real-key")
    await page.click("#login-form button[type=submit]")
    await expect(page.locator("#login-error")).to_contain_text("401")
    await expect(page.locator("#views")).to_be_hidden()

    await sign_in(page, platform_server, platform_server.client)
    await expect(page.locator("#who")).to_contain_text("client")
    assert await page.get_attribute("#who", "data-client-id") == platform_server.client.client_id
    # A client key gets no admin view; the key survives a reload of the tab.
    await expect(page.locator("#admin-nav")).to_be_hidden()
    await page.reload()
    await expect(page.locator("#who")).to_contain_text(platform_server.client.name)


async def test_agent_answer_streams_before_the_stream_ends(
    page: Page, platform_server: Platform
) -> None:
    await sign_in(page, platform_server, platform_server.client)
    await page.click("[data-tab=agent]")
    # Record the answer's length at every change while the streaming indicator is on.
    await page.evaluate(
        """() => {
            window.__lengths = [];
            const status = document.querySelector('#a-status');
            new MutationObserver(() => {
                const answer = document.querySelector('#a-log .msg.assistant .answer');
                if (answer && status.dataset.streaming === 'true') {
                    window.__lengths.push(answer.textContent.length);
                }
            }).observe(document.querySelector('#a-log'),
                       {subtree: true, childList: true, characterData: true});
        }"""
    )
    await page.fill("#a-form textarea", "What is your returns policy for a tent bought last week?")
    await page.click("#a-form button[type=submit]")
    bubble = page.locator("#a-log .msg.assistant").last
    await expect(bubble.locator(".meta")).to_be_visible()
    await expect(page.locator("#a-status")).to_have_attribute("data-streaming", "false")

    lengths: list[int] = await page.evaluate("window.__lengths")
    final = await bubble.locator(".answer").inner_text()
    growing = sorted({n for n in lengths if n > 0})
    assert final.strip()
    # Text was on screen, and grew, while the stream was still open.
    assert len(growing) >= 2, lengths
    assert growing[0] < len(final)
    request_id = await bubble.locator("[data-field=request-id] b").inner_text()
    assert request_id.startswith("req_")
    assert int((await bubble.locator("[data-field=tokens] b").inner_text()).replace(",", "")) > 0
    await keep_screenshot(page, platform_server, "playground", for_docs=True)

    # The request id shown is the ledger's: the caller finds its own row by it.
    async with api(platform_server, platform_server.client) as http:

        async def ledgered() -> list[dict[str, Any]] | None:
            resp = await http.get("/api/v1/usage/requests", params={"request_id": request_id})
            rows: list[dict[str, Any]] = resp.json()["data"]
            return rows or None

        check: Check = ledgered
        rows: list[dict[str, Any]] = await wait_for(
            check, timeout_s=10, what="the streamed turn's ledger row"
        )
    assert rows[0]["service"] == "agent"


async def test_research_job_runs_to_its_report(page: Page, platform_server: Platform) -> None:
    await sign_in(page, platform_server, platform_server.client)
    await page.click("[data-tab=research]")
    await page.fill("#r-form textarea", QUESTION)
    await page.fill("#r-form input[name=max_sub_questions]", "2")
    await page.click("#r-form button[type=submit]")
    await expect(page.locator("#r-progress-box")).to_be_visible()
    report = page.locator("#r-result .report")
    await expect(report).to_have_attribute("data-status", "completed", timeout=45_000)
    await expect(page.locator("#r-percent")).to_have_text("100%")
    assert (await page.locator("#r-steps li").count()) >= 3  # plan, researchers, writer, reviewer
    assert (await report.locator("h3").count()) >= 1
    tokens = await page.locator("#r-result [data-field=tokens] b").inner_text()
    assert int(tokens.replace(",", "")) > 0
    task_id = await page.get_attribute("#r-result", "data-task-id")
    async with api(platform_server, platform_server.client) as http:
        view = (await http.get(f"/api/v1/research/{task_id}")).json()["data"]
    assert view["status"] == "completed"
    assert (await report.locator("h2").inner_text()) == view["report"]["title"]


async def test_image_upload_is_analyzed(page: Page, platform_server: Platform) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 40, 40)).save(buffer, format="PNG")
    await sign_in(page, platform_server, platform_server.client)
    await page.click("[data-tab=image]")
    await page.set_input_files(
        "#i-form input[type=file]",
        files=FilePayload(name="red.png", mimeType="image/png", buffer=buffer.getvalue()),
    )
    await expect(page.locator("#i-preview")).to_be_visible()
    await page.fill("#i-form textarea", "What colour is this picture?")
    await page.click("#i-form button[type=submit]")
    result = page.locator("#i-result")
    await expect(result.locator(".meta")).to_be_visible()
    await expect(result).to_contain_text("red.png")
    await expect(result).to_contain_text("PNG 64×48")
    assert (await result.locator(".answer").inner_text()).strip()
    assert (await result.locator("[data-field=request-id] b").inner_text()).startswith("req_")


async def test_openai_tab_follows_the_server(page: Page, platform_server: Platform) -> None:
    """Disabled while ``GET /v1/models`` is a 404; otherwise answers, JSON and streamed."""
    async with api(platform_server, platform_server.client) as http:
        models = await http.get(
            "/v1/models", headers={"Authorization": f"Bearer {platform_server.client.api_key}"}
        )
    status = models.status_code
    await sign_in(page, platform_server, platform_server.client)
    tab = page.locator("#openai-tab")
    if status == 404:
        await expect(tab).to_be_disabled()
        return
    await expect(tab).to_be_enabled()
    await tab.click()
    # "platform default", then the models GET /v1/models lists for this key.
    await expect(page.locator("#o-model option").nth(1)).to_be_attached()
    result = page.locator("#o-result")
    for stream in (False, True):
        await page.set_checked("#o-form input[name=stream]", stream)
        await page.select_option("#o-model", index=1 if stream else 0)
        await page.fill("#o-form textarea", "Say hello to the playground.")
        await page.click("#o-form button[type=submit]")
        # Streamed, the cost arrives last: from the caller's ledger row once it is written.
        await expect(result.locator("[data-field=cost] b")).not_to_have_text("–")
        assert (await result.locator(".answer").inner_text()).strip()
        rid = await result.locator("[data-field=request-id] b").inner_text()
        assert rid.startswith("req_")


async def _kpis(page: Page) -> dict[str, float]:
    values: dict[str, str] = await page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('[data-kpi]')]
            .filter((el) => el.dataset.value !== undefined && el.dataset.value !== '')
            .map((el) => [el.dataset.kpi, el.dataset.value]))"""
    )
    return {k: float(v) for k, v in values.items()}


async def _service_rows(page: Page) -> dict[str, tuple[int, float]]:
    rows: list[list[str]] = await page.evaluate(
        """() => [...document.querySelectorAll('#d-services tr[data-key]')]
            .map((tr) => [tr.dataset.key, tr.dataset.requests, tr.dataset.cost])"""
    )
    return {key: (int(n), float(cost)) for key, n, cost in rows}


async def _agrees_with(
    page: Page, http: httpx.AsyncClient, path: str, **params: str
) -> dict[str, Any] | None:
    """Refresh the dashboard, then compare it with the usage report over the same days.

    The ledger writes in batches, so a caller retries until both read a settled ledger.
    """
    done = int(await page.get_attribute("#view-dashboard", "data-refreshed") or 0)
    await page.click("#d-refresh")
    # A function, not an expression string: the page's CSP forbids eval.
    await page.wait_for_function(
        "(done) => Number(document.querySelector('#view-dashboard').dataset.refreshed) > done",
        arg=done,
    )
    rng = page.locator("#d-range")
    resp = await http.get(
        path,
        params={
            "group_by": "service",
            "start": await rng.get_attribute("data-start") or "",
            "end": await rng.get_attribute("data-end") or "",
            **params,
        },
    )
    report: dict[str, Any] = resp.json()["data"]
    totals = report["totals"]
    kpis = await _kpis(page)
    expected_rows = {r["key"]: (r["requests"], r["cost_usd"]) for r in report["rows"]}
    agreed = (
        totals["requests"] > 0
        and kpis["requests"] == totals["requests"]
        and kpis["tokens"] == totals["total_tokens"]
        and kpis["cost"] == pytest.approx(totals["cost_usd"], abs=1e-12)
        and await _service_rows(page) == expected_rows
    )
    return report if agreed else None


async def test_dashboard_matches_the_admin_usage_report(
    page: Page, platform_server: Platform
) -> None:
    client = platform_server.client
    async with api(platform_server, client) as http:
        resp = await http.post("/api/v1/agent/chat", json={"message": "Can I return a used tent?"})
        assert resp.status_code == 200, resp.text
    await sign_in(page, platform_server, platform_server.admin)
    await page.click("[data-view=dashboard]")
    await expect(page.locator(f"#d-scope option[value='{client.client_id}']")).to_be_attached()
    # One tenant's numbers: the admin's own calls (ledgered too) would keep moving.
    await page.select_option("#d-scope", client.client_id)
    async with api(platform_server, platform_server.admin) as admin_http:
        agrees: Check = partial(
            _agrees_with, page, admin_http, "/api/v1/admin/usage", client_id=client.client_id
        )
        await wait_for(
            agrees,
            timeout_s=20,
            interval_s=0.3,
            what="the dashboard showing the admin usage report",
        )
    assert (await _service_rows(page))["agent"][0] >= 1
    await expect(page.locator("[data-kpi=p95] .value")).not_to_have_text("–")
    await expect(page.locator("#d-cost-chart svg rect").first).to_be_attached()
    done = int(await page.get_attribute("#view-dashboard", "data-refreshed") or 0)
    await page.select_option("#d-scope", "")
    await page.wait_for_function(
        "(done) => Number(document.querySelector('#view-dashboard').dataset.refreshed) > done",
        arg=done,
    )
    await expect(page.locator("#d-clients")).to_contain_text(client.name)
    await keep_screenshot(page, platform_server, "dashboard", for_docs=True)


async def test_client_dashboard_shows_its_own_usage(page: Page, platform_server: Platform) -> None:
    client = platform_server.client
    async with api(platform_server, client) as http:
        resp = await http.post("/api/v1/agent/chat", json={"message": "Do you sell repair kits?"})
        assert resp.status_code == 200, resp.text
        await sign_in(page, platform_server, client)
        await page.click("[data-view=dashboard]")
        await expect(page.locator("[data-kpi=requests]")).to_be_attached()
        await expect(page.locator("#d-scope-box")).to_be_hidden()
        agrees: Check = partial(_agrees_with, page, http, "/api/v1/usage")
        await wait_for(
            agrees,
            timeout_s=20,
            interval_s=0.3,
            what="the dashboard showing the caller's usage report",
        )
    await expect(page.locator("#d-clients-card")).to_be_hidden()


async def test_admin_manages_a_client_and_its_key(page: Page, platform_server: Platform) -> None:
    await sign_in(page, platform_server, platform_server.admin)
    await page.click("[data-view=admin]")
    await page.fill("#c-create input[name=name]", "browser-made")
    await page.fill("#c-create input[name=rpm_limit]", "77")
    await page.click("#c-create button[type=submit]")
    row = page.locator("#c-table tr", has_text="browser-made")
    # The Req/min cell itself: the row also shows the client's random id, which can
    # hold "77" or "88" and would let a check on the whole row pass too early.
    rpm = row.locator("td").nth(2)
    await expect(rpm).to_have_text("77")
    await expect(page.locator("#c-detail h2")).to_have_text("browser-made")
    await page.click("#c-detail form.row button[type=submit]")  # issue a key
    secret = page.locator("#c-secret .secret")
    await expect(secret).to_be_visible()
    key = (await secret.inner_text()).strip()
    async with httpx.AsyncClient(base_url=platform_server.url, timeout=30) as http:
        me = await http.get("/api/v1/me", headers={"X-API-Key": key})
        assert me.status_code == 200 and me.json()["data"]["rpm_limit"] == 77
        # New limits apply to the key's next request.
        await page.fill("#c-detail input[name=rpm_limit]", "88")
        await page.locator("#c-detail button", has_text="Save limits").click()
        await expect(rpm).to_have_text("88")
        me = await http.get("/api/v1/me", headers={"X-API-Key": key})
        assert me.json()["data"]["rpm_limit"] == 88
        await page.locator("#c-detail button", has_text="Revoke").first.click()
        await expect(page.locator("#c-detail .pill", has_text="revoked")).to_be_visible()
        revoked = await http.get("/api/v1/me", headers={"X-API-Key": key})
        assert revoked.status_code == 401


@pytest.mark.parametrize(("path", "ready"), [("/docs", ".opblock"), ("/redoc", "h1")])
async def test_api_docs_render_with_nothing_leaving_the_host(
    page: Page, platform_server: Platform, path: str, ready: str
) -> None:
    seen: list[str] = []
    elsewhere: list[str] = []

    async def only_here(route: Route, request: Request) -> None:
        seen.append(request.url)
        host = urlsplit(request.url).netloc
        if request.url.startswith(("data:", "blob:")) or host == platform_server.host:
            await route.continue_()
        else:
            elsewhere.append(request.url)
            await route.abort()

    await page.route("**/*", only_here)
    await page.goto(platform_server.url + path)
    await expect(page.locator(ready).first).to_be_visible(timeout=20_000)
    if path == "/docs":
        await expect(page.locator(".opblock-tag", has_text="Account")).to_be_visible()
    else:
        await expect(page.locator("h1").first).to_contain_text("AI Platform Workbench")
    await keep_screenshot(page, platform_server, path.strip("/"))
    assert elsewhere == []
    assert any(url.endswith("/openapi.json") for url in seen)
