"""The researchers' view of the knowledge base: numbered passages for a query.

The search goes through the process's ``KnowledgeSearch`` (in process, or the
knowledge service over HTTP in the split shape). The in-process one imports the
knowledge service when first used, so the research package loads (and its tables
migrate) on a deployment that trims the knowledge service away; a researcher there
finds no passages and says its answer is ungrounded.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ai_platform.governance.context import RequestContext
from ai_platform.services.peers import knowledge_search
from ai_platform.services.research.config import PASSAGE_CHARS

logger = logging.getLogger("ai_platform.research")

_MODULE = "ai_platform.services.knowledge"


async def find_passages(
    ctx: RequestContext, session: AsyncSession, query: str, max_results: int
) -> list[dict[str, Any]]:
    """The tenant's best chunks for ``query``, numbered from 1, as plain dicts (they are
    stored in the step's result as they are)."""
    try:
        hits = await knowledge_search(ctx).search(ctx, session, query, max_results)
    except ModuleNotFoundError as exc:
        if exc.name is None or not _MODULE.startswith(exc.name):
            raise
        logger.warning("knowledge service not installed; research answers are ungrounded")
        return []
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
