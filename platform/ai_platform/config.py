"""Settings, read from the environment and ``.env`` (see ``.env.example``).

Variable names are the field names in upper case (``DATABASE_URL``, ``LLM_BASE_URL``).
Nested groups use ``__``: ``SERVICES__KNOWLEDGE__URL``, ``KNOWLEDGE__EMBEDDINGS``; the
service groups also keep their flat names (``KNOWLEDGE_EMBEDDINGS``, ``RESEARCH_LEASE_S``).
Invalid values stop the process at start with a message naming the variable.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ai_platform.services.knowledge.config import KnowledgeSettings
from ai_platform.services.research.config import ResearchSettings

DEV_SECRET = "dev-only-insecure-secret-change-me"
DEV_IDENTITY_SECRET = "dev-only-insecure-identity-secret"

ServiceName = Literal["knowledge", "agent", "research", "assistant"]
SERVICE_NAMES: tuple[ServiceName, ...] = ("knowledge", "agent", "research", "assistant")
"""The services that can run in a process of their own (admin stays in the gateway)."""


class ServiceEndpoint(BaseModel):
    """Where a separately deployed service answers; ``url`` unset = run it in process."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = None
    timeout_s: float = Field(
        default=120.0, gt=0, description="longest wait for the next bytes from the service"
    )
    connect_timeout_s: float = Field(default=2.0, gt=0)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value


class ServiceEndpoints(BaseModel):
    """``SERVICES__<NAME>__URL`` / ``SERVICES__<NAME>__TIMEOUT_S``."""

    model_config = ConfigDict(extra="forbid")

    knowledge: ServiceEndpoint = Field(default_factory=ServiceEndpoint)
    agent: ServiceEndpoint = Field(default_factory=ServiceEndpoint)
    research: ServiceEndpoint = Field(default_factory=ServiceEndpoint)
    assistant: ServiceEndpoint = Field(default_factory=ServiceEndpoint)

    def endpoint(self, name: ServiceName) -> ServiceEndpoint:
        endpoint: ServiceEndpoint = getattr(self, name)
        return endpoint

    def remote(self) -> dict[ServiceName, ServiceEndpoint]:
        """The services configured with a URL (proxied by a gateway)."""
        return {n: self.endpoint(n) for n in SERVICE_NAMES if self.endpoint(n).url}


def parse_service_names(value: str) -> frozenset[ServiceName]:
    """``"knowledge,agent"`` -> the names; an unknown name is a ``ValueError``."""
    names = [part.strip().lower() for part in value.split(",") if part.strip()]
    unknown = sorted(set(names) - set(SERVICE_NAMES))
    if unknown or not names:
        raise ValueError(
            f"unknown service(s) {', '.join(unknown) or '(none given)'}; "
            f"choose from {', '.join(SERVICE_NAMES)}"
        )
    return frozenset(n for n in SERVICE_NAMES if n in names)


Environment = Literal["development", "test", "staging", "production"]
Provider = Literal["simulator", "openai", "azure"]


class DeploymentSettings(BaseModel):
    """One provider deployment besides the primary (``LLM_DEPLOYMENTS``, a JSON list)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    provider: Literal["openai", "azure", "compatible", "simulator"] = "compatible"
    base_url: str = Field(min_length=1)
    api_key: SecretStr = SecretStr("sk-none")
    api_version: str = "2024-10-21"
    """Azure only."""
    timeout_s: float | None = Field(default=None, gt=0)


class Settings(BaseSettings):
    """Application settings loaded from environment."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        env_nested_delimiter="__",
    )

    # Service
    service_name: str = "ai-platform-gateway"
    environment: Environment = "development"
    debug: bool = False
    log_level: str = "INFO"
    access_log: bool = True
    secret_key: SecretStr = SecretStr(DEV_SECRET)
    data_dir: str = "./data"

    # Database and Redis
    database_url: str = "sqlite+aiosqlite:///./data/ai_platform.db"
    database_echo: bool = False
    redis_url: str | None = None
    redis_key_prefix: str = "aip"

    # LLM provider. "simulator" with no LLM_BASE_URL starts the bundled simulator
    # inside the platform; set LLM_BASE_URL to reach any OpenAI-compatible server.
    llm_provider: Provider = "simulator"
    llm_base_url: str | None = None
    llm_api_key: SecretStr = SecretStr("sk-simulator")
    default_model: str = "gpt-4o-mini"
    vision_model: str = "gpt-4o-mini"
    embedding_model: str = "text-embedding-3-small"
    azure_openai_endpoint: str | None = None
    azure_openai_api_key: SecretStr | None = None
    azure_openai_api_version: str = "2024-10-21"
    azure_openai_deployment: str | None = None
    llm_connect_timeout_s: float = Field(default=5.0, gt=0)
    llm_read_timeout_s: float = Field(default=60.0, gt=0)
    llm_max_retries: int = Field(default=2, ge=0, le=10)
    llm_backoff_base_s: float = Field(default=0.25, ge=0)
    llm_backoff_max_s: float = Field(default=8.0, ge=0)
    llm_breaker_failures: int = Field(default=5, ge=1)
    llm_breaker_reset_s: float = Field(default=30.0, gt=0)
    llm_http_backend: Literal["httpx", "aiohttp"] = "httpx"
    # "wire": the OpenAI wire format over aiohttp + orjson (the hot path); "sdk": the
    # official openai SDK's HTTP layer (LLM_HTTP_BACKEND picks its client).
    llm_transport: Literal["wire", "sdk"] = "wire"
    llm_deployments: list[DeploymentSettings] = Field(default_factory=list)
    model_routes: dict[str, list[str]] = Field(default_factory=dict)
    """Alias -> ordered targets ``deployment[:model]``; see ``ai_platform.llm.routing``."""
    llm_max_output_tokens: int = Field(default=1024, ge=1)
    price_table_path: str | None = None

    # Simulator (bundled stand-in for a provider; not a model)
    simulator_ttft_ms: float = Field(default=150.0, ge=0)
    simulator_tokens_per_s: float = Field(default=200.0, ge=0)
    simulator_jitter: float = Field(default=0.1, ge=0, le=1)
    simulator_seed: int = 7

    # Governance
    default_rpm: int = Field(default=60, ge=1)
    default_tpd: int = Field(default=500_000, ge=1)
    default_monthly_budget_usd: float = Field(default=50.0, ge=0)
    injection_policy: Literal["block", "flag"] = "block"
    injection_threshold: float = Field(default=0.5, gt=0, le=1)
    ledger_batch_size: int = Field(default=200, ge=1)
    ledger_flush_interval_s: float = Field(default=0.5, gt=0)
    # Injection guardrails that do not depend on detection (governance/guardrails/).
    # Answers keep links and images only to OUTPUT_ALLOWED_HOSTS (a JSON list; a host
    # allows its subdomains; empty = relative links only). The agent's refunds are capped
    # per call, per conversation and per customer per UTC day, and wait for the client's
    # confirmation; a turn may make at most AGENT_MAX_ACTIONS_PER_TURN changing calls.
    output_allowed_hosts: list[str] = Field(default_factory=list)
    canary_verbatim_chars: int = Field(default=80, ge=20)
    agent_refund_max_usd: float = Field(default=200.0, ge=0)
    agent_refund_max_usd_per_conversation: float = Field(default=300.0, ge=0)
    agent_refund_max_usd_per_day: float = Field(default=500.0, ge=0)
    agent_max_actions_per_turn: int = Field(default=3, ge=1)
    agent_action_ttl_s: float = Field(default=900.0, gt=0)
    """How long a proposed action waits for the client's confirmation."""

    # HTTP
    api_key_header: str = "X-API-Key"
    auth_cache_ttl_s: float = Field(default=10.0, ge=0)
    cors_origins: list[str] = Field(default_factory=list)
    max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)

    # Uploads: bounded decoding (docs/services/assistant.md, docs/services/knowledge.md).
    # Images: the header is read first; an image over ASSISTANT_MAX_IMAGE_PIXELS is a 413
    # without decoding. Decodes then wait for one of IMAGE_DECODE_CONCURRENCY slots and
    # for width*height tokens from IMAGE_PIXELS_IN_FLIGHT (a decoded pixel takes about 4
    # bytes); an image needing more than the whole budget is a 413, and one that waits
    # longer than IMAGE_DECODE_WAIT_S is a 503 with Retry-After.
    assistant_max_image_pixels: int = Field(default=40_000_000, ge=1)
    image_decode_concurrency: int = Field(default=2, ge=1)
    image_pixels_in_flight: int = Field(default=80_000_000, ge=1)
    image_decode_wait_s: float = Field(default=30.0, ge=0)
    # PDFs are read by pypdf in a separate process (KNOWLEDGE_PDF_WORKERS at once),
    # killed past its CPU or memory budget: 413 pdf_too_complex. More than
    # KNOWLEDGE_PDF_MAX_PAGES pages is refused before any page is read; no stream may
    # inflate past KNOWLEDGE_PDF_MAX_STREAM_BYTES.
    knowledge_pdf_max_pages: int = Field(default=500, ge=1)
    knowledge_pdf_max_seconds: float = Field(default=5.0, gt=0)
    knowledge_pdf_max_memory_mb: int = Field(default=384, ge=64)
    knowledge_pdf_max_stream_bytes: int = Field(default=10_000_000, ge=65_536)
    knowledge_pdf_workers: int = Field(default=2, ge=1)
    knowledge_pdf_wait_s: float = Field(default=30.0, ge=0)

    # Services: tuning per service, and the split shape (docs/architecture.md).
    # SERVE_SERVICES (set by `ai-platform serve --services`) makes this process a service
    # process serving only those; SERVICES__<NAME>__URL makes a gateway proxy that one.
    knowledge: KnowledgeSettings = Field(default_factory=KnowledgeSettings)
    research: ResearchSettings = Field(default_factory=ResearchSettings)
    services: ServiceEndpoints = Field(default_factory=ServiceEndpoints)
    serve_services: str | None = None
    service_identity_secret: SecretStr = SecretStr(DEV_IDENTITY_SECRET)
    service_identity_ttl_s: float = Field(default=45.0, ge=5, le=300)
    migrate_on_start: bool = False

    # Observability
    metrics_enabled: bool = True
    otel_exporter_otlp_endpoint: str | None = None

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if value.startswith("postgresql://") or value.startswith("postgres://"):
            return "postgresql+asyncpg://" + value.split("://", 1)[1]
        if value.startswith("sqlite://") and not value.startswith("sqlite+aiosqlite"):
            return "sqlite+aiosqlite://" + value.split("://", 1)[1]
        if not (
            value.startswith("sqlite+aiosqlite://") or value.startswith("postgresql+asyncpg://")
        ):
            raise ValueError("use sqlite+aiosqlite:///path or postgresql+asyncpg://host/db")
        return value

    @field_validator("api_key_header")
    @classmethod
    def _header_name(cls, value: str) -> str:
        if not value or not all(c.isalnum() or c == "-" for c in value):
            raise ValueError("must be a header name of letters, digits and '-'")
        return value

    @model_validator(mode="after")
    def _production_safety(self) -> Settings:
        if self.environment not in ("development", "test"):
            if self.secret_key.get_secret_value() == DEV_SECRET:
                raise ValueError(
                    "SECRET_KEY: the default secret is refused outside development; "
                    "set SECRET_KEY to a long random value"
                )
            if self.service_identity_secret.get_secret_value() == DEV_IDENTITY_SECRET:
                raise ValueError(
                    "SERVICE_IDENTITY_SECRET: the default secret is refused outside "
                    "development; set it to the same long random value in the gateway "
                    "and every service"
                )
            if "*" in self.cors_origins:
                raise ValueError("CORS_ORIGINS: '*' is refused outside development")
        if self.serve_services is not None:
            # A service process ignores the URL of a service it serves itself (one
            # environment may be shared by every container).
            try:
                parse_service_names(self.serve_services)
            except ValueError as exc:
                raise ValueError(f"SERVE_SERVICES: {exc}") from None
        if self.llm_provider == "azure" and not (
            self.azure_openai_endpoint and self.azure_openai_api_key
        ):
            raise ValueError(
                "AZURE_OPENAI_ENDPOINT and AZURE_OPENAI_API_KEY are required "
                "when LLM_PROVIDER=azure"
            )
        if self.llm_provider == "openai" and self.llm_api_key.get_secret_value() == "sk-simulator":
            raise ValueError("LLM_API_KEY is required when LLM_PROVIDER=openai")
        return self

    @model_validator(mode="after")
    def _routes_name_deployments(self) -> Settings:
        from ai_platform.llm.routing import PRIMARY, check_routes

        names = [d.name for d in self.llm_deployments]
        if PRIMARY in names or len(set(names)) != len(names):
            raise ValueError(f"LLM_DEPLOYMENTS: names must be unique and not {PRIMARY!r}")
        check_routes(self.model_routes, names)
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def served(self) -> frozenset[ServiceName] | None:
        """The services this process serves alone, or ``None`` for a gateway."""
        if self.serve_services is None:
            return None
        return parse_service_names(self.serve_services)

    @property
    def embedded_simulator(self) -> bool:
        """True when the platform must start the simulator itself."""
        return self.llm_provider == "simulator" and not self.llm_base_url


@lru_cache
def get_settings() -> Settings:
    return Settings()
