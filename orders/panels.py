"""The orders app's panels (crm.panels): the customer page's sales card, and the last order in
its summary header. Registered by OrdersConfig.ready."""

from __future__ import annotations

from typing import Any

from crm.panels import Panel, Surface, Tab, register
from orders import selectors


def sales_context(request, customer) -> dict[str, Any]:
    """The orders and monthly sales facts of the customer."""
    return {"sales": selectors.customer_sales_summary(customer=customer)}


def sales_summary(request, customer) -> dict[str, Any]:
    """The summary header's last order, when the sales card is not drawn (one query)."""
    return {"sales": {"latest_order": selectors.customer_latest_order(customer=customer)}}


def register_all() -> None:
    register(
        Panel(
            key="sales",
            surface=Surface.CUSTOMER,
            tab=Tab.SALES,
            template="orders/inc/customer_sales.html",
            summary_template="orders/inc/customer_summary.html",
            context=sales_context,
            summary=sales_summary,
            order=70,
        )
    )
