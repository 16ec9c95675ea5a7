"""The demo's retail audits: suggested prices for the demo products, two active forms, answers
logged on visits of the named account managers' shops (some above the suggested price, some
key brands missing, display answers both ways), this month valued again so display compliance
appears; a second run changes nothing."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command
from django.utils import timezone

from audits.choices import FormStatus, QuestionKind
from audits.demo import SHELF_PRODUCTS
from audits.models import Audit, AuditAnswer, AuditForm
from crm.dates import month_start
from orders.models import Product
from valuation.models import ValueResult


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", "--customers", "50", "--months", "2", stdout=out)
    return out.getvalue()


def snapshot() -> dict:
    return {
        "forms": list(AuditForm.objects.order_by("id").values_list("id", "status")),
        "audits": list(Audit.objects.order_by("id").values_list("id", "display_yes")),
        "answers": AuditAnswer.objects.count(),
    }


def test_seed_demo_audits_shops_with_two_forms_once(db, settings):
    # One test, as seeding the whole demo takes a while.
    settings.DEBUG = True

    first = seed()

    assert not Product.objects.filter(suggested_retail_price__isnull=True).exists()
    forms = AuditForm.objects.filter(status=FormStatus.ACTIVE)
    assert forms.count() == 2
    assert {f.frequency for f in forms} == {"monthly", "every_visit"}
    display = forms.get(frequency="every_visit").questions.all()
    assert display.filter(is_display=True, condition_question__isnull=False).exists()
    assert display.filter(kind=QuestionKind.PHOTO, required=False).exists()
    # answers on visits of am_zhang's shops and of other account managers'
    audits = Audit.objects.select_related("customer__account_manager", "visit")
    managers = {a.customer.account_manager.username for a in audits}
    assert "am_zhang" in managers and len(managers) >= 3
    assert all(a.visit.visited_by_id == a.audited_by_id for a in audits)
    prices = AuditAnswer.objects.filter(question__kind=QuestionKind.PRODUCT_PRICE)
    srp = dict(
        Product.objects.filter(code__in=SHELF_PRODUCTS).values_list("pk", "suggested_retail_price")
    )
    above = [p for p in prices.exclude(number=None) if p.number > srp[p.product_id]]
    assert above and len(above) < prices.count()
    missing = AuditAnswer.objects.filter(question__kind=QuestionKind.PRODUCT_SHELF, value=False)
    assert missing.exists()
    assert AuditAnswer.objects.exclude(photo="").count() == 1
    # this month valued with the display answers of the month before
    this_month = ValueResult.objects.filter(month=month_start(timezone.localdate()))
    measured = this_month.filter(display_compliance__isnull=False)
    assert measured.exists()
    assert {0.0 < r.display_compliance <= 1 for r in measured} == {True}
    assert this_month.filter(display_compliance__isnull=True).exists()  # never audited
    assert "Audits: " in first and "2 forms" in first

    before = snapshot()
    second = seed()
    assert snapshot() == before
    assert "not logged again" in second
