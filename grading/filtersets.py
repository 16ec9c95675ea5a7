"""The grade-result FilterSet, shared by the grading overview, its lists and its export."""

import django_filters
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from crm.filtersets import AreaTreeFilter, OrderingFilter
from customers.choices import BusinessScale
from grading.models import GradeResult

MOVEMENTS = (
    ("up", _("Upgraded")),
    ("down", _("Downgraded")),
    ("same", _("Unchanged")),
    ("new", _("No grade the month before")),
    ("not_comparable", _("Graded by another scheme the month before")),
    ("overridden", _("Overridden")),
)

ORDERING = {
    "customer_code": "customer__customer_code",
    "store_name": "customer__store_name",
    "grade": "grade",
    "previous_grade": "previous_grade",
    "avg_cartons": "avg_cartons",
    "avg_price": "avg_price",
    "category_code": "category_code",
    "structure_class": "structure_class",
}


class GradeResultFilterSet(django_filters.FilterSet):
    """Filters one month's results. Expects the queryset annotated with `previous_grade` and
    `previous_scheme_id` (`grading.selectors.grade_results`)."""

    area = AreaTreeFilter(field_name="customer__area_id")
    account_manager = django_filters.CharFilter(
        field_name="customer__account_manager__username",
        lookup_expr="iexact",
        label=_("Account manager"),
    )
    grade = django_filters.NumberFilter(label=_("Grade"))
    previous_grade = django_filters.NumberFilter(
        method="filter_previous_grade", label=_("Grade the month before")
    )
    category_code = django_filters.CharFilter(lookup_expr="iexact", label=_("Category code"))
    structure_class = django_filters.NumberFilter(label=_("Structure class"))
    business_scale = django_filters.ChoiceFilter(
        choices=BusinessScale.choices, label=_("Business scale")
    )
    movement = django_filters.ChoiceFilter(
        method="filter_movement", choices=MOVEMENTS, label=_("Movement")
    )
    ordering = OrderingFilter(
        fields=[(column, name) for name, column in ORDERING.items()], label=_("Sort by")
    )

    class Meta:
        model = GradeResult
        fields: list[str] = []

    def filter_previous_grade(self, queryset, name, value):
        # Of the same scheme version, as the transition matrix counts it (another version's
        # grade is on another scale: its row is "another scheme").
        return queryset.filter(previous_grade=value, previous_scheme_id=F("scheme_id"))

    def filter_movement(self, queryset, name, value):
        # Grades are compared only within one scheme version: a grade is a position on its
        # own scheme's scale (13 of 30 is no fall from 4 of 8).
        same_scheme = queryset.filter(previous_scheme_id=F("scheme_id"))
        if value == "up":  # grade 1 is the highest: a smaller number is an upgrade
            return same_scheme.filter(grade__lt=F("previous_grade"))
        if value == "down":
            return same_scheme.filter(grade__gt=F("previous_grade"))
        if value == "same":
            return same_scheme.filter(grade=F("previous_grade"))
        if value == "new":
            return queryset.filter(previous_grade__isnull=True)
        if value == "not_comparable":
            return queryset.filter(previous_grade__isnull=False).exclude(
                previous_scheme_id=F("scheme_id")
            )
        if value == "overridden":  # an approved override is in force
            return queryset.filter(override__isnull=False)
        return queryset
