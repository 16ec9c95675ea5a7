"""The reads of supply allocation, scoped to the user (`crm.scope` through
`ScopedQuerySet.visible_to`): plans, the quotas in force on a day, a shop's quotas with why,
and the exceptions list (take-up: `allocation.takeup_selectors`)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db.models import Count, F, IntegerField, Q, QuerySet, Sum
from django.db.models.functions import Greatest
from django.shortcuts import get_object_or_404

from allocation.choices import ExceptionStatus, PlanStatus
from allocation.models import AllocationException, AllocationPlan, AllocationQuota

if TYPE_CHECKING:
    from crm.models import User
    from customers.models import Customer


def plan_list(*, status: str | None = None, q: str = "") -> QuerySet[AllocationPlan]:
    """Every plan version, newest period first (plans are company-wide: everyone with a
    people role may read them)."""
    qs = AllocationPlan.objects.select_related("product", "published_by")
    if status:
        qs = qs.filter(status=status)
    if q:
        qs = qs.filter(Q(code__icontains=q) | Q(name__icontains=q) | Q(product__code=q))
    return qs


def plan_get(*, pk: int) -> AllocationPlan:
    return get_object_or_404(AllocationPlan.objects.select_related("product"), pk=pk)


def plan_versions(*, plan: AllocationPlan) -> QuerySet[AllocationPlan]:
    return AllocationPlan.objects.filter(code=plan.code).order_by("-version")


def plans_in_force(*, on: dt.date, product_code: str | None = None) -> list[AllocationPlan]:
    """The published versions whose period holds `on`."""
    qs = AllocationPlan.objects.filter(
        status=PlanStatus.PUBLISHED, starts_on__lte=on, ends_on__gte=on
    ).select_related("product")
    if product_code:
        qs = qs.filter(product__code=product_code)
    return list(qs.order_by("pk"))


def allocations_on(
    *,
    user: User,
    on: dt.date,
    customer_code: str | None = None,
    product_code: str | None = None,
) -> tuple[list[AllocationPlan], QuerySet[AllocationQuota]]:
    """The quotas of the plans in force on `on` that `user` may see (a shop with no quota in
    a plan has no row for it), by id — and those plans, so a page of rows names its plan and
    product without a join."""
    plans = plans_in_force(on=on, product_code=product_code)
    qs = AllocationQuota.objects.visible_to(user).filter(plan_id__in=[p.pk for p in plans])
    if customer_code is not None:
        qs = qs.filter(customer__customer_code=customer_code)
    return plans, qs.order_by("pk")


def plan_totals_on(
    *, user: User, on: dt.date
) -> tuple[list[AllocationPlan], dict[int, dict[str, Any]], dict[int, list[AllocationQuota]]]:
    """Per plan in force on `on`, over the quotas `user` may see: the totals {plan id: {shops,
    quota_total, ordered_total, left (unused, a shop over counting 0), shops_over}} and the
    shops over their quota, most over first (three queries: the plans, the totals, the shops
    over; none but the first when no plan is in force)."""
    plans, quotas = allocations_on(user=user, on=on)
    if not plans:
        return plans, {}, {}
    totals = {
        row["plan_id"]: row
        for row in quotas.order_by()
        .values("plan_id")
        .annotate(
            shops=Count("pk"),
            quota_total=Sum("quota"),
            ordered_total=Sum("ordered"),
            left=Sum(Greatest(F("quota") - F("ordered"), 0, output_field=IntegerField())),
            shops_over=Count("pk", filter=Q(ordered__gt=F("quota"))),
        )
    }
    over: dict[int, list[AllocationQuota]] = {}
    for row in (
        quotas.filter(ordered__gt=F("quota"))
        .select_related("customer")
        .order_by("plan_id", F("quota") - F("ordered"), "customer__customer_code")
    ):
        over.setdefault(row.plan_id, []).append(row)
    return plans, totals, over


def customer_quotas(*, customer: Customer, on: dt.date) -> list[AllocationQuota]:
    """A shop's quotas in the plans in force on `on`, each with its plan (and why: see
    `quota_explanation`)."""
    return list(
        AllocationQuota.objects.filter(
            customer=customer,
            plan__status=PlanStatus.PUBLISHED,
            plan__starts_on__lte=on,
            plan__ends_on__gte=on,
        )
        .select_related("plan", "plan__product")
        .order_by("plan__product__code", "plan__code")
    )


def quota_explanation(quota: AllocationQuota) -> dict[str, Any]:
    """Why a shop has its quota: its grade and class in the grade month, the plan's rule for
    that grade, who is eligible, and the scaling to the supply (the carton of the remainder
    when it got one)."""
    plan = quota.plan
    scaled = plan.scale is not None
    base = quota.requested * plan.supply // plan.demand if scaled and plan.demand else quota.quota
    return {
        "grade": quota.grade,
        "structure_class": quota.structure_class,
        "grade_month": plan.grade_month,
        "per_grade": quota.requested,
        "classes": plan.structure_classes,
        "market_types": plan.market_types,
        "business_formats": plan.business_formats,
        "areas": bool(plan.area_ids),
        "scaled": scaled,
        "scale": plan.scale,
        "supply": plan.supply,
        "demand": plan.demand,
        "rounded_down": base,
        "remainder_bonus": quota.quota - base if scaled else 0,
    }


def exception_list(*, user: User, status: str | None = ExceptionStatus.OPEN) -> QuerySet:
    """Orders that took a shop past its quota, in the user's scope, newest first."""
    qs = AllocationException.objects.visible_to(user).select_related(
        "quota__plan__product", "quota__customer", "order", "reviewed_by"
    )
    if status:
        qs = qs.filter(status=status)
    return qs


def exception_status_counts(*, user: User) -> dict[str, int]:
    """The user's exceptions by status ({"open", "reviewed", "all"}), in one query, for the
    list's status tabs (as grading's `override_status_counts`)."""
    return exception_list(user=user, status=None).aggregate(
        open=Count("pk", filter=Q(status=ExceptionStatus.OPEN)),
        reviewed=Count("pk", filter=Q(status=ExceptionStatus.REVIEWED)),
        all=Count("pk"),
    )
