"""The customer FilterSet, shared by the list page, its exports and the API."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.filtersets import AreaTreeFilter, OrderingFilter
from customers import choices
from customers.models import ChangeRequest, Customer, CustomerAlias, CustomerDynamic

# Sortable columns: the name a client sends -> the database column.
ORDERING = {
    "customer_code": "customer_code",
    "store_name": "store_name",
    "area": "area__code",
    "account_manager": "account_manager__username",
    "business_format": "business_format",
    "market_type": "market_type",
    "status": "dynamic__status",
    "grade": "system__grade",
    "structure_class": "system__structure_class",
    "value_tier": "system__value_tier",
    "purchase_amount": "system__purchase_amount",
    "updated_at": "updated_at",
}


class CustomerFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_q", label=_("Search (code, name, licence, phone, address)")
    )
    area = AreaTreeFilter(field_name="area_id")
    account_manager = django_filters.CharFilter(
        field_name="account_manager__username", lookup_expr="iexact", label=_("Account manager")
    )
    business_format = django_filters.MultipleChoiceFilter(
        # No DISTINCT: one format per customer, and DISTINCT over the joined columns is slow.
        choices=choices.BusinessFormat.choices,
        label=_("Business format"),
        distinct=False,
    )
    market_type = django_filters.ChoiceFilter(
        choices=choices.MarketType.choices, label=_("Market type")
    )
    status = django_filters.ChoiceFilter(
        field_name="dynamic__status", choices=choices.CustomerStatus.choices, label=_("Status")
    )
    grade = django_filters.NumberFilter(field_name="system__grade", label=_("Grade"))
    structure_class = django_filters.NumberFilter(
        field_name="system__structure_class", label=_("Structure class")
    )
    value_tier = django_filters.ChoiceFilter(
        field_name="system__value_tier", choices=choices.ValueTier.choices, label=_("Value tier")
    )
    ordering = OrderingFilter(
        fields=[(column, name) for name, column in ORDERING.items()], label=_("Sort by")
    )

    class Meta:
        model = Customer
        fields: list[str] = []

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        if value.isdigit():
            # Codes, licence numbers and phones are digits: prefix matches use the indexes
            # (the phone as a subquery, so the OR does not span two tables).
            phones = CustomerDynamic.objects.filter(phone__startswith=value)
            return queryset.filter(
                Q(customer_code__startswith=value)
                | Q(license_number__startswith=value)
                | Q(pk__in=phones.values("customer_id"))
                | Q(pk__in=_merged_into(value))
            )
        # On PostgreSQL, trigram indexes on UPPER(store_name) and UPPER(address) serve these.
        return queryset.filter(
            Q(store_name__icontains=value)
            | Q(address__icontains=value)
            | Q(customer_code=value)
            | Q(license_number=value)
            | Q(pk__in=_merged_into(value))
        )


def _merged_into(code: str):
    """The customer a merged record's code (an alias) names: the list search finds the
    survivor by the code of a record merged into it (exact code; the alias index serves it)."""
    return CustomerAlias.objects.filter(code=code).values("customer_id")


class ChangeRequestFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=choices.ChangeRequestStatus.choices)
    customer = django_filters.CharFilter(field_name="customer__customer_code")

    class Meta:
        model = ChangeRequest
        fields = ["status", "customer"]
