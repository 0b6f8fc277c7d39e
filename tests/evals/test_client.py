"""What a response says about its own usage (the fallback when the ledger is not readable)."""

from __future__ import annotations

from typing import Any

from evals.client import Reply


def reply(body: Any, status: int = 200) -> Reply:
    return Reply(status=status, body=body, request_id="req_1", client_ms=5.0, server_ms=4.0)


META = {"request_id": "req_1", "tokens_used": 450, "estimated_cost_usd": 0.0001,
        "model_version": "gpt-4o-mini"}  # fmt: skip


def test_a_service_usage_block_gives_the_split() -> None:
    body = {"data": {"usage": {"prompt_tokens": 412, "completion_tokens": 38}}, "metadata": META}
    usage = reply(body).usage()
    assert (usage.tokens_in, usage.tokens_out) == (412, 38)
    assert (usage.cost_usd, usage.model, usage.source) == (0.0001, "gpt-4o-mini", "response")


def test_the_envelope_total_is_counted_as_input_with_the_split_unknown() -> None:
    usage = reply({"data": [{"content": "x"}], "metadata": META}).usage()
    assert (usage.tokens_in, usage.tokens_out, usage.source) == (450, None, "response")


def test_errors_and_non_json_bodies() -> None:
    error = reply(
        {"status": "error", "error": {"code": "prompt_injection_detected", "message": "no"},
         "metadata": {"request_id": "req_1"}},
        400,
    )  # fmt: skip
    assert not error.ok
    assert error.error_code == "prompt_injection_detected"
    assert error.describe_error() == "400 prompt_injection_detected: no"
    assert error.usage().source == "none"
    text = reply(None, 502)
    assert text.error_code is None and text.describe_error() == "HTTP 502" and text.data is None
