"""Audits stored by hand for the report tests (the core's audits_record is tested on its own):
a visit, one audit of a form with shelf / price / facings questions, its answers, then
`observations_record` as audits_record calls it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.utils import timezone

from audits.choices import ProductScope, QuestionKind
from audits.models import Audit, AuditAnswer, AuditForm
from audits.observations import observations_record
from tests.audits.factories import make_form
from visits.models import Visit


def product_form(code: str = "prices") -> AuditForm:
    """A form asking, per eligible product, on the shelf / price per carton / facings."""
    return make_form(
        code,
        [
            {"kind": QuestionKind.PRODUCT_SHELF, "product_scope": ProductScope.ELIGIBLE},
            {
                "kind": QuestionKind.PRODUCT_PRICE,
                "product_scope": ProductScope.ELIGIBLE,
                "price_unit": "carton",
            },
            {"kind": QuestionKind.PRODUCT_FACINGS, "product_scope": ProductScope.ELIGIBLE},
        ],
    )


def when(day: int, hour: int = 10, month: int = 11, year: int = 2026) -> dt.datetime:
    """An aware moment in the site time zone."""
    return timezone.make_aware(dt.datetime(year, month, day, hour))  # noqa: DTZ001 - made aware


def audit_stored(
    customer: Any,
    at: dt.datetime,
    *,
    form: AuditForm,
    prices: Mapping[Any, str] | None = None,
    shelf: Mapping[Any, bool] | None = None,
    facings: Mapping[Any, int] | None = None,
    record: bool = True,
) -> Audit:
    """One audit of `form` at `customer` on a visit at `at`: prices per carton, on the
    shelf and facings by product; recorded into the observations unless `record` is False."""
    user = customer.account_manager
    visit = Visit.objects.create(
        customer=customer, visited_by=user, visited_at=at, visit_type="routine", purpose="Audit"
    )
    audit = Audit.objects.create(
        visit=visit, form=form, customer=customer, audited_by=user, audited_at=at
    )
    questions = {q.kind: q for q in form.questions.all()}
    answers = [
        AuditAnswer(
            audit=audit,
            question=questions[kind],
            product=product,
            value=value,
            number=None if kind == QuestionKind.PRODUCT_SHELF else Decimal(value),
        )
        for kind, values in (
            (QuestionKind.PRODUCT_SHELF, shelf),
            (QuestionKind.PRODUCT_PRICE, prices),
            (QuestionKind.PRODUCT_FACINGS, facings),
        )
        for product, value in (values or {}).items()
    ]
    AuditAnswer.objects.bulk_create(answers)
    if record:
        observations_record(audits=[audit])
    return audit


def tallies(month: dt.date | None = None) -> dict[tuple[str, str, str], int]:
    """{(product code, area code, price): shops} of the non-empty tallies."""
    from audits.models import PriceTally

    rows = PriceTally.objects.filter(shops__gt=0)
    if month:
        rows = rows.filter(month=month)
    return {
        (t.product.code, t.area.code, f"{t.price:.2f}"): t.shops
        for t in rows.select_related("product", "area")
    }
