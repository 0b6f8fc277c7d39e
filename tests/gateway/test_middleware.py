"""The pure ASGI middleware, driven as raw ASGI callables."""

from __future__ import annotations

from starlette.types import Message, Receive, Scope, Send

from ai_platform.gateway.middleware import BodySizeLimitMiddleware, RequestContextMiddleware


def http_scope(headers: list[tuple[bytes, bytes]] | None = None) -> Scope:
    return {
        "type": "http",
        "method": "POST",
        "path": "/x",
        "headers": headers or [],
        "query_string": b"",
    }


class Recorder:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def __call__(self, message: Message) -> None:
        self.messages.append(message)

    @property
    def headers(self) -> dict[bytes, bytes]:
        return dict(self.messages[0]["headers"])


async def ok_app(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


async def no_receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def test_request_context_adds_id_and_timing() -> None:
    sent = Recorder()
    seen: list[tuple[str, str, int]] = []
    mw = RequestContextMiddleware(
        ok_app, access_log=False, observer=lambda m, r, s, d: seen.append((m, r, s))
    )
    scope = http_scope()
    await mw(scope, no_receive, sent)
    rid = sent.headers[b"x-request-id"].decode()
    assert rid.startswith("req_") and scope["state"]["request_id"] == rid
    assert float(sent.headers[b"x-processing-time-ms"]) >= 0
    assert seen == [("POST", "<unmatched>", 200)]


async def test_request_context_turns_crash_into_500_envelope() -> None:
    async def crash(scope: Scope, receive: Receive, send: Send) -> None:
        raise ValueError("boom")

    sent = Recorder()
    await RequestContextMiddleware(crash, access_log=False)(http_scope(), no_receive, sent)
    assert sent.messages[0]["status"] == 500
    assert b'"internal_error"' in sent.messages[1]["body"]
    assert b"boom" not in sent.messages[1]["body"]


async def test_request_context_passes_lifespan_untouched() -> None:
    calls: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        calls.append(scope["type"])

    await RequestContextMiddleware(app)({"type": "lifespan"}, no_receive, Recorder())
    assert calls == ["lifespan"]


async def test_body_limit_rejects_declared_length_without_calling_app() -> None:
    called = False

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal called
        called = True

    sent = Recorder()
    scope = http_scope([(b"content-length", b"5000")])
    scope["state"] = {"request_id": "req_test12345"}
    await BodySizeLimitMiddleware(app, max_bytes=1024)(scope, no_receive, sent)
    assert not called
    assert sent.messages[0]["status"] == 413
    assert b"req_test12345" in sent.messages[1]["body"]


async def test_body_limit_rejects_invalid_content_length() -> None:
    sent = Recorder()
    await BodySizeLimitMiddleware(ok_app, max_bytes=1024)(
        http_scope([(b"content-length", b"abc")]), no_receive, sent
    )
    assert sent.messages[0]["status"] == 400


async def test_body_limit_lets_small_bodies_through() -> None:
    sent = Recorder()
    await BodySizeLimitMiddleware(ok_app, max_bytes=1024)(
        http_scope([(b"content-length", b"10")]), no_receive, sent
    )
    assert sent.messages[0]["status"] == 200
