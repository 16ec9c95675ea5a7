"""Grades and plans for allocation tests, by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from allocation import services
from grading.models import GradePublication, GradeResult
from grading.services import scheme_active


def month_of(month: str | dt.date) -> dt.date:
    return month if isinstance(month, dt.date) else dt.date.fromisoformat(f"{month}-01")


def grade(customer, month: str | dt.date, grade: int, structure_class: int = 5) -> GradeResult:
    """`customer`'s effective grade and structure class in grade `month` ("YYYY-MM")."""
    return GradeResult.objects.create(
        customer=customer,
        month=month_of(month),
        scheme=scheme_active(),
        basis="window",
        months_used=3,
        avg_cartons=Decimal("10.00"),
        avg_amount=Decimal("2000.00"),
        quantity_pct=0.5,
        amount_pct=0.5,
        scale_score=0.5,
        group_size=1,
        computed_grade=grade,
        grade=grade,
        business_scale="medium",
        category_code="ZC1",
        price_band=1,
        structure_class=structure_class,
    )


def publish(month: str | dt.date, user=None) -> GradePublication:
    """Grade `month` published (locked), as a supervisor's review leaves it."""
    return GradePublication.objects.create(month=month_of(month), published_by=user)


def plan_data(product, **fields) -> dict:
    """A plan as the sync sends it: December 2026, grades 1-3 get 30 / 20 / 10 cartons."""
    data = {
        "code": "2026-12-ZHZ",
        "product_code": getattr(product, "code", product),
        "starts_on": "2026-12-01",
        "ends_on": "2026-12-31",
        "quotas": {"1": 30, "2": 20, "3": 10},
    }
    data.update(fields)
    return data


def published_plan(product, actor, **fields):
    """A plan created and published through the services."""
    plan = services.plan_create_draft(data=plan_data(product, **fields), actor=actor)
    return services.plan_publish(plan=plan, actor=actor)
