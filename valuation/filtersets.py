"""The value-result FilterSet, shared by the value overview, its lists and its exports."""

import django_filters
from django.utils.translation import gettext_lazy as _

from crm.filtersets import AreaTreeFilter
from customers.choices import ValueTier
from valuation.models import ValueResult

ORDERING = {
    "customer_code": "customer__customer_code",
    "store_name": "customer__store_name",
    "value_tier": "value_tier",
    "current_value": "current_value",
    "potential_value": "potential_value",
    "credit_score": "credit_score",
    "window_amount": "window_amount",
}


class ValueResultFilterSet(django_filters.FilterSet):
    """Filters one month's value results (`valuation.selectors.overview.value_results`)."""

    area = AreaTreeFilter(field_name="customer__area_id")
    account_manager = django_filters.CharFilter(
        field_name="customer__account_manager__username",
        lookup_expr="iexact",
        label=_("Account manager"),
    )
    value_tier = django_filters.ChoiceFilter(choices=ValueTier.choices, label=_("Value tier"))
    is_core = django_filters.BooleanFilter(label=_("Core customer"))
    is_problem = django_filters.BooleanFilter(label=_("Problem customer"))
    ordering = django_filters.OrderingFilter(
        fields=[(column, name) for name, column in ORDERING.items()], label=_("Sort by")
    )

    class Meta:
        model = ValueResult
        fields: list[str] = []
