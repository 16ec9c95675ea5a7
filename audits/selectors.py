"""Reads of retail audits: the valuation's display-compliance input (one GROUP BY into a
frame) and the customer page's panel (the latest audit of each form, the shop's prices by
month). Scoped by the one scope rule: the panel's reads start from a customer the caller
reached through it; the valuation frame is the system's (every shop)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pandas as pd
from django.db.models import OuterRef, Subquery, Sum
from django.http import Http404
from django.utils import timezone

from audits.models import PACKS_PER_CARTON, Audit, AuditAnswer, ProductObservation
from crm.dates import add_months, month_start
from crm.frames import query_frame
from crm.models import ScopePaths
from crm.scope import scope_q

if TYPE_CHECKING:
    from crm.models import User
    from customers.models import Customer

DISPLAY_FRAME_COLUMNS = ("customer_id", "display_yes", "display_answered")
# Months of prices the customer page shows.
PRICE_HISTORY_MONTHS = 12


def _month_start_at(month: dt.date) -> dt.datetime:
    """Midnight of the first day of `month` in the site's time zone."""
    return timezone.make_aware(dt.datetime.combine(month_start(month), dt.time.min))


def display_compliance_frame(*, months: Sequence[dt.date]) -> pd.DataFrame:
    """Per shop audited in `months` (first days of consecutive months, site time zone) with
    at least one display answer: the "yes" and the display answers summed over its audits
    (DISPLAY_FRAME_COLUMNS; the valuation's `display_compliance` input). One GROUP BY."""
    if not months:
        return pd.DataFrame({c: pd.Series(dtype="int64") for c in DISPLAY_FRAME_COLUMNS})
    qs = (
        Audit.objects.filter(
            audited_at__gte=_month_start_at(min(months)),
            audited_at__lt=_month_start_at(add_months(max(months), 1)),
            display_answered__gt=0,
        )
        .order_by()
        .values("customer_id")
        .annotate(yes=Sum("display_yes"), answered=Sum("display_answered"))
        .values_list("customer_id", "yes", "answered")
    )
    return query_frame(
        *qs.query.sql_with_params(),
        columns=DISPLAY_FRAME_COLUMNS,
        dtypes=dict.fromkeys(DISPLAY_FRAME_COLUMNS, "int64"),
    )


# --- the customer page's panel ------------------------------------------------------------

ANSWER_SCOPE = ScopePaths(area="audit__customer__area", owner="audit__customer__account_manager")


def latest_audits(*, customer: Customer, user: User) -> list[Audit]:
    """The shop's latest audit of each form (by form code, whichever version), newest first,
    each with its answers (`answer_rows`) in the question order: two queries."""
    newest = (
        Audit.objects.filter(customer=OuterRef("customer"), form__code=OuterRef("form__code"))
        .order_by("-audited_at", "-id")
        .values("pk")[:1]
    )
    audits = list(
        Audit.objects.visible_to(user)
        .filter(customer=customer)
        .filter(pk=Subquery(newest))
        .select_related("form", "audited_by")
        .order_by("-audited_at", "-id")
    )
    answers = (
        AuditAnswer.objects.filter(audit__in=[a.pk for a in audits])
        .select_related("question", "product")
        .order_by("audit_id", "question__position", "question_id", "product__code")
    )
    by_audit: dict[int, list[AuditAnswer]] = {a.pk: [] for a in audits}
    for answer in answers if audits else ():
        by_audit[answer.audit_id].append(answer)
    for audit in audits:
        audit.answer_rows = by_audit[audit.pk]
    return audits


def price_history(
    *, customer: Customer, user: User, months: int = PRICE_HISTORY_MONTHS
) -> list[dict[str, Any]]:
    """The shop's retail prices of the last `months` months per product (code order), each
    month's latest observed price per carton and per pack beside the product's suggested
    retail price (per carton) and by how much it is above it: one query.

        [{"product": Product, "srp": Decimal | None,
          "months": [{"month": date, "price": Decimal, "pack": Decimal,
                      "above": Decimal | None}, …]}]   # oldest month first
    """
    since = add_months(month_start(timezone.localdate()), -(months - 1))
    observations = (
        ProductObservation.objects.visible_to(user)
        .filter(customer=customer, month__gte=since, price__isnull=False)
        .select_related("product")
        .order_by("product__code", "month")
    )
    rows: dict[int, dict[str, Any]] = {}
    for o in observations:
        srp = o.product.suggested_retail_price
        row = rows.setdefault(o.product_id, {"product": o.product, "srp": srp, "months": []})
        row["months"].append(
            {
                "month": o.month,
                "price": o.price,
                "pack": (o.price / PACKS_PER_CARTON).quantize(Decimal("0.01")),
                "above": o.price - srp if srp is not None and o.price > srp else None,
            }
        )
    return list(rows.values())


def answer_get(*, user: User, pk: int) -> AuditAnswer:
    """One answer (for its photo); 404 when there is none or its shop lies outside the user's
    scope (the one scope rule, through the answer's audit's customer)."""
    answer = AuditAnswer.objects.filter(scope_q(user, ANSWER_SCOPE), pk=pk).first()
    if answer is None:
        raise Http404
    return answer
