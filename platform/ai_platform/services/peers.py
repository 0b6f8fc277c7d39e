"""How one service calls another: the agent's and the researchers' knowledge search.

One ``KnowledgeSearch`` protocol, two implementations chosen by the process's shape:

- ``InProcessKnowledgeSearch`` calls the knowledge service's functions directly, on
  the caller's session and governed context (the monolith, or a service process that
  serves knowledge too);
- ``HttpKnowledgeSearch`` calls the knowledge service's ``/search`` route with a signed
  identity marked *nested*: the knowledge service settles the budget for its own LLM
  calls (the query embedding) and reports the usage in the envelope, and the caller
  adds it to its own request, so the request still leaves exactly one ledger row.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Protocol

import aiohttp
import orjson

from ai_platform.core.errors import ServiceUnavailableError, UpstreamTimeoutError
from ai_platform.governance.context import RequestContext
from ai_platform.governance.identity import IDENTITY_HEADER, IdentitySigner

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from ai_platform.config import ServiceEndpoint
    from ai_platform.services.knowledge.schemas import SearchHit

logger = logging.getLogger("ai_platform.peers")

SEARCH_PATH = "/api/v1/knowledge/search"


class KnowledgeSearch(Protocol):
    async def search(
        self, ctx: RequestContext, session: AsyncSession, query: str, max_results: int
    ) -> list[SearchHit]:
        """The tenant's best unflagged chunks for ``query``; the query is not screened."""


class InProcessKnowledgeSearch:
    async def search(
        self, ctx: RequestContext, session: AsyncSession, query: str, max_results: int
    ) -> list[SearchHit]:
        # Imported on first use: a caller does not load the knowledge service (its
        # settings, ranking and tables) until a search is needed.
        from ai_platform.services.knowledge.service import search_knowledge

        return await search_knowledge(ctx, session, query, max_results)


class HttpKnowledgeSearch:
    """The knowledge service over HTTP, with one pooled ``ClientSession`` per process."""

    def __init__(self, endpoint: ServiceEndpoint, signer: IdentitySigner) -> None:
        if endpoint.url is None:
            raise ValueError("the knowledge service has no URL")
        self.url = endpoint.url + SEARCH_PATH
        self.signer = signer
        self.timeout = aiohttp.ClientTimeout(
            total=None, connect=endpoint.connect_timeout_s, sock_read=endpoint.timeout_s
        )
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        return self._session

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def search(
        self, ctx: RequestContext, session: AsyncSession, query: str, max_results: int
    ) -> list[SearchHit]:
        from ai_platform.services.knowledge.schemas import SearchHit

        identity = self.signer.sign(
            ctx.client, ctx.request_id, correlation_id=ctx.correlation_id, nested=True
        )
        headers = {IDENTITY_HEADER: identity, "Content-Type": "application/json"}
        body = orjson.dumps({"query": query, "max_results": max_results})
        try:
            async with self._client().post(self.url, data=body, headers=headers) as resp:
                status = resp.status
                raw = await resp.read()
        except TimeoutError as exc:
            raise UpstreamTimeoutError("the knowledge service did not answer in time") from exc
        except aiohttp.ClientError as exc:
            raise ServiceUnavailableError(
                "the knowledge service is unavailable", headers={"Retry-After": "1"}
            ) from exc
        payload: dict[str, Any] = orjson.loads(raw) if raw else {}
        self._add_usage(ctx, payload.get("metadata") or {})
        if status >= 500:
            raise ServiceUnavailableError(
                f"the knowledge service answered {status}", headers={"Retry-After": "1"}
            )
        if status >= 400:
            # The query itself was refused (screening, validation): nothing to ground on.
            error = payload.get("error") or {}
            logger.warning("knowledge search refused: %s %s", status, error.get("code"))
            return []
        return [SearchHit.model_validate(hit) for hit in payload.get("data") or []]

    @staticmethod
    def _add_usage(ctx: RequestContext, metadata: dict[str, Any]) -> None:
        tokens = int(metadata.get("tokens_used") or 0)
        cost = float(metadata.get("estimated_cost_usd") or 0.0)
        if tokens or cost:
            ctx.usage.add(
                model=metadata.get("model_version"),
                prompt_tokens=tokens,
                completion_tokens=0,
                cost_usd=cost,
            )


IN_PROCESS = InProcessKnowledgeSearch()


def knowledge_search(ctx: RequestContext) -> KnowledgeSearch:
    """The knowledge search this process was composed with (in process by default)."""
    chosen: KnowledgeSearch | None = getattr(ctx.governor, "knowledge_search", None)
    return chosen if chosen is not None else IN_PROCESS
