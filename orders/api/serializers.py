"""API shapes of products and orders.

Read serializers render rows; the sync serializers only *document* the request bodies in the
OpenAPI schema — each item is checked by `orders.sync` / the services (no serializer and no
query per item on the hot path).
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm.api.serializers import StrictSerializer
from customers.api.serializers import CustomerCodeField
from orders.choices import OrderStatus, PaymentMethod, PriceClass
from orders.models import Order, OrderLine, Product
from orders.services import MAX_ORDERS_PER_SYNC, MAX_PRODUCTS_PER_SYNC
from orders.sync import MAX_AMOUNT, MAX_LINES_PER_ORDER, MAX_PRICE, MAX_QUANTITY

# --- reads -----------------------------------------------------------------------------


class ProductSerializer(serializers.ModelSerializer):
    price_class = serializers.ChoiceField(
        choices=PriceClass.choices, help_text=_("1 (一类, highest) … 5 (五类)")
    )

    class Meta:
        model = Product
        fields = [
            "code",
            "name",
            "brand",
            "manufacturer",
            "wholesale_price",
            "suggested_retail_price",
            "price_class",
            "tar_mg",
            "is_key_brand",
            "is_new_product",
            "active",
        ]
        read_only_fields = fields


class OrderLineSerializer(serializers.ModelSerializer):
    product_code = serializers.CharField(source="product.code", read_only=True)
    product_name = serializers.CharField(source="product.name", read_only=True)
    quantity = serializers.IntegerField(source="cartons", read_only=True, help_text=_("Cartons"))

    class Meta:
        model = OrderLine
        fields = ["product_code", "product_name", "quantity", "unit_price", "amount"]
        read_only_fields = fields


class OrderSerializer(serializers.ModelSerializer):
    customer_code = serializers.CharField(source="customer.customer_code", read_only=True)
    lines = OrderLineSerializer(many=True, read_only=True)

    class Meta:
        model = Order
        fields = [
            "external_id",
            "source",
            "customer_code",
            "order_date",
            "status",
            "payment_method",
            "paid_on_time",
            "payment_date",
            "cartons",
            "amount",
            "line_count",
            "lines",
        ]
        read_only_fields = fields


# --- sync bodies (documentation) -------------------------------------------------------


def _decimal_field(name: str, *, digits: int, places: int, maximum: Decimal) -> type:
    """A non-negative decimal of a sync body, as the server reads it (`orders.sync.money`):
    a string ("230.00") or a JSON number, at most `maximum`."""
    schema = {
        "oneOf": [
            {
                "type": "string",
                "format": "decimal",
                "pattern": rf"^\d{{0,{digits - places}}}(?:\.\d{{0,{places}}})?$",
            },
            {"type": "number", "minimum": 0, "maximum": float(maximum)},
        ]
    }
    return extend_schema_field(schema)(type(name, (serializers.DecimalField,), {}))


_PriceField = _decimal_field("PriceField", digits=10, places=2, maximum=MAX_PRICE)
_AmountField = _decimal_field("AmountField", digits=14, places=2, maximum=MAX_AMOUNT)
_TarField = _decimal_field("TarField", digits=3, places=1, maximum=Decimal("99.9"))


class ProductSyncItemSerializer(StrictSerializer):
    """One product of a products sync; upserted by code. Optional fields left out keep
    their value on update. An unknown key is refused."""

    code = serializers.CharField(max_length=32, help_text=_("Product code"))
    name = serializers.CharField(max_length=100)
    wholesale_price = _PriceField(
        max_digits=10,
        decimal_places=2,
        min_value=0,
        help_text=_("Wholesale price per carton (CNY); decides the price class"),
    )
    suggested_retail_price = _PriceField(
        max_digits=10,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
        allow_null=True,
        help_text=_(
            "Suggested retail price per carton (CNY), above zero; null clears it, left out "
            "keeps it. The retail price monitoring compares shop prices with it"
        ),
    )
    brand = serializers.CharField(max_length=50, required=False, allow_blank=True)
    manufacturer = serializers.CharField(max_length=100, required=False, allow_blank=True)
    tar_mg = _TarField(
        max_digits=3,
        decimal_places=1,
        min_value=0,
        required=False,
        allow_null=True,
        help_text=_("mg/stick"),
    )
    is_key_brand = serializers.BooleanField(required=False, default=False)
    is_new_product = serializers.BooleanField(required=False, default=False)
    active = serializers.BooleanField(required=False, default=True)


class ProductSyncRequestSerializer(StrictSerializer):
    products = ProductSyncItemSerializer(
        many=True, max_length=MAX_PRODUCTS_PER_SYNC, help_text=_("At most 1,000 per request")
    )


class OrderLineSyncSerializer(StrictSerializer):
    product_code = serializers.CharField(max_length=32, help_text=_("One line per product"))
    quantity = serializers.IntegerField(
        min_value=1, max_value=MAX_QUANTITY, help_text=_("Cartons (whole number > 0)")
    )
    unit_price = _PriceField(
        max_digits=10, decimal_places=2, min_value=0, help_text=_("CNY per carton")
    )
    amount = _AmountField(
        max_digits=14,
        decimal_places=2,
        min_value=0,
        required=False,
        help_text=_("Line amount; quantity × unit price when left out"),
    )


class OrderSyncItemSerializer(StrictSerializer):
    """One order of an orders sync, stored whole or not at all. Sending an order again
    replaces it (its lines included); sending it unchanged changes nothing. An unknown key
    (of the order or of a line) is refused."""

    external_id = serializers.CharField(
        max_length=64, help_text=_("The order number in the ordering system")
    )
    customer_code = CustomerCodeField()
    order_date = serializers.DateField()
    status = serializers.ChoiceField(
        choices=OrderStatus.choices,
        help_text=_("Cancelled and returned orders do not count in sales figures"),
    )
    payment_method = serializers.ChoiceField(choices=PaymentMethod.choices)
    paid_on_time = serializers.BooleanField(required=False, allow_null=True)
    payment_date = serializers.DateField(required=False, allow_null=True)
    lines = OrderLineSyncSerializer(
        many=True, min_length=1, max_length=MAX_LINES_PER_ORDER, help_text=_("1 to 500 lines")
    )


class OrderSyncRequestSerializer(StrictSerializer):
    orders = OrderSyncItemSerializer(
        many=True, max_length=MAX_ORDERS_PER_SYNC, help_text=_("At most 1,000 per request")
    )


class OrderSyncWarningSerializer(serializers.Serializer):
    """An order stored but worth a word: today, an order line that took its shop past its
    quota of supply allocation (the order is stored all the same: it happened upstream)."""

    index = serializers.IntegerField(help_text=_("Position in the request (from 0)"))
    external_id = serializers.CharField(help_text=_("The order's external_id, as sent"))
    code = serializers.CharField(
        help_text=_("What it is: over_allocation (more codes may be added)")
    )
    field = serializers.CharField(help_text=_("The line at fault: lines.<i>.quantity"))
    message = serializers.CharField()


def sync_report_serializer(
    name: str, key_name: str, key_help: str, *, warnings: bool = False
) -> type[serializers.Serializer]:
    """The response of a sync: counts, and each refused item with its messages by field (and,
    for `warnings`, the items stored with a warning)."""
    error = type(
        f"{name}ErrorSerializer",
        (serializers.Serializer,),
        {
            "index": serializers.IntegerField(help_text=_("Position in the request (from 0)")),
            key_name: serializers.CharField(allow_null=True, help_text=key_help),
            "errors": serializers.DictField(
                child=serializers.ListField(child=serializers.CharField()),
                help_text=_(
                    "Messages by field (`lines.<i>.<field>` for a line; `non_field_errors` "
                    "for the item as a whole)"
                ),
            ),
        },
    )
    fields = {
        "created": serializers.IntegerField(),
        "updated": serializers.IntegerField(),
        "unchanged": serializers.IntegerField(),
        "errors": error(many=True),
    }
    if warnings:
        fields["warnings"] = OrderSyncWarningSerializer(
            many=True,
            help_text=_(
                "Orders stored (counted above) that took a shop past its allocation quota, one "
                "per line; a replay of an unchanged order gives none"
            ),
        )
    return type(f"{name}Serializer", (serializers.Serializer,), fields)


OrderSyncReportSerializer = sync_report_serializer(
    "OrderSyncReport", "external_id", _("The order's external_id, as sent"), warnings=True
)
ProductSyncReportSerializer = sync_report_serializer(
    "ProductSyncReport", "code", _("The product's code, as sent")
)
