"""The knowledge service's part of the platform lifespan: its PDF extractor.

One ``PdfExtractor`` per app (and so per worker process), built from the app's
settings, kept in ``platform.extras`` and installed for the event loop the app runs
on, where ``extract()`` finds it. Workers still reading a PDF at shutdown are killed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from ai_platform.services.knowledge.pdf_budget import (
    PDF_EXTRACTOR_KEY,
    PdfExtractor,
    PdfLimits,
    install,
    uninstall,
)


@asynccontextmanager
async def lifespan(platform: Any) -> AsyncIterator[None]:
    extractor = PdfExtractor(PdfLimits.from_settings(platform.settings))
    platform.extras[PDF_EXTRACTOR_KEY] = extractor
    install(extractor)
    try:
        yield
    finally:
        uninstall(extractor)
        extractor.kill_all()
