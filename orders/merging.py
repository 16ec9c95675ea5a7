"""The orders app's part of a customer merge (crm.merging): orders move to the survivor with
their content hash computed again, and both customers' monthly facts and purchase figures
are rebuilt from their orders (`orders.services.orders_customer_move`)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from crm.merging import MergeStep, register
from orders import selectors, services
from orders.models import MonthlySalesFact, Order


def _count(merged_id: int) -> dict[str, int]:
    return {
        "orders": Order.objects.filter(customer_id=merged_id).count(),
        "sales_facts": MonthlySalesFact.objects.filter(customer_id=merged_id).count(),
    }


def _shared_months(survivor_id: int, merged_id: int):
    return selectors.customers_shared_order_months(survivor_id=survivor_id, merged_id=merged_id)


def register_all() -> None:
    register(
        MergeStep(
            key="orders",
            kinds={
                "orders": _("Orders"),
                "sales_facts": _("Monthly sales facts (rebuilt from the orders)"),
            },
            count=_count,
            move=services.orders_customer_move,
            shared_months=_shared_months,
            order=10,
        )
    )
