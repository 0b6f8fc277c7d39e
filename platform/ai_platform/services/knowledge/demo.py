"""The Northwind Outfitters sample corpus, loaded for the demo tenant.

``seed_demo`` runs from the command line (``ai-platform demo``), outside any request,
so it screens every chunk with the platform's injection detector but stores no
embeddings: the first hybrid search embeds the chunks it finds without vectors (see
``service._backfill``). It is idempotent: each corpus document carries its
``corpus_id`` in metadata; an unchanged document is left alone and a changed one is
replaced.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ai_platform.config import Settings
from ai_platform.services.knowledge import repository
from ai_platform.services.knowledge.config import KnowledgeSettings
from ai_platform.services.knowledge.models import KnowledgeDocument
from ai_platform.services.knowledge.service import NewDocument, content_hash, ingest_documents

if TYPE_CHECKING:
    from ai_platform.governance.screening import InjectionDetector, ScreeningResult

CORPUS_PATH = Path(__file__).parent / "data" / "corpus.jsonl"


@lru_cache(maxsize=1)
def corpus() -> tuple[dict[str, Any], ...]:
    """The corpus records: ``id``, ``title``, ``source``, ``metadata``, ``text``."""
    with CORPUS_PATH.open(encoding="utf-8") as handle:
        return tuple(json.loads(line) for line in handle if line.strip())


def corpus_documents() -> list[NewDocument]:
    return [
        NewDocument(
            title=record["title"],
            text=record["text"],
            source=record["source"],
            metadata=dict(record["metadata"]),
            media_type="text/markdown",
        )
        for record in corpus()
    ]


@dataclass
class _SeedContext:
    client_id: str
    detector: InjectionDetector

    async def screen(self, text: str, *, kind: str = "prompt") -> ScreeningResult:
        return self.detector.screen(text)

    async def embed(self, texts: Sequence[str], *, model: str | None = None) -> NoReturn:
        raise RuntimeError("the demo seed stores no embeddings")


async def seed_corpus(session: AsyncSession, settings: Settings, client_id: str) -> int:
    """Bring the tenant's copy of the corpus up to date; returns documents (re)ingested."""
    from ai_platform.governance.screening import InjectionDetector

    wanted = corpus_documents()
    rows = await session.scalars(
        select(KnowledgeDocument).where(
            KnowledgeDocument.client_id == client_id,
            KnowledgeDocument.meta["corpus_id"]
            .as_string()
            .in_([doc.metadata["corpus_id"] for doc in wanted]),
        )
    )
    existing = {row.meta.get("corpus_id"): row for row in rows}
    missing: list[NewDocument] = []
    for doc in wanted:
        current = existing.get(doc.metadata["corpus_id"])
        if current is not None:
            if current.content_hash == content_hash(doc):
                continue
            await repository.delete_document(session, client_id, current.id)
        missing.append(doc)
    if missing:
        ctx = _SeedContext(client_id, InjectionDetector(threshold=settings.injection_threshold))
        await ingest_documents(ctx, session, missing, settings=KnowledgeSettings(embeddings=False))
    return len(missing)


async def seed_demo(session: AsyncSession, settings: Settings, client_id: str) -> None:
    await seed_corpus(session, settings, client_id)
