"""Demo customer data for the agent's tools: a few customers and their orders.

``seed_customer_data`` seeds any tenant (the tests use it); ``seed_demo`` is what
``ai-platform demo`` calls for the demo tenant. Both are idempotent: rows that
already exist are left alone. Dates are relative to the day of seeding so the demo
always shows orders "in flight".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ai_platform.config import Settings
from ai_platform.db.base import utcnow
from ai_platform.services.agent.models import Customer, Order

CUSTOMERS: tuple[tuple[str, str, str], ...] = (
    ("CUST-001", "Ada Lovelace", "ada@example.com"),
    ("CUST-002", "Grace Hopper", "grace@example.com"),
    ("CUST-003", "Alan Turing", "alan@example.com"),
)


@dataclass(frozen=True)
class DemoOrder:
    ref: str
    customer: str
    status: str
    items: tuple[tuple[str, str, int, str], ...]  # sku, name, quantity, unit price
    ordered_days_ago: int
    shipped_days_ago: int | None = None
    eta_in_days: int | None = None
    delivered_days_ago: int | None = None
    carrier: str | None = None
    tracking: str | None = None


ORDERS: tuple[DemoOrder, ...] = (
    DemoOrder(
        "ORD-1001", "CUST-001", "shipped",
        (("KB-01", "Mechanical keyboard", 1, "89.00"), ("MS-02", "Wireless mouse", 1, "29.50")),
        ordered_days_ago=4, shipped_days_ago=2, eta_in_days=2,
        carrier="UPS", tracking="1Z999AA10123456784",
    ),
    DemoOrder(
        "ORD-1002", "CUST-001", "delivered",
        (("MN-27", "27-inch monitor", 1, "249.00"),),
        ordered_days_ago=20, shipped_days_ago=18, delivered_days_ago=15,
        carrier="FedEx", tracking="794644790138",
    ),
    DemoOrder(
        "ORD-1003", "CUST-002", "processing",
        (("HD-01", "USB-C hub", 2, "35.00"),),
        ordered_days_ago=1, eta_in_days=5,
    ),
    DemoOrder(
        "ORD-1004", "CUST-002", "cancelled",
        (("CH-10", "Desk chair", 1, "179.00"),),
        ordered_days_ago=12,
    ),
    DemoOrder(
        "ORD-1005", "CUST-003", "delayed",
        (("LP-14", "Laptop stand", 1, "45.00"), ("CB-03", "Cable set", 3, "9.99")),
        ordered_days_ago=9, shipped_days_ago=7, eta_in_days=3,
        carrier="DHL", tracking="JD014600006281230000",
    ),
    DemoOrder(
        "ORD-1006", "CUST-003", "returned",
        (("HP-05", "Headphones", 1, "129.00"),),
        ordered_days_ago=30, shipped_days_ago=28, delivered_days_ago=25,
        carrier="USPS", tracking="9400111899223344556677",
    ),
    DemoOrder(
        "ORD-1007", "CUST-001", "delivered",
        (("WC-01", "Webcam", 1, "59.00"),),
        ordered_days_ago=40, shipped_days_ago=38, delivered_days_ago=36,
        carrier="UPS", tracking="1Z999AA10123459999",
    ),
    DemoOrder(
        "ORD-1008", "CUST-002", "shipped",
        (("SP-02", "Desk speakers", 1, "99.00"),),
        ordered_days_ago=3, shipped_days_ago=1, eta_in_days=3,
        carrier="FedEx", tracking="794644790555",
    ),
)


def _order_row(client_id: str, spec: DemoOrder, today: date) -> Order:
    items: list[dict[str, Any]] = [
        {"sku": sku, "name": name, "quantity": qty, "unit_price_usd": price}
        for sku, name, qty, price in spec.items
    ]
    total = sum((Decimal(price) * qty for _, _, qty, price in spec.items), Decimal(0))

    def ago(days: int | None) -> date | None:
        return None if days is None else today - timedelta(days=days)

    return Order(
        client_id=client_id,
        order_ref=spec.ref,
        customer_ref=spec.customer,
        status=spec.status,
        items=items,
        total_usd=total,
        ordered_on=today - timedelta(days=spec.ordered_days_ago),
        shipped_on=ago(spec.shipped_days_ago),
        estimated_delivery=None if spec.eta_in_days is None else today + timedelta(
            days=spec.eta_in_days
        ),
        delivered_on=ago(spec.delivered_days_ago),
        carrier=spec.carrier,
        tracking_number=spec.tracking,
        created_at=utcnow(),
    )


async def seed_customer_data(
    session: AsyncSession, client_id: str, *, today: date | None = None
) -> int:
    """Insert the demo customers and orders a tenant lacks; returns how many rows were added."""
    today = today or utcnow().date()
    have_customers = set(
        await session.scalars(select(Customer.customer_ref).where(Customer.client_id == client_id))
    )
    have_orders = set(
        await session.scalars(select(Order.order_ref).where(Order.client_id == client_id))
    )
    rows: list[Customer | Order] = [
        Customer(client_id=client_id, customer_ref=ref, name=name, email=email, created_at=utcnow())
        for ref, name, email in CUSTOMERS
        if ref not in have_customers
    ]
    rows += [_order_row(client_id, spec, today) for spec in ORDERS if spec.ref not in have_orders]
    session.add_all(rows)
    await session.flush()
    return len(rows)


async def seed_demo(session: AsyncSession, settings: Settings, client_id: str) -> None:
    await seed_customer_data(session, client_id)
