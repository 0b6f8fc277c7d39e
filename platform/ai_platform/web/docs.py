"""``/docs`` (Swagger UI) and ``/redoc`` (ReDoc) from the vendored assets.

FastAPI's own pages load their scripts, styles, fonts and favicon from public CDNs,
which leaves a blank page on a host with no internet access.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

VENDOR = Path(__file__).parent / "vendor"
ASSETS = "/docs-assets"

# The pages' own boot scripts and the libraries' styles are inline; everything they
# load stays on this host. ReDoc's sidebar asks a CDN for a logo it hides when missing:
# refused here, before any request is made.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' blob:; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
    "worker-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'"
)


def _on_host(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return page


def install_docs(app: FastAPI) -> None:
    app.mount(ASSETS, StaticFiles(directory=VENDOR), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"
    oauth2_redirect = "/docs/oauth2-redirect"
    favicon = f"{ASSETS}/swagger-ui/favicon-32x32.png"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return _on_host(
            get_swagger_ui_html(
                openapi_url=openapi_url,
                title=f"{app.title} - API docs",
                oauth2_redirect_url=oauth2_redirect,
                swagger_js_url=f"{ASSETS}/swagger-ui/swagger-ui-bundle.js",
                swagger_css_url=f"{ASSETS}/swagger-ui/swagger-ui.css",
                swagger_favicon_url=favicon,
                # The default validator badge asks validator.swagger.io about the schema.
                swagger_ui_parameters={"validatorUrl": None, "persistAuthorization": True},
            )
        )

    @app.get(oauth2_redirect, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return _on_host(
            get_redoc_html(
                openapi_url=openapi_url,
                title=f"{app.title} - API reference",
                redoc_js_url=f"{ASSETS}/redoc/redoc.standalone.js",
                redoc_favicon_url=favicon,
                with_google_fonts=False,
            )
        )
