"""The knowledge service's part of the platform lifespan: its PDF extractor.

One ``PdfExtractor`` per app (and so per worker process), built from the app's
settings, kept in ``platform.pdf_extractor`` and installed for the event loop the app runs
on, where ``extract()`` finds it. Workers still reading a PDF at shutdown are killed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from ai_platform.services.knowledge.pdf_budget import (
    PdfExtractor,
    PdfLimits,
    install,
    uninstall,
)

if TYPE_CHECKING:
    from ai_platform.gateway.state import PlatformState


@asynccontextmanager
async def lifespan(platform: PlatformState) -> AsyncIterator[None]:
    extractor = PdfExtractor(PdfLimits.from_settings(platform.settings))
    platform.pdf_extractor = extractor
    install(extractor)
    try:
        yield
    finally:
        uninstall(extractor)
        extractor.kill_all()
