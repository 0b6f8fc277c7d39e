"""Dependencies and their ``Annotated`` aliases: ``SessionDep``, ``ClientDep``, ``AdminDep``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader
from sqlalchemy.ext.asyncio import AsyncSession

from ai_platform.config import Settings
from ai_platform.core.errors import ForbiddenError
from ai_platform.core.logging import client_id_var
from ai_platform.gateway.state import PlatformState
from ai_platform.governance.auth import ClientInfo
from ai_platform.governance.identity import Identity

# Dependencies are async def: FastAPI runs plain def dependencies in a worker thread.
# Documents the header in OpenAPI; the configured header name is read at request time.
api_key_scheme = APIKeyHeader(name="X-API-Key", auto_error=False, scheme_name="ApiKey")


async def get_platform(request: Request) -> PlatformState:
    platform: PlatformState = request.app.state.platform
    return platform


PlatformDep = Annotated[PlatformState, Depends(get_platform)]


async def get_settings_dep(platform: PlatformDep) -> Settings:
    return platform.settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


async def get_session(platform: PlatformDep) -> AsyncIterator[AsyncSession]:
    """One session per request, committed at the request boundary (services only flush)."""
    async with platform.sessionmaker() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


# scope="function": commit before the response is sent, so a failed commit is an error
# the client sees rather than a lost write.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def get_current_client(
    request: Request,
    platform: PlatformDep,
    _documented: Annotated[str | None, Security(api_key_scheme)] = None,
) -> ClientInfo:
    """Authenticate the API key and return the client it belongs to.

    In a service process the gateway has done that: the caller is the verified
    identity it forwarded (``GatewayIdentityMiddleware``)."""
    state = request.scope.setdefault("state", {})
    identity = state.get("identity")
    if isinstance(identity, Identity):
        info = identity.client
    else:
        header = platform.settings.api_key_header
        info = await platform.auth.authenticate(request.headers.get(header))
    state["client_id"] = info.id
    state["client"] = info
    client_id_var.set(info.id)
    return info


ClientDep = Annotated[ClientInfo, Depends(get_current_client)]


async def require_admin(client: ClientDep) -> ClientInfo:
    if not client.is_admin:
        raise ForbiddenError("this route needs an API key with the 'admin' scope")
    return client


AdminDep = Annotated[ClientInfo, Depends(require_admin)]
