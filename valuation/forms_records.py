"""Forms and filters of the pages account managers and licence officers work on: the early
warnings (filter, acknowledge, resolve) and the compliance records (filter, add, void).

The two FilterSets live here rather than in `valuation.filtersets` (the value results') only
because the pages were built side by side; they belong with it and may move there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import django_filters
from django import forms
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from crm.filtersets import AreaTreeFilter
from customers import selectors as customer_selectors
from valuation.choices import RecordType, WarningKind, WarningStatus
from valuation.models import ComplianceRecord, EarlyWarning

if TYPE_CHECKING:
    from crm.models import User

# --- early warnings -----------------------------------------------------------------------

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


class WarningAcknowledgeForm(forms.Form):
    note = forms.CharField(
        label=_("What will you do about it?"),
        max_length=2000,
        error_messages={"required": _("Say what you will do about it.")},
    )


class WarningResolveForm(forms.Form):
    note = forms.CharField(label=_("Resolution (optional)"), max_length=2000, required=False)


# --- compliance records -------------------------------------------------------------------

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


class ComplianceRecordForm(forms.Form):
    """A licence officer's new record. The customer is given by code and must be one the
    user sees; the service checks the rest (type, date not in the future, a note for a
    violation) and its errors land on these fields."""

    customer = forms.CharField(label=_("Customer code"), max_length=32)
    date = forms.DateField(label=_("Date"), input_formats=["%Y-%m-%d"])
    record_type = forms.ChoiceField(label=_("Type"), choices=RecordType.choices)
    note = forms.CharField(label=_("Note"), max_length=2000, required=False)

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_customer(self):
        code = self.cleaned_data["customer"].strip()
        try:
            return customer_selectors.customer_get(user=self.user, code=code)
        except Http404:
            raise forms.ValidationError(
                _("No customer with this code among your customers.")
            ) from None


class ComplianceVoidForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is the record void?"),
        max_length=2000,
        error_messages={"required": _("Say why the record is void.")},
    )
