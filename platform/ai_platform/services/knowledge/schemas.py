"""Request and response models of the knowledge base. ``SearchRequest`` and
``SearchResult`` are the design brief's (``docs/design-brief.md``), extended with ids
and retrieval details."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

from ai_platform.core.text import Line, ModelName, Text
from ai_platform.services.knowledge.config import (
    MAX_DOCUMENTS_PER_REQUEST,
    MAX_METADATA_KEYS,
    MAX_METADATA_VALUE_CHARS,
    MAX_SOURCE_CHARS,
    MAX_TEXT_CHARS,
    MAX_TITLE_CHARS,
    SearchMode,
)

Metadata = dict[str, str]
"""Metadata as stored and returned."""
MetadataIn = dict[Line, Text]
"""Metadata as a client sends it: keys on one line, values without NUL or controls."""


def check_metadata(value: Metadata | None) -> Metadata | None:
    if value is None:
        return None
    if len(value) > MAX_METADATA_KEYS:
        raise ValueError(f"at most {MAX_METADATA_KEYS} metadata keys")
    for key, item in value.items():
        if not key or len(key) > 64:
            raise ValueError("metadata keys must be 1-64 characters")
        if len(item) > MAX_METADATA_VALUE_CHARS:
            raise ValueError(f"metadata values must be at most {MAX_METADATA_VALUE_CHARS} chars")
    return value


class DocumentIn(BaseModel):
    """One document to ingest."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "title": "Return policy",
                    "text": "Unused items can be returned within 60 days of delivery...",
                    "source": "policies/returns.md",
                    "metadata": {"category": "policy"},
                }
            ]
        }
    )

    title: Line = Field(min_length=1, max_length=MAX_TITLE_CHARS)
    text: Text = Field(
        min_length=1, max_length=MAX_TEXT_CHARS, description="plain text or Markdown"
    )
    source: Line = Field(default="api", min_length=1, max_length=MAX_SOURCE_CHARS)
    metadata: MetadataIn = Field(default_factory=dict, description="string pairs; used by filters")

    _metadata = field_validator("metadata")(check_metadata)


class IngestRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "documents": [
                        {
                            "title": "Store hours",
                            "text": "The Portland flagship store opens 9am-8pm Monday to Saturday.",
                            "source": "stores/hours.md",
                            "metadata": {"category": "stores"},
                        }
                    ]
                }
            ]
        }
    )

    documents: list[DocumentIn] = Field(min_length=1, max_length=MAX_DOCUMENTS_PER_REQUEST)


class IngestedDocument(BaseModel):
    document_id: str
    title: str
    source: str
    chunk_count: int
    flagged_chunk_count: int = Field(description="chunks the injection screen flagged")
    embedded: bool = Field(description="whether chunk embeddings were stored")
    deduplicated: bool = Field(
        default=False, description="the same title and text already existed; nothing was added"
    )


class IngestResponse(BaseModel):
    documents: list[IngestedDocument]
    total_chunks: int


class SearchRequest(BaseModel):
    """Request to search the knowledge base."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"query": "How long do I have to return a jacket?", "max_results": 3},
                {"query": "tent care", "filters": {"category": "product-care"}, "mode": "fulltext"},
            ]
        }
    )

    query: Text = Field(..., min_length=1, max_length=10000, description="Search query")
    max_results: int = Field(default=5, ge=1, le=20, description="Maximum results to return")
    filters: MetadataIn | None = Field(
        default=None, description="Optional metadata filters (every pair must match exactly)"
    )
    mode: SearchMode | None = Field(
        default=None,
        description="fulltext, or hybrid (full text + vectors, fused with RRF); "
        "default hybrid when embeddings are enabled",
    )
    include_flagged: StrictBool = Field(
        default=False, description="also return chunks the injection screen flagged"
    )

    _filters = field_validator("filters")(check_metadata)


class SearchResult(BaseModel):
    """A single search result."""

    content: str
    score: float = Field(ge=0, le=1)
    source: str
    metadata: Metadata


class SearchHit(SearchResult):
    document_id: str
    chunk_id: int
    title: str
    position: int = Field(description="the chunk's index within its document")
    flagged: bool = False
    fulltext_rank: int | None = Field(default=None, description="rank in the full-text list")
    vector_rank: int | None = Field(default=None, description="rank in the vector list")


class AnswerRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"question": "How long is the warranty on a tent?", "max_passages": 5}]
        }
    )

    question: Text = Field(min_length=1, max_length=10000)
    max_passages: int = Field(default=5, ge=1, le=10)
    filters: MetadataIn | None = None
    mode: SearchMode | None = None
    model: ModelName | None = Field(
        default=None, description="chat model override; an unknown one is a 422 `unknown_model`"
    )

    _filters = field_validator("filters")(check_metadata)


class Citation(BaseModel):
    number: int = Field(description="the [n] marker in the answer")
    chunk_id: int
    document_id: str
    title: str
    source: str
    snippet: str
    score: float = Field(ge=0, le=1)


class AnswerResponse(BaseModel):
    answer: str
    citations: list[Citation] = Field(description="passages the answer cites, in citation order")
    passages_used: int = Field(description="passages placed in the prompt")
    mode: SearchMode
    model: str | None = None


class DocumentSummary(BaseModel):
    document_id: str
    title: str
    source: str
    metadata: Metadata
    media_type: str
    char_count: int
    chunk_count: int
    flagged_chunk_count: int
    created_at: datetime


class FlaggedChunk(BaseModel):
    chunk_id: int
    position: int
    score: float
    signals: list[str]
    snippet: str


class DocumentDetail(DocumentSummary):
    flagged_chunks: list[FlaggedChunk] = Field(
        default_factory=list, description="up to 50 flagged chunks and why they were flagged"
    )


class DocumentPage(BaseModel):
    items: list[DocumentSummary]
    total: int
    limit: int
    offset: int


class DeletedDocument(BaseModel):
    document_id: str
    deleted_chunks: int
