"""Database access for the knowledge base. Every query is scoped by ``client_id``;
functions flush, never commit (the request commits)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVarTuple

from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    and_,
    column,
    delete,
    exists,
    func,
    literal_column,
    select,
    table,
)
from sqlalchemy.ext.asyncio import AsyncSession

from ai_platform.services.knowledge.models import KnowledgeChunk, KnowledgeDocument
from ai_platform.services.knowledge.ranking import fts5_match, websearch_or

# The FTS5 table's hidden column of the same name is the left operand of MATCH.
_fts = table("knowledge_chunks_fts", column("rowid"), column("knowledge_chunks_fts"))


def dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def metadata_matches(dialect_name: str, key: str, value: str) -> ColumnElement[bool]:
    """The document's metadata holds ``key`` with exactly ``value``.

    PostgreSQL: ``metadata ->> :key = :value``. SQLite looks the key up through
    ``json_each`` rather than a JSON path, because a path cannot spell every key (a
    double quote or a non-ASCII letter in the key would never match).
    """
    if dialect_name == "sqlite":
        pairs = func.json_each(KnowledgeDocument.meta).table_valued("key", "value")
        return exists().where(pairs.c["key"] == key, pairs.c["value"] == value)
    return KnowledgeDocument.meta.op("->>")(key) == value


Row = TypeVarTuple("Row")


def _scoped(
    stmt: Select[*Row],
    dialect_name: str,
    client_id: str,
    filters: Mapping[str, str] | None,
    include_flagged: bool,
) -> Select[*Row]:
    conditions: list[ColumnElement[bool]] = [KnowledgeChunk.client_id == client_id]
    if not include_flagged:
        conditions.append(KnowledgeChunk.flagged.is_(False))
    if filters:
        stmt = stmt.join(KnowledgeDocument, KnowledgeDocument.id == KnowledgeChunk.document_id)
        conditions.extend(metadata_matches(dialect_name, k, v) for k, v in filters.items())
    return stmt.where(and_(*conditions))


async def find_by_hashes(
    session: AsyncSession, client_id: str, content_hashes: Sequence[str]
) -> dict[str, KnowledgeDocument]:
    if not content_hashes:
        return {}
    rows = await session.scalars(
        select(KnowledgeDocument).where(
            KnowledgeDocument.client_id == client_id,
            KnowledgeDocument.content_hash.in_(sorted(set(content_hashes))),
        )
    )
    found: dict[str, KnowledgeDocument] = {}
    for row in rows:
        found.setdefault(row.content_hash, row)
    return found


async def add_documents(
    session: AsyncSession,
    documents: Sequence[KnowledgeDocument],
    chunks: Sequence[KnowledgeChunk],
) -> None:
    # Documents first: chunks reference them and there is no relationship() to order
    # the inserts.
    session.add_all(documents)
    await session.flush()
    session.add_all(chunks)
    await session.flush()


async def get_document(
    session: AsyncSession, client_id: str, document_id: str
) -> KnowledgeDocument | None:
    return await session.scalar(
        select(KnowledgeDocument).where(
            KnowledgeDocument.id == document_id, KnowledgeDocument.client_id == client_id
        )
    )


async def list_documents(
    session: AsyncSession, client_id: str, limit: int, offset: int
) -> tuple[list[KnowledgeDocument], int]:
    total = await session.scalar(
        select(func.count())
        .select_from(KnowledgeDocument)
        .where(KnowledgeDocument.client_id == client_id)
    )
    rows = await session.scalars(
        select(KnowledgeDocument)
        .where(KnowledgeDocument.client_id == client_id)
        .order_by(KnowledgeDocument.created_at.desc(), KnowledgeDocument.id)
        .limit(limit)
        .offset(offset)
    )
    return list(rows), int(total or 0)


async def flagged_chunks(
    session: AsyncSession, client_id: str, document_id: str, limit: int
) -> list[KnowledgeChunk]:
    rows = await session.scalars(
        select(KnowledgeChunk)
        .where(
            KnowledgeChunk.document_id == document_id,
            KnowledgeChunk.client_id == client_id,
            KnowledgeChunk.flagged.is_(True),
        )
        .order_by(KnowledgeChunk.position)
        .limit(limit)
    )
    return list(rows)


async def delete_document(session: AsyncSession, client_id: str, document_id: str) -> int:
    """Delete a document and its chunks; the full-text index follows (trigger or column).

    Chunks are deleted explicitly rather than left to ON DELETE CASCADE, so SQLite's
    FTS triggers fire for each row whatever the foreign-key pragma says.
    """
    deleted = await session.execute(
        delete(KnowledgeChunk).where(
            KnowledgeChunk.document_id == document_id, KnowledgeChunk.client_id == client_id
        )
    )
    await session.execute(
        delete(KnowledgeDocument).where(
            KnowledgeDocument.id == document_id, KnowledgeDocument.client_id == client_id
        )
    )
    await session.flush()
    return int(getattr(deleted, "rowcount", 0) or 0)


async def fulltext_ranked(
    session: AsyncSession,
    client_id: str,
    terms: Sequence[str],
    limit: int,
    *,
    filters: Mapping[str, str] | None = None,
    include_flagged: bool = False,
) -> list[tuple[int, float]]:
    """(chunk id, raw relevance) best first; relevance is higher-is-better on both engines."""
    if not terms:
        return []
    relevance: ColumnElement[float]
    stmt: Select[int, float]
    if dialect(session) == "sqlite":
        # bm25() is lower-is-better; weights: title 2.0, content 1.0.
        relevance = -literal_column("bm25(knowledge_chunks_fts, 2.0, 1.0)", type_=Float)
        stmt = (
            select(KnowledgeChunk.id, relevance.label("relevance"))
            .select_from(KnowledgeChunk)
            .join(_fts, _fts.c.rowid == KnowledgeChunk.id)
            .where(_fts.c.knowledge_chunks_fts.op("MATCH")(fts5_match(terms)))
        )
    else:
        query = func.websearch_to_tsquery(
            literal_column("'english'::regconfig"), websearch_or(terms)
        )
        vector: ColumnElement[Any] = literal_column("knowledge_chunks.search_vector")
        # ts_rank over ts_rank_cd: with OR queries most chunks match one or two terms,
        # where cover density says little; on the Northwind question suite ts_rank put
        # the right document first for 45 of 48 questions, ts_rank_cd for 40.
        relevance = func.ts_rank(vector, query, type_=Float)
        stmt = (
            select(KnowledgeChunk.id, relevance.label("relevance"))
            .select_from(KnowledgeChunk)
            .where(vector.op("@@")(query))
        )
    stmt = _scoped(stmt, dialect(session), client_id, filters, include_flagged)
    stmt = stmt.order_by(literal_column("relevance").desc(), KnowledgeChunk.id).limit(limit)
    rows = await session.execute(stmt)
    return [(int(chunk_id), float(score)) for chunk_id, score in rows]


async def recent_chunk_vectors(
    session: AsyncSession,
    client_id: str,
    limit: int,
    *,
    filters: Mapping[str, str] | None = None,
    include_flagged: bool = False,
) -> list[tuple[int, bytes | None, str | None]]:
    """(id, vector, model) of the tenant's most recent ``limit`` chunks."""
    stmt = select(KnowledgeChunk.id, KnowledgeChunk.embedding, KnowledgeChunk.embedding_model)
    stmt = _scoped(stmt, dialect(session), client_id, filters, include_flagged)
    rows = await session.execute(stmt.order_by(KnowledgeChunk.id.desc()).limit(limit))
    return [
        (int(chunk_id), bytes(blob) if blob is not None else None, model)
        for chunk_id, blob, model in rows
    ]


async def chunks_by_id(
    session: AsyncSession, client_id: str, chunk_ids: Sequence[int]
) -> list[KnowledgeChunk]:
    if not chunk_ids:
        return []
    rows = await session.scalars(
        select(KnowledgeChunk)
        .where(KnowledgeChunk.client_id == client_id, KnowledgeChunk.id.in_(list(chunk_ids)))
        .order_by(KnowledgeChunk.id)
    )
    return list(rows)


async def chunks_with_documents(
    session: AsyncSession, client_id: str, chunk_ids: Sequence[int]
) -> dict[int, tuple[KnowledgeChunk, KnowledgeDocument]]:
    if not chunk_ids:
        return {}
    rows = await session.execute(
        select(KnowledgeChunk, KnowledgeDocument)
        .join(KnowledgeDocument, KnowledgeDocument.id == KnowledgeChunk.document_id)
        .where(KnowledgeChunk.client_id == client_id, KnowledgeChunk.id.in_(list(chunk_ids)))
    )
    return {chunk.id: (chunk, document) for chunk, document in rows}
