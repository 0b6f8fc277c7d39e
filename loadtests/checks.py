"""What a load test counts as a success: the platform's envelope, not only the status.

A 200 whose body is an error page, a truncated JSON document or an envelope without a
request id is a failure too; under load these are exactly the answers that appear.
Pure functions, so they are tested without starting Locust.
"""

from __future__ import annotations

from typing import Any

import orjson


class EnvelopeError(ValueError):
    """The response is not the success envelope expected."""


def _describe_error(body: Any) -> str:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error = body["error"]
        return f"{error.get('code', '?')}: {str(error.get('message', ''))[:120]}"
    return "no error envelope"


def success_data(status_code: int, content: bytes | str | None, *, expected: int = 200) -> Any:
    """Return the envelope's ``data`` when the response is a success envelope.

    Raises ``EnvelopeError`` saying what was wrong: the status (with the error
    envelope's code when there is one), a body that is not JSON, ``status`` other
    than ``"success"``, or a missing ``metadata.request_id``.
    """
    body: Any = None
    if content:
        try:
            body = orjson.loads(content)
        except orjson.JSONDecodeError:
            body = None
    if status_code != expected:
        raise EnvelopeError(f"HTTP {status_code} ({_describe_error(body)})")
    if not isinstance(body, dict):
        raise EnvelopeError("body is not a JSON object")
    if body.get("status") != "success":
        raise EnvelopeError(f"status is {body.get('status')!r}, not 'success'")
    metadata = body.get("metadata")
    if not isinstance(metadata, dict) or not metadata.get("request_id"):
        raise EnvelopeError("metadata.request_id is missing")
    return body.get("data")


def sse_events(text: str) -> list[tuple[str, Any]]:
    """Parse a whole Server-Sent Events body into ``(event, data)`` pairs.

    ``data`` is decoded as JSON when it parses, else kept as text. Comment lines
    (keep-alives) are skipped.
    """
    events: list[tuple[str, Any]] = []
    name = "message"
    data_lines: list[str] = []
    for raw in text.splitlines():
        line = raw.rstrip("\r")
        if not line:
            if data_lines:
                payload = "\n".join(data_lines)
                try:
                    events.append((name, orjson.loads(payload)))
                except orjson.JSONDecodeError:
                    events.append((name, payload))
            name, data_lines = "message", []
        elif line.startswith(":"):
            continue
        elif line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data_lines.append(line[5:].lstrip(" "))
    if data_lines:
        payload = "\n".join(data_lines)
        try:
            events.append((name, orjson.loads(payload)))
        except orjson.JSONDecodeError:
            events.append((name, payload))
    return events


def stream_outcome(status_code: int, content: bytes | str | None) -> dict[str, Any]:
    """The ``done`` event of an agent stream; ``EnvelopeError`` for anything else.

    The stream must open with 200, carry at least one event, and end with ``done``
    naming its request id (an ``error`` event, or no ending at all, is a failure).
    """
    if status_code != 200:
        success_data(status_code, content)  # raises with the error envelope's code
    text = content.decode("utf-8", "replace") if isinstance(content, bytes) else (content or "")
    events = sse_events(text)
    if not events:
        raise EnvelopeError("the stream carried no events")
    last_name, last_data = events[-1]
    if last_name == "error":
        code = last_data.get("code") if isinstance(last_data, dict) else last_data
        raise EnvelopeError(f"stream ended with error {code}")
    if last_name != "done" or not isinstance(last_data, dict):
        raise EnvelopeError(f"stream ended with {last_name!r}, not 'done'")
    if not last_data.get("request_id"):
        raise EnvelopeError("the done event has no request_id")
    return last_data
