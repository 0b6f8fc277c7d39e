"""Knowledge-base tuning: chunk sizes, limits and retrieval constants.

The numbers a reader may want to change without touching code are ``settings.knowledge``
(``KnowledgeSettings``, nested in ``Settings``), read from the environment with the
``KNOWLEDGE_`` prefix (``KNOWLEDGE_EMBEDDINGS=false`` turns vector search off for a
provider without an embeddings endpoint; ``KNOWLEDGE__EMBEDDINGS`` works too). The
rest are module constants so the documentation and the code cannot disagree.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

SearchMode = Literal["fulltext", "hybrid"]

# Chunking: about 250 tokens per chunk with about 50 tokens carried over, so a fact
# that straddles a boundary is whole in at least one chunk.
CHUNK_SIZE = 1000
CHUNK_OVERLAP = 200

# Request limits.
MAX_DOCUMENTS_PER_REQUEST = 100
MAX_TEXT_CHARS = 2_000_000
MAX_TITLE_CHARS = 300
MAX_SOURCE_CHARS = 500
MAX_METADATA_KEYS = 32
MAX_METADATA_VALUE_CHARS = 500
MAX_FILES_PER_REQUEST = 20
MAX_FILE_BYTES = 8 * 1024 * 1024

# Retrieval.
RRF_K = 60
CANDIDATES_PER_LIST = 50
MAX_QUERY_TERMS = 32
EMBED_BATCH = 64
SNIPPET_CHARS = 240


class KnowledgeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KNOWLEDGE_", extra="ignore")

    embeddings: bool = Field(
        default=True, description="embed chunks at ingest and offer hybrid search"
    )
    max_vector_scan: int = Field(
        default=2000,
        ge=1,
        description="most recent chunks per tenant compared with the query vector",
    )
    answer_max_tokens: int = Field(default=512, ge=16, le=8192)

    @property
    def default_mode(self) -> SearchMode:
        return "hybrid" if self.embeddings else "fulltext"

