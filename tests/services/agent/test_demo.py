"""The demo customer data: seeded per tenant, idempotently."""

from __future__ import annotations

from sqlalchemy import func, select

from ai_platform.config import Settings
from ai_platform.services.agent.demo import CUSTOMERS, ORDERS, seed_customer_data, seed_demo
from ai_platform.services.agent.models import Customer, Order
from tests.services.agent.support import db_session
from tests.support import make_tenant


async def test_seeding_twice_adds_nothing_the_second_time(settings: Settings) -> None:
    tenant = await make_tenant(settings)
    other = await make_tenant(settings)
    async with db_session(settings) as session:
        added = await seed_customer_data(session, tenant.client_id)
        await seed_demo(session, settings, tenant.client_id)
        again = await seed_customer_data(session, tenant.client_id)
        await session.commit()
        orders = (
            await session.scalars(
                select(Order).where(Order.client_id == tenant.client_id).order_by(Order.order_ref)
            )
        ).all()
        customers = await session.scalar(
            select(func.count()).select_from(Customer).where(Customer.client_id == tenant.client_id)
        )
        others = await session.scalar(
            select(func.count()).select_from(Order).where(Order.client_id == other.client_id)
        )
    assert added == len(CUSTOMERS) + len(ORDERS) and again == 0
    assert [o.order_ref for o in orders] == [f"ORD-{n}" for n in range(1001, 1009)]
    assert customers == len(CUSTOMERS) and others == 0
    first = orders[0]
    assert (first.status, first.carrier) == ("shipped", "UPS")
    assert first.shipped_on is not None and first.estimated_delivery is not None
    assert first.shipped_on < first.estimated_delivery
    assert str(first.total_usd) == "118.50"
