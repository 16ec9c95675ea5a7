"""Products and orders through the API: scoped reads, and the syncs the ordering system uses.

Reads share the pages' FilterSets and go through the selectors (the scope rule); syncs go
through the services with an API actor, so the history names the client.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiExample
from rest_framework import generics
from rest_framework.request import Request

from crm.api.sync import BulkSyncAPIView, api_actor
from orders import selectors
from orders.api.serializers import (
    OrderSerializer,
    OrderSyncReportSerializer,
    OrderSyncRequestSerializer,
    ProductSerializer,
    ProductSyncReportSerializer,
    ProductSyncRequestSerializer,
)
from orders.filtersets import OrderFilterSet, ProductFilterSet
from orders.models import Order, OrderLine
from orders.services import (
    MAX_ORDERS_PER_SYNC,
    MAX_PRODUCTS_PER_SYNC,
    order_sync_many,
    product_upsert_many,
)


class ProductListAPIView(generics.ListAPIView):
    """Cigarette specifications, paged and filtered like the product page (any signed-in
    caller: the catalogue is not scoped)."""

    serializer_class = ProductSerializer
    filterset_class = ProductFilterSet

    def get_queryset(self):
        return selectors.product_list().order_by("code")


class OrderListAPIView(generics.ListAPIView):
    """Orders of the customers in the caller's scope, newest first, with their lines."""

    serializer_class = OrderSerializer
    filterset_class = OrderFilterSet

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Order.objects.none()
        lines = OrderLine.objects.select_related("product").order_by("id")
        return selectors.order_list(user=self.request.user).prefetch_related(
            Prefetch("lines", queryset=lines)
        )


_ORDER_EXAMPLE = {
    "orders": [
        {
            "external_id": "SO-20261005-0001",
            "customer_code": "440100100001",
            "order_date": "2026-10-05",
            "status": "delivered",
            "payment_method": "electronic",
            "paid_on_time": True,
            "payment_date": "2026-10-06",
            "lines": [
                {"product_code": "6901028180566", "quantity": 5, "unit_price": "230.00"},
                {"product_code": "6901028075862", "quantity": 2, "unit_price": "450.00"},
            ],
        }
    ]
}
_ORDER_REPORT_EXAMPLE = {
    "created": 1,
    "updated": 0,
    "unchanged": 0,
    "errors": [
        {
            "index": 1,
            "external_id": "SO-20261005-0002",
            "errors": {"lines.0.quantity": ["Must be more than 0 cartons."]},
        }
    ],
    "warnings": [
        {
            "index": 0,
            "external_id": "SO-20261005-0001",
            "code": "over_allocation",
            "field": "lines.1.quantity",
            "message": "Over the allocation of plan 2026-10-ZHY: 32 cartons of 6901028075862 "
            "ordered in 2026-10-01 – 2026-10-31 with this order, the quota is 30.",
        }
    ],
}


class OrderSyncAPIView(BulkSyncAPIView):
    """Creates, replaces or leaves alone orders by `external_id` (unique per client).

    Each order is stored whole or not at all: a bad one is reported under `errors` and the
    others are stored. Replaying the same body changes nothing (every order `unchanged`); a
    changed order replaces its lines. Up to 1,000 orders per request. An order whose line takes
    its shop past its quota of a supply allocation plan is stored all the same and reported
    under `warnings` (and kept on the supervisors' exceptions list).
    """

    items_key = "orders"
    max_items = MAX_ORDERS_PER_SYNC
    request_serializer = OrderSyncRequestSerializer
    report_serializer = OrderSyncReportSerializer
    schema_examples = [
        OpenApiExample("Orders", value=_ORDER_EXAMPLE, request_only=True),
        OpenApiExample("Report", value=_ORDER_REPORT_EXAMPLE, response_only=True),
    ]

    def sync(self, items: list[Any], request: Request) -> dict[str, Any]:
        report = order_sync_many(rows=items, source=request.user.username, actor=api_actor(request))
        return report.as_dict()


class ProductSyncAPIView(BulkSyncAPIView):
    """Creates or updates products by `code`. A bad item is reported and the others stored;
    replaying the same body changes nothing. Up to 1,000 products per request."""

    items_key = "products"
    max_items = MAX_PRODUCTS_PER_SYNC
    request_serializer = ProductSyncRequestSerializer
    report_serializer = ProductSyncReportSerializer
    schema_examples = [
        OpenApiExample(
            "Products",
            value={
                "products": [
                    {
                        "code": "6901028180566",
                        "name": "玉溪(软)",
                        "brand": "玉溪",
                        "manufacturer": "红塔烟草",
                        "wholesale_price": "230.00",
                        "tar_mg": 10,
                        "is_key_brand": True,
                        "is_new_product": False,
                        "active": True,
                    }
                ]
            },
            request_only=True,
        ),
        OpenApiExample(
            "Report",
            value={"created": 1, "updated": 0, "unchanged": 0, "errors": []},
            response_only=True,
        ),
    ]

    def sync(self, items: list[Any], request: Request) -> dict[str, Any]:
        return product_upsert_many(rows=items, actor=api_actor(request)).as_dict()
