"""The gateway's signed identity: what verifies, every way a forgery is refused, and the
guard's answer when it cannot check whether an identity was used before."""

from __future__ import annotations

import base64

import httpx
import orjson
import pytest
from starlette.types import Receive, Scope, Send

from ai_platform.core.errors import UnauthorizedError
from ai_platform.gateway.service_identity import GatewayIdentityMiddleware
from ai_platform.governance.auth import ClientInfo
from ai_platform.governance.identity import IDENTITY_HEADER, IdentitySigner

CLIENT = ClientInfo(
    id="cli_1",
    name="acme",
    key_id="key_1",
    scopes=frozenset({"knowledge", "agent"}),
    rpm_limit=60,
    tpd_limit=500_000,
    monthly_budget_usd=12.5,
)
NOW = 1_000_000.0


def test_a_signed_identity_verifies_to_the_same_caller_and_request() -> None:
    signer = IdentitySigner("s" * 32, ttl_s=30)
    header = signer.sign(CLIENT, "req_abc", correlation_id="corr-1", now=NOW)
    identity = signer.verify(header, now=NOW + 29)
    assert identity.client == CLIENT
    assert (identity.request_id, identity.correlation_id, identity.nested) == (
        "req_abc",
        "corr-1",
        False,
    )
    assert identity.expires_at == NOW + 30
    nested = signer.verify(signer.sign(CLIENT, "req_abc", nested=True, now=NOW), now=NOW)
    assert nested.nested and nested.correlation_id is None


def test_no_two_signatures_are_alike_and_verify_names_its_own() -> None:
    signer = IdentitySigner("s" * 32, ttl_s=30)
    # The same caller, request and instant: the nonce still tells them apart.
    first, second = (signer.sign(CLIENT, "req_abc", now=NOW) for _ in range(2))
    assert first != second
    assert signer.verify(first, now=NOW).signature == first.split(".")[1]
    assert signer.verify(second, now=NOW).signature == second.split(".")[1]


def _tampered(header: str) -> str:
    payload, signature = header.split(".")
    body = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body["l"][2] = 1_000_000.0  # a bigger budget
    forged = base64.urlsafe_b64encode(orjson.dumps(body)).rstrip(b"=").decode()
    return f"{forged}.{signature}"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda s: None, "missing"),
        (lambda s: "", "missing"),
        (lambda s: IdentitySigner("other-secret").sign(CLIENT, "r", now=NOW), "invalid"),
        (lambda s: s.sign(CLIENT, "r", now=NOW - 31), "expired"),
        (lambda s: _tampered(s.sign(CLIENT, "r", now=NOW)), "invalid"),
        (lambda s: s.sign(CLIENT, "r", now=NOW) + ".x", "invalid"),
        (lambda s: "not-base64!.also-not", "invalid"),
        (lambda s: "a" * 5000, "invalid"),
    ],
)
def test_missing_forged_tampered_or_expired_identities_are_refused(
    make: object, message: str
) -> None:
    signer = IdentitySigner("s" * 32, ttl_s=30)
    header = make(signer)  # type: ignore[operator]
    with pytest.raises(UnauthorizedError, match=message) as info:
        signer.verify(header, now=NOW)
    assert info.value.status_code == 401


def test_a_validly_signed_but_malformed_payload_is_refused() -> None:
    signer = IdentitySigner("s" * 32)
    payload = base64.urlsafe_b64encode(orjson.dumps({"c": "cli_1"})).rstrip(b"=")
    mac = base64.urlsafe_b64encode(signer._mac(payload)).rstrip(b"=")
    with pytest.raises(UnauthorizedError, match="invalid"):
        signer.verify(payload + b"." + mac, now=NOW)


def test_an_empty_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="secret"):
        IdentitySigner("")


class _UnreachableStore:
    async def first_use(self, signature: str, expires_at: float) -> bool:
        raise ConnectionError("the store is down")

    async def aclose(self) -> None:
        return None


async def test_a_service_answers_503_when_it_cannot_check_an_identity_was_used() -> None:
    async def route(scope: Scope, receive: Receive, send: Send) -> None:
        raise AssertionError("no route may run")

    signer = IdentitySigner("s" * 32)
    guard = GatewayIdentityMiddleware(route, signer=signer, seen=_UnreachableStore())
    transport = httpx.ASGITransport(app=guard)
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as http:
        answer = await http.post(
            "/api/v1/knowledge/search", headers={IDENTITY_HEADER: signer.sign(CLIENT, "req_1")}
        )
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "service_unavailable"
