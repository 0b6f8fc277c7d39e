"""Hostile input is never a 500: NUL and other invalid text, malformed ids, huge
integers, loose booleans, unknown models, chunked bodies over the limit.

Every refusal is a 4xx error envelope carrying the request id, made before any model
call or database write: the simulator sees no call, the ledger row (if any) costs
nothing and no document, conversation or research job is stored. Run on SQLite and
on PostgreSQL (where NUL used to be a driver error and a 500).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from ai_platform.config import Settings
from ai_platform.db.models import UsageRecord
from ai_platform.gateway.app import create_app
from ai_platform.services.agent.models import Conversation
from ai_platform.services.knowledge.models import KnowledgeDocument
from ai_platform.services.research.models import ResearchJob
from tests.services.agent.support import db_session
from tests.services.assistant.images import encoded
from tests.services.knowledge.pdfs import make_pdf
from tests.support import Tenant, make_settings, make_tenant, running_app

K, AG, AS, R, AD = (
    "/api/v1/knowledge",
    "/api/v1/agent",
    "/api/v1/assistant",
    "/api/v1/research",
    "/api/v1/admin",
)
PNG = encoded((8, 8), (200, 10, 10))
WELL_SHAPED = uuid.uuid4().hex
BAD_CHARS = {"nul": "\x00", "escape": "\x1b", "bell": "\x07", "lone surrogate": "\ud800"}


class ErrorLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def unhandled() -> Iterator[ErrorLog]:
    """Errors the last-resort handler logs (a 500 and its traceback)."""
    handler = ErrorLog()
    logger = logging.getLogger("ai_platform.errors")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


@dataclass
class Platform:
    http: httpx.AsyncClient
    app: FastAPI
    settings: Settings
    user: Tenant
    admin: Tenant
    refused_ids: list[str] = field(default_factory=list)

    def model_calls(self) -> int:
        simulator = self.app.state.platform.simulator
        assert simulator is not None
        stats: dict[str, int] = simulator.app.stats
        return stats["chat_completions"] + stats["embeddings"]

    async def send(
        self, method: str, path: str, *, admin: bool = False, **kw: Any
    ) -> httpx.Response:
        tenant = self.admin if admin else self.user
        headers = {**tenant.headers, **kw.pop("headers", {})}
        return await self.http.request(method, path, headers=headers, **kw)

    def refused(self, resp: httpx.Response, status: int, code: str) -> dict[str, Any]:
        assert resp.status_code == status, (resp.request.url, resp.text)
        body: dict[str, Any] = resp.json()
        assert body["status"] == "error"
        assert body["error"]["code"] == code, body
        assert body["metadata"]["request_id"] == resp.headers["x-request-id"]
        self.refused_ids.append(resp.headers["x-request-id"])
        return body

    async def nothing_billed(self) -> None:
        """Every refused request's ledger row, if it has one, costs nothing."""
        await self.app.state.platform.governor.ledger.flush()
        async with db_session(self.settings) as session:
            rows = (
                await session.scalars(
                    select(UsageRecord).where(UsageRecord.request_id.in_(self.refused_ids))
                )
            ).all()
        for row in rows:
            assert row.status_code >= 400, row.request_id
            assert row.cost_usd == 0 and row.prompt_tokens == 0 and row.model is None, row

    async def stored(self, client_id: str | None = None) -> tuple[int, int, int]:
        """The user's documents, conversations and research jobs."""
        owner = client_id or self.user.client_id
        async with db_session(self.settings) as session:
            counts = []
            for table in (KnowledgeDocument, Conversation, ResearchJob):
                total = await session.scalar(
                    select(func.count()).select_from(table).where(table.client_id == owner)
                )
                counts.append(int(total or 0))
        return counts[0], counts[1], counts[2]


@pytest.fixture
async def hy(settings: Settings) -> AsyncIterator[Platform]:
    user = await make_tenant(settings, rpm=100_000)
    admin = await make_tenant(settings, admin=True, rpm=100_000)
    app = create_app(settings)
    async with running_app(app) as http:
        yield Platform(http, app, settings, user, admin)


def raw_json(payload: Any) -> dict[str, Any]:
    """``payload`` as JSON bytes with every non-ASCII character escaped, so a lone
    surrogate travels as ``\\ud800`` (what a hostile client sends)."""
    return {
        "content": json.dumps(payload).encode("ascii"),
        "headers": {"content-type": "application/json"},
    }


def invalid_text_error(body: dict[str, Any]) -> None:
    # pydantic itself refuses unpaired surrogates in a str ("string_unicode").
    types = {d["type"] for d in body["error"]["details"]}
    assert types & {"invalid_text", "string_unicode"}, body


# -- text fields --------------------------------------------------------------------------


def json_text_cases(bad: str, admin_client: str) -> list[tuple[str, str, bool, Any]]:
    x = f"before{bad}after"
    doc = {"title": "T", "text": "body"}
    return [
        ("POST", f"{K}/ingest", False, {"documents": [{**doc, "title": x}]}),
        ("POST", f"{K}/ingest", False, {"documents": [{**doc, "text": x}]}),
        ("POST", f"{K}/ingest", False, {"documents": [{**doc, "source": x}]}),
        ("POST", f"{K}/ingest", False, {"documents": [{**doc, "metadata": {"k": x}}]}),
        ("POST", f"{K}/ingest", False, {"documents": [{**doc, "metadata": {x: "v"}}]}),
        ("POST", f"{K}/search", False, {"query": x}),
        ("POST", f"{K}/search", False, {"query": "tents", "filters": {"k": x}}),
        ("POST", f"{K}/answer", False, {"question": x}),
        ("POST", f"{AG}/chat", False, {"message": x}),
        ("POST", f"{AG}/chat", False, {"messages": [{"role": "user", "content": x}]}),
        ("POST", f"{AG}/chat/stream", False, {"message": x}),
        ("POST", f"{AS}/chat", False, {"message": x}),
        ("POST", f"{R}/start", False, {"question": x}),
        ("POST", f"{AD}/clients", True, {"name": x}),
        ("PATCH", f"{AD}/clients/{admin_client}", True, {"name": x}),
        ("POST", f"{AD}/clients/{admin_client}/keys", True, {"name": x}),
    ]


@pytest.mark.parametrize("bad", list(BAD_CHARS.values()), ids=list(BAD_CHARS))
async def test_invalid_text_in_any_json_field_is_a_422_before_any_call_or_write(
    hy: Platform, unhandled: ErrorLog, bad: str
) -> None:
    before = hy.model_calls()
    for method, path, admin, payload in json_text_cases(bad, hy.admin.client_id):
        resp = await hy.send(method, path, admin=admin, **raw_json(payload))
        invalid_text_error(hy.refused(resp, 422, "validation_error"))
    assert hy.model_calls() == before
    assert await hy.stored() == (0, 0, 0)
    await hy.nothing_billed()
    assert not unhandled.records


async def test_single_line_fields_refuse_newlines_and_text_fields_keep_them(hy: Platform) -> None:
    resp = await hy.send(
        "POST", f"{K}/ingest", json={"documents": [{"title": "two\nlines", "text": "b"}]}
    )
    invalid_text_error(hy.refused(resp, 422, "validation_error"))
    resp = await hy.send("POST", f"{AD}/clients", admin=True, json={"name": "a\tb"})
    invalid_text_error(hy.refused(resp, 422, "validation_error"))
    resp = await hy.send(
        "POST",
        f"{K}/ingest",
        json={"documents": [{"title": "Tabs", "text": "line one\r\n\tline two", "source": "s"}]},
    )
    assert resp.status_code == 201, resp.text
    resp = await hy.send("POST", f"{AG}/chat", json={"message": "hello\n\tthere\r\n"})
    assert resp.status_code == 200, resp.text


def multipart(fields: dict[str, str], files: list[tuple[str, str, bytes, str]]) -> dict[str, Any]:
    """A multipart body built by hand: httpx percent-encodes control characters in
    file names, a hostile client does not."""
    boundary = "hygiene" + uuid.uuid4().hex
    out = bytearray()
    for name, value in fields.items():
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        out += value.encode("utf-8", "surrogatepass") + b"\r\n"
    for name, filename, data, ctype in files:
        out += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: {ctype}\r\n\r\n'
        ).encode("utf-8", "surrogatepass")
        out += data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return {
        "content": bytes(out),
        "headers": {"content-type": f"multipart/form-data; boundary={boundary}"},
    }


async def test_invalid_text_in_form_fields_and_file_names_is_a_4xx(
    hy: Platform, unhandled: ErrorLog
) -> None:
    before = hy.model_calls()
    text_file = [("files", "notes.txt", b"tent care", "text/plain")]
    image = [("images", "red.png", PNG, "image/png")]
    for bad in ("\x00", "\x1b"):
        x = f"a{bad}b"
        cases = [
            (f"{K}/ingest/files", multipart({"source": x}, text_file)),
            (f"{K}/ingest/files", multipart({"metadata": json.dumps({"k": x})}, text_file)),
            (f"{K}/ingest/files", multipart({"metadata": json.dumps({x: "v"})}, text_file)),
            (f"{K}/ingest/files", multipart({}, [("files", f"{x}.txt", b"t", "text/plain")])),
            (f"{AS}/analyze", multipart({"prompt": x}, image)),
            (f"{AS}/analyze", multipart({"model": x}, image)),
            (f"{AS}/analyze", multipart({}, [("images", f"{x}.png", PNG, "image/png")])),
        ]
        for path, body in cases:
            resp = await hy.send("POST", path, **body)
            invalid_text_error(hy.refused(resp, 422, "validation_error"))
        resp = await hy.send("POST", f"{AS}/analyze", **multipart({"conversation_id": x}, image))
        hy.refused(resp, 422, "validation_error")  # not the shape of a conv_… id
    assert hy.model_calls() == before
    assert await hy.stored() == (0, 0, 0)
    await hy.nothing_billed()
    # Invalid UTF-8 in a form field is decoded with U+FFFD replacements: harmless text.
    resp = await hy.send("POST", f"{AS}/analyze", **multipart({"prompt": "\udcff"}, image))
    assert resp.status_code == 200, resp.text
    assert not unhandled.records


async def test_text_a_file_brings_is_cleaned_not_refused(hy: Platform) -> None:
    """A PDF's /Title and a file's text come from the file, not the client: NUL and
    control characters are dropped and the title is one bounded line."""
    files = [
        (
            "files",
            (
                "titled.pdf",
                make_pdf(["Tent care"], title="Bad\x00Ti\x1btle\nhere"),
                "application/pdf",
            ),
        ),
        ("files", ("nul-title.pdf", make_pdf(["Warranty"], title="\x00\x00"), "application/pdf")),
        ("files", ("long.pdf", make_pdf(["Shipping"], title="x" * 1000), "application/pdf")),
        ("files", ("late-nul.txt", b"a" * 70_000 + b"\x00tail", "text/plain")),
    ]
    resp = await hy.send("POST", f"{K}/ingest/files", files=files)
    assert resp.status_code == 201, resp.text
    docs = resp.json()["data"]["documents"]
    assert [d["title"] for d in docs[:2]] == ["BadTitle here", "nul-title"]
    assert docs[2]["title"] == "x" * 300
    detail = await hy.send("GET", f"{K}/documents/{docs[3]['document_id']}")
    assert detail.status_code == 200, detail.text
    assert detail.json()["data"]["char_count"] == 70_004


# -- ids in paths and queries --------------------------------------------------------------


def id_cases(client_id: str) -> list[tuple[str, str, bool]]:
    cases = []
    for bad in ("%00", "doc_%00", "a%00b", "x" * 65, "%F0%9F%92%A9"):
        cases += [
            ("GET", f"{K}/documents/{bad}", False),
            ("DELETE", f"{K}/documents/{bad}", False),
            ("GET", f"{AG}/conversations/{bad}", False),
            ("GET", f"{AS}/conversations/{bad}", False),
            ("GET", f"{R}/{bad}", False),
            ("GET", f"{R}/{bad}/events", False),
            ("POST", f"{R}/{bad}/cancel", False),
            ("GET", f"{AD}/clients/{bad}", True),
            ("POST", f"{AD}/clients/{bad}/deactivate", True),
            ("GET", f"{AD}/clients/{bad}/keys", True),
            ("POST", f"{AD}/clients/{client_id}/keys/{bad}/revoke", True),
            ("POST", f"{AD}/clients/{client_id}/keys/{bad}/rotate", True),
            ("GET", f"{AD}/usage/requests/{bad}", True),
        ]
    queries = [
        f"{AG}/tickets?conversation_id=%00",
        f"{AD}/usage?group_by=client&client_id=%00",
        f"{AD}/usage?group_by=client&service=%00",
        f"{AD}/usage/requests?client_id=cli_%00",
        f"{AD}/usage/requests?service=a%00",
    ]
    return cases + [("GET", q, q.startswith(AD)) for q in queries]


async def test_malformed_ids_are_a_422_and_well_shaped_unknown_ones_a_404(
    hy: Platform, unhandled: ErrorLog
) -> None:
    for method, path, admin in id_cases(hy.admin.client_id):
        resp = await hy.send(method, path, admin=admin)
        hy.refused(resp, 422, "validation_error")
    for method, path, admin in [
        ("GET", f"{K}/documents/doc_{WELL_SHAPED}", False),
        ("GET", f"{AG}/conversations/conv_{WELL_SHAPED}", False),
        ("GET", f"{R}/rsch_{WELL_SHAPED}", False),
        ("GET", f"{AD}/clients/cli_{WELL_SHAPED}", True),
        ("POST", f"{AD}/clients/{hy.admin.client_id}/keys/key_{WELL_SHAPED}/revoke", True),
    ]:
        hy.refused(await hy.send(method, path, admin=admin), 404, "not_found")
    # A malformed conversation id in a body is refused the same way.
    resp = await hy.send(
        "POST", f"{AG}/chat", json={"conversation_id": "conv_\x00", "message": "hi"}
    )
    hy.refused(resp, 422, "validation_error")
    await hy.nothing_billed()
    assert not unhandled.records


# -- numbers and booleans ------------------------------------------------------------------


async def test_huge_integers_and_dates_are_a_422_never_an_overflow(
    hy: Platform, unhandled: ErrorLog
) -> None:
    huge = 2**70
    for path, admin in [
        (f"{AD}/clients?offset={huge}", True),
        (f"{AD}/clients?limit={huge}", True),
        (f"{AD}/usage/requests?before_id={2**63}", True),
        (f"{AD}/usage/requests?limit={huge}", True),
        (f"{AD}/usage?group_by=day&limit={huge}", True),
        (f"{K}/documents?offset={huge}", False),
        (f"{AG}/tickets?limit={huge}", False),
        (f"{AD}/usage?group_by=day&end=9999-12-31", True),  # no next midnight to end at
        (f"{AD}/usage/requests?end=9999-12-31", True),
    ]:
        hy.refused(await hy.send("GET", path, admin=admin), 422, "validation_error")
    client = hy.admin.client_id
    for method, path, admin, payload in [
        ("POST", f"{AD}/clients", True, {"name": "big", "rpm_limit": huge}),
        ("POST", f"{AD}/clients", True, {"name": "big", "tpd_limit": 2**63}),
        ("POST", f"{AD}/clients", True, {"name": "big", "monthly_budget_usd": 1e308}),
        ("PATCH", f"{AD}/clients/{client}", True, {"rpm_limit": huge}),
        ("POST", f"{AD}/clients/{client}/keys", True, {"expires_in_days": huge}),
        ("POST", f"{K}/search", False, {"query": "tents", "max_results": huge}),
        ("POST", f"{R}/start", False, {"question": "tents?", "max_sub_questions": huge}),
    ]:
        resp = await hy.send(method, path, admin=admin, json=payload)
        hy.refused(resp, 422, "validation_error")
    # The largest value the schema allows is stored, on both databases.
    resp = await hy.send(
        "POST",
        f"{AD}/clients",
        admin=True,
        json={"name": f"max-{WELL_SHAPED}", "tpd_limit": 10**12},
    )
    assert resp.status_code == 201, resp.text
    assert not unhandled.records


async def test_booleans_are_not_numbers_and_numbers_not_booleans(hy: Platform) -> None:
    client = hy.admin.client_id
    for method, path, payload in [
        ("POST", f"{AD}/clients", {"name": "free", "monthly_budget_usd": False}),
        ("POST", f"{AD}/clients", {"name": "free", "monthly_budget_usd": True}),
        ("POST", f"{AD}/clients", {"name": "free", "monthly_budget_usd": "5"}),
        ("POST", f"{AD}/clients", {"name": "free", "rpm_limit": True}),
        ("POST", f"{AD}/clients", {"name": "free", "tpd_limit": 10.5}),
        ("PATCH", f"{AD}/clients/{client}", {"monthly_budget_usd": False}),
        ("PATCH", f"{AD}/clients/{client}", {"rpm_limit": False}),
        ("POST", f"{AD}/clients/{client}/keys", {"admin": 1}),
        ("POST", f"{AD}/clients/{client}/keys", {"admin": "true"}),
        ("POST", f"{AD}/clients/{client}/keys", {"expires_in_days": True}),
    ]:
        resp = await hy.send(method, path, admin=True, json=payload)
        hy.refused(resp, 422, "validation_error")
    resp = await hy.send("POST", f"{K}/search", json={"query": "tents", "include_flagged": 1})
    hy.refused(resp, 422, "validation_error")
    # Whole dollars are still money.
    resp = await hy.send(
        "POST",
        f"{AD}/clients",
        admin=True,
        json={"name": f"whole-{WELL_SHAPED}", "monthly_budget_usd": 5},
    )
    assert resp.status_code == 201, resp.text
    assert resp.json()["data"]["monthly_budget_usd"] == 5.0


# -- models --------------------------------------------------------------------------------


def model_cases(model: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{K}/answer", {"json": {"question": "How do I care for a tent?", "model": model}}),
        (f"{AG}/chat", {"json": {"message": "Where is my order?", "model": model}}),
        (f"{AG}/chat/stream", {"json": {"message": "Where is my order?", "model": model}}),
        (f"{AS}/chat", {"json": {"message": "Describe a tent.", "model": model}}),
        (f"{AS}/analyze", multipart({"model": model}, [("images", "red.png", PNG, "image/png")])),
        (f"{R}/start", {"json": {"question": "How do I care for a tent?", "model": model}}),
    ]


@pytest.mark.parametrize(
    "model", ["no-such-model", "gpt 4o!", "text-embedding-3-small", "GPT-9-turbo-max"]
)
async def test_an_unknown_model_is_one_422_unknown_model_on_every_service(
    hy: Platform, unhandled: ErrorLog, model: str
) -> None:
    before = hy.model_calls()
    for path, kw in model_cases(model):
        body = hy.refused(await hy.send("POST", path, **kw), 422, "unknown_model")
        assert body["error"]["details"]["model"] == model
        assert "gpt-4o-mini" in body["error"]["details"]["known_models"]
    assert hy.model_calls() == before
    assert await hy.stored() == (0, 0, 0)  # research refused at start: no job
    await hy.nothing_billed()
    assert not unhandled.records


async def test_a_known_model_is_used(hy: Platform) -> None:
    resp = await hy.send("POST", f"{AG}/chat", json={"message": "Hello", "model": "gpt-4o"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["data"]["model"].startswith("gpt-4o")
    vision = hy.settings.vision_model
    resp = await hy.send("POST", f"{AS}/chat", json={"message": "Hello", "model": vision})
    assert resp.status_code == 200, resp.text
    # The assistant answers with its configured vision model only; another known
    # model is refused rather than silently replaced.
    resp = await hy.send("POST", f"{AS}/chat", json={"message": "Hello", "model": "gpt-4.1"})
    hy.refused(resp, 422, "validation_error")


# -- methods and bodies --------------------------------------------------------------------


async def test_405_lists_every_method_the_path_supports(hy: Platform) -> None:
    client = hy.admin.client_id
    for method, path, admin, allowed in [
        ("PUT", f"{K}/documents/doc_{WELL_SHAPED}", False, {"GET", "DELETE"}),
        ("DELETE", f"{AD}/clients", True, {"GET", "POST"}),
        ("POST", f"{AD}/clients/{client}", True, {"GET", "PATCH"}),
        ("GET", f"{AG}/chat", False, {"POST"}),
    ]:
        resp = await hy.send(method, path, admin=admin)
        hy.refused(resp, 405, "method_not_allowed")
        listed = {m.strip() for m in resp.headers["allow"].split(",")}
        assert allowed <= listed <= allowed | {"HEAD"}, (path, listed)
        assert method not in listed


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


@pytest.fixture
async def small_limit(sqlite_url: str, tmp_path: Any) -> AsyncIterator[Platform]:
    """A platform that accepts bodies of at most 4 KiB (SQLite: no database is reached)."""
    settings = make_settings(sqlite_url, tmp_path, max_body_bytes=4096)
    user = await make_tenant(settings, rpm=100_000)
    app = create_app(settings)
    async with running_app(app) as http:
        yield Platform(http, app, settings, user, user)


async def test_a_chunked_body_over_the_limit_is_a_413_envelope(small_limit: Platform) -> None:
    hy = small_limit
    big = b"x" * 2048
    doc = b'{"documents": [{"title": "t", "text": "' + big * 3 + b'"}]}'
    resp = await hy.send(
        "POST",
        f"{K}/ingest",
        content=_chunks(doc[:1000], doc[1000:]),
        headers={"content-type": "application/json"},
    )
    hy.refused(resp, 413, "payload_too_large")
    boundary = "b0undary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="a.txt"\r\n'
        "Content-Type: text/plain\r\n\r\n"
    ).encode()
    text_head = f'--{boundary}\r\nContent-Disposition: form-data; name="prompt"\r\n\r\n'.encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    mp = {"content-type": f"multipart/form-data; boundary={boundary}"}
    for path, first in [(f"{K}/ingest/files", head), (f"{AS}/analyze", text_head)]:
        resp = await hy.send("POST", path, content=_chunks(first, big, big, big, tail), headers=mp)
        hy.refused(resp, 413, "payload_too_large")
    # A declared length over the limit is refused before the body is read.
    resp = await hy.send(
        "POST", f"{K}/ingest", content=doc, headers={"content-type": "application/json"}
    )
    hy.refused(resp, 413, "payload_too_large")
    assert hy.model_calls() == 0


async def test_a_form_field_over_the_part_limit_is_a_413(sqlite_settings: Settings) -> None:
    """Starlette caps one text part at 1 MiB and says so with a 400; it is a size
    refusal, so the platform answers 413."""
    user = await make_tenant(sqlite_settings, rpm=100_000)
    app = create_app(sqlite_settings)
    async with running_app(app) as http:
        hy = Platform(http, app, sqlite_settings, user, user)
        boundary = "b0undary"
        body = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="prompt"\r\n\r\n'.encode()
            + b"x" * (1024 * 1024 + 10)
            + f"\r\n--{boundary}--\r\n".encode()
        )
        headers = {"content-type": f"multipart/form-data; boundary={boundary}"}
        for content in (body, _chunks(body[:65536], body[65536:])):
            resp = await hy.send("POST", f"{AS}/analyze", content=content, headers=headers)
            hy.refused(resp, 413, "payload_too_large")
