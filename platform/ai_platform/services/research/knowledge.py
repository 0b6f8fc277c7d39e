"""The researchers' view of the knowledge base: numbered passages for a query.

The knowledge service is imported when first used, so the research package loads
(and its tables migrate) on a deployment that trims the knowledge service away; a
researcher there finds no passages and says its answer is ungrounded.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ai_platform.governance.context import RequestContext
from ai_platform.services.research.config import PASSAGE_CHARS

logger = logging.getLogger("ai_platform.research")

_MODULE = "ai_platform.services.knowledge.service"


async def find_passages(
    ctx: RequestContext, session: AsyncSession, query: str, max_results: int
) -> list[dict[str, Any]]:
    """The tenant's best chunks for ``query``, numbered from 1, as plain dicts (they are
    stored in the step's result as they are)."""
    try:
        service = importlib.import_module(_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name is None or not _MODULE.startswith(exc.name):
            raise
        logger.warning("knowledge service not installed; research answers are ungrounded")
        return []
    hits = await service.search_knowledge(ctx, session, query, max_results)
    passages = []
    for number, hit in enumerate(hits, 1):
        content = " ".join(str(hit.content).split())
        passages.append(
            {
                "number": number,
                "document_id": str(hit.document_id),
                "chunk_id": hit.chunk_id,
                "title": str(hit.title),
                "source": str(hit.source),
                "content": content[:PASSAGE_CHARS],
                "score": round(float(hit.score), 6),
            }
        )
    return passages
