"""``GET /api/v1/me``: the smallest authenticated call, used by the tour."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel

from ai_platform.core.envelope import APIResponse
from ai_platform.core.errors import GOVERNED_ERRORS
from ai_platform.gateway.deps import ClientDep
from ai_platform.gateway.errors import error_responses
from ai_platform.gateway.responses import envelope

router = APIRouter(prefix="/api/v1", tags=["Account"])


class Me(BaseModel):
    client_id: str
    name: str
    key_id: str
    scopes: list[str]
    rpm_limit: int
    tpd_limit: int
    monthly_budget_usd: float


@router.get("/me", responses=error_responses(*GOVERNED_ERRORS[:2]))
async def me(request: Request, client: ClientDep) -> APIResponse[Me]:
    """Who the API key belongs to, and the limits that apply to it."""
    return envelope(
        request,
        Me(
            client_id=client.id,
            name=client.name,
            key_id=client.key_id,
            scopes=sorted(client.scopes),
            rpm_limit=client.rpm_limit,
            tpd_limit=client.tpd_limit,
            monthly_budget_usd=client.monthly_budget_usd,
        ),
    )
