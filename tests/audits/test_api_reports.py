"""GET /api/v1/price-monitoring/: per product over the caller's scope; 400s naming the field."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from tests.audits.observed import audit_stored, product_form, when
from tests.orders.factories import make_product

URL = "/api/v1/price-monitoring/"


@pytest.fixture
def world(customer_world):
    w = dict(customer_world)
    p1 = make_product("P1", suggested_retail_price=Decimal("250.00"))
    p2 = make_product("P2")
    form = product_form()
    audit_stored(w["c_th"], when(3), form=form, prices={p1: "240", p2: "300"})
    audit_stored(w["c_th2"], when(4), form=form, prices={p1: "260"})
    audit_stored(w["c_yx"], when(6), form=form, prices={p1: "270"})
    return w


def _api(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_an_integration_client_reads_every_shop(world, erp, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        response = erp.get(URL, {"month": "2026-11"})
    assert response.status_code == 200
    assert response.json() == [
        {
            "product_code": "P1",
            "observations": 3,
            "median": "260.00",
            "min": "240.00",
            "max": "270.00",
            "suggested_retail_price": "250.00",
            "share_above": 0.6667,
        },
        {
            "product_code": "P2",
            "observations": 1,
            "median": "300.00",
            "min": "300.00",
            "max": "300.00",
            "suggested_retail_price": None,
            "share_above": None,
        },
    ]


def test_by_area_with_the_areas_below(world, erp):
    city = erp.get(URL, {"month": "2026-11", "area": "GZ"}).json()
    assert city[0]["observations"] == 3
    district = erp.get(URL, {"month": "2026-11", "area": "YX"}).json()
    assert [(r["product_code"], r["observations"], r["median"]) for r in district] == [
        ("P1", 1, "270.00")
    ]


def test_over_the_callers_scope(world):
    supervisor = _api(world["sup_yx"]).get(URL, {"month": "2026-11"}).json()
    assert [(r["product_code"], r["observations"]) for r in supervisor] == [("P1", 1)]
    manager = _api(world["am_th2"]).get(URL, {"month": "2026-11"}).json()
    assert [(r["product_code"], r["median"]) for r in manager] == [("P1", "260.00")]


def test_a_licence_officer_is_refused(world):
    assert _api(world["lo_th"]).get(URL, {"month": "2026-11"}).status_code == 403


def test_anonymous_is_refused(world):
    assert APIClient().get(URL, {"month": "2026-11"}).status_code == 401


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({}, "month"),
        ({"month": "2026-13"}, "month"),
        ({"month": "11/2026"}, "month"),
        ({"month": "2026-11", "area": "NOPE"}, "area"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(world, erp, query, field):
    response = erp.get(URL, query)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_an_area_outside_the_scope_is_refused(world):
    response = _api(world["sup_th"]).get(URL, {"month": "2026-11", "area": "YX"})
    assert response.status_code == 400
    assert "area" in response.json()["errors"]
