"""Knowledge tables: documents and their chunks.

The full-text index is not an ORM column, because it differs per database:

- SQLite: ``knowledge_chunks_fts``, an external-content FTS5 table over
  ``knowledge_chunks(title, content)`` (porter stemming), kept in step by triggers.
- PostgreSQL: ``knowledge_chunks.search_vector``, a stored generated ``tsvector``
  (title weighted A, content B) with a GIN index.

Both are created by migration ``0002_knowledge``; rows are written only through the
ORM and the database keeps the index current.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from ai_platform.db.base import Base, TimestampMixin


class KnowledgeDocument(TimestampMixin, Base):
    """An ingested document. Its text lives in its chunks; ``content_hash`` (of title
    and text) lets a re-ingest of the same document return the existing one."""

    __tablename__ = "knowledge_documents"
    __table_args__ = (
        Index("ix_knowledge_documents_client_created", "client_id", "created_at"),
        Index("ix_knowledge_documents_client_hash", "client_id", "content_hash"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    source: Mapped[str] = mapped_column(String(500))
    # "metadata" is reserved on declarative classes; the column keeps the API's name.
    meta: Mapped[dict[str, str]] = mapped_column("metadata", JSON, default=dict)
    media_type: Mapped[str] = mapped_column(String(50))
    content_hash: Mapped[str] = mapped_column(String(64))
    char_count: Mapped[int] = mapped_column(Integer)
    chunk_count: Mapped[int] = mapped_column(Integer, default=0)
    flagged_chunk_count: Mapped[int] = mapped_column(Integer, default=0)


class KnowledgeChunk(TimestampMixin, Base):
    """A searchable piece of a document.

    ``flagged`` chunks matched the injection screen at ingest (``signals`` says why);
    they are searchable on request but never placed in a prompt. ``embedding`` is a
    unit-length float32 vector (see ``ranking.pack_vector``) from ``embedding_model``.
    """

    __tablename__ = "knowledge_chunks"
    __table_args__ = (
        Index("ix_knowledge_chunks_client", "client_id", "id"),
        Index("ix_knowledge_chunks_document", "document_id", "position"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    document_id: Mapped[str] = mapped_column(
        ForeignKey("knowledge_documents.id", ondelete="CASCADE")
    )
    client_id: Mapped[str] = mapped_column(String(40))
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    content: Mapped[str] = mapped_column(Text)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    screening_score: Mapped[float] = mapped_column(Float, default=0.0)
    signals: Mapped[list[str]] = mapped_column(JSON, default=list)
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary)
    embedding_model: Mapped[str | None] = mapped_column(String(100))
