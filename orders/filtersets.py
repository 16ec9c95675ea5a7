"""FilterSets of products and orders, shared by the pages and the API."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.filtersets import OrderingFilter
from orders.choices import OrderStatus, PriceClass
from orders.models import Order, Product


class ProductFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("Search (code, name, brand)"))
    price_class = django_filters.ChoiceFilter(choices=PriceClass.choices, label=_("Price class"))
    is_key_brand = django_filters.BooleanFilter(label=_("Key brand"))
    is_new_product = django_filters.BooleanFilter(label=_("New product"))
    active = django_filters.BooleanFilter(label=_("Active"))
    ordering = OrderingFilter(
        fields=[
            ("code", "code"),
            ("name", "name"),
            ("brand", "brand"),
            ("wholesale_price", "wholesale_price"),
            ("suggested_retail_price", "suggested_retail_price"),
            ("price_class", "price_class"),
        ],
        label=_("Sort by"),
    )

    class Meta:
        model = Product
        fields = ["q", "price_class", "is_key_brand", "is_new_product", "active"]

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(code__icontains=value) | Q(name__icontains=value) | Q(brand__icontains=value)
        )


class OrderFilterSet(django_filters.FilterSet):
    customer = django_filters.CharFilter(
        field_name="customer__customer_code", label=_("Customer code")
    )
    date_from = django_filters.DateFilter(
        field_name="order_date", lookup_expr="gte", label=_("Order date from")
    )
    date_to = django_filters.DateFilter(
        field_name="order_date", lookup_expr="lte", label=_("Order date to")
    )
    status = django_filters.ChoiceFilter(choices=OrderStatus.choices, label=_("Status"))
    external_id = django_filters.CharFilter(label=_("Order number"))

    class Meta:
        model = Order
        fields = ["customer", "date_from", "date_to", "status", "external_id"]
