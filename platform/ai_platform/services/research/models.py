"""Research tables: one row per job and one per completed step.

A step row is written once, when the step completes, with its result; the unique
``(job_id, key)`` pair is what makes steps idempotent: a job that is run again (after
a restart, or by another worker) reads the rows it has and runs only the missing
steps. The job row carries the caller's identity so a worker process can govern the
job's LLM calls as that tenant, and a lease so two processes never run it at once.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ai_platform.db.base import Base, TimestampMixin, utcnow
from ai_platform.db.types import Money


class ResearchJob(TimestampMixin, Base):
    __tablename__ = "research_jobs"
    __table_args__ = (
        Index("ix_research_jobs_client_created", "client_id", "created_at"),
        Index("ix_research_jobs_status_lease", "status", "lease_expires_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(40))
    # The caller as authenticated at start: a worker rebuilds its ClientInfo from
    # these plus the clients row (whose limits may have changed since).
    key_id: Mapped[str] = mapped_column(String(40))
    client_name: Mapped[str] = mapped_column(String(200))
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    question: Mapped[str] = mapped_column(Text)
    max_sub_questions: Mapped[int] = mapped_column(Integer)
    model: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="accepted")
    steps_total: Mapped[int] = mapped_column(Integer)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    lease_owner: Mapped[str | None] = mapped_column(String(120))
    lease_expires_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ResearchStep(TimestampMixin, Base):
    __tablename__ = "research_steps"
    __table_args__ = (
        UniqueConstraint("job_id", "key", name="uq_research_steps_job_key"),
        Index("ix_research_steps_job", "job_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("research_jobs.id", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(20))
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    model: Mapped[str | None] = mapped_column(String(100))
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    latency_ms: Mapped[float] = mapped_column(default=0.0)
