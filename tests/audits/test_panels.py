"""The customer page's audits panel: the latest audit of each form (answers, photos behind the
scope check) and the shop's prices by month beside the suggested retail price; the queries it
adds; the answer photo's address refused outside the scope."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from audits import panels as audit_panels
from audits.models import Audit, AuditAnswer, ProductObservation
from crm.dates import add_months, month_start
from crm.scope import area_ids_in_scope
from tests.audits.factories import make_form
from tests.orders.factories import make_product
from tests.visits.factories import jpeg_bytes, upload
from visits.models import Visit
from visits.photos import photo_prepare


def visit_of(customer, user, when: dt.datetime) -> Visit:
    return Visit.objects.create(
        customer=customer, visited_by=user, visited_at=when, purpose="Shelf check"
    )


def audit_of(form, customer, user, when, *, display=(0, 0)) -> Audit:
    return Audit.objects.create(
        visit=visit_of(customer, user, when),
        form=form,
        customer=customer,
        audited_by=user,
        audited_at=when,
        display_yes=display[0],
        display_answered=display[1],
    )


def answer(audit, key: str, value, **fields) -> AuditAnswer:
    return AuditAnswer.objects.create(
        audit=audit, question=audit.form.questions.get(key=key), value=value, **fields
    )


def observe(customer, product, month: dt.date, price: str, audit) -> None:
    ProductObservation.objects.create(
        customer=customer,
        product=product,
        month=month,
        area=customer.area,
        audit=audit,
        observed_at=audit.audited_at,
        on_shelf=True,
        price=Decimal(price),
    )


@pytest.fixture
def audited(customer_world):
    """c_th audited twice with the display form (the newer one shown), once with the price
    form; its prices of two months for a product with a suggested price of ¥250 a carton."""
    shop, am = customer_world["c_th"], customer_world["am_th"]
    product = make_product("AUD001", suggested_retail_price=Decimal("250.00"))
    display = make_form(
        "display",
        [
            {"key": "tags", "kind": "yes_no", "label": "Price tags shown", "is_display": True},
            {"key": "shelf_photo", "kind": "photo", "label": "Photo of the display"},
            {"key": "brands", "kind": "multiple_choice", "label": "Brands on the counter",
             "choices": ["A", "B", "C"]},
        ],
        name="Display & price tags",
    )  # fmt: skip
    prices = make_form(
        "prices",
        [{"key": "price", "kind": "product_price", "label": "Price", "price_unit": "pack",
          "product_scope": "listed", "products": [product]}],
        name="Shelf & price check",
    )  # fmt: skip
    now = timezone.now()
    older = audit_of(display, shop, am, now - dt.timedelta(days=20), display=(0, 1))
    answer(older, "tags", False)
    newer = audit_of(display, shop, am, now - dt.timedelta(days=2), display=(1, 1))
    answer(newer, "tags", True)
    answer(newer, "brands", ["A", "C"])
    photo = answer(newer, "shelf_photo", "photo.jpg")
    full, thumb = photo_prepare(upload(jpeg_bytes()), max_mb=5)  # as recording stores them
    photo.photo.save(full.name, full, save=False)
    photo.photo_thumbnail.save(thumb.name, thumb, save=False)
    photo.save()
    priced = audit_of(prices, shop, am, now - dt.timedelta(days=3))
    answer(priced, "price", "27.5", product=product, number=Decimal("275.00"))
    this_month = month_start(timezone.localdate())
    observe(shop, product, add_months(this_month, -1), "240.00", older)
    observe(shop, product, this_month, "275.00", priced)
    return {**customer_world, "product": product, "newer": newer, "photo": photo}


def page(client, user, customer):
    client.force_login(user)
    response = client.get(
        reverse("customers:detail", args=[customer.customer_code]) + "?tab=visits"
    )
    assert response.status_code == 200
    return response, response.content.decode()


def test_the_panel_shows_the_latest_audit_of_each_form(client, audited):
    response, html = page(client, audited["am_th"], audited["c_th"])
    panel = response.context["audit_panel"]

    assert [a.form.code for a in panel["audits"]] == ["display", "prices"]  # newest first
    assert panel["audits"][0] == audited["newer"]  # not the older display audit
    card = html.split('data-testid="customer-audits"')[1]
    display = card.split('data-form="display"')[1].split("</section>")[0]
    assert "Display: 1 of 1 answers yes." in display
    assert '<dd class="col-sm-6" data-testid="answer" data-question="tags">' in display
    assert "Yes" in display.split('data-question="tags">')[1].split("</dd>")[0]
    assert "A, C" in display.split('data-question="brands">')[1].split("</dd>")[0]
    pk = audited["photo"].pk
    assert reverse("audits:answer_photo", args=[pk, "thumb"]) in display
    assert reverse("audits:answer_photo", args=[pk, "full"]) in display
    prices = card.split('data-form="prices"')[1].split("</section>")[0]
    assert "¥275.00 a carton" in prices


def test_the_price_history_beside_the_suggested_price(client, audited):
    response, html = page(client, audited["am_th"], audited["c_th"])
    this_month = month_start(timezone.localdate())
    last_month = add_months(this_month, -1)

    (row,) = response.context["audit_panel"]["prices"]
    assert row["srp"] == Decimal("250.00")
    assert [(m["month"], m["price"], m["pack"], m["above"]) for m in row["months"]] == [
        (last_month, Decimal("240.00"), Decimal("24.00"), None),
        (this_month, Decimal("275.00"), Decimal("27.50"), Decimal("25.00")),
    ]
    table = html.split('data-testid="price-history"')[1].split("</table>")[0]
    above = table.split(f'data-month="{this_month:%Y-%m}"')[1].split("</tr>")[0]
    assert "+¥25.00 above" in above
    assert "above-srp" not in table.split(f'data-month="{last_month:%Y-%m}"')[1].split("</tr>")[0]
    chart = json.loads(
        html.split('id="audit-price-data" type="application/json">')[1].split("<")[0]
    )
    assert chart == {
        "months": [f"{last_month:%Y-%m}", f"{this_month:%Y-%m}"],
        "products": [{"name": audited["product"].name, "srp": 250.0, "prices": [240.0, 275.0]}],
    }
    assert "js/audits_customer.js" in html


def test_a_shop_never_audited_has_no_panel(client, customer_world):
    response, html = page(client, customer_world["am_th2"], customer_world["c_th2"])

    assert 'data-testid="customer-audits"' not in html
    assert "audit_panel" not in response.context
    assert "audit-price-data" not in html


@pytest.mark.parametrize("who", ["am_th", "sup_th"])
def test_the_panel_reads_in_three_queries(rf, audited, django_assert_num_queries, who):
    request = rf.get("/")
    request.user = audited[who]
    area_ids_in_scope(request.user)  # read once per request, by the page's own scope check

    # the latest audits, their answers, the prices
    with django_assert_num_queries(3):
        context = audit_panels.customer_audits_context(request, audited["c_th"])
    assert len(context["audit_panel"]["audits"]) == 2


def test_the_answer_photo_is_served_after_the_scope_check(client, audited):
    pk = audited["photo"].pk
    for who in ("am_th", "sup_th", "admin"):
        client.force_login(audited[who])
        for kind in ("full", "thumb"):
            response = client.get(reverse("audits:answer_photo", args=[pk, kind]))
            assert response.status_code == 200, (who, kind)
            assert response["Content-Type"] == "image/jpeg"
            assert response["X-Content-Type-Options"] == "nosniff"
    # another account manager's shop, another area, a kind that is not one
    for who in ("am_th2", "am_yx", "sup_yx"):
        client.force_login(audited[who])
        assert client.get(reverse("audits:answer_photo", args=[pk, "full"])).status_code == 404
    client.force_login(audited["am_th"])
    assert client.get(reverse("audits:answer_photo", args=[pk, "raw"])).status_code == 404
    # an answer without a photo
    tags = audited["newer"].answers.get(question__key="tags")
    assert client.get(reverse("audits:answer_photo", args=[tags.pk, "full"])).status_code == 404
    client.logout()
    response = client.get(reverse("audits:answer_photo", args=[pk, "full"]))
    assert response.status_code == 302
