"""API-key authentication: header → prefix lookup → constant-time hash check → client.

Lookups are cached per process for ``AUTH_CACHE_TTL_S`` seconds so the hot path
needs no database round trip; a revocation made through this process drops its
entry at once, other processes see it within the TTL.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ai_platform.config import Settings
from ai_platform.core.errors import ServiceUnavailableError, UnauthorizedError
from ai_platform.db.models import ApiKey, Client
from ai_platform.governance.keys import ADMIN_SCOPE, parse_prefix, verify_key
from ai_platform.governance.tenants import effective_limits


@dataclass(frozen=True, slots=True)
class ClientInfo:
    """The authenticated caller, with limits resolved against the defaults."""

    id: str
    name: str
    key_id: str
    scopes: frozenset[str]
    rpm_limit: int
    tpd_limit: int
    monthly_budget_usd: float

    @property
    def is_admin(self) -> bool:
        return ADMIN_SCOPE in self.scopes


def client_info(
    client: Client,
    settings: Settings,
    *,
    key_id: str,
    scopes: Iterable[str],
    name: str | None = None,
) -> ClientInfo:
    """The caller as governance sees it: a client row, the key it used, and its limits
    resolved against the defaults. ``name`` overrides the row's (a research job keeps
    the name it started under)."""
    limits = effective_limits(client, settings)
    return ClientInfo(
        id=client.id,
        name=client.name if name is None else name,
        key_id=key_id,
        scopes=frozenset(scopes),
        rpm_limit=limits.rpm_limit,
        tpd_limit=limits.tpd_limit,
        monthly_budget_usd=limits.monthly_budget_usd,
    )


@dataclass(frozen=True, slots=True)
class _Entry:
    key_hash: str
    expires_at: datetime | None
    info: ClientInfo
    cached_until: float


class Authenticator:
    def __init__(
        self,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        ttl_s: float | None = None,
    ) -> None:
        self._settings = settings
        self._secret = settings.secret_key.get_secret_value()
        self._sessionmaker = sessionmaker
        self._ttl = settings.auth_cache_ttl_s if ttl_s is None else ttl_s
        self._cache: dict[str, _Entry] = {}

    def invalidate(self, prefix: str | None = None) -> None:
        if prefix is None:
            self._cache.clear()
        else:
            self._cache.pop(prefix, None)

    async def authenticate(self, plaintext: str | None) -> ClientInfo:
        header = self._settings.api_key_header
        if not plaintext:
            raise UnauthorizedError(
                f"missing API key: send it in the {header} header", header=header
            )
        prefix = parse_prefix(plaintext)
        if prefix is None:
            raise UnauthorizedError("invalid API key", header=header)
        now = time.monotonic()
        entry = self._cache.get(prefix)
        if entry is None or entry.cached_until < now:
            entry = await self._load(prefix, now)
        if entry is None or not verify_key(self._secret, plaintext, entry.key_hash):
            raise UnauthorizedError("invalid API key", header=header)
        if entry.expires_at is not None and entry.expires_at <= datetime.now(UTC):
            raise UnauthorizedError("API key expired", header=header)
        return entry.info

    async def _load(self, prefix: str, now: float) -> _Entry | None:
        try:
            async with self._sessionmaker() as session:
                row = (
                    await session.execute(
                        select(ApiKey, Client)
                        .join(Client, Client.id == ApiKey.client_id)
                        .where(ApiKey.prefix == prefix)
                    )
                ).first()
        except (DBAPIError, OSError) as exc:
            # The key may well be valid: tell the client to retry, not that it failed.
            raise ServiceUnavailableError(
                "cannot check API keys right now: the database is unreachable",
                headers={"Retry-After": "5"},
            ) from exc
        if row is None:
            self._cache.pop(prefix, None)
            return None
        key, client = row
        if key.revoked_at is not None or not client.active:
            self._cache.pop(prefix, None)
            return None
        info = client_info(client, self._settings, key_id=key.id, scopes=key.scopes)
        entry = _Entry(key.key_hash, key.expires_at, info, now + self._ttl)
        self._cache[prefix] = entry
        return entry
