"""Published grades for the allocation API tests, made by hand: a plan reads only the grade
and the structure class of each shop in its start month, and only once the month is
published (`GradePublication`; the grading app's own tests cover how a month gets there)."""

from __future__ import annotations

import datetime as dt

from grading import services as grading_services
from grading.models import GradePublication, GradeResult


def make_grade(customer, month: dt.date, value: int, structure_class: int) -> GradeResult:
    """A stored grade of `customer` for `month` (the other figures are placeholders)."""
    return GradeResult.objects.create(
        customer=customer,
        month=month,
        scheme=grading_services.scheme_active(),
        basis="window",
        months_used=3,
        avg_cartons=100,
        avg_amount=20000,
        quantity_pct=50,
        amount_pct=50,
        scale_score=50,
        group_size=3,
        computed_grade=value,
        grade=value,
        business_scale="medium",
        category_code="CZ2",
        price_band=3,
        structure_class=structure_class,
    )


def publish_month(month: dt.date, by=None) -> GradePublication:
    return GradePublication.objects.create(month=month, published_by=by)
