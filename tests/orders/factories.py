"""Products, order payloads and API clients for the order tests.

Products are created directly (the product sync has its own tests); orders go through the
order sync, the public door they come in by, so payloads are built here as JSON dicts.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.urls import reverse
from rest_framework.test import APIClient

from crm.choices import AuditSource
from crm.services import Actor, api_client_create
from customers.models import CustomerSystem
from orders.models import MonthlySalesFact, OrdersConfig, Product
from orders.services import sales_facts_rebuild

ACTOR = Actor.system("tests", AuditSource.COMMAND)
_names = itertools.count(1)


def url(name: str) -> str:
    """The path of an `orders_api` endpoint (resolved late: the app may not be wired yet)."""
    return reverse(f"orders_api:{name}")


def make_product(code: str, wholesale_price: str | Decimal = "230.00", **fields) -> Product:
    """A product with its price class derived from the current bands; any field may be given."""
    price = Decimal(str(wholesale_price))
    data: dict[str, Any] = {
        "name": f"测试卷烟{code}",
        "wholesale_price": price,
        "price_class": OrdersConfig.current().price_class_for(price),
    }
    data.update(fields)
    return Product.objects.create(code=code, **data)


def integration_client(name: str | None = None) -> tuple[APIClient, Any]:
    """An API client authenticated with the token of a new integration client, and its user."""
    user, key = api_client_create(name=name or f"erp{next(_names)}", actor=ACTOR)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api, user


def order_payload(
    external_id: str,
    customer,
    lines: Iterable[tuple[Any, Any, Any]],
    **overrides,
) -> dict[str, Any]:
    """One order as the sync takes it. `customer` is a Customer or its code; each line is
    `(product or product code, quantity, unit price)`; `overrides` replace or add keys
    (e.g. `order_date="2026-09-30"`, `status="cancelled"`)."""
    order: dict[str, Any] = {
        "external_id": external_id,
        "customer_code": getattr(customer, "customer_code", customer),
        "order_date": "2026-10-05",
        "status": "delivered",
        "payment_method": "electronic",
        "paid_on_time": True,
        "payment_date": None,
        "lines": [
            {
                "product_code": getattr(product, "code", product),
                "quantity": quantity,
                "unit_price": price if isinstance(price, int | float) else str(price),
            }
            for product, quantity, price in lines
        ],
    }
    order.update(overrides)
    return order


_FACT_FIELDS = [f.attname for f in MonthlySalesFact._meta.concrete_fields if f.name != "id"]
_PURCHASE_FIELDS = (
    "customer_id",
    "purchase_quantity",
    "purchase_amount",
    "average_price",
    "e_settlement_rate",
    "last_order_date",
)


def facts_snapshot() -> tuple[list, list]:
    """The stored monthly facts and the customers' purchase figures, without ids."""
    return (
        list(MonthlySalesFact.objects.order_by("customer_id", "month").values_list(*_FACT_FIELDS)),
        list(CustomerSystem.objects.order_by("customer_id").values_list(*_PURCHASE_FIELDS)),
    )


class _Rollback(Exception):
    pass


def facts_rebuilt() -> tuple[list, list]:
    """What a full `sales_facts_rebuild()` from the orders gives (in the shape of
    `facts_snapshot`), leaving the stored facts as they are."""
    try:
        with transaction.atomic():
            sales_facts_rebuild()
            rebuilt = facts_snapshot()
            raise _Rollback
    except _Rollback:
        return rebuilt
