"""Units behind "hostile input is never a 500": the text rules, id shapes, the model
check and the body-size middleware as a raw ASGI callable."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError
from starlette.types import Message, Receive, Scope, Send

from ai_platform.core.errors import UnknownModelError
from ai_platform.core.ids import ConversationIdStr, DocumentIdStr, new_id
from ai_platform.core.numbers import StrictCount, StrictUsd
from ai_platform.core.text import (
    Line,
    ModelName,
    Text,
    clean_title,
    invalid_char,
    strip_file_text,
)
from ai_platform.gateway.middleware import BodySizeLimitMiddleware
from ai_platform.llm.pricing import PriceTable, check_requested_model


class Fields(BaseModel):
    text: Text = ""
    line: Line = ""
    model: ModelName | None = None
    doc: DocumentIdStr | None = None
    conv: ConversationIdStr | None = None
    count: StrictCount = 0
    usd: StrictUsd = 0.0


def refused(**values: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        Fields(**values)
    return str(caught.value.errors()[0]["type"])


# -- text ----------------------------------------------------------------------------------


@pytest.mark.parametrize("char", ["\x00", "\x01", "\x07", "\x08", "\x0b", "\x0c", "\x1b", "\x1f"])
def test_text_refuses_c0_controls(char: str) -> None:
    assert refused(text=f"a{char}b") == "invalid_text"
    assert refused(line=f"a{char}b") == "invalid_text"


def test_text_keeps_tab_newline_cr_and_unicode_a_line_does_not() -> None:
    fine = "tab\there\r\nnext line — café 🏕 \x7f \x85"
    assert Fields(text=fine).text == fine
    for char in "\t\n\r\x7f":
        assert refused(line=f"a{char}b") == "invalid_text"
    assert Fields(line="Tent care — 2 € 🏕").line == "Tent care — 2 € 🏕"


def test_lone_surrogates_are_refused_from_json() -> None:
    payload = json.dumps({"text": "a\ud800b"})  # escaped as \ud800, as a client sends it
    with pytest.raises(ValidationError):
        Fields.model_validate(json.loads(payload))
    assert invalid_char("a\udfffb") == (1, "U+DFFF")


def test_the_message_names_the_character_and_position_not_the_text() -> None:
    with pytest.raises(ValidationError) as caught:
        Fields(text="secret words\x00")
    message = caught.value.errors()[0]["msg"]
    assert "U+0000 at position 12" in message
    assert "secret" not in message


def test_file_text_is_stripped_and_titles_are_one_bounded_line() -> None:
    assert strip_file_text("a\x00b\x1bc\td\x0ce\ud800f\r\n") == "abc\td\x0cef\r\n"
    assert clean_title("T\x00i\x00t\x00l\x00e", 300) == "Title"
    assert clean_title("  Part\n\tone\x07  two  ", 300) == "Part one two"
    assert clean_title("\x00\x00 ", 300) == ""
    assert clean_title(None, 300) == ""
    assert clean_title("word " * 100, 12) == "word word wo"


# -- ids, numbers, models ------------------------------------------------------------------


def test_ids_are_checked_by_shape() -> None:
    doc = new_id("doc")
    assert Fields(doc=doc).doc == doc
    assert Fields(doc="doc_missing").doc == "doc_missing"  # well shaped: the route's 404
    for bad in ["\x00", "doc_\x00", "conv_" + "a" * 32, "doc_" + "a" * 40, "doc_a/b", "doc_"]:
        assert refused(doc=bad) in {"string_pattern_mismatch", "string_too_long"}
    assert refused(conv="doc_" + "a" * 32) == "string_pattern_mismatch"


def test_numbers_are_strict() -> None:
    assert refused(count=True) == "int_type"
    assert refused(count=1.5) == "int_type"
    assert refused(count="3") == "int_type"
    assert refused(usd=False) == "float_type"
    assert refused(usd="5") == "float_type"
    assert refused(usd=float("nan")) == "finite_number"
    assert Fields(usd=5).usd == 5.0


def test_model_names_are_known_from_the_price_table_or_the_configuration() -> None:
    prices = PriceTable.load()

    class Configured:
        default_model = "my-azure-deployment"
        vision_model = "gpt-4o-mini"

    for known in ["gpt-4o-mini", "GPT-4o", "sim-chat", "gpt-4o-2024-08-06", "openai/gpt-4o"]:
        check_requested_model(prices, Configured(), known)
    check_requested_model(prices, Configured(), "my-azure-deployment")
    check_requested_model(prices, Configured(), None)
    for unknown in ["no-such-model", "gpt-4o-fast", "text-embedding-3-small", "sim-embed"]:
        with pytest.raises(UnknownModelError) as caught:
            check_requested_model(prices, Configured(), unknown)
        assert caught.value.status_code == 422
        assert caught.value.error_code == "unknown_model"
        assert "my-azure-deployment" in caught.value.details["known_models"]
        assert "text-embedding-3-small" not in caught.value.details["known_models"]


# -- the body-size middleware --------------------------------------------------------------


def chunked_scope(headers: list[tuple[bytes, bytes]] | None = None) -> Scope:
    return {
        "type": "http",
        "method": "POST",
        "path": "/",
        "headers": headers or [],
        "state": {"request_id": "req_test"},
    }


async def call(app: Any, scope: Scope, chunks: list[bytes]) -> list[Message]:
    queue = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks)
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return queue.pop(0) if queue else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


async def read_all(receive: Receive) -> bytes:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body


async def respond(send: Send, status: int, body: bytes = b"{}") -> None:
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": body})


def status_and_code(sent: list[Message]) -> tuple[int, str | None]:
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    parsed = json.loads(body) if body else {}
    code = parsed.get("error", {}).get("code") if isinstance(parsed, dict) else None
    if code is not None:
        assert parsed["metadata"]["request_id"] == "req_test"
    return start["status"], code


async def test_an_app_that_turns_the_limit_into_a_400_still_answers_413() -> None:
    async def parser_app(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await read_all(receive)
        except Exception:
            await respond(send, 400, b'{"detail": "There was an error parsing the body"}')
            return
        await respond(send, 200)

    app = BodySizeLimitMiddleware(parser_app, max_bytes=10)
    sent = await call(app, chunked_scope(), [b"12345", b"67890", b"abc"])
    assert status_and_code(sent) == (413, "payload_too_large")
    assert sum(m["type"] == "http.response.start" for m in sent) == 1


async def test_an_escaping_limit_error_is_a_413_and_small_bodies_pass() -> None:
    async def plain_app(scope: Scope, receive: Receive, send: Send) -> None:
        await read_all(receive)
        await respond(send, 200)

    app = BodySizeLimitMiddleware(plain_app, max_bytes=10)
    assert status_and_code(await call(app, chunked_scope(), [b"x" * 6, b"x" * 6])) == (
        413,
        "payload_too_large",
    )
    assert status_and_code(await call(app, chunked_scope(), [b"x" * 5, b"x" * 5])) == (200, None)
    declared = chunked_scope([(b"content-length", b"11")])
    assert status_and_code(await call(app, declared, [b"x" * 11])) == (413, "payload_too_large")
    negative = chunked_scope([(b"content-length", b"-1")])
    assert status_and_code(await call(app, negative, [b""])) == (400, "bad_request")
