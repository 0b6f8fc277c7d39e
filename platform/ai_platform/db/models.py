"""Core tables: clients (tenants), API keys and the usage ledger."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ai_platform.db.base import Base, TimestampMixin, utcnow
from ai_platform.db.types import Money


class Client(TimestampMixin, Base):
    """A tenant: its limits and monthly budget. ``None`` limits fall back to settings."""

    __tablename__ = "clients"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    rpm_limit: Mapped[int | None] = mapped_column(Integer)
    tpd_limit: Mapped[int | None] = mapped_column(BigInteger)
    monthly_budget_usd: Mapped[Decimal | None] = mapped_column(Money)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    allowed_models: Mapped[list[str] | None] = mapped_column(JSON)
    """Model names (route aliases or priced models) the client may ask for; null: any."""
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    keys: Mapped[list[ApiKey]] = relationship(back_populates="client", lazy="raise")


class ApiKey(TimestampMixin, Base):
    """An API key, stored only as an HMAC hash; ``prefix`` finds the row."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200), default="default")
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    client: Mapped[Client] = relationship(back_populates="keys", lazy="raise")


class UsageRecord(Base):
    """One row per governed request, whatever its outcome."""

    __tablename__ = "usage_ledger"
    __table_args__ = (
        Index("ix_usage_ledger_client_time", "client_id", "created_at"),
        Index("ix_usage_ledger_client_correlation", "client_id", "correlation_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    request_id: Mapped[str] = mapped_column(String(64), unique=True)
    """Made by the server; the ledger's idempotency key."""
    correlation_id: Mapped[str | None] = mapped_column(String(64))
    """The caller's well-formed ``X-Request-ID``, if any: searchable, never a key."""
    client_id: Mapped[str] = mapped_column(String(40))
    service: Mapped[str] = mapped_column(String(40))
    route: Mapped[str] = mapped_column(String(200))
    model: Mapped[str | None] = mapped_column(String(100))
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    latency_ms: Mapped[float] = mapped_column(default=0.0)
    status_code: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(40))
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    guardrail_events: Mapped[str | None] = mapped_column(String(500))
    """What the injection guardrails did ("tool_refused:untrusted_source,link_removed*2")."""
    hops: Mapped[str | None] = mapped_column(String(300))
    """Deployments a routed call tried ("primary:gpt-4o:rate_limited>backup:gpt-4o:ok")."""
