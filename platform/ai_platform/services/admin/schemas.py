"""Request and response models of the administration API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator, model_validator

from ai_platform.core.numbers import StrictCount, StrictUsd
from ai_platform.core.text import Line, ModelName

T = TypeVar("T")

MAX_RPM = 1_000_000
MAX_TPD = 10**12
MAX_BUDGET_USD = 1_000_000.0
MAX_PAGE = 200
MAX_USAGE_ROWS = 1000
MAX_KEY_DAYS = 3650

UsageGroup = Literal["client", "service", "model", "day"]
KeyStatus = Literal["active", "revoked", "expired"]

_CLIENT_ID = "cli_8b1f0c2d9e4a4f6b8c3d2e1f0a9b8c7d"
_KEY_ID = "key_3c9d1e2f4a5b4c6d8e7f9a0b1c2d3e4f"


def _clean_name(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value:
        raise ValueError("must not be blank")
    return value


# -- clients ---------------------------------------------------------------------------


AllowedModels = list[ModelName] | None
"""Model names (route aliases or priced models) a client may use on ``/v1``; null: any."""


class ClientCreate(BaseModel):
    """A new client (tenant). Limits left out fall back to the platform defaults."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "acme-support",
                    "rpm_limit": 120,
                    "tpd_limit": 2_000_000,
                    "monthly_budget_usd": 250.0,
                },
                {"name": "internal-experiments"},
            ]
        },
    )

    name: Line = Field(min_length=1, max_length=200)
    rpm_limit: StrictCount | None = Field(
        default=None, ge=1, le=MAX_RPM, description="Requests/minute."
    )
    tpd_limit: StrictCount | None = Field(default=None, ge=1, le=MAX_TPD, description="Tokens/day.")
    monthly_budget_usd: StrictUsd | None = Field(default=None, ge=0, le=MAX_BUDGET_USD)
    allowed_models: AllowedModels = None

    clean_name = field_validator("name")(_clean_name)


class ClientUpdate(BaseModel):
    """A partial update: fields left out stay unchanged; ``null`` resets a limit to the default."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"monthly_budget_usd": 500.0},
                {"rpm_limit": 600, "tpd_limit": None},
            ]
        },
    )

    name: Line | None = Field(default=None, min_length=1, max_length=200)
    rpm_limit: StrictCount | None = Field(default=None, ge=1, le=MAX_RPM)
    tpd_limit: StrictCount | None = Field(default=None, ge=1, le=MAX_TPD)
    monthly_budget_usd: StrictUsd | None = Field(default=None, ge=0, le=MAX_BUDGET_USD)
    allowed_models: AllowedModels = None

    clean_name = field_validator("name")(_clean_name)

    @model_validator(mode="after")
    def _something(self) -> ClientUpdate:
        if not self.model_fields_set:
            raise ValueError(
                "send at least one of name, rpm_limit, tpd_limit, monthly_budget_usd, "
                "allowed_models"
            )
        if "name" in self.model_fields_set and self.name is None:
            raise ValueError("name cannot be null")
        return self


class EffectiveLimits(BaseModel):
    """The limits that apply, with the platform defaults filled in."""

    rpm_limit: int
    tpd_limit: int
    monthly_budget_usd: float


class ClientOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": _CLIENT_ID,
                    "name": "acme-support",
                    "rpm_limit": 120,
                    "tpd_limit": None,
                    "monthly_budget_usd": 250.0,
                    "effective": {
                        "rpm_limit": 120,
                        "tpd_limit": 500_000,
                        "monthly_budget_usd": 250.0,
                    },
                    "active": True,
                    "created_at": "2025-09-01T08:30:00Z",
                    "updated_at": "2025-09-03T10:02:11Z",
                }
            ]
        }
    )

    id: str
    name: str
    rpm_limit: int | None = Field(description="Configured; null means the platform default.")
    tpd_limit: int | None
    monthly_budget_usd: float | None
    allowed_models: list[str] | None = Field(
        default=None, description="Models the client may use on /v1; null means any."
    )
    effective: EffectiveLimits
    active: bool
    created_at: datetime
    updated_at: datetime


class ClientDetail(ClientOut):
    """A client with its key count and what it has spent this (UTC) month."""

    active_keys: int
    month_to_date_requests: int
    month_to_date_cost_usd: float


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


# -- keys ------------------------------------------------------------------------------


class KeyCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"name": "production", "admin": False, "expires_in_days": 90},
                {"name": "ops-console", "admin": True},
            ]
        },
    )

    name: Line = Field(default="default", min_length=1, max_length=200)
    admin: StrictBool = Field(default=False, description="Grant the admin scope.")
    expires_in_days: StrictCount | None = Field(default=None, ge=1, le=MAX_KEY_DAYS)

    clean_name = field_validator("name")(_clean_name)


class KeyOut(BaseModel):
    """A key as listed: its public prefix, never the key or its hash."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": _KEY_ID,
                    "client_id": _CLIENT_ID,
                    "name": "production",
                    "prefix": "4f1a9c03b2d7",
                    "scopes": ["services"],
                    "admin": False,
                    "status": "active",
                    "created_at": "2025-09-01T08:30:00Z",
                    "expires_at": None,
                    "revoked_at": None,
                }
            ]
        }
    )

    id: str
    client_id: str
    name: str
    prefix: str
    scopes: list[str]
    admin: bool
    status: KeyStatus
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


class IssuedKeyOut(KeyOut):
    """A new key. ``key`` is shown here once; the platform keeps only its hash."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": _KEY_ID,
                    "client_id": _CLIENT_ID,
                    "name": "production",
                    "prefix": "4f1a9c03b2d7",
                    "scopes": ["services"],
                    "admin": False,
                    "status": "active",
                    "created_at": "2025-09-01T08:30:00Z",
                    "expires_at": "2025-11-30T08:30:00Z",
                    "revoked_at": None,
                    "key": "aip_4f1a9c03b2d7_Qm9vZ2xlLXNlY3JldC1leGFtcGxlLW9ubHktMTIz",
                    "replaces": None,
                }
            ]
        }
    )

    key: str = Field(description="The API key. Store it now: it cannot be shown again.")
    replaces: str | None = Field(default=None, description="The key this one rotated out.")


# -- usage -----------------------------------------------------------------------------


class UsageTotals(BaseModel):
    requests: int
    errors: int = Field(description="Requests that ended with status >= 400.")
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cost_usd: float
    avg_latency_ms: float | None


class UsageRow(UsageTotals):
    key: str | None = Field(
        description="The group: a client id, service, model (null: no LLM call) or UTC day."
    )
    client_name: str | None = Field(default=None, description="With group_by=client.")


class UsageReport(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "group_by": "service",
                    "start": "2025-09-01",
                    "end": "2025-09-30",
                    "client_id": None,
                    "service": None,
                    "rows": [
                        {
                            "key": "knowledge",
                            "client_name": None,
                            "requests": 1200,
                            "errors": 14,
                            "prompt_tokens": 910_000,
                            "completion_tokens": 240_000,
                            "total_tokens": 1_150_000,
                            "cost_usd": 0.2805,
                            "avg_latency_ms": 412.7,
                        }
                    ],
                    "totals": {
                        "requests": 1200,
                        "errors": 14,
                        "prompt_tokens": 910_000,
                        "completion_tokens": 240_000,
                        "total_tokens": 1_150_000,
                        "cost_usd": 0.2805,
                        "avg_latency_ms": 412.7,
                    },
                    "truncated": False,
                }
            ]
        }
    )

    group_by: UsageGroup
    start: date | None = Field(description="First UTC day included.")
    end: date | None = Field(description="Last UTC day included.")
    client_id: str | None
    service: str | None
    rows: list[UsageRow]
    totals: UsageTotals = Field(description="Over every matching request, not only the rows shown.")
    truncated: bool = Field(description="True when more groups matched than `limit`.")


class LedgerRecord(BaseModel):
    """One governed request as the ledger holds it: what it cost and how it ended."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": 48213,
                    "request_id": "req_01J8Z6Q4M5N7P8R9S0T1V2W3X4",
                    "client_id": _CLIENT_ID,
                    "service": "knowledge",
                    "route": "POST /api/v1/knowledge/search",
                    "model": "gpt-4o-mini",
                    "prompt_tokens": 812,
                    "completion_tokens": 164,
                    "cost_usd": 0.0002202,
                    "latency_ms": 388.214,
                    "status_code": 200,
                    "outcome": "ok",
                    "flagged": False,
                    "created_at": "2025-09-03T10:02:11.204Z",
                }
            ]
        },
    )

    id: int
    request_id: str
    correlation_id: str | None = None
    """The caller's ``X-Request-ID``, if it sent a well-formed one."""
    client_id: str
    service: str
    route: str
    model: str | None
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    latency_ms: float
    status_code: int
    outcome: str
    flagged: bool
    created_at: datetime


class LedgerPage(BaseModel):
    items: list[LedgerRecord]
    next_before_id: int | None = Field(
        description="Pass as `before_id` for the next (older) page; null on the last page."
    )


# -- prices ----------------------------------------------------------------------------


class ModelPriceOut(BaseModel):
    kind: Literal["chat", "embedding"]
    input_per_1m: float
    cached_input_per_1m: float | None
    output_per_1m: float
    context_window: int | None
    source: str
    as_of: str | None


class PriceFallback(BaseModel):
    model: str
    note: str


class PriceTableOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "currency": "USD",
                    "unit": "per 1M tokens",
                    "sources": ["ai_platform/llm/prices.json"],
                    "fallback": {
                        "model": "gpt-4o",
                        "note": "unknown models are priced as this model and flagged known=false",
                    },
                    "aliases": {"sim-chat": "gpt-4o-mini"},
                    "models": {
                        "gpt-4o-mini": {
                            "kind": "chat",
                            "input_per_1m": 0.15,
                            "cached_input_per_1m": 0.075,
                            "output_per_1m": 0.6,
                            "context_window": 128000,
                            "source": "https://openai.com/api/pricing",
                            "as_of": "2025-08-07",
                        }
                    },
                }
            ]
        }
    )

    currency: str
    unit: str
    sources: list[str]
    fallback: PriceFallback
    aliases: dict[str, str]
    models: dict[str, ModelPriceOut]
