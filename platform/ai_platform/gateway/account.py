"""``GET /api/v1/me``, the smallest authenticated call (used by the tour);
``GET /api/v1/usage/requests``: the caller's own ledger rows, found by the
``X-Request-ID`` it sent (its correlation id) or the request id it got back;
``GET /api/v1/usage`` and ``GET /api/v1/usage/recent``: the admin usage report and
ledger pages, scoped to the caller (the same queries with a client filter)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from sqlalchemy import or_, select

from ai_platform.core.envelope import APIResponse
from ai_platform.core.errors import GOVERNED_ERRORS, BadRequestError, RequestValidationFailed
from ai_platform.core.ids import RequestIdStr
from ai_platform.core.numbers import MAX_INT64
from ai_platform.db.models import UsageRecord
from ai_platform.gateway.deps import ClientDep, SessionDep
from ai_platform.gateway.errors import error_responses
from ai_platform.gateway.responses import envelope
from ai_platform.services.admin import service as admin_service
from ai_platform.services.admin.router import EndDay, ServiceFilter, StartDay
from ai_platform.services.admin.schemas import (
    MAX_PAGE,
    MAX_USAGE_ROWS,
    LedgerPage,
    UsageGroup,
    UsageReport,
)

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


class OwnRequest(BaseModel):
    request_id: str
    correlation_id: str | None
    service: str
    route: str
    model: str | None
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    status_code: int
    outcome: str
    created_at: str


MAX_OWN_ROWS = 100


@router.get(
    "/usage/requests", responses=error_responses(*GOVERNED_ERRORS[:2], BadRequestError)
)
async def own_requests(
    request: Request,
    client: ClientDep,
    session: SessionDep,
    correlation_id: Annotated[
        RequestIdStr | None, Query(description="The X-Request-ID your client sent.")
    ] = None,
    request_id: Annotated[
        RequestIdStr | None, Query(description="The X-Request-ID the platform returned.")
    ] = None,
) -> APIResponse[list[OwnRequest]]:
    """Your own ledger rows (newest first, at most 100) by correlation or request id.

    Only the calling client's rows are searched: another tenant's use of the same
    correlation id is invisible here.
    """
    if correlation_id is None and request_id is None:
        raise BadRequestError("give correlation_id or request_id")
    match = []
    if correlation_id is not None:
        match.append(UsageRecord.correlation_id == correlation_id)
    if request_id is not None:
        match.append(UsageRecord.request_id == request_id)
    rows = await session.scalars(
        select(UsageRecord)
        .where(UsageRecord.client_id == client.id, or_(*match))
        .order_by(UsageRecord.id.desc())
        .limit(MAX_OWN_ROWS)
    )
    return envelope(
        request,
        [
            OwnRequest(
                request_id=r.request_id,
                correlation_id=r.correlation_id,
                service=r.service,
                route=r.route,
                model=r.model,
                prompt_tokens=r.prompt_tokens,
                completion_tokens=r.completion_tokens,
                cost_usd=round(float(r.cost_usd), 10),
                status_code=r.status_code,
                outcome=r.outcome,
                created_at=r.created_at.isoformat(),
            )
            for r in rows
        ],
    )


_USAGE_ERRORS = error_responses(*GOVERNED_ERRORS[:2], BadRequestError, RequestValidationFailed)


@router.get("/usage", responses=_USAGE_ERRORS, summary="Your usage and cost report")
async def own_usage(
    request: Request,
    client: ClientDep,
    session: SessionDep,
    group_by: Annotated[UsageGroup, Query(description="service, model or day (UTC).")],
    start: StartDay = None,
    end: EndDay = None,
    service_name: ServiceFilter = None,
    limit: Annotated[int, Query(ge=1, le=MAX_USAGE_ROWS)] = MAX_USAGE_ROWS,
) -> APIResponse[UsageReport]:
    """The admin usage report (``GET /api/v1/admin/usage``) over your own requests only:
    requests, errors, tokens, cost and mean latency per service, model or UTC day."""
    report = await admin_service.usage_report(
        session,
        group_by,
        start=start,
        end=end,
        client_id=client.id,
        service=service_name,
        limit=limit,
    )
    return envelope(request, report)


@router.get("/usage/recent", responses=_USAGE_ERRORS, summary="Your recent requests")
async def own_recent(
    request: Request,
    client: ClientDep,
    session: SessionDep,
    service_name: ServiceFilter = None,
    start: StartDay = None,
    end: EndDay = None,
    before_id: Annotated[
        int | None, Query(ge=1, le=MAX_INT64, description="From a previous page.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> APIResponse[LedgerPage]:
    """Your ledger rows, newest first, with latency and the screening flag: the admin
    ``/usage/requests`` page over your own requests only."""
    page = await admin_service.ledger(
        session,
        client_id=client.id,
        service=service_name,
        start=start,
        end=end,
        before_id=before_id,
        limit=limit,
    )
    return envelope(request, page)
