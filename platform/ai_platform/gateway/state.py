"""Typed application state: every resource the lifespan opens, in one object."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from ai_platform.config import Settings
from ai_platform.governance.auth import Authenticator

if TYPE_CHECKING:
    from ai_platform.governance.governor import Governor
    from ai_platform.llm.client import LLMClient
    from ai_platform.llm.simulator import EmbeddedSimulator


@dataclass
class PlatformState:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    auth: Authenticator
    governor: Governor
    llm: LLMClient
    simulator: EmbeddedSimulator | None = None
    extras: dict[str, Any] = field(default_factory=dict)
