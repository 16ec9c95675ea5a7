"""What the API fuzz tests found, one plain test each.

- A NUL character (`\\u0000`) in a sync body reached PostgreSQL, which refuses it in text:
  a 500 on the areas, customers, products and orders syncs. Now a 400 naming where it is.
- A NUL in the customer code of `/customers/<code>/`: a 500 on PostgreSQL; now a 404.
- The schema said `Area.parent` and a visit's `plan`, `photo_url` and `thumbnail_url` are
  never null, and documented no error response but the views' own: both fixed.

- A customers sync item with a number or a boolean for a date field (`"owner_birthday": 0.0`)
  raised TypeError in `customers.catalogue.to_internal`, and a decimal too long for its field
  (`"registered_capital": 5.8e32`, `"latitude": "1e300"`) raised InvalidOperation in
  `catalogue.external`: both 500s; now each is an error on its item.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from crm.models import Area, IdempotencyRecord
from customers.filtersets import CustomerFilterSet
from customers.models import Customer
from orders.filtersets import ProductFilterSet
from orders.models import Order, Product
from tests.api_errors import field_errors
from tests.api_fuzz.conftest import ACCOUNT_MANAGER_KEY, INTEGRATION_CLIENT_KEY

pytestmark = pytest.mark.django_db

NUL_MESSAGE = "Text may not contain NUL characters (\\u0000)."


def api(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def erp(fuzz_world):
    return api(INTEGRATION_CLIENT_KEY)


def test_a_nul_in_an_area_sync_is_refused_with_its_place(erp):
    body = {"areas": [{"code": "NEW1", "name": "新区"}, {"code": "NEW\x002", "name": "坏区"}]}

    response = erp.post(reverse("customers_api:area_sync"), body, format="json")

    assert field_errors(response) == {"areas.1.code": [NUL_MESSAGE]}
    assert not Area.objects.filter(code__startswith="NEW").exists()


def test_a_nul_in_a_customer_sync_is_refused_with_its_place(erp):
    body = {"customers": [{"customer_code": "4401\x00", "store_name": "新店"}]}

    response = erp.post(reverse("customers_api:customer_sync"), body, format="json")

    assert field_errors(response) == {"customers.0.customer_code": [NUL_MESSAGE]}
    assert Customer.objects.count() == 3


def test_a_nul_in_a_product_sync_is_refused_with_its_place(erp):
    body = {"products": [{"code": "6901", "name": "中\x00华", "wholesale_price": "450.00"}]}

    response = erp.post(reverse("orders_api:product_sync"), body, format="json")

    assert field_errors(response) == {"products.0.name": [NUL_MESSAGE]}
    assert not Product.objects.filter(code="6901").exists()


def test_a_nul_in_an_order_line_is_refused_with_its_place(erp, fuzz_world):
    order = {
        "external_id": "SO-NUL",
        "customer_code": fuzz_world["customers"][0].customer_code,
        "order_date": "2026-10-05",
        "status": "delivered",
        "payment_method": "cash",
        "lines": [{"product_code": "6901028180566\x00", "quantity": 1, "unit_price": "230"}],
    }

    response = erp.post(reverse("orders_api:order_sync"), {"orders": [order]}, format="json")

    assert field_errors(response) == {"orders.0.lines.0.product_code": [NUL_MESSAGE]}
    assert not Order.objects.filter(external_id="SO-NUL").exists()


def test_a_nul_in_a_key_names_the_object_holding_it(erp):
    body = {"products": [{"code": "6902", "name": "x", "wholesale_price": "1", "\x00": 1}]}

    response = erp.post(reverse("orders_api:product_sync"), body, format="json")

    assert field_errors(response) == {"products.0": [NUL_MESSAGE]}


def test_a_nul_with_an_idempotency_key_keeps_no_record(erp):
    body = {"products": [{"code": "69\x0003", "name": "x", "wholesale_price": "1"}]}

    response = erp.post(
        reverse("orders_api:product_sync"), body, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )

    assert response.status_code == 400
    assert not IdempotencyRecord.objects.exists()


def test_a_nul_in_a_customer_code_in_the_path_is_not_found(fuzz_world):
    response = api(ACCOUNT_MANAGER_KEY).get("/api/v1/customers/4401%00/")

    assert field_errors(response, 404, "not_found") == {}


def _schema() -> dict:
    return api(ACCOUNT_MANAGER_KEY).get(reverse("api:schema"), {"format": "json"}).json()


def test_the_schema_says_which_read_values_may_be_null(fuzz_world):
    components = _schema()["components"]["schemas"]

    assert components["Area"]["properties"]["parent"]["nullable"] is True
    for name in ("plan", "photo_url", "thumbnail_url"):
        assert components["Visit"]["properties"][name]["nullable"] is True, name


def test_the_schema_documents_the_error_responses(fuzz_world):
    paths = _schema()["paths"]

    assert set(paths["/api/v1/customers/"]["get"]["responses"]) == {"200", "400", "401", "404"}
    assert set(paths["/api/v1/visits/{id}/"]["get"]["responses"]) == {"200", "401", "404"}
    assert set(paths["/api/v1/me/"]["get"]["responses"]) == {"200", "401"}
    # The views' own error responses are added to the shared ones.
    order_sync = paths["/api/v1/orders/sync/"]["post"]["responses"]
    assert set(order_sync) == {"200", "400", "401", "403", "409", "413", "415"}
    # Every error response of every operation is the one ApiError.
    for path, operations in paths.items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    ref = response["content"]["application/json"]["schema"]["$ref"]
                    assert ref == "#/components/schemas/ApiError", (method, path, status)


@pytest.mark.parametrize("value", [0.0, 20260101, True])
def test_a_number_for_a_date_is_reported_on_its_item(erp, value):
    body = {"customers": [{"customer_code": "440100000001", "owner_birthday": value}]}

    response = erp.post(reverse("customers_api:customer_sync"), body, format="json")

    assert response.status_code == 200
    assert "owner_birthday" in response.json()["errors"][0]["errors"]


@pytest.mark.parametrize(
    ("field", "value"), [("registered_capital", 5.8e32), ("latitude", "1e300")]
)
def test_a_decimal_too_long_is_reported_on_its_item(erp, field, value):
    body = {"customers": [{"customer_code": "440100000001", field: value}]}

    response = erp.post(reverse("customers_api:customer_sync"), body, format="json")

    assert response.status_code == 200
    assert field in response.json()["errors"][0]["errors"]


@pytest.mark.parametrize(
    ("url_name", "key", "filterset", "model"),
    [
        ("orders_api:product_list", "code", ProductFilterSet, Product),
        ("customers_api:customer_list", "customer_code", CustomerFilterSet, Customer),
    ],
)
def test_an_ordering_naming_no_field_keeps_the_default_order(
    fuzz_world, url_name, key, filterset, model
):
    """`?ordering=,` used to clear the list's order (django-filter orders by nothing), so its
    pages could repeat or skip rows; it now keeps the list's own order."""
    client = api(INTEGRATION_CLIENT_KEY)

    plain = client.get(reverse(url_name)).json()["results"]
    empty = client.get(reverse(url_name), {"ordering": ","}).json()["results"]

    assert len(plain) > 1
    assert [row[key] for row in empty] == [row[key] for row in plain]
    ordered = model.objects.order_by("pk")
    assert filterset({"ordering": ","}, queryset=ordered).qs.ordered
    assert filterset({"ordering": ", ,"}, queryset=ordered).qs.query.order_by == ("pk",)
