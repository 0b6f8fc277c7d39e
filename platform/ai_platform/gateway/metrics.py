"""``GET /metrics``: Prometheus exposition, summed over workers in multiprocess mode.

Unauthenticated, like ``/health``: keep it on a private network or behind the
ingress's own access rules.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from ai_platform.governance import metrics

router = APIRouter(tags=["health"])


@router.get("/metrics", include_in_schema=False)
async def prometheus_metrics() -> Response:
    return Response(metrics.render(), media_type=metrics.CONTENT_TYPE)
