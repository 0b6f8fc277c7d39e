"""``/api/v1/admin``: clients, keys, usage and cost reports, prices. Admin scope only.

Admin routes are governed like any other (authenticated, rate-limited, ledgered as
service ``admin``); a key without the admin scope gets a 403 envelope, ledgered too.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Path, Query, Request, status
from sqlalchemy.ext.asyncio import AsyncSession

from ai_platform.core.envelope import APIResponse
from ai_platform.core.errors import (
    AIServiceError,
    BadRequestError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    RateLimitedError,
    RequestValidationFailed,
    ServiceUnavailableError,
    UnauthorizedError,
)
from ai_platform.core.ids import ClientIdStr, KeyIdStr, RequestIdStr
from ai_platform.core.numbers import MAX_INT64, MAX_OFFSET
from ai_platform.gateway.deps import PlatformDep, SessionDep, require_admin
from ai_platform.gateway.errors import error_responses
from ai_platform.gateway.governed import governed
from ai_platform.gateway.responses import envelope
from ai_platform.gateway.state import PlatformState
from ai_platform.governance.context import RequestContext
from ai_platform.llm.pricing import PriceTable
from ai_platform.services.admin import service
from ai_platform.services.admin.schemas import (
    MAX_PAGE,
    MAX_USAGE_ROWS,
    ClientCreate,
    ClientDetail,
    ClientOut,
    ClientUpdate,
    IssuedKeyOut,
    KeyCreate,
    KeyOut,
    LedgerPage,
    LedgerRecord,
    Page,
    PriceTableOut,
    UsageGroup,
    UsageReport,
)

router = APIRouter(prefix="/api/v1/admin", tags=["Administration"])


async def admin_context(
    ctx: Annotated[RequestContext, Depends(governed("admin"))],
) -> RequestContext:
    """The governed context, for admin keys only (the same check as ``AdminDep``)."""
    await require_admin(ctx.client)
    return ctx


AdminCtx = Annotated[RequestContext, Depends(admin_context)]

ClientId = Annotated[ClientIdStr, Path(examples=["cli_8b1f0c2d9e4a4f6b8c3d2e1f0a9b8c7d"])]
KeyId = Annotated[KeyIdStr, Path(examples=["key_3c9d1e2f4a5b4c6d8e7f9a0b1c2d3e4f"])]
# A day window ends at the next midnight: the last representable day has none.
LAST_DAY = date.max - timedelta(days=1)
StartDay = Annotated[
    date | None,
    Query(le=LAST_DAY, description="First UTC day included (YYYY-MM-DD).", examples=["2025-09-01"]),
]
EndDay = Annotated[
    date | None,
    Query(le=LAST_DAY, description="Last UTC day included (YYYY-MM-DD).", examples=["2025-09-30"]),
]
ClientFilter = Annotated[ClientIdStr | None, Query()]
ServiceFilter = Annotated[
    str | None, Query(alias="service", min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_-]*$")
]

_BASE: tuple[type[AIServiceError], ...] = (
    UnauthorizedError,
    ForbiddenError,
    RateLimitedError,
    ServiceUnavailableError,
)


def _errors(*extra: type[AIServiceError]) -> dict[int | str, dict[str, Any]]:
    return error_responses(*_BASE, RequestValidationFailed, *extra)


async def _commit_and_forget(
    session: AsyncSession, platform: PlatformState, prefixes: tuple[str, ...]
) -> None:
    # Durable first, then forgotten: dropping the cache before the commit would let a
    # concurrent request re-cache the still-valid row for a whole TTL.
    await session.commit()
    await platform.auth.invalidate_everywhere(prefixes)


# -- clients ---------------------------------------------------------------------------


@router.post(
    "/clients",
    status_code=status.HTTP_201_CREATED,
    responses=_errors(ConflictError),
    summary="Create a client",
)
async def create_client(
    request: Request, body: ClientCreate, ctx: AdminCtx, session: SessionDep, platform: PlatformDep
) -> APIResponse[ClientOut]:
    """Create a client (tenant). Limits left out use the platform defaults."""
    return envelope(request, await service.create_client(session, platform.settings, body))


@router.get("/clients", responses=_errors(), summary="List clients")
async def list_clients(
    request: Request,
    ctx: AdminCtx,
    session: SessionDep,
    platform: PlatformDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    include_inactive: bool = True,
) -> APIResponse[Page[ClientOut]]:
    """Clients, oldest first, a page at a time."""
    page = await service.list_clients(
        session, platform.settings, limit=limit, offset=offset, include_inactive=include_inactive
    )
    return envelope(request, page)


@router.get("/clients/{client_id}", responses=_errors(NotFoundError), summary="Read a client")
async def read_client(
    request: Request, client_id: ClientId, ctx: AdminCtx, session: SessionDep, platform: PlatformDep
) -> APIResponse[ClientDetail]:
    """A client, its active key count and its spend this UTC month (from the ledger)."""
    return envelope(request, await service.read_client(session, platform.settings, client_id))


@router.patch(
    "/clients/{client_id}",
    responses=_errors(NotFoundError, ConflictError),
    summary="Update a client's name, limits or budget",
)
async def update_client(
    request: Request,
    client_id: ClientId,
    body: ClientUpdate,
    ctx: AdminCtx,
    session: SessionDep,
    platform: PlatformDep,
) -> APIResponse[ClientOut]:
    """Partial update. New limits apply to the client's next request."""
    changed = await service.update_client(session, platform.settings, client_id, body)
    await _commit_and_forget(session, platform, changed.prefixes)
    return envelope(request, changed.value)


@router.post(
    "/clients/{client_id}/deactivate",
    responses=_errors(NotFoundError, ConflictError),
    summary="Deactivate a client",
)
async def deactivate_client(
    request: Request, client_id: ClientId, ctx: AdminCtx, session: SessionDep, platform: PlatformDep
) -> APIResponse[ClientOut]:
    """Every key of the client stops authenticating (401) from the next request on."""
    changed = await service.set_active(
        session, platform.settings, client_id, False, acting_client_id=ctx.client_id
    )
    await _commit_and_forget(session, platform, changed.prefixes)
    return envelope(request, changed.value)


@router.post(
    "/clients/{client_id}/activate",
    responses=_errors(NotFoundError, ConflictError),
    summary="Reactivate a client",
)
async def activate_client(
    request: Request, client_id: ClientId, ctx: AdminCtx, session: SessionDep, platform: PlatformDep
) -> APIResponse[ClientOut]:
    """Its keys that are neither revoked nor expired work again."""
    changed = await service.set_active(
        session, platform.settings, client_id, True, acting_client_id=ctx.client_id
    )
    await _commit_and_forget(session, platform, changed.prefixes)
    return envelope(request, changed.value)


# -- keys ------------------------------------------------------------------------------


@router.post(
    "/clients/{client_id}/keys",
    status_code=status.HTTP_201_CREATED,
    responses=_errors(NotFoundError, ConflictError),
    summary="Issue an API key",
)
async def issue_key(
    request: Request,
    client_id: ClientId,
    body: KeyCreate,
    ctx: AdminCtx,
    session: SessionDep,
    platform: PlatformDep,
) -> APIResponse[IssuedKeyOut]:
    """A new key, shown in this response only; the platform stores its hash."""
    return envelope(request, await service.issue_key(session, platform.settings, client_id, body))


@router.get(
    "/clients/{client_id}/keys", responses=_errors(NotFoundError), summary="List a client's keys"
)
async def list_keys(
    request: Request, client_id: ClientId, ctx: AdminCtx, session: SessionDep
) -> APIResponse[list[KeyOut]]:
    """Every key of the client with its prefix and status; never the key or its hash."""
    return envelope(request, await service.list_keys(session, client_id))


@router.post(
    "/clients/{client_id}/keys/{key_id}/rotate",
    status_code=status.HTTP_201_CREATED,
    responses=_errors(NotFoundError, ConflictError),
    summary="Rotate an API key",
)
async def rotate_key(
    request: Request,
    client_id: ClientId,
    key_id: KeyId,
    ctx: AdminCtx,
    session: SessionDep,
    platform: PlatformDep,
) -> APIResponse[IssuedKeyOut]:
    """Revoke the key and issue a replacement with the same name, scopes and expiry."""
    changed = await service.rotate_key(session, platform.settings, client_id, key_id)
    await _commit_and_forget(session, platform, changed.prefixes)
    return envelope(request, changed.value)


@router.post(
    "/clients/{client_id}/keys/{key_id}/revoke",
    responses=_errors(NotFoundError),
    summary="Revoke an API key",
)
async def revoke_key(
    request: Request,
    client_id: ClientId,
    key_id: KeyId,
    ctx: AdminCtx,
    session: SessionDep,
    platform: PlatformDep,
) -> APIResponse[KeyOut]:
    """The key answers 401 from the next request on. Revoking twice is harmless."""
    changed = await service.revoke_key(session, client_id, key_id)
    await _commit_and_forget(session, platform, changed.prefixes)
    return envelope(request, changed.value)


# -- usage and prices ------------------------------------------------------------------


@router.get("/usage", responses=_errors(BadRequestError), summary="Usage and cost report")
async def usage_report(
    request: Request,
    ctx: AdminCtx,
    session: SessionDep,
    group_by: Annotated[UsageGroup, Query(description="How to group the ledger rows.")],
    start: StartDay = None,
    end: EndDay = None,
    client_id: ClientFilter = None,
    service_name: ServiceFilter = None,
    limit: Annotated[int, Query(ge=1, le=MAX_USAGE_ROWS)] = MAX_USAGE_ROWS,
) -> APIResponse[UsageReport]:
    """Requests, errors, tokens, cost and mean latency per client, service, model or UTC day.

    Aggregated in the database from the usage ledger. Days without requests are absent.
    """
    report = await service.usage_report(
        session,
        group_by,
        start=start,
        end=end,
        client_id=client_id,
        service=service_name,
        limit=limit,
    )
    return envelope(request, report)


@router.get(
    "/usage/requests", responses=_errors(BadRequestError), summary="Recent requests and their cost"
)
async def usage_requests(
    request: Request,
    ctx: AdminCtx,
    session: SessionDep,
    client_id: ClientFilter = None,
    service_name: ServiceFilter = None,
    start: StartDay = None,
    end: EndDay = None,
    before_id: Annotated[
        int | None, Query(ge=1, le=MAX_INT64, description="From a previous page.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    correlation_id: Annotated[
        RequestIdStr | None,
        Query(description="Rows whose caller sent this X-Request-ID."),
    ] = None,
) -> APIResponse[LedgerPage]:
    """Ledger rows, newest first: one per governed request, with tokens, cost and outcome."""
    page = await service.ledger(
        session,
        client_id=client_id,
        service=service_name,
        start=start,
        end=end,
        before_id=before_id,
        limit=limit,
        correlation_id=correlation_id,
    )
    return envelope(request, page)


@router.get(
    "/usage/requests/{request_id}",
    responses=_errors(NotFoundError),
    summary="One request's ledger row",
)
async def usage_request(
    request: Request,
    request_id: Annotated[RequestIdStr, Path()],
    ctx: AdminCtx,
    session: SessionDep,
) -> APIResponse[LedgerRecord]:
    """The ledger row of the request with this id (the envelope's ``metadata.request_id``)."""
    return envelope(request, await service.ledger_entry(session, request_id))


@router.get("/prices", responses=_errors(), summary="The price table in use")
async def prices(
    request: Request, ctx: AdminCtx, platform: PlatformDep
) -> APIResponse[PriceTableOut]:
    """USD per 1M tokens for every priced model, aliases and the fallback for unknown ones."""
    return envelope(request, service.price_table_out(await _price_table(platform)))


async def _price_table(platform: PlatformState) -> PriceTable:
    table = getattr(platform.governor, "prices", None)
    if isinstance(table, PriceTable):
        return table
    return await anyio.to_thread.run_sync(PriceTable.load, platform.settings.price_table_path)
