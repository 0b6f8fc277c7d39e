"""How bytes reach a provider: the OpenAI wire format over aiohttp + orjson, or the
official ``openai`` SDK.

Both return the provider's raw response body (``Raw``) or its stream's ``data:``
payloads, and raise on an error status; the client parses what governance needs
(usage, tool calls, finish reason) once, from the bytes, whichever transport carried
them. The wire transport is the default: the SDK builds and parses pydantic models on
every call (about 2.4 ms of CPU per call measured here), which the gateway's hot path
cannot afford; the SDK stays selectable (``LLM_TRANSPORT=sdk``) and is what clients,
lessons and evals use to call the platform.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp
import httpx
import openai
import orjson
from multidict import CIMultiDict

SSE_DATA = b"data:"
SSE_DONE = b"[DONE]"


@dataclass(frozen=True, slots=True)
class Raw:
    """A provider's answer: its bytes, the parsed JSON and its request id header."""

    body: bytes
    data: Any
    request_id: str | None = None


class WireStatusError(Exception):
    """The provider answered with an error status (``failures.classify`` maps it)."""

    def __init__(self, status: int, body: bytes, headers: Mapping[str, str]) -> None:
        self.status = status
        self.body = body
        self.headers: Mapping[str, str] = CIMultiDict(headers)
        try:
            self.data: Any = orjson.loads(body) if body else None
        except orjson.JSONDecodeError:
            self.data = None
        super().__init__(f"HTTP {status}")


class WireProtocolError(Exception):
    """The provider's answer was not what the OpenAI wire format promises."""


class Transport(Protocol):
    @property
    def base_url(self) -> str: ...

    async def post(self, path: str, params: Mapping[str, Any]) -> Raw: ...

    def stream(
        self, path: str, params: Mapping[str, Any]
    ) -> AbstractAsyncContextManager[AsyncIterator[bytes]]: ...

    async def get(self, path: str, *, timeout_s: float | None = None) -> Raw: ...

    async def aclose(self) -> None: ...


def _loads(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise WireProtocolError(f"the response is not JSON: {body[:80]!r}") from exc


class WireTransport:
    """The OpenAI wire format over one pooled ``aiohttp`` session.

    ``azure_api_version`` switches to Azure OpenAI's addressing: the deployment named
    by the request's ``model`` goes in the path, the key in ``api-key``.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        connect_timeout_s: float,
        read_timeout_s: float,
        azure_api_version: str | None = None,
        pool_size: int = 256,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._azure_version = azure_api_version
        self._headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if azure_api_version:
            self._headers["api-key"] = api_key
        else:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=connect_timeout_s, sock_read=read_timeout_s
        )
        self._pool_size = pool_size
        self._session: aiohttp.ClientSession | None = None

    def _url(self, path: str, params: Mapping[str, Any] | None) -> str:
        if self._azure_version is None:
            return self.base_url + path
        model = (params or {}).get("model", "")
        return f"{self.base_url}/openai/deployments/{model}{path}?api-version={self._azure_version}"

    @property
    def session(self) -> aiohttp.ClientSession:
        # Made on first use, inside the running loop the session belongs to.
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size, ttl_dns_cache=300),
                timeout=self._timeout,
                auto_decompress=True,
            )
        return self._session

    async def post(self, path: str, params: Mapping[str, Any]) -> Raw:
        async with self.session.post(
            self._url(path, params), data=orjson.dumps(params), headers=self._headers
        ) as response:
            body = await response.read()
            if response.status >= 400:
                raise WireStatusError(response.status, body, response.headers)
            return Raw(body, _loads(body), response.headers.get("x-request-id"))

    async def get(self, path: str, *, timeout_s: float | None = None) -> Raw:
        url = (
            self._url(path, None)
            if self._azure_version is None
            else (f"{self.base_url}/openai{path}?api-version={self._azure_version}")
        )
        timeout = aiohttp.ClientTimeout(total=timeout_s) if timeout_s else None
        async with self.session.get(url, headers=self._headers, timeout=timeout) as response:
            body = await response.read()
            if response.status >= 400:
                raise WireStatusError(response.status, body, response.headers)
            return Raw(body, _loads(body), response.headers.get("x-request-id"))

    @asynccontextmanager
    async def _stream(
        self, path: str, params: Mapping[str, Any]
    ) -> AsyncIterator[AsyncIterator[bytes]]:
        response = await self.session.post(
            self._url(path, params), data=orjson.dumps(params), headers=self._headers
        )
        try:
            if response.status >= 400:
                raise WireStatusError(response.status, await response.read(), response.headers)
            yield _sse_payloads(response.content)
        finally:
            # Released, not closed, on a normal end (the connection goes back to the
            # pool); closed when the stream is abandoned midway, which stops the
            # provider generating for nobody.
            if response.content.at_eof():
                response.release()
            else:
                response.close()

    def stream(
        self, path: str, params: Mapping[str, Any]
    ) -> AbstractAsyncContextManager[AsyncIterator[bytes]]:
        return self._stream(path, params)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()


async def _sse_payloads(content: aiohttp.StreamReader) -> AsyncIterator[bytes]:
    """The ``data:`` payloads of a Server-Sent Events body, ending at ``[DONE]``."""
    async for line in content:
        if not line.startswith(SSE_DATA):
            continue
        payload = line[5:].strip()
        if payload == SSE_DONE:
            return
        if payload:
            yield payload


class SdkTransport:
    """The same calls through the official SDK's HTTP layer (its retries off): its
    request building, auth and Azure addressing, without parsing into models."""

    def __init__(self, sdk: openai.AsyncOpenAI) -> None:
        self.sdk = sdk

    @property
    def base_url(self) -> str:
        return str(self.sdk.base_url)

    async def post(self, path: str, params: Mapping[str, Any]) -> Raw:
        response = await self.sdk.post(path, cast_to=httpx.Response, body=dict(params))
        body = response.content
        return Raw(body, _loads(body), response.headers.get("x-request-id"))

    async def get(self, path: str, *, timeout_s: float | None = None) -> Raw:
        options: Any = {"timeout": timeout_s} if timeout_s else {}
        response = await self.sdk.get(path, cast_to=httpx.Response, options=options)
        body = response.content
        return Raw(body, _loads(body), response.headers.get("x-request-id"))

    @asynccontextmanager
    async def _stream(
        self, path: str, params: Mapping[str, Any]
    ) -> AsyncIterator[AsyncIterator[bytes]]:
        response = await self.sdk.post(path, cast_to=httpx.Response, body=dict(params), stream=True)
        try:
            yield _sdk_payloads(response)
        finally:
            await response.aclose()

    def stream(
        self, path: str, params: Mapping[str, Any]
    ) -> AbstractAsyncContextManager[AsyncIterator[bytes]]:
        return self._stream(path, params)

    async def aclose(self) -> None:
        await self.sdk.close()


async def _sdk_payloads(response: Any) -> AsyncIterator[bytes]:
    async for line in response.aiter_lines():
        if not line.startswith("data:"):
            continue
        payload = line[5:].strip().encode()
        if payload == SSE_DONE:
            return
        if payload:
            yield payload


def is_timeout(exc: BaseException) -> bool:
    return isinstance(exc, asyncio.TimeoutError | aiohttp.ServerTimeoutError)
