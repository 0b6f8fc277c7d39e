"""Usage and cost reports through the API, on a committed ledger with known numbers."""

from __future__ import annotations

from datetime import date

from ai_platform.config import Settings
from ai_platform.gateway.app import create_app
from tests.services.admin.conftest import assert_error, commit_rows, data, days, known_ledger
from tests.support import Tenant, running_app

USAGE = "/api/v1/admin/usage"
# Committed rows stay in the database: these days belong to this module alone.
FIRST = date(2002, 3, 4)


async def test_usage_report_groups_and_filters(settings: Settings, admin: Tenant) -> None:
    ledger = known_ledger(FIRST)
    await commit_rows(settings, ledger.rows())
    d1, d2, d3 = days(FIRST)
    window = f"start={d1}&end={d3}"
    async with running_app(create_app(settings)) as client:

        async def get(query: str) -> dict[str, object]:
            result: dict[str, object] = data(
                await client.get(f"{USAGE}?{query}", headers=admin.headers)
            )
            return result

        by_client = await get(f"group_by=client&{window}")
        by_service = await get(f"group_by=service&{window}")
        by_model = await get(f"group_by=model&{window}&client_id={ledger.client_a}")
        by_day = await get(f"group_by=day&{window}")
        one_day = await get(f"group_by=service&start={d2}&end={d2}")
        knowledge = await get(f"group_by=day&{window}&service=knowledge&limit=1")

    def keyed(report: dict[str, object]) -> dict[object, tuple[object, ...]]:
        rows = report["rows"]
        assert isinstance(rows, list)
        return {
            r["key"]: (
                r["requests"],
                r["errors"],
                r["prompt_tokens"],
                r["completion_tokens"],
                r["total_tokens"],
                r["cost_usd"],
                r["avg_latency_ms"],
            )
            for r in rows
        }

    assert keyed(by_client) == {
        ledger.client_a: (3, 1, 1300, 650, 1950, 0.0165, 300.0),
        ledger.client_b: (3, 1, 50, 0, 50, 0.0001008, 20.667),
    }
    assert by_client["totals"] == {
        "requests": 6,
        "errors": 2,
        "prompt_tokens": 1350,
        "completion_tokens": 650,
        "total_tokens": 2000,
        "cost_usd": 0.0166008,
        "avg_latency_ms": 160.333,
    }
    assert (by_client["group_by"], by_client["start"], by_client["end"]) == (
        "client",
        str(d1),
        str(d3),
    )
    assert keyed(by_service) == {
        "agent": (2, 1, 1010, 500, 1510, 0.0126, 275.0),
        "knowledge": (3, 0, 340, 150, 490, 0.0040008, 136.667),
        "admin": (1, 1, 0, 0, 0, 0.0, 2.0),
    }
    assert keyed(by_model) == {
        "gpt-4o": (1, 1, 1000, 500, 1500, 0.0125, 500.0),
        "gpt-4o-mini": (2, 0, 300, 150, 450, 0.004, 200.0),
    }
    assert list(keyed(by_day)) == [str(d1), str(d2), str(d3)]
    assert keyed(by_day)[str(d3)] == (2, 1, 40, 0, 40, 0.0000008, 6.0)
    assert keyed(one_day) == {"agent": (2, 1, 1010, 500, 1510, 0.0126, 275.0)}
    assert list(keyed(knowledge)) == [str(d1)] and knowledge["truncated"] is True
    assert knowledge["totals"]["requests"] == 3  # type: ignore[index]


async def test_bad_report_parameters_are_4xx_envelopes(settings: Settings, admin: Tenant) -> None:
    async with running_app(create_app(settings)) as client:

        async def get(query: str) -> object:
            return await client.get(f"{USAGE}?{query}", headers=admin.headers)

        missing = await get("start=2024-01-01")
        for query in (
            "group_by=week",
            "group_by=day&start=2024-13-01",
            "group_by=day&end=yesterday",
            "group_by=day&limit=0",
            "group_by=day&limit=1001",
            "group_by=client&client_id=",
        ):
            body = assert_error(await get(query), 422, "validation_error")  # type: ignore[arg-type]
            assert body["error"]["details"], query
        backwards = await get("group_by=day&start=2024-02-01&end=2024-01-31")
        requests_backwards = await client.get(
            f"{USAGE}/requests?start=2024-02-01&end=2024-01-31", headers=admin.headers
        )
        bad_cursor = await client.get(f"{USAGE}/requests?before_id=0", headers=admin.headers)
    assert_error(missing, 422, "validation_error")  # type: ignore[arg-type]
    body = assert_error(backwards, 400, "bad_request")  # type: ignore[arg-type]
    assert "after end" in body["error"]["message"]
    assert_error(requests_backwards, 400, "bad_request")
    assert_error(bad_cursor, 422, "validation_error")


async def test_recent_requests_page_by_cursor(settings: Settings, admin: Tenant) -> None:
    ledger = known_ledger(date(2002, 6, 1))
    rows = ledger.rows()
    await commit_rows(settings, rows)
    seen: list[str] = []
    async with running_app(create_app(settings)) as client:
        url = f"{USAGE}/requests?client_id={ledger.client_b}&limit=2"
        page = data(await client.get(url, headers=admin.headers))
        seen += [r["request_id"] for r in page["items"]]
        assert page["next_before_id"] is not None
        page = data(
            await client.get(f"{url}&before_id={page['next_before_id']}", headers=admin.headers)
        )
        seen += [r["request_id"] for r in page["items"]]
        assert page["next_before_id"] is None
        filtered = data(
            await client.get(
                f"{USAGE}/requests?client_id={ledger.client_a}&service=agent", headers=admin.headers
            )
        )
        one = data(
            await client.get(f"{USAGE}/requests/{rows[2].request_id}", headers=admin.headers)
        )
        unknown = await client.get(f"{USAGE}/requests/req_nope", headers=admin.headers)
    # Newest written first.
    assert seen == [r.request_id for r in reversed(rows) if r.client_id == ledger.client_b]
    assert [r["request_id"] for r in filtered["items"]] == [rows[2].request_id]
    assert one == filtered["items"][0]
    assert (one["model"], one["prompt_tokens"], one["completion_tokens"], one["cost_usd"]) == (
        "gpt-4o",
        1000,
        500,
        0.0125,
    )
    assert (one["status_code"], one["created_at"][:19]) == (502, "2002-06-02T00:00:00")
    assert_error(unknown, 404, "not_found")
