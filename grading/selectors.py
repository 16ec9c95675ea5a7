"""Reads of the grading app. Results and overrides always go through the scope rule."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone

from crm.dates import add_months, month_start
from grading.choices import OverrideStatus, SchemeStatus
from grading.filtersets import GradeResultFilterSet
from grading.models import GradeOverride, GradeResult, GradingRun, GradingScheme, PeakMonth

if TYPE_CHECKING:
    from crm.models import User
    from customers.models import Customer


def result_months() -> list[dt.date]:
    """Months that have stored results, newest first."""
    return list(
        GradeResult.objects.order_by("-month").values_list("month", flat=True).distinct()
    )


def latest_result_month() -> dt.date | None:
    return GradeResult.objects.order_by("-month").values_list("month", flat=True).first()


def grade_results(
    *, user: User, month: dt.date, filters: Mapping[str, Any] | None = None
) -> QuerySet[GradeResult]:
    """`month`'s results of the customers `user` may see, each annotated with
    `previous_grade` (the effective grade of the month before, None if not graded), filtered
    and sorted by GradeResultFilterSet (default: by customer code)."""
    previous = GradeResult.objects.filter(
        customer_id=OuterRef("customer_id"), month=add_months(month_start(month), -1)
    ).values("grade")[:1]
    qs = (
        GradeResult.objects.visible_to(user)
        .filter(month=month_start(month))
        .annotate(previous_grade=Subquery(previous))
        .select_related("customer", "customer__area", "customer__account_manager")
    )
    filterset = GradeResultFilterSet(filters or {}, queryset=qs)
    qs = filterset.qs if filterset.is_valid() else qs
    return qs.order_by(*qs.query.order_by, "customer__customer_code")


def grading_overview(
    *, user: User, month: dt.date, filters: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The overview of `month` for `user` (scoped, filtered): counts by grade, category code
    and structure class, the month-over-month transition matrix and the movement totals.

    Returns::

        {"month": date, "previous_month": date, "customers": int,
         "by_grade": {grade: n}, "by_category": {"CZ1": n}, "by_structure": {class: n},
         "transitions": {(previous_grade or None, grade): n},
         "grades": [1, …, n] (every grade seen in either month, for the matrix axes),
         "movements": {"up": n, "down": n, "same": n, "new": n}, "overridden": n}
    """
    qs = grade_results(user=user, month=month, filters=filters).order_by()
    pairs = qs.values("previous_grade", "grade").annotate(n=Count("id"))
    transitions = {(row["previous_grade"], row["grade"]): row["n"] for row in pairs}
    by_grade: dict[int, int] = {}
    movements = {"up": 0, "down": 0, "same": 0, "new": 0}
    for (before, after), n in transitions.items():
        by_grade[after] = by_grade.get(after, 0) + n
        if before is None:
            movements["new"] += n
        elif after < before:
            movements["up"] += n
        elif after > before:
            movements["down"] += n
        else:
            movements["same"] += n
    by_category = dict(
        qs.values_list("category_code").annotate(n=Count("id")).order_by("category_code")
    )
    by_structure = dict(
        qs.values_list("structure_class").annotate(n=Count("id")).order_by("structure_class")
    )
    seen = {g for pair in transitions for g in pair if g is not None}
    return {
        "month": month_start(month),
        "previous_month": add_months(month_start(month), -1),
        "customers": sum(by_grade.values()),
        "by_grade": dict(sorted(by_grade.items())),
        "by_category": by_category,
        "by_structure": by_structure,
        "transitions": transitions,
        "grades": sorted(seen),
        "movements": movements,
        "overridden": qs.filter(override__isnull=False).count(),
    }


def customer_grade_history(
    *, customer: Customer, months: int = 12, today: dt.date | None = None
) -> list[GradeResult]:
    """The customer's results of the last `months` months up to this month, oldest first.
    The caller reached `customer` through the scope rule."""
    end = month_start(today or timezone.localdate())
    start = add_months(end, -(months - 1))
    return list(
        GradeResult.objects.filter(customer=customer, month__gte=start, month__lte=end)
        .select_related("scheme", "override")
        .order_by("month")
    )


def customer_grade_result(*, customer: Customer, month: dt.date | None = None) -> GradeResult | None:
    """The customer's result for `month` (default: the latest one), with its scheme."""
    qs = GradeResult.objects.filter(customer=customer).select_related(
        "scheme", "override", "override__proposed_by", "override__decided_by"
    )
    if month is not None:
        qs = qs.filter(month=month_start(month))
    return qs.order_by("-month").first()


def override_list(*, user: User, status: str | None = OverrideStatus.PROPOSED) -> QuerySet:
    """Overrides of customers `user` may see (by status; None for all), newest first."""
    qs = GradeOverride.objects.visible_to(user).select_related(
        "customer", "proposed_by", "decided_by"
    )
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-proposed_at", "-id")


def override_get(*, user: User, pk: int) -> GradeOverride:
    override = override_list(user=user, status=None).filter(pk=pk).first()
    if override is None:
        raise Http404
    return override


def overrides_for(*, customer: Customer) -> QuerySet[GradeOverride]:
    return customer.grade_overrides.select_related("proposed_by", "decided_by").order_by(
        "-proposed_at", "-id"
    )


def run_list() -> QuerySet[GradingRun]:
    """Every grading run, newest first (administrators' page)."""
    return GradingRun.objects.select_related("started_by", "scheme").order_by("-created_at", "-id")


def scheme_list() -> QuerySet[GradingScheme]:
    return GradingScheme.objects.select_related("created_by", "activated_by").order_by("-version")


def scheme_get(*, pk: int) -> GradingScheme:
    scheme = scheme_list().filter(pk=pk).first()
    if scheme is None:
        raise Http404
    return scheme


def scheme_active_or_none() -> GradingScheme | None:
    return GradingScheme.objects.filter(status=SchemeStatus.ACTIVE).first()


def peak_month_list() -> QuerySet[PeakMonth]:
    return PeakMonth.objects.select_related("created_by").order_by("-month")
