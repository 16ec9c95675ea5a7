"""Hostile input on the product and order syncs and the order import: JSON nested thousands of
levels deep, text the database cannot store, implausible order dates, and bodies between
Django's 2.5 MiB and the syncs' own limit, sent whole or chunked.

Bodies are posted as raw JSON text: an unpaired surrogate travels as its `\\ud800` escape,
as a client's JSON library writes it (the test client's own encoder would refuse it).
"""

from __future__ import annotations

import datetime as dt
import io
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from crm.models import IdempotencyRecord
from crm.services import api_client_create
from customers.models import CustomerSystem
from orders.models import Order, OrdersConfig, Product
from tests.orders.factories import ACTOR, make_product, order_payload, url
from tests.orders.test_commands import HEADER, write_csv

SURROGATE = "\ud800"


@pytest.fixture
def products(db):
    return {"A": make_product("A001", "230.00"), "B": make_product("B001", "100.00")}


@pytest.fixture
def customer(customer_world):
    return customer_world["c_th"]


def post_json(api, name: str, body, **extra):
    return api.post(url(name), json.dumps(body), content_type="application/json", **extra)


def day(days_from_today: int) -> str:
    return (timezone.localdate() + dt.timedelta(days=days_from_today)).isoformat()


def an_order(external_id: str, customer, products, **overrides) -> dict:
    overrides.setdefault("order_date", day(-3))
    return order_payload(external_id, customer, [(products["A"], 2, "230.00")], **overrides)


# --- deep nesting --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["order_sync", "product_sync"])
def test_a_body_nested_thousands_of_levels_deep_is_refused_with_400(erp, db, name):
    body = '{"orders": ' + "[" * 5000 + "]" * 5000 + "}"

    response = erp.post(url(name), body, content_type="application/json")

    assert response.status_code == 400
    assert "nest more than 32 levels deep" in response.content.decode()


@pytest.mark.parametrize(
    "body",
    [
        # decodes: judged from the values
        '{"orders": ' + "[" * 33 + "]" * 33 + "}",
        '{"orders": [{"lines": ' + "[" * 31 + "]" * 31 + "}]}",
        # does not decode: judged from its brackets, the depth reported rather than the error
        '{"orders": ' + "[" * 40 + '"unterminated',
        '{"orders": ' + "[" * 40 + "1,,]",
    ],
)
def test_a_body_one_level_too_deep_is_refused_whether_or_not_it_decodes(erp, db, body):
    response = erp.post(url("order_sync"), body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["detail"] == (
        "JSON parse error - arrays and objects nest more than 32 levels deep."
    )


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        # 32 levels and malformed: the decoder's own message, as before
        (
            '{"orders": ' + "[" * 31 + "1,,",
            "JSON parse error - Expecting value: line 1 column 45 (char 44)",
        ),
        ('{"orders": []', "JSON parse error - Expecting ',' delimiter: line 1 column 14 (char 13)"),
    ],
)
def test_a_malformed_body_within_the_depth_gets_the_decoders_message(erp, db, body, detail):
    response = erp.post(url("order_sync"), body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["detail"] == detail


def test_the_nesting_limit_is_a_setting(erp, customer, products, settings):
    # An order sync body nests 5 levels: the object, its list, an order, its lines and a line.
    body = {"orders": [an_order("SO-1", customer, products)]}
    settings.API_JSON_MAX_DEPTH = 4

    assert post_json(erp, "order_sync", body).status_code == 400

    settings.API_JSON_MAX_DEPTH = 5
    assert post_json(erp, "order_sync", body).status_code == 200


# --- text the database cannot store ----------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "path"),
    [
        ("external_id", "external_id"),
        ("customer_code", "customer_code"),
        ("status", "status"),
        ("payment_method", "payment_method"),
        ("lines", "lines.0.product_code"),
    ],
)
def test_an_unpaired_surrogate_refuses_its_order_and_keeps_the_others(
    erp, customer, products, field, path
):
    # given a valid order and one with an unpaired surrogate in one text value
    spoilt = an_order("SO-2", customer, products)
    if field == "lines":
        spoilt["lines"][0]["product_code"] = "A001" + SURROGATE
    else:
        spoilt[field] = spoilt[field] + SURROGATE
    body = {"orders": [an_order("SO-1", customer, products), spoilt]}

    # when
    response = post_json(erp, "order_sync", body)

    # then only the spoilt order is refused, naming the field
    assert response.status_code == 200
    report = response.json()
    assert report["created"] == 1
    [error] = report["errors"]
    assert error["index"] == 1
    assert error["errors"][path] == ["Text may not contain an unpaired surrogate (\\ud800)."]
    # a key no response can carry is not echoed
    assert error["external_id"] == (None if field == "external_id" else "SO-2")
    assert list(Order.objects.values_list("external_id", flat=True)) == ["SO-1"]


def test_an_unpaired_surrogate_refuses_its_product_and_keeps_the_others(erp, db):
    body = {
        "products": [
            {"code": "P1", "name": "新品一", "wholesale_price": "100.00"},
            {"code": "P2", "name": "新品" + SURROGATE, "wholesale_price": "100.00"},
            {"code": "P3" + SURROGATE, "name": "新品三", "wholesale_price": "100.00"},
            {"code": "P4", "name": "新品四", "brand": "\udfff", "wholesale_price": "100.00"},
        ]
    }

    response = post_json(erp, "product_sync", body)

    assert response.status_code == 200
    report = response.json()
    assert report["created"] == 1
    assert [(e["index"], e["code"], list(e["errors"])) for e in report["errors"]] == [
        (1, "P2", ["name"]),
        (2, None, ["code"]),
        (3, "P4", ["brand"]),
    ]
    assert list(Product.objects.values_list("code", flat=True)) == ["P1"]


def test_an_unpaired_surrogate_with_an_idempotency_key_is_refused_per_order(
    erp, customer, products
):
    spoilt = an_order("SO-2", customer, products, status="delivered" + SURROGATE)
    body = {"orders": [an_order("SO-1", customer, products), spoilt]}

    response = post_json(erp, "order_sync", body, HTTP_IDEMPOTENCY_KEY="batch-1")

    assert response.status_code == 200
    assert [e["index"] for e in response.json()["errors"]] == [1]
    assert IdempotencyRecord.objects.get().status_code == 200


# --- order dates ------------------------------------------------------------------------------


@pytest.mark.parametrize("order_date", ["9999-12-31", "9999-11-30", "0001-01-01", "1999-12-31"])
def test_an_order_dated_outside_the_plausible_range_is_refused_alone(
    erp, customer, products, order_date
):
    # given a valid order and one dated in year 9999 (or 1), or before 2000
    body = {
        "orders": [
            an_order("SO-1", customer, products),
            an_order("SO-2", customer, products, order_date=order_date),
        ]
    }

    # when
    response = post_json(erp, "order_sync", body)

    # then it alone is refused, and the customer's last order date is the valid order's
    assert response.status_code == 200
    report = response.json()
    assert report["created"] == 1
    [error] = report["errors"]
    assert (error["index"], list(error["errors"])) == (1, ["order_date"])
    latest = (timezone.localdate() + dt.timedelta(days=31)).isoformat()
    assert error["errors"]["order_date"] == [
        f"Must be between 2000-01-01 and {latest} (the order settings)."
    ]
    assert CustomerSystem.objects.get(customer=customer).last_order_date.isoformat() == day(-3)


def test_the_range_runs_from_2000_to_a_month_ahead_by_default(erp, customer, products):
    dates = {"SO-1": "2000-01-01", "SO-2": day(31), "SO-3": day(32), "SO-4": "1999-12-31"}
    orders = [an_order(key, customer, products, order_date=value) for key, value in dates.items()]

    report = post_json(erp, "order_sync", {"orders": orders}).json()

    assert [e["external_id"] for e in report["errors"]] == ["SO-3", "SO-4"]
    assert sorted(Order.objects.values_list("external_id", flat=True)) == ["SO-1", "SO-2"]


@pytest.mark.parametrize("payment_date", ["9999-12-31", "0001-01-01"])
def test_a_payment_dated_outside_the_range_is_refused(erp, customer, products, payment_date):
    body = {"orders": [an_order("SO-1", customer, products, payment_date=payment_date)]}

    report = post_json(erp, "order_sync", body).json()

    assert list(report["errors"][0]["errors"]) == ["payment_date"]
    assert not Order.objects.exists()


def test_the_range_follows_the_order_settings(erp, customer, products):
    OrdersConfig.objects.update_or_create(
        pk=1, defaults={"order_date_earliest": dt.date(1995, 1, 1), "order_date_days_ahead": 0}
    )
    orders = [
        an_order("SO-1", customer, products, order_date="1995-01-01"),
        an_order("SO-2", customer, products, order_date=day(1)),
    ]

    report = post_json(erp, "order_sync", {"orders": orders}).json()

    assert [e["external_id"] for e in report["errors"]] == ["SO-2"]


# The columns of import_orders' file, with a payment date.
HEADER_WITH_PAYMENT_DATE = [*HEADER[:5], "payment_date", *HEADER[6:]]


def test_import_orders_refuses_implausible_dates_and_text_per_order(tmp_path, customer, products):
    # given a file of five orders: three with implausible dates, one with a NUL in its code
    code, recent = customer.customer_code, day(-3)

    def row(key, order_date=recent, payment_date="", customer_code=code):
        return [key, customer_code, order_date, "delivered", "cash", payment_date, "A001", "1", "1"]

    rows = [
        row("SO-1"),
        row("SO-2", order_date="9999-12-31"),
        row("SO-3", order_date="0001-01-01"),
        row("SO-4", payment_date="9999-11-30"),
        row("SO-5", customer_code=code + "\x00"),
    ]
    path = write_csv(tmp_path, rows, HEADER_WITH_PAYMENT_DATE)
    out, err = StringIO(), StringIO()

    # when
    call_command("import_orders", str(path), "--source", "erp", stdout=out, stderr=err)

    # then each is refused with its reason, the valid one stored
    assert "1 orders created, 0 updated, 0 unchanged, 4 refused" in out.getvalue()
    assert "row 3, order SO-2, order_date: Must be between 2000-01-01 and" in err.getvalue()
    assert "row 4, order SO-3, order_date: Must be between" in err.getvalue()
    assert "row 5, order SO-4, payment_date: Must be between" in err.getvalue()
    assert "row 6, order SO-5, customer_code: Text may not contain NUL" in err.getvalue()
    assert list(Order.objects.values_list("external_id", flat=True)) == ["SO-1"]


# --- body size --------------------------------------------------------------------------------


def test_a_body_above_djangos_limit_and_below_the_sync_limit_is_read(erp, customer, products):
    # given an order sync body of 3 MiB (padded with whitespace, which JSON allows)
    body = json.dumps({"orders": [an_order("SO-1", customer, products)]})
    body += " " * (3 * 1024 * 1024)

    # when
    response = erp.post(url("order_sync"), body, content_type="application/json")

    # then
    assert response.status_code == 200, response.content[:300]
    assert response.json()["created"] == 1


class CountingStream(io.BytesIO):
    """A request body that counts the bytes read from it."""

    def __init__(self, data: bytes):
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size=-1):
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk


def post_chunked(name: str, body: bytes, key: str, stream=None):
    """POST a body without Content-Length, as gunicorn hands over a chunked request: the
    stream ends where the body ends (`wsgi.input_terminated`)."""
    client = Client(HTTP_AUTHORIZATION=f"Token {key}")
    return client.generic(
        "POST",
        url(name),
        body,
        content_type="application/json",
        CONTENT_LENGTH="",
        HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input": stream or io.BytesIO(body), "wsgi.input_terminated": True},
    )


@pytest.fixture
def erp_key(db) -> str:
    """The token of a new integration client."""
    _user, key = api_client_create(name="erp_chunked", actor=ACTOR)
    return key


def test_a_chunked_body_is_read(erp_key, customer, products):
    body = json.dumps({"orders": [an_order("SO-1", customer, products)]}).encode()

    response = post_chunked("order_sync", body, erp_key)

    assert response.status_code == 200, response.content[:300]
    assert response.json()["created"] == 1


def test_a_chunked_body_over_the_limit_is_refused_after_reading_one_byte_more(
    erp_key, customer, products, settings
):
    settings.SYNC_MAX_BYTES = 1000
    body = json.dumps({"orders": [an_order(f"SO-{n}", customer, products) for n in range(50)]})
    stream = CountingStream(body.encode())

    response = post_chunked("order_sync", body.encode(), erp_key, stream=stream)

    assert response.status_code == 413
    assert response["Content-Type"].startswith("application/json")
    assert "larger than 1000 bytes" in response.content.decode()
    assert stream.bytes_read == 1001
    assert not Order.objects.exists()


def test_a_body_over_the_sync_limit_is_refused_before_it_is_read(erp, db, settings):
    settings.SYNC_MAX_BYTES = 1000
    body = json.dumps({"products": []}) + " " * 2000

    response = erp.post(url("product_sync"), body, content_type="application/json")

    assert response.status_code == 413
    assert "The body is 2016 bytes; at most 1000 are accepted." in response.content.decode()
