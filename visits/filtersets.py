"""The visit FilterSet, shared by the visit list page, its export and the API."""

import django_filters
from django.utils.translation import gettext_lazy as _

from crm.filtersets import AreaTreeFilter
from visits.choices import VisitType
from visits.models import Visit


class VisitFilterSet(django_filters.FilterSet):
    customer_code = django_filters.CharFilter(
        field_name="customer__customer_code", lookup_expr="iexact", label=_("Customer code")
    )
    area = AreaTreeFilter(field_name="customer__area_id")
    visited_by = django_filters.CharFilter(
        field_name="visited_by__username", lookup_expr="iexact", label=_("Visited by")
    )
    visit_type = django_filters.ChoiceFilter(choices=VisitType.choices, label=_("Visit type"))
    date_from = django_filters.DateFilter(
        field_name="visited_at", lookup_expr="date__gte", label=_("From")
    )
    date_to = django_filters.DateFilter(
        field_name="visited_at", lookup_expr="date__lte", label=_("To")
    )
    flagged = django_filters.BooleanFilter(
        field_name="location_flagged", label=_("Far from the shop")
    )

    class Meta:
        model = Visit
        fields = [
            "customer_code",
            "area",
            "visited_by",
            "visit_type",
            "date_from",
            "date_to",
            "flagged",
        ]
