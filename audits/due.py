"""Which audit forms a shop is asked to fill in (AUDITS.md, "Definitions").

- A form version *targets* a shop when every filter that is set matches: business format,
  market type, value tier, structure class, area (the shop's area or one above it is among the
  form's `area_ids`). A shop whose attribute is blank does not pass a filter that is set.
- It is *due* (`forms_due`) when it targets an open shop and its frequency allows: every
  visit; monthly — no audit of any version of the code at the shop in the calendar month (site
  time zone); once — never audited with the code.
- It is *accepted* (`forms_accepted`) when it was active at the visit's time and targets the
  shop, due or not: an offline visit sent after its version was retired is still taken.
- A per-product question is asked once per product: the active products listed, or the shop's
  eligible products (`eligible_products`), in product code order.

Reads: the active forms with their questions and products in three queries, whatever the
number of questions; the area tree, the shop's audits and its eligible products once each, and
only when a form needs them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db.models import Prefetch, Q
from django.utils import timezone

from allocation.selectors import customer_quotas
from audits.choices import PRODUCT_KINDS, FormStatus, Frequency, ProductScope
from audits.models import Audit, AuditForm, AuditQuestion
from crm.scope import ancestor_area_ids
from customers.choices import CustomerStatus
from customers.models import Customer
from orders.choices import OrderStatus
from orders.models import OrderLine, Product

# "Ordered lately": order lines of the days before the audit.
ELIGIBLE_ORDER_DAYS = 90


@dataclass(frozen=True)
class DueQuestion:
    """A question as asked at a shop: per-product questions once per product."""

    question: AuditQuestion
    product: Product | None = None

    @property
    def product_code(self) -> str | None:
        return self.product.code if self.product is not None else None


@dataclass(frozen=True)
class DueForm:
    """A form version with its questions as asked at one shop (position order, then product
    code)."""

    form: AuditForm
    questions: list[DueQuestion]


def forms_due(*, customer: Customer, on: dt.date | None = None) -> list[DueForm]:
    """The active form versions due at the shop on `on` (today by default), by form code.
    Closed shops are never due."""
    on = on or timezone.localdate()
    if _status(customer) == CustomerStatus.CLOSED:
        return []
    forms = _targeting(customer, AuditForm.objects.filter(status=FormStatus.ACTIVE))
    forms = _still_due(customer, forms, on=on)
    return _expand(customer, forms, on=on)


def forms_accepted(*, customer: Customer, at: dt.datetime) -> list[DueForm]:
    """The form versions active at `at` that target the shop, due or not (a visit logged
    offline and sent after a newer version was activated keeps the version it was shown)."""
    active_then = AuditForm.objects.filter(
        Q(retired_at__isnull=True) | Q(retired_at__gt=at),
        status__in=(FormStatus.ACTIVE, FormStatus.RETIRED),
        activated_at__lte=at,
    )
    forms = _targeting(customer, active_then)
    return _expand(customer, forms, on=timezone.localdate(at))


def eligible_products(*, customer: Customer, on: dt.date) -> list[Product]:
    """The shop's eligible products on `on`: the active products it ordered in the
    `ELIGIBLE_ORDER_DAYS` days up to `on` (orders that count: placed or delivered) and those
    of its allocation quotas in force on `on`, by product code."""
    since = on - dt.timedelta(days=ELIGIBLE_ORDER_DAYS)
    ordered = set(
        OrderLine.objects.filter(
            # The month bound lets PostgreSQL skip the older partitions of the lines.
            month__gte=since.replace(day=1),
            order__customer=customer,
            order__order_date__gte=since,
            order__order_date__lte=on,
            order__status__in=OrderStatus.counted(),
        )
        .order_by()
        .values_list("product_id", flat=True)
        .distinct()
    )
    quota_products = {quota.plan.product for quota in customer_quotas(customer=customer, on=on)}
    ordered -= {product.pk for product in quota_products}
    products = [product for product in quota_products if product.active]
    if ordered:
        products += list(Product.objects.filter(pk__in=ordered, active=True))
    return sorted(products, key=lambda product: product.code)


# --- the parts ------------------------------------------------------------------------------


def _status(customer: Customer) -> str | None:
    dynamic = getattr(customer, "dynamic", None)
    return dynamic.status if dynamic is not None else None


def _targeting(customer: Customer, forms) -> list[AuditForm]:
    """The forms (with their questions and products) whose filters the shop passes."""
    questions = AuditQuestion.objects.order_by("position", "id").prefetch_related(
        Prefetch("products", queryset=Product.objects.filter(active=True).order_by("code"))
    )
    rows = list(
        forms.order_by("code", "-version").prefetch_related(
            Prefetch("questions", queryset=questions)
        )
    )
    system = getattr(customer, "system", None)
    value_tier = system.value_tier if system is not None else ""
    structure_class = system.structure_class if system is not None else None
    areas: frozenset[int] | None = None
    kept: list[AuditForm] = []
    for form in rows:
        if not _passes(form.business_formats, customer.business_format):
            continue
        if not _passes(form.market_types, customer.market_type):
            continue
        if not _passes(form.value_tiers, value_tier):
            continue
        if not _passes(form.structure_classes, structure_class):
            continue
        if form.area_ids:
            if areas is None:
                # The shop's area and those above it: one read of the area tree.
                areas = ancestor_area_ids([customer.area_id]) if customer.area_id else frozenset()
            if not areas.intersection(form.area_ids):
                continue
        kept.append(form)
    return kept


def _passes(wanted: Sequence, value) -> bool:
    """An empty filter lets everyone through; a blank attribute passes no filter that is set."""
    if not wanted:
        return True
    if value in (None, ""):
        return False
    return value in wanted or str(value) in {str(item) for item in wanted}


def _still_due(customer: Customer, forms: list[AuditForm], *, on: dt.date) -> list[AuditForm]:
    """Drops the monthly forms audited in `on`'s month and the once forms ever audited."""
    limited = {f.code for f in forms if f.frequency != Frequency.EVERY_VISIT}
    if not limited:
        return forms
    zone = timezone.get_current_timezone()
    month_start = dt.datetime(on.year, on.month, 1, tzinfo=zone)
    next_month = (on.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    month_end = dt.datetime(next_month.year, next_month.month, 1, tzinfo=zone)
    seen: dict[str, bool] = {}  # code → audited in the month (False: audited before)
    for code, audited_at in (
        Audit.objects.filter(customer=customer, form__code__in=limited)
        .order_by()
        .values_list("form__code", "audited_at")
    ):
        in_month = month_start <= audited_at < month_end
        seen[code] = seen.get(code, False) or in_month
    kept = []
    for form in forms:
        if form.frequency == Frequency.MONTHLY and seen.get(form.code):
            continue
        if form.frequency == Frequency.ONCE and form.code in seen:
            continue
        kept.append(form)
    return kept


def _expand(customer: Customer, forms: Iterable[AuditForm], *, on: dt.date) -> list[DueForm]:
    """Each form with its questions as asked: per-product ones once per product."""
    forms = list(forms)
    eligible: list[Product] | None = None
    due: list[DueForm] = []
    for form in forms:
        questions: list[DueQuestion] = []
        for question in form.questions.all():
            if question.kind not in PRODUCT_KINDS:
                questions.append(DueQuestion(question))
                continue
            if question.product_scope == ProductScope.ELIGIBLE:
                if eligible is None:
                    eligible = eligible_products(customer=customer, on=on)
                products = eligible
            else:
                products = list(question.products.all())
            questions.extend(DueQuestion(question, product) for product in products)
        due.append(DueForm(form=form, questions=questions))
    return due
