"""Demo supply allocation: for this month, two published plans of scarce demo products — one
scaled down to a supply smaller than its shops' grades ask for, one only for the better
structure classes — and a draft for next month, all made by the administrator through the
services (draft, preview, publish); then orders from the ordering system that take two of
am_zhang's shops past their quota, through the order sync, so the warnings and the
supervisors' exceptions are real.

The plans read this month's published grades: the grading demo publishes the latest graded
month; this one is published here when it is not (a reseed in a later month).

Seeded once a month: the plans' codes carry the month, and a plan deleted, closed or given a
new version stays so.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import F
from django.utils import timezone

from allocation import services
from allocation.choices import PlanStatus
from allocation.models import AllocationException, AllocationPlan, AllocationQuota
from crm import monthly_runs
from crm.choices import AuditSource
from crm.dates import add_months, month_start
from crm.demo import SeedReport, seed_once
from crm.models import User
from crm.services import Actor
from grading import selectors as grading_selectors
from grading import services as grading_services
from grading.models import GradeResult
from orders.models import Product
from orders.services import order_sync_many

DEMO_SOURCE = "ordering-system"  # the demo API client (crm.demo)
# Scarce demo products (orders.demo.DEMO_PRODUCTS): 中华(软), 利群(休闲细支), 玉溪(和谐).
SCALED_PRODUCT = "6901028075015"
CLASSES_PRODUCT = "6901028318013"
DRAFT_PRODUCT = "6901028180955"
# Cartons per shop for a month by grade (1 is the highest); grades beyond get the last.
_PER_GRADE = [24, 20, 16, 12, 10, 8, 6, 4]
_LOWEST = 2
# The supply of the scaled plan: this share of what the shops' grades ask for.
SUPPLY_SHARE = (4, 5)
# The class plan: structure classes 1 (best) to 5 only.
CLASSES = [1, 2, 3, 4, 5]
# am_zhang's shops an order takes past their quota, and by how many cartons.
OVER_SHOPS = 2
OVER_BY = 3


def _quotas(per_grade: list[int], lowest: int, grades: int = 30) -> dict[str, int]:
    return {
        str(g): per_grade[g - 1] if g <= len(per_grade) else lowest for g in range(1, grades + 1)
    }


def _month_end(month: dt.date) -> dt.date:
    return add_months(month, 1) - dt.timedelta(days=1)


def _grades_published(month: dt.date, by_admin: Actor) -> None:
    """Publishes grade `month` unless it is published (the grading demo publishes the latest
    graded month; a reseed in a later month finds this one graded but not yet published)."""
    if grading_selectors.publication_of(month=month) is None:
        grading_services.grades_publish(month=month, actor=by_admin, note="Demo")


def _plan(code: str, name: str, product: str, month: dt.date, **fields: Any) -> dict[str, Any]:
    return {
        "code": code,
        "name": name,
        "product_code": product,
        "starts_on": month,
        "ends_on": _month_end(month),
        "quotas": _quotas(_PER_GRADE, _LOWEST),
        **fields,
    }


def seed_allocation(report: SeedReport, *, actor: Actor) -> None:
    admin = User.objects.get(username="admin")
    by_admin = Actor.of(admin, actor.source)
    month = month_start(timezone.localdate())
    tag = f"{month:%Y%m}"
    scaled_code, classes_code = f"DEMO-ZHR-{tag}", f"DEMO-LQXZ-{tag}"
    products = set(
        Product.objects.filter(
            code__in=[SCALED_PRODUCT, CLASSES_PRODUCT, DRAFT_PRODUCT]
        ).values_list("code", flat=True)
    )
    if len(products) < 3 or not GradeResult.objects.filter(month=month).exists():
        report.lines.append("Allocation: no demo products or no grades this month; no plans.")
        return
    if seed_once(
        f"allocation.plans.{month:%Y-%m}",
        made=AllocationPlan.objects.filter(code=scaled_code).exists,
    ):
        _grades_published(month, by_admin)
        scaled = services.plan_create_draft(
            data=_plan(scaled_code, "中华(软) 本月投放（按货源压缩）", SCALED_PRODUCT, month),
            actor=by_admin,
        )
        # The supply: a share of what the grades ask for, so every quota is scaled down.
        demand = services.plan_preview(plan=scaled).allocation.demand
        supply = max(1, demand * SUPPLY_SHARE[0] // SUPPLY_SHARE[1])
        scaled = services.plan_update_draft(
            plan=scaled, data={**services.plan_as_data(scaled), "supply": supply}, actor=by_admin
        )
        services.plan_publish(plan=scaled, actor=by_admin)
        classes = services.plan_create_draft(
            data=_plan(
                classes_code,
                "利群(休闲细支) 结构一至五类",
                CLASSES_PRODUCT,
                month,
                structure_classes=CLASSES,
            ),
            actor=by_admin,
        )
        services.plan_publish(plan=classes, actor=by_admin)
        following = add_months(month, 1)
        services.plan_create_draft(
            data=_plan(
                f"DEMO-YXHX-{following:%Y%m}",
                "玉溪(和谐) 下月投放（草稿）",
                DRAFT_PRODUCT,
                following,
                supply=400,
            ),
            actor=by_admin,
        )
        _orders_over_quota(scaled_code, month, actor)
    # The supervisors' take-up of the month (the daily schedule's run, here at once).
    from allocation.monthly import RULES

    takeup = monthly_runs.recompute(RULES, month=month, actor=by_admin)
    plans = AllocationPlan.objects.filter(
        code__in=[scaled_code, classes_code], status=PlanStatus.PUBLISHED
    )
    report.lines.append(
        f"Allocation: take-up of {month:%Y-%m} computed for {len(takeup.results)} shops."
    )
    report.lines.append(
        f"Allocation: {plans.count()} plans in force for {month:%Y-%m} "
        f"({AllocationQuota.objects.filter(plan__in=plans).count()} shop quotas), "
        f"{AllocationException.objects.filter(quota__plan__in=plans).count()} orders over quota."
    )


def _orders_over_quota(code: str, month: dt.date, actor: Actor) -> None:
    """One order each from the ordering system that takes two of am_zhang's shops past their
    quota in the scaled plan (through the order sync, which reports and keeps them)."""
    plan = AllocationPlan.objects.select_related("product").get(
        code=code, status=PlanStatus.PUBLISHED
    )
    quotas = list(
        AllocationQuota.objects.filter(plan=plan, customer__account_manager__username="am_zhang")
        .select_related("customer")
        .annotate(left=F("quota") - F("ordered"))
        .order_by("customer__customer_code")[:OVER_SHOPS]
    )
    client = User.objects.filter(username=DEMO_SOURCE).first()
    sync_actor = Actor(user=client, source=AuditSource.API, label=DEMO_SOURCE) if client else actor
    today = timezone.localdate()
    rows = [
        {
            "external_id": f"DEMO-ALLOC-{month:%Y%m}-{quota.customer.customer_code}",
            "customer_code": quota.customer.customer_code,
            "order_date": today.isoformat(),
            "status": "delivered",
            "payment_method": "electronic",
            "paid_on_time": True,
            "payment_date": today.isoformat(),
            "lines": [
                {
                    "product_code": plan.product.code,
                    "quantity": max(quota.left, 0) + OVER_BY,
                    "unit_price": str(plan.product.wholesale_price),
                }
            ],
        }
        for quota in quotas
    ]
    if rows:
        order_sync_many(rows=rows, source=DEMO_SOURCE, actor=sync_actor)
