"""API-key authentication: header → prefix lookup → constant-time hash check → client.

Lookups are cached per process for ``AUTH_CACHE_TTL_S`` seconds so the hot path
needs no database round trip. A change that affects a key (revoke, rotate, a client
deactivated or given new limits) drops the entry in this process at once and, with
Redis configured, is published on a channel every process listens to, so each drops
it within milliseconds. If that subscription is down, the TTL still bounds how long
a revoked key keeps working; on reconnecting, the whole cache is dropped, since
messages may have been missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ai_platform.config import Settings
from ai_platform.core.errors import ServiceUnavailableError, UnauthorizedError
from ai_platform.db.models import ApiKey, Client
from ai_platform.governance.keys import ADMIN_SCOPE, parse_prefix, verify_key
from ai_platform.governance.tenants import effective_limits

logger = logging.getLogger("ai_platform.auth")


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
    allowed_models: frozenset[str] | None = None
    """Model names (route aliases or priced models) this client may ask for; None: any."""

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
        allowed_models=None if client.allowed_models is None else frozenset(client.allowed_models),
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
        self._epoch = 0
        self._channel = f"{settings.redis_key_prefix}:auth:invalidate"
        self._redis: Any = None
        self._listener: asyncio.Task[None] | None = None
        self.subscribed = asyncio.Event()

    def invalidate(self, prefix: str | None = None) -> None:
        """Drop a cached key (all keys with ``None``) in this process."""
        # A lookup that started before this must not cache what it read.
        self._epoch += 1
        if prefix is None:
            self._cache.clear()
        else:
            self._cache.pop(prefix, None)

    async def invalidate_everywhere(self, prefixes: Iterable[str]) -> None:
        """Drop the keys here and tell every other process (when Redis is configured)."""
        prefixes = list(prefixes)
        for prefix in prefixes:
            self.invalidate(prefix)
        if self._redis is not None and prefixes:
            try:
                await self._redis.publish(self._channel, " ".join(prefixes))
            except Exception:
                logger.warning("publishing a key invalidation failed", exc_info=True)

    async def start(self, redis_url: str | None) -> None:
        """Listen for invalidations published by other processes."""
        if redis_url is None or self._listener is not None:
            return
        from redis.asyncio import Redis

        self._redis = Redis.from_url(redis_url)
        self._listener = asyncio.create_task(self._listen(), name="auth-invalidations")

    async def aclose(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None

    async def _listen(self) -> None:
        delay = 0.1
        while True:
            try:
                async with self._redis.pubsub() as pubsub:
                    await pubsub.subscribe(self._channel)
                    # Anything published while we were not listening is lost: start clean.
                    self.invalidate()
                    self.subscribed.set()
                    delay = 0.1
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            data = message["data"]
                            text = data.decode() if isinstance(data, bytes) else str(data)
                            for prefix in text.split():
                                self.invalidate(prefix)
            except asyncio.CancelledError:
                raise
            except Exception:
                self.subscribed.clear()
                logger.warning("key invalidation channel lost; reconnecting", exc_info=True)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

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
        epoch = self._epoch
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
        if epoch == self._epoch:
            self._cache[prefix] = entry
        return entry
