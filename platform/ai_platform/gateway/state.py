"""Typed application state: every resource the lifespan opens, in one object."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from ai_platform.config import Settings
from ai_platform.governance.auth import Authenticator
from ai_platform.governance.identity import IdentitySigner

if TYPE_CHECKING:
    from ai_platform.gateway.proxy import ServiceProxy
    from ai_platform.governance.governor import Governor
    from ai_platform.llm.client import LLMClient
    from ai_platform.llm.simulator import EmbeddedSimulator
    from ai_platform.services.assistant.images import ImageDecoder
    from ai_platform.services.knowledge.pdf_budget import PdfExtractor
    from ai_platform.services.research.runner import Runner

ReadinessCheck = Callable[[], Awaitable[None]]


@dataclass
class PlatformState:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    auth: Authenticator
    governor: Governor
    llm: LLMClient
    signer: IdentitySigner
    simulator: EmbeddedSimulator | None = None
    local_services: frozenset[str] = frozenset()
    """The services whose routes run in this process."""
    proxy: ServiceProxy | None = None
    """Forwards to the services that run elsewhere (a gateway in the split shape)."""
    readiness: dict[str, ReadinessCheck] = field(default_factory=dict)
    """Checks ``/health/ready`` runs besides the database."""
    research_runner: Runner | None = None
    """Who runs research jobs here (started by the research lifespan)."""
    pdf_extractor: PdfExtractor | None = None
    """The knowledge service's bounded PDF reader (its lifespan)."""
    image_decoder: ImageDecoder | None = None
    """The assistant's bounded image decoder (made on first use)."""
