"""The shared resources every platform process opens: the API's lifespan and the
research worker both call ``open_resources`` so they are built one way."""

from __future__ import annotations

from contextlib import AsyncExitStack
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from ai_platform.config import Settings
from ai_platform.db.engine import create_engine, create_sessionmaker
from ai_platform.governance.backends import build_governor
from ai_platform.governance.governor import Governor
from ai_platform.governance.identity import IdentitySigner
from ai_platform.governance.screening import InjectionDetector
from ai_platform.llm.client import LLMClient
from ai_platform.llm.pricing import PriceTable
from ai_platform.llm.simulator import EmbeddedSimulator, SimulatorConfig


@dataclass
class Resources:
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    llm: LLMClient
    simulator: EmbeddedSimulator | None
    governor: Governor
    signer: IdentitySigner


async def open_resources(
    settings: Settings,
    stack: AsyncExitStack,
    *,
    local_services: frozenset[str] = frozenset(),
    behind_gateway: bool = False,
) -> Resources:
    """Open the database engine, the LLM client (and the embedded simulator when no
    provider is configured) and the governor; ``stack`` closes them in reverse order.

    ``local_services`` are the services this process runs: knowledge search goes over
    HTTP when knowledge is not among them and has a URL. ``behind_gateway`` (a service
    process) leaves the per-minute request limit to the gateway, which counted it."""
    engine = create_engine(settings.database_url, echo=settings.database_echo)
    stack.push_async_callback(engine.dispose)
    sessionmaker = create_sessionmaker(engine)
    prices = PriceTable.load(settings.price_table_path)
    simulator = None
    base_url = settings.llm_base_url
    if settings.embedded_simulator:
        # A loopback server, not an in-process transport: httpx's ASGITransport would
        # buffer whole responses and a stream would arrive in one piece.
        simulator = EmbeddedSimulator(SimulatorConfig.from_settings(settings))
        base_url = await simulator.start()
        stack.push_async_callback(simulator.stop)
    llm = LLMClient.from_settings(settings, base_url=base_url, prices=prices)
    stack.push_async_callback(llm.aclose)
    governor = build_governor(
        settings,
        llm,
        prices,
        InjectionDetector(threshold=settings.injection_threshold),
        sessionmaker=sessionmaker,
        count_requests=not behind_gateway,
    )
    signer = IdentitySigner(
        settings.service_identity_secret.get_secret_value(),
        ttl_s=settings.service_identity_ttl_s,
    )
    knowledge = settings.services.knowledge
    if knowledge.url and "knowledge" not in local_services:
        from ai_platform.services.peers import HttpKnowledgeSearch

        remote = HttpKnowledgeSearch(knowledge, signer)
        stack.push_async_callback(remote.aclose)
        governor.knowledge_search = remote
    await governor.start()
    stack.push_async_callback(governor.aclose)
    return Resources(engine, sessionmaker, llm, simulator, governor, signer)
