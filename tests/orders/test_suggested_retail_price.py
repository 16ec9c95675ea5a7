"""Product.suggested_retail_price (per carton, optional, above zero): through the product sync,
in the product API and on the product list."""

from decimal import Decimal

import pytest
from django.urls import reverse

from crm.choices import Role
from orders.models import Product
from tests.orders.factories import make_product, url


def _sync(erp, **fields):
    item = {"code": "P1", "name": "中华(硬)", "wholesale_price": "450.00", **fields}
    response = erp.post(url("product_sync"), {"products": [item]}, format="json")
    assert response.status_code == 200, response.content[:300]
    return response.json()


def test_the_sync_sets_keeps_and_clears_the_suggested_price(erp, db):
    _sync(erp, suggested_retail_price="500.00")
    assert Product.objects.get().suggested_retail_price == Decimal("500.00")
    # left out: kept
    assert _sync(erp, name="中华(硬)")["unchanged"] == 1
    assert Product.objects.get().suggested_retail_price == Decimal("500.00")
    # null: cleared
    assert _sync(erp, suggested_retail_price=None)["updated"] == 1
    assert Product.objects.get().suggested_retail_price is None


@pytest.mark.parametrize("bad", ["0", "-1", "abc", True, "1.234"])
def test_the_sync_refuses_a_price_not_above_zero(erp, db, bad):
    report = _sync(erp, suggested_retail_price=bad)
    assert report["created"] == 0
    [error] = report["errors"]
    assert list(error["errors"]) == ["suggested_retail_price"]


def test_the_product_api_gives_the_suggested_price(erp, db):
    make_product("P1", suggested_retail_price=Decimal("250.00"))
    make_product("P2")
    rows = {p["code"]: p for p in erp.get(url("product_list")).json()["results"]}
    assert rows["P1"]["suggested_retail_price"] == "250.00"
    assert rows["P2"]["suggested_retail_price"] is None


def test_the_product_list_shows_and_sorts_by_the_suggested_price(client, make_user):
    make_product("P1", suggested_retail_price=Decimal("250.00"))
    make_product("P2", suggested_retail_price=Decimal("120.00"))
    client.force_login(make_user(Role.ADMINISTRATOR))
    response = client.get(reverse("orders:products"), {"ordering": "suggested_retail_price"})
    assert [p.code for p in response.context["products"]] == ["P2", "P1"]
    assert 'data-figure="srp">250.00' in response.content.decode()
