"""The audit forms on the visit form: the fields of the forms due at the shop, answers posted
with the visit (plain post and the script's fetch()), refusals shown beside their fields with
everything typed kept, and the answers on the visit's page."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import QueryDict
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from PIL import Image

from audits import visit_audits
from audits.choices import Frequency, PriceUnit, ProductScope, QuestionKind
from audits.due import forms_due
from audits.fields import audit_blocks, audit_post
from audits.models import Audit, AuditAnswer
from tests.audits.factories import make_form
from tests.customers.factories import make_customer
from tests.orders.factories import make_product
from tests.visits.test_logging_pages import FETCH, log_url, visit_data
from visits.models import Visit

K = QuestionKind


@pytest.fixture
def shop(customer_world):
    return make_customer("TH", customer_world["am_th"], store_name="检查烟酒店")


@pytest.fixture
def products(db):
    return {
        # 300.00 a carton: 30.00 a pack; 15.00–60.00 a pack needs no confirmation
        "A": make_product("A", suggested_retail_price=Decimal("300.00")),
        "B": make_product("B"),  # no suggested retail price
    }


@pytest.fixture
def shelf_form(products, shop):
    """Every kind of question; the price asked only when the product is on the shelf, the
    state of the display only when the price tags are missing."""
    listed = {"product_scope": ProductScope.LISTED, "products": [products["A"], products["B"]]}
    form = make_form(
        "shelf",
        [
            {"key": "tags", "kind": K.YES_NO, "label": "Price tags shown", "required": True},
            {"key": "width", "kind": K.NUMBER, "label": "Shelf width", "minimum": 0, "maximum": 10},
            {
                "key": "state",
                "kind": K.SINGLE_CHOICE,
                "label": "Display state",
                "choices": ["good", "poor"],
                "condition": "tags",
                "condition_values": ["no"],
            },
            {
                "key": "posters",
                "kind": K.MULTIPLE_CHOICE,
                "label": "Posters",
                "choices": ["红", "蓝"],
            },
            {"key": "note", "kind": K.TEXT, "label": "Note"},
            {"key": "photo", "kind": K.PHOTO, "label": "Shelf photo"},
            {"key": "shelf", "kind": K.PRODUCT_SHELF, "label": "On shelf", **listed},
            {
                "key": "price",
                "kind": K.PRODUCT_PRICE,
                "label": "Price",
                "price_unit": PriceUnit.PACK,
                "condition": "shelf",
                "condition_values": ["yes"],
                **listed,
            },
            {"key": "facings", "kind": K.PRODUCT_FACINGS, "label": "Facings", **listed},
        ],
        name="Shelf check",
    )
    # Active before the visits of the tests (logged 40 minutes ago): the version they were shown.
    form.activated_at = timezone.now() - dt.timedelta(days=1)
    form.save(update_fields=["activated_at"])
    return form


def q(form, key):
    return form.questions.get(key=key)


def name(form, key, product=""):
    base = f"audit-{form.pk}-{q(form, key).pk}"
    return f"{base}-{product}" if product else base


def png():
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 10)).save(out, format="PNG")
    return SimpleUploadedFile("shelf.png", out.getvalue(), content_type="image/png")


# --- the fields -----------------------------------------------------------------------------


def test_the_form_shows_each_due_form_with_a_field_per_question(
    client, customer_world, shop, shelf_form
):
    client.force_login(customer_world["am_th"])

    response = client.get(log_url(shop))

    html = response.content.decode()
    assert f'data-testid="audit-form-{shelf_form.pk}"' in html
    assert "Shelf check" in html
    # yes / no radios, the required mark
    assert (
        f'name="{name(shelf_form, "tags")}" id="{name(shelf_form, "tags")}-yes" value="yes"' in html
    )
    assert "(required)" in html
    # a number with its range
    assert f'name="{name(shelf_form, "width")}"' in html and 'min="0" max="10"' in html
    # a condition carried by data attributes
    tags = name(shelf_form, "tags")
    assert f'data-condition-field="{tags}" data-condition-values="[&quot;no&quot;]"' in html
    # choices: radios (few), checkboxes; a text; a photo taken with the camera
    assert f'type="radio" name="{name(shelf_form, "state")}"' in html
    assert f'type="checkbox" name="{name(shelf_form, "posters")}"' in html and 'value="蓝"' in html
    assert f'<textarea class="form-control" name="{name(shelf_form, "note")}"' in html
    assert f'type="file" name="{name(shelf_form, "photo")}"' in html
    assert html.count('capture="environment"') == 2  # the visit's photo and the audit's
    # per product: one group per product with on-shelf / price (unit, SRP in it) / facings
    assert f'data-testid="audit-product-{shelf_form.pk}-A"' in html
    assert f'data-testid="audit-product-{shelf_form.pk}-B"' in html
    price_a = name(shelf_form, "price", "A")
    assert f'name="{price_a}"' in html and 'data-srp="30.00"' in html
    assert 'data-price-low="15.000" data-price-high="60.00"' in html
    assert "Suggested retail price: 30.00 per pack" in html
    assert f'data-confirm-for="{price_a}" hidden' in html  # shown by the script when needed
    # B has no suggested price: no confirmation to ask
    assert f'data-confirm-for="{name(shelf_form, "price", "B")}"' not in html
    # the price of a product is asked when that product is on the shelf
    assert f'data-condition-field="{name(shelf_form, "shelf", "A")}"' in html
    assert f'name="{name(shelf_form, "facings", "B")}"' in html


def test_no_audit_section_when_nothing_is_due(client, customer_world, shop):
    client.force_login(customer_world["am_th"])
    response = client.get(log_url(shop))
    assert 'data-testid="audit-forms"' not in response.content.decode()


def test_only_the_answered_forms_are_sent_and_as_the_service_takes_them(shop, shelf_form):
    # The page's fields → the raw audits of AUDITS.md (audit_post reads no database).
    other = make_form("other", [{"kind": K.TEXT}], frequency=Frequency.MONTHLY)
    due = [df for df in forms_due(customer=shop) if df.form.pk in (shelf_form.pk, other.pk)]
    data = QueryDict(mutable=True)
    data[name(shelf_form, "tags")] = "no"
    data[name(shelf_form, "width")] = " 2.5 "
    data.setlist(name(shelf_form, "posters"), ["红", "蓝"])
    data[name(shelf_form, "price", "A")] = "90"
    data[name(shelf_form, "price", "A") + "-confirmed"] = "1"
    photo = png()
    files = {name(shelf_form, "photo"): photo}

    post = audit_post(audit_blocks(due, data, files), files)

    assert post.raw == [
        {
            "form": shelf_form.pk,
            "answers": [
                {"question": q(shelf_form, "tags").pk, "value": False},
                {"question": q(shelf_form, "width").pk, "value": "2.5"},
                {"question": q(shelf_form, "posters").pk, "value": ["红", "蓝"]},
                {"question": q(shelf_form, "photo").pk, "value": name(shelf_form, "photo")},
                {
                    "question": q(shelf_form, "price").pk,
                    "product_code": "A",
                    "value": "90",
                    "confirmed": True,
                },
            ],
        }
    ]  # the other form, untouched, is not filled in on this visit
    assert post.photos == {name(shelf_form, "photo"): photo}


# --- posting (through visits.services.visit_log) ----------------------------------------------


def answers(form, **extra):
    return {
        name(form, "tags"): "yes",
        name(form, "width"): "3",
        name(form, "posters"): ["红"],
        name(form, "note"): "整洁",
        name(form, "shelf", "A"): "yes",
        name(form, "price", "A"): "32",
        name(form, "facings", "A"): "4",
        name(form, "shelf", "B"): "no",
        **extra,
    }


def test_a_visit_is_saved_with_its_answers(client, customer_world, shop, shelf_form):
    client.force_login(customer_world["am_th"])
    data = {**visit_data(), **answers(shelf_form), name(shelf_form, "photo"): png()}

    response = client.post(log_url(shop), data)

    visit = Visit.objects.get()
    assert response.status_code == 302
    audit = Audit.objects.get(visit=visit)
    assert audit.form == shelf_form
    got = {
        (a.question.key, a.product.code if a.product else ""): a
        for a in AuditAnswer.objects.filter(audit=audit).select_related("question", "product")
    }
    assert got[("tags", "")].value is True
    assert got[("posters", "")].value == ["红"]
    assert got[("shelf", "B")].value is False
    assert got[("price", "A")].number == Decimal("320.00")  # 32 a pack, per carton
    assert got[("photo", "")].photo_thumbnail

    # The visit's page shows the answers, the per-product ones in a table.
    page = client.get(reverse("visits:detail", args=[visit.pk])).content.decode()
    assert f'data-testid="visit-audit-{shelf_form.pk}"' in page
    assert "Price tags shown" in page and "整洁" in page
    row = page.split('data-testid="audit-product-row-A"')[1].split("</tr>")[0]
    assert 'data-label="Price">32 per pack</td>' in row
    assert 'data-label="Facings">4</td>' in row


def test_a_refused_answer_is_shown_beside_its_field_and_nothing_is_lost(
    client, customer_world, shop, shelf_form
):
    client.force_login(customer_world["am_th"])
    data = {**visit_data(), **answers(shelf_form, **{name(shelf_form, "width"): "12"})}

    response = client.post(log_url(shop), data, **FETCH)

    assert response.status_code == 400
    body = response.json()
    width = name(shelf_form, "width")
    assert list(body["errors"]) == [width]
    html = body["html"]
    assert f'data-testid="error-{width}"' in html
    assert 'value="12"' in html  # the refused value, as typed
    assert f'id="{name(shelf_form, "tags")}-yes" value="yes" checked' in html
    assert "整洁" in html and "Monthly check" in html
    assert not Visit.objects.exists() and not Audit.objects.exists()


def test_a_price_far_from_the_suggested_one_needs_its_confirmation(
    client, customer_world, shop, shelf_form
):
    client.force_login(customer_world["am_th"])
    price = name(shelf_form, "price", "A")
    data = {**visit_data(), **answers(shelf_form, **{price: "70"})}  # 233 % of 30.00

    refused = client.post(log_url(shop), data)

    # the confirmation box is shown, server-side, beside the refused price
    html = refused.content.decode()
    assert f'data-testid="error-{price}"' in html
    assert f'data-confirm-for="{price}">' in html  # not hidden any more
    assert f'name="{price}-confirmed"' in html
    assert not Visit.objects.exists()

    client.post(log_url(shop), {**data, f"{price}-confirmed": "1"})

    answer = AuditAnswer.objects.get(question__key="price", product__code="A")
    assert answer.number == Decimal("700.00")


def test_a_started_form_needs_its_required_answers(client, customer_world, shop, shelf_form):
    client.force_login(customer_world["am_th"])
    data = {**visit_data(), name(shelf_form, "note"): "only a note"}

    response = client.post(log_url(shop), data, **FETCH)

    body = response.json()
    assert response.status_code == 400
    assert list(body["errors"]) == [f"audit-{shelf_form.pk}"]
    assert "Price tags shown" in body["errors"][f"audit-{shelf_form.pk}"][0]
    assert f'data-testid="audit-form-errors-{shelf_form.pk}"' in body["html"]
    assert not Visit.objects.exists()


def test_an_answer_to_a_question_that_does_not_apply_is_refused(
    client, customer_world, shop, shelf_form
):
    # The script switches the question off; a post without it still carries it.
    client.force_login(customer_world["am_th"])
    state = name(shelf_form, "state")
    data = {**visit_data(), **answers(shelf_form, **{state: "poor"})}  # tags: yes

    response = client.post(log_url(shop), data, **FETCH)

    assert response.status_code == 400
    assert state in response.json()["errors"]
    assert not Visit.objects.exists()


def test_an_untouched_form_is_not_filled_in(client, customer_world, shop, shelf_form):
    client.force_login(customer_world["am_th"])

    response = client.post(log_url(shop), visit_data())

    assert response.status_code == 302
    assert Visit.objects.count() == 1 and not Audit.objects.exists()


def test_the_visit_page_shows_photo_answers_as_thumbnails(
    client, customer_world, shop, shelf_form, monkeypatch
):
    # The answers' photo view (audits:answer_photo, "answers/<pk>/photo/<kind>/") is another
    # part's; a view of the same shape stands for it here. Without it, the page says a photo
    # was taken and links nothing.
    client.force_login(customer_world["am_th"])
    data = {**visit_data(), **answers(shelf_form), name(shelf_form, "photo"): png()}
    client.post(log_url(shop), data)
    visit = Visit.objects.get()
    answer = AuditAnswer.objects.get(question__key="photo")
    url = reverse("visits:detail", args=[visit.pk])
    resolvable = True
    try:
        reverse(visit_audits.PHOTO_URL, args=[answer.pk, "thumb"])
    except NoReverseMatch:
        resolvable = False
        assert "Photo taken" in client.get(url).content.decode()

    monkeypatch.setattr(visit_audits, "PHOTO_URL", "visits:photo")
    html = client.get(url).content.decode()

    cell = html.split(f'data-testid="audit-answer-{answer.question_id}"')[1].split("</dd>")[0]
    assert f'<a href="/visits/{answer.pk}/photo/full/">' in cell
    assert f'<img src="/visits/{answer.pk}/photo/thumb/"' in cell
    assert 'alt="Shelf photo"' in cell
    assert resolvable or "Photo taken" not in cell


def test_a_form_started_from_a_later_plan_shows_the_forms_due_on_its_day(
    client, customer_world, shop
):
    # A monthly form filled in this month is not due again now, but is on the first day of
    # next month: the copy of the form the phone keeps for that day's plan asks for it.
    from crm.choices import AuditSource
    from crm.services import Actor
    from visits import services
    from visits.models import PlannedVisit

    monthly = make_form("monthly", [{"kind": K.TEXT}], frequency=Frequency.MONTHLY)
    monthly.activated_at = timezone.now() - dt.timedelta(days=1)
    monthly.save(update_fields=["activated_at"])
    question = monthly.questions.get()
    am = customer_world["am_th"]
    services.visit_log(
        customer=shop,
        data={"visited_at": timezone.now(), "visit_type": "routine", "purpose": "Round"},
        actor=Actor.of(am, AuditSource.PAGE),
        audits=[{"form": monthly.pk, "answers": [{"question": question.pk, "value": "ok"}]}],
    )
    today = timezone.localdate()
    next_month = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    plan = PlannedVisit.objects.create(customer=shop, planned_for=next_month, cycle_days=30)
    client.force_login(am)

    now = client.get(log_url(shop)).content.decode()
    later = client.get(log_url(shop, plan)).content.decode()

    assert f'data-testid="audit-form-{monthly.pk}"' not in now
    assert f'data-testid="audit-form-{monthly.pk}"' in later
