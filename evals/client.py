"""The eval's HTTP client: one governed request, timed on both sides."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

from evals.results import Usage


@dataclass
class Reply:
    status: int
    body: Any
    request_id: str | None
    client_ms: float
    server_ms: float | None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def data(self) -> Any:
        return self.body.get("data") if isinstance(self.body, dict) else None

    @property
    def error_code(self) -> str | None:
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            code = self.body["error"].get("code")
            return str(code) if code is not None else None
        return None

    def describe_error(self) -> str:
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            error = self.body["error"]
            return f"{self.status} {error.get('code')}: {error.get('message')}"
        return f"HTTP {self.status}"

    def usage(self) -> Usage:
        """Usage as the response reports it: the service's own ``usage`` block when it
        has one (prompt and completion tokens), else the envelope's total."""
        if not isinstance(self.body, dict):
            return Usage()
        meta = self.body.get("metadata") or {}
        data = self.body.get("data")
        block = data.get("usage") if isinstance(data, dict) else None
        model = meta.get("model_version")
        cost = meta.get("estimated_cost_usd")
        if isinstance(block, dict) and "prompt_tokens" in block:
            return Usage(
                tokens_in=int(block.get("prompt_tokens") or 0),
                tokens_out=int(block.get("completion_tokens") or 0),
                cost_usd=None if cost is None else float(cost),
                model=model,
                source="response",
            )
        if "tokens_used" in meta:
            # The envelope carries the total only: counted as input, split unknown.
            return Usage(
                tokens_in=int(meta["tokens_used"] or 0),
                tokens_out=None,
                cost_usd=None if cost is None else float(cost),
                model=model,
                source="response",
            )
        return Usage()


class EvalClient:
    """An ``httpx.AsyncClient`` bound to the platform and the eval tenant's key."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        header: str = "X-API-Key",
        timeout_s: float = 120.0,
        max_connections: int = 64,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = httpx.AsyncClient(
            base_url=self.base_url,
            headers={header: api_key},
            timeout=timeout_s,
            limits=httpx.Limits(max_connections=max_connections),
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def request(self, method: str, path: str, **kwargs: Any) -> Reply:
        started = time.perf_counter()
        response = await self.http.request(method, path, **kwargs)
        client_ms = (time.perf_counter() - started) * 1000
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        header = response.headers.get("x-processing-time-ms")
        try:
            server_ms = float(header) if header is not None else None
        except ValueError:
            server_ms = None
        return Reply(
            status=response.status_code,
            body=body,
            request_id=response.headers.get("x-request-id"),
            client_ms=client_ms,
            server_ms=server_ms,
        )

    async def post(self, path: str, **kwargs: Any) -> Reply:
        return await self.request("POST", path, **kwargs)

    async def get(self, path: str, **kwargs: Any) -> Reply:
        return await self.request("GET", path, **kwargs)
