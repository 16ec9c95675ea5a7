"""Demo retail audits: suggested retail prices for the demo products, two active forms — "Shelf
& price check" (once a month: per key-brand product on the shelf, its price per pack when it
is, its facings) and "Display & price tags" (every visit: yes / no display questions, one
asked only when the price tags are shown, and an optional photo) — and five weeks of answers
on visits of the named account managers' shops, logged through `visits.services.visit_log`
(so every answer is checked and recorded the real way). Some shops price above the suggested
price, some miss a key brand, and the display answers vary, so the reports show something;
then this month is valued again, so the support indicator's display compliance appears.

The audit visits go to shops whose open planned visits they leave alone (none due by
tomorrow, none within a cycle of an audit day), so the visit demo's agenda and plans stay as
it made them.

Seeded once: the prices only where a product has none, the forms and answers the first time.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from audits.choices import FormStatus, Frequency, PriceUnit, ProductScope, QuestionKind
from audits.models import PACKS_PER_CARTON, Audit, AuditForm, AuditQuestion
from crm.dates import month_start
from crm.demo import NAMED_BOOKS, SeedReport, seed_once
from crm.models import User
from crm.services import Actor
from customers.choices import CustomerStatus
from customers.models import Customer
from orders.demo import DEMO_PRODUCTS
from orders.models import Product
from valuation import services as valuation_services
from visits import services as visit_services
from visits.choices import PlanStatus, VisitType
from visits.models import PlannedVisit

SHELF_CODE = "DEMO-SHELF"
DISPLAY_CODE = "DEMO-DISPLAY"
# The suggested retail price per carton: the wholesale price plus this margin, to the yuan.
SRP_MARGIN = Decimal("1.15")
# The key brands the shelf form asks about: 中华(硬), 玉溪(软), 芙蓉王(硬), 利群(新版).
SHELF_PRODUCTS = ["6901028075862", "6901028180566", "6901028211383", "6901028317184"]
# Audited shops per named account manager, and the days (before today) of their audit visits:
# the oldest always in an earlier month than today's (the window of this month's valuation).
SHOPS_PER_MANAGER = 5
AUDIT_DAYS = (40, 26, 12)
AUDIT_HOUR = 16


def seed_audits(report: SeedReport, *, actor: Actor) -> None:
    priced = _seed_prices()
    if not seed_once("audits.history", made=Audit.objects.exists):
        report.lines.append(
            f"Audits: {Audit.objects.count()} exist already; the demo answers are not logged again."
        )
        return
    admin = User.objects.get(username="admin")
    first_day = timezone.localdate() - dt.timedelta(days=max(AUDIT_DAYS) + 1)
    shelf, display = _seed_forms(admin, activated=_at(first_day, 8))
    counts = _seed_answers(shelf, display, actor)
    # This month's valuation reads the display answers of the months before it.
    valuation_services.valuation_recompute(month=month_start(timezone.localdate()), actor=actor)
    report.lines.append(
        f"Audits: {priced} suggested retail prices set; 2 forms; {counts['audits']} audits on "
        f"{counts['visits']} visits of {counts['shops']} shops ({counts['above']} prices above "
        f"the suggested price, {counts['missing']} key brands missing from a shelf); this "
        "month valued again with display compliance."
    )


def _at(day: dt.date, hour: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))


def _seed_prices() -> int:
    """A suggested retail price for each demo product that has none."""
    wholesale = {code: Decimal(price) for code, _n, _b, _m, price, *_r in DEMO_PRODUCTS}
    products = list(Product.objects.filter(code__in=wholesale, suggested_retail_price__isnull=True))
    for product in products:
        product.suggested_retail_price = (wholesale[product.code] * SRP_MARGIN).quantize(
            Decimal("1"), rounding=ROUND_HALF_UP
        )
    Product.objects.bulk_update(products, ["suggested_retail_price"])
    return len(products)


def _seed_forms(admin: User, *, activated: dt.datetime) -> tuple[AuditForm, AuditForm]:
    """The two demo forms, active since `activated` (before the first audit visit).

    Made as rows here: the forms' services belong to their own part of the product (drafts,
    activation) and the demo needs two fixed, already active versions."""
    common = {
        "status": FormStatus.ACTIVE,
        "created_by": admin,
        "created_at": activated,
        "activated_by": admin,
        "activated_at": activated,
    }
    shelf = AuditForm.objects.create(
        code=SHELF_CODE,
        name="货架与价格检查 / Shelf & price check",
        description="每月一次：重点品规是否在架、零售价、排面。",
        frequency=Frequency.MONTHLY,
        **common,
    )
    products = list(Product.objects.filter(code__in=SHELF_PRODUCTS).order_by("code"))
    on_shelf = _question(
        shelf, 1, "on_shelf", QuestionKind.PRODUCT_SHELF, "在架 / On the shelf", required=True
    )
    price = _question(
        shelf,
        2,
        "price",
        QuestionKind.PRODUCT_PRICE,
        "零售价（每包） / Retail price per pack",
        required=True,
        price_unit=PriceUnit.PACK,
        condition_question=on_shelf,
        condition_values=["yes"],
    )
    facings = _question(
        shelf,
        3,
        "facings",
        QuestionKind.PRODUCT_FACINGS,
        "排面数 / Facings",
        minimum=Decimal("0"),
        maximum=Decimal("50"),
        condition_question=on_shelf,
        condition_values=["yes"],
    )
    for question in (on_shelf, price, facings):
        question.products.set(products)

    display = AuditForm.objects.create(
        code=DISPLAY_CODE,
        name="陈列与价签 / Display & price tags",
        description="每次拜访：陈列与明码标价。",
        frequency=Frequency.EVERY_VISIT,
        **common,
    )
    tags = _question(
        display, 1, "tags", QuestionKind.YES_NO, "明码标价 / Price tags shown", required=True,
        is_display=True,
    )  # fmt: skip
    _question(
        display, 2, "agreed", QuestionKind.YES_NO, "按协议陈列 / Display as agreed",
        required=True, is_display=True,
    )  # fmt: skip
    _question(
        display, 3, "tags_current", QuestionKind.YES_NO,
        "价签为最新版 / Tags are the current edition", is_display=True,
        condition_question=tags, condition_values=["yes"],
    )  # fmt: skip
    _question(display, 4, "photo", QuestionKind.PHOTO, "陈列照片 / Photo of the display")
    return shelf, display


def _question(form: AuditForm, position: int, key: str, kind: str, label: str, **fields: Any):
    if kind in (
        QuestionKind.PRODUCT_SHELF,
        QuestionKind.PRODUCT_PRICE,
        QuestionKind.PRODUCT_FACINGS,
    ):
        fields.setdefault("product_scope", ProductScope.LISTED)
    return AuditQuestion.objects.create(
        form=form, position=position, key=key, kind=kind, label=label, **fields
    )


def _shops() -> list[Customer]:
    """The first open shops of each named account manager whose open planned visits the
    audit visits leave alone: none due by tomorrow (today's agenda and the overdue visits stay
    as the visit demo made them) and none within a cycle of an audit day (a visit marks such
    a plan done, `visits.services.visit_log`)."""
    today = timezone.localdate()
    last_audit = today - dt.timedelta(days=min(AUDIT_DAYS))
    busy = {
        customer_id
        for customer_id, planned_for, cycle in PlannedVisit.objects.filter(
            status=PlanStatus.PLANNED
        ).values_list("customer_id", "planned_for", "cycle_days")
        if planned_for <= today + dt.timedelta(days=1) or (planned_for - last_audit).days <= cycle
    }
    shops: list[Customer] = []
    for _area, manager, _market, _n in NAMED_BOOKS:
        shops += list(
            Customer.objects.filter(account_manager__username=manager)
            .exclude(dynamic__status=CustomerStatus.CLOSED)
            .exclude(pk__in=busy)
            .select_related("account_manager", "area")
            .order_by("customer_code")[:SHOPS_PER_MANAGER]
        )
    return shops


def _photo() -> SimpleUploadedFile:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), (200, 40, 40)).save(buffer, format="JPEG")
    return SimpleUploadedFile("display.jpg", buffer.getvalue(), content_type="image/jpeg")


def _seed_answers(shelf: AuditForm, display: AuditForm, actor: Actor) -> dict[str, int]:
    """Each shop's audit visits (`AUDIT_DAYS`): the display form every time, the shelf form
    on the first visit of a month. Shop n prices 8-12% above the suggested price when n % 3
    is 0 (else at or a little below it), misses its last key brand when n % 4 is 1, shows no
    price tags when n % 5 is 2 and keeps the display as agreed on two visits out of three."""
    questions = {q.key: q for q in AuditQuestion.objects.filter(form__in=[shelf, display])}
    products = list(Product.objects.filter(code__in=SHELF_PRODUCTS).order_by("code"))
    today = timezone.localdate()
    counts = {"visits": 0, "audits": 0, "above": 0, "missing": 0, "shops": 0}
    for n, shop in enumerate(_shops()):
        counts["shops"] += 1
        months_done: set[dt.date] = set()
        for k, days in enumerate(AUDIT_DAYS):
            day = today - dt.timedelta(days=days)
            audits = [_display_answers(display, questions, n, k)]
            photos = None
            if n == 0 and k == len(AUDIT_DAYS) - 1:  # am_zhang's first shop, its latest visit
                audits[0]["answers"].append({"question": questions["photo"].pk, "value": "photo"})
                photos = {"photo": _photo()}
            if month_start(day) not in months_done:
                months_done.add(month_start(day))
                answers, above, missing = _shelf_answers(questions, products, n, k)
                audits.insert(0, {"form": shelf.pk, "answers": answers})
                counts["above"] += above
                counts["missing"] += missing
            visit_services.visit_log(
                customer=shop,
                data={
                    "visited_at": _at(day, AUDIT_HOUR),
                    "ended_at": _at(day, AUDIT_HOUR) + dt.timedelta(minutes=20),
                    "visit_type": VisitType.INSPECTION,
                    "purpose": "陈列与价格检查 / Display and price check",
                },
                actor=Actor.of(shop.account_manager, actor.source),
                audits=audits,
                audit_photos=photos,
            )
            counts["visits"] += 1
            counts["audits"] += len(audits)
    return counts


def _display_answers(display: AuditForm, questions: dict, n: int, k: int) -> dict[str, Any]:
    tags = n % 5 != 2
    answers = [
        {"question": questions["tags"].pk, "value": tags},
        {"question": questions["agreed"].pk, "value": (n + k) % 3 != 0},
    ]
    if tags:  # asked only when the tags are shown
        answers.append({"question": questions["tags_current"].pk, "value": (n + k) % 4 != 1})
    return {"form": display.pk, "answers": answers}


def _shelf_answers(
    questions: dict, products: list[Product], n: int, k: int
) -> tuple[list[dict[str, Any]], int, int]:
    answers: list[dict[str, Any]] = []
    above = missing = 0
    for i, product in enumerate(products):
        code = product.code
        on_shelf = not (n % 4 == 1 and i == len(products) - 1)
        answers.append({"question": questions["on_shelf"].pk, "product_code": code,
                        "value": on_shelf})  # fmt: skip
        if not on_shelf:
            missing += 1
            continue
        srp_pack = product.suggested_retail_price / PACKS_PER_CARTON
        factor = Decimal("1.08") + Decimal("0.02") * ((n + i + k) % 3) if n % 3 == 0 else (
            Decimal("1") - Decimal("0.02") * ((n + i) % 3)
        )  # fmt: skip
        price = (srp_pack * factor).quantize(Decimal("0.5"), rounding=ROUND_HALF_UP)
        above += price > srp_pack
        answers += [
            {"question": questions["price"].pk, "product_code": code, "value": str(price)},
            {"question": questions["facings"].pk, "product_code": code, "value": 2 + (n + i) % 4},
        ]
    return answers, above, missing
