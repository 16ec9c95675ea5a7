"""Audit forms on the visit form of a phone with the network cut (the pattern of
test_offline_browser): the kept copy of the form carries the forms due at the shop; questions
show as their conditions are met, a price far from the suggested one asks for its confirmation,
and the answers (with the audit's photo) wait in the outbox with the visit until the network
returns; then the visit is stored once with its audit."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from audits.choices import ProductScope, QuestionKind
from audits.models import Audit, AuditAnswer
from tests.audits.factories import make_form
from tests.browser import test_offline_browser
from tests.browser.test_accessibility import AXE, FAILING_IMPACTS, RUN_AXE
from tests.browser.test_offline_browser import kept_with_a_photo, load_agenda_online
from tests.orders.factories import make_product
from visits.models import Visit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

K = QuestionKind
# The account manager's day of the offline test: a shop planned today, one tomorrow, a photo.
road = test_offline_browser.road


@pytest.fixture
def shelf_form(db):
    product = make_product("A", suggested_retail_price=Decimal("300.00"), name="红双喜")
    form = make_form(
        "shelf",
        [
            {"key": "tags", "kind": K.YES_NO, "label": "Price tags shown", "required": True},
            {
                "key": "why",
                "kind": K.SINGLE_CHOICE,
                "label": "Why not",
                "choices": ["lost", "old"],
                "condition": "tags",
                "condition_values": ["no"],
            },
            {"key": "photo", "kind": K.PHOTO, "label": "Shelf photo"},
            {
                "key": "shelf",
                "kind": K.PRODUCT_SHELF,
                "label": "On shelf",
                "product_scope": ProductScope.LISTED,
                "products": [product],
            },
            {
                "key": "price",
                "kind": K.PRODUCT_PRICE,
                "label": "Price",
                "price_unit": "pack",
                "product_scope": ProductScope.LISTED,
                "products": [product],
                "condition": "shelf",
                "condition_values": ["yes"],
            },
        ],
        name="Shelf check",
    )
    # Active before the visit (its time is the minute the form was opened, seconds earlier).
    form.activated_at = timezone.now() - dt.timedelta(days=1)
    form.save(update_fields=["activated_at"])
    return form


def axe_serious(page):
    """The serious and critical axe-core violations of the page (tests/browser/vendor)."""
    page.evaluate(AXE)
    return [v for v in page.evaluate(RUN_AXE) if v["impact"] in FAILING_IMPACTS]


def field(form, key, product=""):
    question = form.questions.get(key=key)
    base = f"audit-{form.pk}-{question.pk}"
    return f"{base}-{product}" if product else base


def test_an_audit_filled_in_with_no_network_is_sent_with_the_visit(
    live_server, page, road, shelf_form
):
    base = live_server.url
    shop = road["today"]
    load_agenda_online(page, base)
    page.context.set_offline(True)

    # The kept copy of the visit form carries the audit form due at the shop.
    page.goto(f"{base}/visits/log/?customer={shop.customer_code}")
    audit = page.get_by_test_id(f"audit-form-{shelf_form.pk}")
    audit.locator("summary").click()
    why = page.get_by_test_id(f"field-{field(shelf_form, 'why')}")
    price_box = page.get_by_test_id(f"field-{field(shelf_form, 'price', 'A')}")

    # Conditions: "why not" only when the tags are missing, the price when on the shelf.
    assert why.is_hidden() and price_box.is_hidden()
    page.check(f"#{field(shelf_form, 'tags')}-no")
    assert why.is_visible()
    page.check(f"#{field(shelf_form, 'tags')}-yes")
    assert why.is_hidden()
    page.check(f"#{field(shelf_form, 'shelf', 'A')}-yes")
    assert price_box.is_visible()

    # A price of 70 a pack (233 % of 30): the confirmation is asked before sending.
    price = f"#{field(shelf_form, 'price', 'A')}"
    page.fill(price, "70")
    confirm = page.locator(f"#{field(shelf_form, 'price', 'A')}-confirmed")
    confirm.wait_for()
    page.fill("#id_purpose", "Audit offline")
    page.set_input_files(f"#{field(shelf_form, 'photo')}", str(road["photo"]))
    page.get_by_test_id("save-visit").click()
    assert page.get_by_test_id("send-status").is_hidden()  # the browser stopped it
    assert page.evaluate(f"document.querySelector('{price}-confirmed').validity.valueMissing")
    confirm.check()
    page.get_by_test_id("save-visit").click()

    # It waits on the phone, with the audit's photo.
    outbox = kept_with_a_photo(page)

    # The network returns: the visit is stored once, with its audit.
    page.context.set_offline(False)
    outbox.get_by_text("1 visit logged without a connection was sent.").wait_for()
    visit = Visit.objects.get()
    assert visit.purpose == "Audit offline"
    stored = Audit.objects.get(visit=visit)
    answers = {
        (a.question.key, a.product.code if a.product else ""): a
        for a in AuditAnswer.objects.filter(audit=stored).select_related("question", "product")
    }
    assert set(answers) == {("tags", ""), ("photo", ""), ("shelf", "A"), ("price", "A")}
    assert answers[("tags", "")].value is True
    assert answers[("price", "A")].number == Decimal("700.00")
    assert answers[("photo", "")].photo_thumbnail

    # The visit's page shows the answers.
    page.goto(f"{base}/visits/{visit.pk}/")
    card = page.get_by_test_id(f"visit-audit-{shelf_form.pk}")
    assert "Price tags shown" in card.inner_text()
    assert "70 per pack" in page.get_by_test_id("audit-product-row-A").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert axe_serious(page) == []


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_audit_fields_fit_a_phone_and_pass_axe(live_server, page, road, shelf_form, language):
    # 360 px, the form opened with every question shown (conditions met, confirmation asked)
    from django.conf import settings

    base = live_server.url
    page.set_viewport_size({"width": 360, "height": 800})
    page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": base}]
    )
    page.goto(f"{base}/visits/log/?customer={road['today'].customer_code}")
    page.get_by_test_id(f"audit-form-{shelf_form.pk}").locator("summary").click()
    page.check(f"#{field(shelf_form, 'tags')}-no")
    page.check(f"#{field(shelf_form, 'shelf', 'A')}-yes")
    page.fill(f"#{field(shelf_form, 'price', 'A')}", "70")
    page.locator(f"#{field(shelf_form, 'price', 'A')}-confirmed").wait_for()

    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert axe_serious(page) == []


def test_the_draft_keeps_the_audit_answers(live_server, page, road, shelf_form):
    # Radios are kept by their checked state: the form opened again shows the same answers,
    # the form's block open and the conditional question shown.
    url = f"{live_server.url}/visits/log/?customer={road['today'].customer_code}"
    page.goto(url)
    page.get_by_test_id(f"audit-form-{shelf_form.pk}").locator("summary").click()
    page.check(f"#{field(shelf_form, 'tags')}-no")
    page.check(f"#{field(shelf_form, 'why')}-2")

    page.goto(url)

    page.get_by_test_id("draft-notice").wait_for()
    assert page.is_checked(f"#{field(shelf_form, 'tags')}-no")
    assert not page.is_checked(f"#{field(shelf_form, 'tags')}-yes")
    assert page.get_by_test_id(f"field-{field(shelf_form, 'why')}").is_visible()
    assert page.is_checked(f"#{field(shelf_form, 'why')}-2")
    assert page.get_attribute(f"#{field(shelf_form, 'tags')}-yes", "value") == "yes"


def test_a_refused_audit_comes_back_in_the_form_with_its_answers(
    live_server, page, road, shelf_form
):
    # Online: a form started (its photo chosen) without its required answer is refused; the
    # script puts the server's form back, the block open with the message, the photo to
    # choose again, the rest as typed.
    page.goto(f"{live_server.url}/visits/log/?customer={road['today'].customer_code}")
    page.get_by_test_id(f"audit-form-{shelf_form.pk}").locator("summary").click()
    page.fill("#id_purpose", "Refused audit")
    page.check(f"#{field(shelf_form, 'shelf', 'A')}-yes")
    page.set_input_files(f"#{field(shelf_form, 'photo')}", str(road["photo"]))
    page.get_by_test_id("save-visit").click()

    errors = page.get_by_test_id(f"audit-form-errors-{shelf_form.pk}")
    errors.wait_for()
    assert "Price tags shown" in errors.inner_text()
    photo_box = page.get_by_test_id(f"field-{field(shelf_form, 'photo')}")
    assert "choose it again" in photo_box.inner_text()
    assert page.is_checked(f"#{field(shelf_form, 'shelf', 'A')}-yes")
    assert page.get_by_test_id(f"field-{field(shelf_form, 'price', 'A')}").is_visible()
    assert page.input_value("#id_purpose") == "Refused audit"
    assert not Visit.objects.exists()
