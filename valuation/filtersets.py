"""The FilterSets of the valuation pages: value results (the overview, its lists and exports),
early warnings and compliance records."""

from typing import Any

import django_filters
from django.utils.translation import gettext_lazy as _

from crm.filtersets import AreaTreeFilter, OrderingFilter
from customers.choices import ValueTier
from valuation.choices import RecordType, WarningKind, WarningStatus
from valuation.models import ComplianceRecord, EarlyWarning, ValueResult

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
    ordering = OrderingFilter(
        fields=[(column, name) for name, column in ORDERING.items()], label=_("Sort by")
    )

    class Meta:
        model = ValueResult
        fields: list[str] = []


# --- early warnings and compliance records (their pages) ---

# The warnings page's status tabs: key → (label, the statuses shown; None for all).
WARNING_STATUS_TABS: dict[str, tuple[Any, tuple[str, ...] | None]] = {
    "unresolved": (_("Unresolved"), tuple(WarningStatus.unresolved())),
    "open": (_("Open"), (WarningStatus.OPEN,)),
    "acknowledged": (_("Acknowledged"), (WarningStatus.ACKNOWLEDGED,)),
    "resolved": (_("Resolved"), (WarningStatus.RESOLVED,)),
    "all": (_("All"), None),
}
DEFAULT_WARNING_STATUS = "unresolved"


class EarlyWarningFilterSet(django_filters.FilterSet):
    """The warnings page's filters: status (a tab; the page defaults to unresolved), kind,
    area (with its sub-areas), account manager, customer code."""

    status = django_filters.ChoiceFilter(
        method="filter_status",
        choices=[(key, label) for key, (label, _s) in WARNING_STATUS_TABS.items()],
        label=_("Status"),
        empty_label=None,
    )
    kind = django_filters.ChoiceFilter(choices=WarningKind.choices, label=_("Warning"))
    area = AreaTreeFilter(field_name="customer__area_id")
    account_manager = django_filters.CharFilter(
        field_name="customer__account_manager__username",
        lookup_expr="iexact",
        label=_("Account manager"),
    )
    customer = django_filters.CharFilter(
        field_name="customer__customer_code", label=_("Customer code")
    )

    class Meta:
        model = EarlyWarning
        fields: list[str] = []

    def filter_status(self, queryset, name, value):
        statuses = WARNING_STATUS_TABS.get(value, (None, None))[1]
        return queryset.filter(status__in=statuses) if statuses else queryset


# The type filter's extra choice: any violation.
ANY_VIOLATION = "violation"


class ComplianceRecordFilterSet(django_filters.FilterSet):
    """The compliance page's filters: type (or any violation), date range, area (with its
    sub-areas), customer code, void state."""

    record_type = django_filters.ChoiceFilter(
        method="filter_record_type",
        choices=[(ANY_VIOLATION, _("Any violation")), *RecordType.choices],
        label=_("Type"),
    )
    date_from = django_filters.DateFilter(
        field_name="date", lookup_expr="gte", label=_("From"), input_formats=["%Y-%m-%d"]
    )
    date_to = django_filters.DateFilter(
        field_name="date", lookup_expr="lte", label=_("To"), input_formats=["%Y-%m-%d"]
    )
    area = AreaTreeFilter(field_name="customer__area_id")
    customer = django_filters.CharFilter(
        field_name="customer__customer_code", label=_("Customer code")
    )
    void = django_filters.ChoiceFilter(
        method="filter_void",
        choices=[("no", _("In force")), ("yes", _("Void"))],
        label=_("Void"),
    )

    class Meta:
        model = ComplianceRecord
        fields: list[str] = []

    def filter_record_type(self, queryset, name, value):
        if value == ANY_VIOLATION:
            return queryset.filter(record_type__in=RecordType.violations())
        return queryset.filter(record_type=value)

    def filter_void(self, queryset, name, value):
        return queryset.filter(voided_at__isnull=(value != "yes"))
