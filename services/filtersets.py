"""Filters of the service lists (pages and API read the same ones)."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from services.choices import (
    CARE_KINDS,
    ActivityCategory,
    ActivityKind,
    Priority,
    RequestStatus,
    RequestType,
)
from services.models import ServiceActivity, ServiceRequest


def _customer(queryset: QuerySet, name: str, value: str) -> QuerySet:
    value = (value or "").strip()
    if not value:
        return queryset
    return queryset.filter(
        Q(customer__customer_code__iexact=value) | Q(customer__store_name__icontains=value)
    )


class ServiceRequestFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(label=_("Status"), choices=RequestStatus.choices)
    request_type = django_filters.ChoiceFilter(label=_("Type"), choices=RequestType.choices)
    priority = django_filters.ChoiceFilter(label=_("Priority"), choices=Priority.choices)
    customer = django_filters.CharFilter(label=_("Customer"), method=_customer)
    assignee = django_filters.CharFilter(
        label=_("Assignee"), field_name="assignee__username", lookup_expr="iexact"
    )
    escalated = django_filters.BooleanFilter(
        label=_("Escalated"), field_name="escalated_at", lookup_expr="isnull", exclude=True
    )

    class Meta:
        model = ServiceRequest
        fields: list[str] = []


def _category(queryset: QuerySet, name: str, value: str) -> QuerySet:
    if value == ActivityCategory.CARE:
        return queryset.filter(kind__in=CARE_KINDS)
    if value == ActivityCategory.VALUE_ADDED:
        return queryset.exclude(kind__in=CARE_KINDS)
    return queryset


class ActivityFilterSet(django_filters.FilterSet):
    category = django_filters.ChoiceFilter(
        label=_("Category"), choices=ActivityCategory.choices, method=_category
    )
    kind = django_filters.ChoiceFilter(label=_("Service"), choices=ActivityKind.choices)
    customer = django_filters.CharFilter(label=_("Customer"), method=_customer)
    performed_by = django_filters.CharFilter(
        label=_("Done by"), field_name="performed_by__username", lookup_expr="iexact"
    )
    since = django_filters.DateFilter(label=_("From"), field_name="performed_on", lookup_expr="gte")
    until = django_filters.DateFilter(label=_("To"), field_name="performed_on", lookup_expr="lte")

    class Meta:
        model = ServiceActivity
        fields: list[str] = []
