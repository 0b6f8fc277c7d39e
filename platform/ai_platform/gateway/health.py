"""Liveness (no dependencies) and readiness (database, LLM provider, the research runner
and, in a gateway, each proxied service's own readiness; short timeouts)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from ai_platform.gateway.deps import PlatformDep
from ai_platform.gateway.state import ReadinessCheck

router = APIRouter(tags=["Health"])

CHECK_TIMEOUT_S = 2.0


@router.get("/health", summary="Liveness: the process is up")
async def health() -> dict[str, str]:
    return {"status": "healthy"}


async def _run(check: ReadinessCheck) -> str:
    try:
        await asyncio.wait_for(check(), timeout=CHECK_TIMEOUT_S)
    except TimeoutError:
        return f"error: no answer within {CHECK_TIMEOUT_S:.0f}s"
    except Exception as exc:
        return f"error: {type(exc).__name__}: {str(exc)[:200]}"
    return "ok"


@router.get(
    "/health/ready",
    summary="Readiness: every dependency answers",
    responses={503: {"description": "A dependency is failing; `checks` says which"}},
)
async def ready(platform: PlatformDep) -> JSONResponse:
    async def database() -> None:
        async with platform.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    checks: dict[str, ReadinessCheck] = {"database": database}
    checks.update(platform.readiness)
    names = list(checks)
    results = await asyncio.gather(*(_run(checks[n]) for n in names))
    report: dict[str, Any] = dict(zip(names, results, strict=True))
    ok = all(r == "ok" for r in results)
    return JSONResponse(
        status_code=200 if ok else 503,
        content={"status": "ready" if ok else "degraded", "checks": report},
    )
