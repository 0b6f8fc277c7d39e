"""The playground and usage dashboard: ``GET /`` is the page, ``/ui/*`` its assets.

Plain ES modules and CSS, no build step. The page calls the same public API as any
client, with the key the user enters (kept in ``sessionStorage``).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"
ASSETS = "/ui"

# Scripts, styles and connections stay on this origin; images may also be the
# previews the page makes from a file the user picked (blob:).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


def install_page(app: FastAPI) -> None:
    app.mount(ASSETS, StaticFiles(directory=STATIC), name="ui")

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(
            STATIC / "index.html",
            headers={
                "Content-Security-Policy": CONTENT_SECURITY_POLICY,
                "Cache-Control": "no-cache",
            },
        )
