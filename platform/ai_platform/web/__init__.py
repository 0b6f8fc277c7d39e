"""The browser side of the platform: the playground and usage dashboard at ``/``, and
Swagger UI (``/docs``) and ReDoc (``/redoc``) served from files inside the package, so
every page works with no network access.

``install(app)`` adds all of it to an app built with ``docs_url=None, redoc_url=None``.
"""

from __future__ import annotations

from fastapi import FastAPI

from ai_platform.web.docs import install_docs
from ai_platform.web.page import install_page

__all__ = ["install"]


def install(app: FastAPI) -> None:
    install_docs(app)
    install_page(app)
