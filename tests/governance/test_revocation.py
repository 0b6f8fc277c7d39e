"""A revoked key stops working on every worker at once, not after the auth cache TTL.

Two apps stand for two workers: each caches keys for five minutes, so only the
invalidation published through Redis can explain the second one refusing the key.
"""

from __future__ import annotations

import pytest

from ai_platform.config import Settings
from ai_platform.gateway.app import create_app
from ai_platform.harness.waiting import wait_for
from tests.support import make_tenant, running_app


@pytest.mark.redis
async def test_a_revocation_reaches_the_other_worker(
    settings: Settings, redis_url: str, key_prefix: str
) -> None:
    cached = settings.model_copy(
        update={"auth_cache_ttl_s": 300.0, "redis_url": redis_url, "redis_key_prefix": key_prefix}
    )
    admin = await make_tenant(cached, admin=True, rpm=100_000)
    tenant = await make_tenant(cached, rpm=100_000)
    app_a, app_b = create_app(cached), create_app(cached)
    async with running_app(app_a) as worker_a, running_app(app_b) as worker_b:
        auth_b = app_b.state.platform.auth
        await wait_for(auth_b.subscribed.is_set, timeout_s=30, what="worker B subscribed")
        assert (await worker_b.get("/api/v1/me", headers=tenant.headers)).status_code == 200
        revoke = f"/api/v1/admin/clients/{tenant.client_id}/keys/{tenant.key_id}/revoke"
        resp = await worker_a.post(revoke, headers=admin.headers)
        assert resp.status_code == 200, resp.text

        async def refused() -> bool:
            return (await worker_b.get("/api/v1/me", headers=tenant.headers)).status_code == 401

        # The deadline is generous for a busy machine; the cache TTL is 300 s.
        await wait_for(refused, timeout_s=10, what="worker B refusing the revoked key")
