"""API-key authentication: header → prefix lookup → constant-time hash check → client.

Lookups are cached per process for ``AUTH_CACHE_TTL_S`` seconds so the hot path
needs no database round trip; a revocation made through this process drops its
entry at once, other processes see it within the TTL.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ai_platform.config import Settings
from ai_platform.core.errors import ServiceUnavailableError, UnauthorizedError
from ai_platform.db.models import ApiKey, Client
from ai_platform.governance.keys import ADMIN_SCOPE, parse_prefix, verify_key


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
        expires = key.expires_at
        if expires is not None and expires.tzinfo is None:
            expires = expires.replace(tzinfo=UTC)
        s = self._settings
        info = ClientInfo(
            id=client.id,
            name=client.name,
            key_id=key.id,
            scopes=frozenset(key.scopes),
            rpm_limit=client.rpm_limit or s.default_rpm,
            tpd_limit=client.tpd_limit or s.default_tpd,
            monthly_budget_usd=float(
                s.default_monthly_budget_usd
                if client.monthly_budget_usd is None
                else client.monthly_budget_usd
            ),
        )
        entry = _Entry(key.key_hash, expires, info, now + self._ttl)
        self._cache[prefix] = entry
        return entry
