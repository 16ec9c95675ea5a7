"""Hostile input on the customers and areas syncs and the customer upsert behind imports:
JSON nested thousands of levels deep and text the database cannot store (an unpaired
surrogate, a NUL). Each spoilt item is refused alone, naming the field; the others are stored.

Bodies are posted as raw JSON text: an unpaired surrogate travels as its `\\ud800` escape.
"""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from crm.models import Area
from customers.models import Customer
from customers.services import customer_upsert_many
from tests.customers.test_api import new_customer

AREA_SYNC = reverse("customers_api:area_sync")
CUSTOMER_SYNC = reverse("customers_api:customer_sync")
SURROGATE_MESSAGE = "Text may not contain an unpaired surrogate (\\ud800)."


def post_json(api, path: str, body):
    return api.post(path, json.dumps(body), content_type="application/json")


@pytest.mark.parametrize("path", [AREA_SYNC, CUSTOMER_SYNC])
def test_a_body_nested_thousands_of_levels_deep_is_refused_with_400(erp, areas, path):
    body = '{"customers": ' + "[" * 5000 + "]" * 5000 + "}"

    response = erp.post(path, body, content_type="application/json")

    assert response.status_code == 400
    assert "nest more than 32 levels deep" in response.content.decode()


@pytest.mark.parametrize(
    ("spoilt", "errors", "code"),
    [
        ({"store_name": "便利店\ud800"}, {"store_name": [SURROGATE_MESSAGE]}, "440199990002"),
        ({"customer_code": "4401\ud800"}, {"customer_code": [SURROGATE_MESSAGE]}, ""),
        # a reference: looked up before each row is checked
        ({"area": "TH\ud800"}, {"area": [SURROGATE_MESSAGE]}, "440199990002"),
        # a key: reported on the item, never echoed
        ({"phone\ud800": "1"}, {"non_field_errors": [SURROGATE_MESSAGE]}, "440199990002"),
    ],
)
def test_an_unpaired_surrogate_refuses_its_customer_and_keeps_the_others(
    erp, areas, spoilt, errors, code
):
    body = {"customers": [new_customer(1), new_customer(2, **spoilt)]}

    response = post_json(erp, CUSTOMER_SYNC, body)

    assert response.status_code == 200
    report = response.json()
    assert report["created"] == 1
    assert report["errors"] == [{"index": 1, "code": code, "errors": errors}]
    assert list(Customer.objects.values_list("customer_code", flat=True)) == ["440199990001"]


@pytest.mark.parametrize(
    ("spoilt", "field", "code"),
    [
        ({"code": "FS\ud800", "name": "佛山市"}, "code", None),
        ({"code": "FS", "name": "佛山\ud800"}, "name", "FS"),
        ({"code": "FS", "name": "佛山市", "parent": "GZ\ud800"}, "parent", "FS"),
    ],
)
def test_an_unpaired_surrogate_refuses_its_area_and_keeps_the_others(
    erp, areas, spoilt, field, code
):
    body = {"areas": [{"code": "NH", "name": "南海区"}, spoilt]}

    response = post_json(erp, AREA_SYNC, body)

    assert response.status_code == 200
    report = response.json()
    assert report["created"] == 1
    assert report["errors"] == [{"index": 1, "code": code, "errors": {field: [SURROGATE_MESSAGE]}}]
    assert Area.objects.filter(code="NH").exists()
    assert not Area.objects.filter(code="FS").exists()


def test_the_customer_upsert_behind_imports_refuses_a_nul_per_row(areas, system_actor):
    # given rows as an import reads them from a file: one with a NUL in an address
    rows = [new_customer(1), new_customer(2, address="天河路\x001号")]

    # when
    report = customer_upsert_many(rows=rows, actor=system_actor)

    # then
    assert report.counts() == {"created": 1, "updated": 0, "unchanged": 0, "errors": 1}
    assert report.errors() == [
        {
            "index": 1,
            "code": "440199990002",
            "errors": {"address": ["Text may not contain NUL characters (\\u0000)."]},
        }
    ]
    assert Customer.objects.get().customer_code == "440199990001"
