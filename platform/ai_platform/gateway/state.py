"""Typed application state: every resource the lifespan opens, in one object."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from ai_platform.config import Settings
from ai_platform.governance.auth import Authenticator


@dataclass
class PlatformState:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    auth: Authenticator
    governor: Any = None
    extras: dict[str, Any] = field(default_factory=dict)
