"""A client of the platform with one API key, made directly in its database.

Tests, lessons, load tests, evals and benchmarks all need "a tenant and its key";
this is the one way they get it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from ai_platform.config import Settings


@dataclass(frozen=True, slots=True)
class Tenant:
    """A client of the platform and the plaintext of one of its API keys."""

    client_id: str
    name: str
    api_key: str
    key_id: str
    header: str = "X-API-Key"

    @property
    def key(self) -> str:
        return self.api_key

    @property
    def headers(self) -> dict[str, str]:
        return {self.header: self.api_key}


async def create_tenant(
    database_url: str,
    secret_key: str,
    name: str | None = None,
    *,
    admin: bool = False,
    rpm: int | None = None,
    tpd: int | None = None,
    budget_usd: float | None = None,
    header: str = "X-API-Key",
    prefix: str = "tenant",
) -> Tenant:
    """Create a client with one API key (committed) in the database at ``database_url``.

    Limits left as None fall back to the platform's defaults (``DEFAULT_RPM`` ...).
    """
    # Imported here so that a harness user needing only ports or percentiles does not
    # load SQLAlchemy and the governance package.
    from ai_platform.db.engine import create_engine, create_sessionmaker
    from ai_platform.governance.keys import ADMIN_SCOPE, DEFAULT_SCOPES
    from ai_platform.governance.tenants import create_client, issue_key

    name = name or f"{prefix}-{uuid.uuid4().hex[:8]}"
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            client = await create_client(session, name, rpm=rpm, tpd=tpd, budget_usd=budget_usd)
            scopes = [*DEFAULT_SCOPES, *([ADMIN_SCOPE] if admin else [])]
            issued = await issue_key(session, secret_key, client.id, scopes=scopes)
            await session.commit()
            return Tenant(
                client_id=client.id,
                name=name,
                api_key=issued.plaintext,
                key_id=issued.key.id,
                header=header,
            )
    finally:
        await engine.dispose()


async def tenant_for(
    settings: Settings,
    name: str | None = None,
    *,
    admin: bool = False,
    rpm: int | None = None,
    tpd: int | None = None,
    budget_usd: float | None = None,
    prefix: str = "tenant",
) -> Tenant:
    """``create_tenant`` in the database and under the secret of ``settings``."""
    return await create_tenant(
        settings.database_url,
        settings.secret_key.get_secret_value(),
        name,
        admin=admin,
        rpm=rpm,
        tpd=tpd,
        budget_usd=budget_usd,
        header=settings.api_key_header,
        prefix=prefix,
    )
