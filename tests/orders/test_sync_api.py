"""Products and orders arriving through the sync endpoints: permissions, validation per item,
upserts, replays, idempotency keys, limits and the history they write."""

import json
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError
from rest_framework.test import APIClient

from crm.choices import AuditAction, AuditSource
from crm.models import AuditEntry, IdempotencyRecord, User
from orders.models import Order, OrderLine, OrdersConfig, Product
from tests.api_errors import api_error, field_errors
from tests.orders.factories import integration_client, make_product, order_payload, url

MISSING = object()


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def as_user(api):
    def sign_in(user):
        api.force_login(user)
        return api

    return sign_in


@pytest.fixture
def products(db):
    return {
        "A": make_product("A001", "230.00", name="中华(硬)"),
        "B": make_product("B001", "100.00"),
        "C": make_product("C001", "50.00"),
        "D": make_product("D001", "20.00"),
    }


@pytest.fixture
def customer(customer_world):
    return customer_world["c_th"]


def sync_orders(api, orders, **extra):
    return api.post(url("order_sync"), {"orders": orders}, format="json", **extra)


def report_of(response) -> dict:
    assert response.status_code == 200, (response.status_code, response.content[:500])
    return response.json()


def counts(report: dict) -> tuple[int, int, int]:
    return report["created"], report["updated"], report["unchanged"]


def stored_lines(order: Order) -> list[tuple[str, int, Decimal, Decimal]]:
    return sorted(
        (line.product.code, line.cartons, line.unit_price, line.amount)
        for line in order.lines.select_related("product")
    )


def order_audit(order: Order):
    return AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Order), object_id=str(order.pk)
    )


def names_orders(response) -> bool:
    return any(path.split(".")[0] in ("orders", "order") for path in response.json()["errors"])


def without(mapping: dict, key: str, value) -> dict:
    """`mapping` with `key` set to `value`, or removed when `value` is MISSING."""
    result = dict(mapping)
    if value is MISSING:
        result.pop(key, None)
    else:
        result[key] = value
    return result


# --- authentication and permissions -----------------------------------------------------


def test_anonymous_requests_are_refused_with_401(api, db):
    for method, name in [
        ("post", "order_sync"),
        ("post", "product_sync"),
        ("get", "order_list"),
        ("get", "product_list"),
    ]:
        response = getattr(api, method)(url(name), {}, format="json")
        api_error(response, 401, "not_authenticated")


@pytest.mark.parametrize("who", ["am_th", "sup_gz", "lo_th"])
def test_people_other_than_administrators_may_not_sync(as_user, customer_world, products, who):
    api = as_user(customer_world[who])
    order = order_payload("SO-1", customer_world["c_th"], [(products["A"], 1, "230.00")])

    api_error(sync_orders(api, [order]), 403, "permission_denied")
    response = api.post(
        url("product_sync"),
        {"products": [{"code": "N1", "name": "新品", "wholesale_price": "10.00"}]},
        format="json",
    )
    assert response.status_code == 403
    assert not Order.objects.exists()
    assert not Product.objects.filter(code="N1").exists()


def test_administrators_may_sync_and_are_the_source(as_user, customer_world, products):
    api = as_user(customer_world["admin"])
    order = order_payload("SO-1", customer_world["c_th"], [(products["A"], 1, "230.00")])

    report = report_of(sync_orders(api, [order]))

    assert counts(report) == (1, 0, 0)
    assert Order.objects.get().source == "admin_x"
    products_report = report_of(api.post(url("product_sync"), {"products": []}, format="json"))
    assert counts(products_report) == (0, 0, 0)


# --- products ---------------------------------------------------------------------------


def test_product_sync_creates_a_product_with_every_field(erp, db):
    item = {
        "code": "6901028",
        "name": "中华(硬)",
        "brand": "中华",
        "manufacturer": "上海烟草",
        "wholesale_price": "450.00",
        "tar_mg": "11",
        "is_key_brand": True,
        "is_new_product": False,
        "active": True,
    }

    response = erp.post(url("product_sync"), {"products": [item]}, format="json")

    assert report_of(response) == {"created": 1, "updated": 0, "unchanged": 0, "errors": []}
    product = Product.objects.get(code="6901028")
    assert (product.name, product.brand, product.manufacturer) == ("中华(硬)", "中华", "上海烟草")
    assert product.wholesale_price == Decimal("450.00")
    assert product.price_class == 1
    assert product.tar_mg == Decimal("11")
    assert (product.is_key_brand, product.is_new_product, product.active) == (True, False, True)


def test_product_sync_minimal_create_takes_the_defaults(erp, db):
    item = {"code": "P1", "name": "最简", "wholesale_price": "25.00"}

    report = report_of(erp.post(url("product_sync"), {"products": [item]}, format="json"))

    assert counts(report) == (1, 0, 0)
    product = Product.objects.get(code="P1")
    assert (product.brand, product.manufacturer, product.tar_mg) == ("", "", None)
    assert (product.is_key_brand, product.is_new_product, product.active) == (False, False, True)
    assert product.price_class == 4


@pytest.mark.parametrize(
    ("price", "price_class"),
    [
        ("130.00", 1),
        ("129.99", 2),
        ("90.00", 2),
        ("89.99", 3),
        ("40.00", 3),
        ("39.99", 4),
        ("22.00", 4),
        ("21.99", 5),
        ("0.00", 5),
    ],
)
def test_product_price_class_follows_the_default_bands(erp, db, price, price_class):
    item = {"code": "P1", "name": "x", "wholesale_price": price}
    report_of(erp.post(url("product_sync"), {"products": [item]}, format="json"))
    assert Product.objects.get(code="P1").price_class == price_class


def test_product_price_class_follows_the_configured_bands(erp, db):
    # given bands moved up by 10 CNY
    OrdersConfig.objects.update_or_create(
        pk=1,
        defaults={
            "class_1_min": Decimal("140.00"),
            "class_2_min": Decimal("100.00"),
            "class_3_min": Decimal("50.00"),
            "class_4_min": Decimal("32.00"),
        },
    )
    items = [
        {"code": "P1", "name": "x", "wholesale_price": "135.00"},
        {"code": "P2", "name": "x", "wholesale_price": "30.00"},
    ]

    report_of(erp.post(url("product_sync"), {"products": items}, format="json"))

    assert Product.objects.get(code="P1").price_class == 2
    assert Product.objects.get(code="P2").price_class == 5


def test_product_sync_update_keeps_omitted_fields_and_recomputes_the_class(erp, db):
    # given a product with a brand, a tar value and a flag
    full = {
        "code": "P1",
        "name": "旧名",
        "brand": "中华",
        "wholesale_price": "450.00",
        "tar_mg": "6",
        "is_key_brand": True,
    }
    report_of(erp.post(url("product_sync"), {"products": [full]}, format="json"))

    # when the next sync sends only the required fields, with a new name and price
    short = {"code": "P1", "name": "新名", "wholesale_price": "60.00"}
    report = report_of(erp.post(url("product_sync"), {"products": [short]}, format="json"))

    # then it is updated, the omitted fields keep their value and the class follows the price
    assert counts(report) == (0, 1, 0)
    product = Product.objects.get(code="P1")
    assert (product.name, product.wholesale_price, product.price_class) == (
        "新名",
        Decimal("60.00"),
        3,
    )
    assert (product.brand, product.tar_mg, product.is_key_brand) == ("中华", Decimal("6"), True)


def test_product_sync_replay_is_unchanged_and_writes_no_history(erp, db):
    items = [
        {"code": "P1", "name": "一", "wholesale_price": "450.00", "tar_mg": "8.0"},
        {"code": "P2", "name": "二", "wholesale_price": "20.00", "active": False},
    ]
    report_of(erp.post(url("product_sync"), {"products": items}, format="json"))
    before = AuditEntry.objects.count()

    report = report_of(erp.post(url("product_sync"), {"products": items}, format="json"))

    assert report == {"created": 0, "updated": 0, "unchanged": 2, "errors": []}
    assert AuditEntry.objects.count() == before


def test_product_sync_writes_history_naming_the_client(erp, db):
    item = {"code": "P1", "name": "一", "wholesale_price": "450.00"}
    report_of(erp.post(url("product_sync"), {"products": [item]}, format="json"))
    product = Product.objects.get(code="P1")
    product_entries = AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Product), object_id=str(product.pk)
    )
    client = User.objects.get(username="erp")

    assert product_entries.exists()
    assert {(e.source, e.actor_id) for e in product_entries} == {(AuditSource.API, client.pk)}

    # an update adds rows for what changed
    created_rows = product_entries.count()
    item["name"] = "一号"
    report_of(erp.post(url("product_sync"), {"products": [item]}, format="json"))
    update = product_entries.filter(action=AuditAction.UPDATE)
    assert product_entries.all().count() > created_rows
    assert update.filter(field="name").exists()
    assert {(e.source, e.actor_id) for e in update} == {(AuditSource.API, client.pk)}


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"code": "P9", "name": "x", "wholesale_price": "-1.00"}, "wholesale_price"),
        ({"code": "P9", "name": "x", "wholesale_price": "1.234"}, "wholesale_price"),
        ({"code": "P9", "name": "x", "wholesale_price": "abc"}, "wholesale_price"),
        ({"code": "P9", "name": "x"}, "wholesale_price"),
        ({"code": "P9", "wholesale_price": "10.00"}, "name"),
        ({"code": "P9", "name": "", "wholesale_price": "10.00"}, "name"),
        ({"code": "P" * 33, "name": "x", "wholesale_price": "10.00"}, "code"),
        ({"name": "x", "wholesale_price": "10.00"}, "code"),
    ],
)
def test_product_sync_reports_a_bad_item_and_stores_the_others(erp, db, item, field):
    items = [
        {"code": "P1", "name": "一", "wholesale_price": "10.00"},
        item,
        {"code": "P2", "name": "二", "wholesale_price": "10.00"},
    ]

    report = report_of(erp.post(url("product_sync"), {"products": items}, format="json"))

    assert counts(report) == (2, 0, 0)
    assert len(report["errors"]) == 1
    error = report["errors"][0]
    assert (error["index"], error["code"]) == (1, item.get("code"))
    assert field in error["errors"]
    assert set(Product.objects.values_list("code", flat=True)) == {"P1", "P2"}


def test_product_sync_refuses_more_than_1000_items(erp, db):
    items = [{"code": f"P{n}", "name": "x", "wholesale_price": "10.00"} for n in range(1001)]

    response = erp.post(url("product_sync"), {"products": items}, format="json")

    api_error(response, 413, "payload_too_large")
    assert not Product.objects.exists()


# --- orders: what is stored -------------------------------------------------------------


def test_order_sync_creates_an_order_with_its_lines(erp, customer, products):
    order = order_payload(
        "SO-1",
        customer,
        [(products["A"], 5, "230.00"), (products["B"], 2, "100.50")],
        order_date="2026-10-05",
        status="delivered",
        payment_method="electronic",
        paid_on_time=True,
        payment_date="2026-10-06",
    )

    response = sync_orders(erp, [order])

    assert report_of(response) == {
        "created": 1,
        "updated": 0,
        "unchanged": 0,
        "errors": [],
        "warnings": [],
    }
    stored = Order.objects.get()
    assert (stored.source, stored.external_id, stored.customer) == ("erp", "SO-1", customer)
    assert (str(stored.order_date), str(stored.month)) == ("2026-10-05", "2026-10-01")
    assert (stored.status, stored.payment_method) == ("delivered", "electronic")
    assert (stored.paid_on_time, str(stored.payment_date)) == (True, "2026-10-06")
    assert (stored.cartons, stored.amount, stored.line_count) == (7, Decimal("1351.00"), 2)
    assert stored_lines(stored) == [
        ("A001", 5, Decimal("230.00"), Decimal("1150.00")),
        ("B001", 2, Decimal("100.50"), Decimal("201.00")),
    ]
    assert {str(m) for m in OrderLine.objects.values_list("month", flat=True)} == {"2026-10-01"}


def test_order_sync_takes_a_line_amount_when_given(erp, customer, products):
    order = order_payload("SO-1", customer, [(products["A"], 5, "230.00")])
    order["lines"][0]["amount"] = "1100.00"  # a discount

    report_of(sync_orders(erp, [order]))

    stored = Order.objects.get()
    assert stored.amount == Decimal("1100.00")
    assert stored_lines(stored) == [("A001", 5, Decimal("230.00"), Decimal("1100.00"))]


def test_order_sync_takes_prices_as_json_numbers_digit_for_digit(erp, customer, products):
    order = order_payload("SO-1", customer, [(products["A"], 3, 23.1), (products["B"], 1, 100)])

    report = report_of(sync_orders(erp, [order]))

    assert counts(report) == (1, 0, 0), report
    assert stored_lines(Order.objects.get()) == [
        ("A001", 3, Decimal("23.10"), Decimal("69.30")),
        ("B001", 1, Decimal("100.00"), Decimal("100.00")),
    ]


def test_order_sync_optional_fields_may_be_omitted_or_null(erp, customer, products):
    omitted = order_payload("SO-1", customer, [(products["A"], 1, "230.00")])
    del omitted["paid_on_time"], omitted["payment_date"]
    null = order_payload(
        "SO-2", customer, [(products["A"], 1, "230.00")], paid_on_time=None, payment_date=None
    )

    report = report_of(sync_orders(erp, [omitted, null]))

    assert counts(report) == (2, 0, 0), report
    assert set(Order.objects.values_list("paid_on_time", "payment_date")) == {(None, None)}


def test_two_clients_sending_the_same_number_make_two_orders(erp, customer, products):
    other, _user = integration_client("pos")
    order = order_payload("SO-1", customer, [(products["A"], 1, "230.00")])

    assert counts(report_of(sync_orders(erp, [order]))) == (1, 0, 0)
    assert counts(report_of(sync_orders(other, [order]))) == (1, 0, 0)

    assert sorted(Order.objects.values_list("source", "external_id")) == [
        ("erp", "SO-1"),
        ("pos", "SO-1"),
    ]


# --- orders: replays and changes --------------------------------------------------------


def test_order_sync_replay_changes_nothing(erp, customer, products):
    orders = [
        order_payload("SO-1", customer, [(products["A"], 5, "230.00"), (products["B"], 1, "100")]),
        order_payload("SO-2", customer, [(products["C"], 2, "50.00")], status="cancelled"),
    ]
    report_of(sync_orders(erp, orders))
    before = {
        o.external_id: (o.updated_at, list(o.lines.order_by("id").values_list("id", flat=True)))
        for o in Order.objects.all()
    }
    audit_before = AuditEntry.objects.count()

    report = report_of(sync_orders(erp, orders))

    assert report == {"created": 0, "updated": 0, "unchanged": 2, "errors": [], "warnings": []}
    after = {
        o.external_id: (o.updated_at, list(o.lines.order_by("id").values_list("id", flat=True)))
        for o in Order.objects.all()
    }
    assert after == before
    assert AuditEntry.objects.count() == audit_before


def test_order_sync_same_values_written_differently_are_unchanged(erp, customer, products):
    # the same prices as a JSON number, without trailing zeros, and with them
    first = order_payload("SO-1", customer, [(products["A"], 5, 230), (products["B"], 1, "100")])
    again = order_payload(
        "SO-1", customer, [(products["A"], 5, "230.00"), (products["B"], 1, 100.0)]
    )
    report_of(sync_orders(erp, [first]))

    report = report_of(sync_orders(erp, [again]))

    assert counts(report) == (0, 0, 1), report


def test_order_sync_change_replaces_the_lines_exactly(erp, customer, products):
    # given an order of A, B and C
    v1 = order_payload(
        "SO-1",
        customer,
        [(products["A"], 5, "230.00"), (products["B"], 3, "100.00"), (products["C"], 2, "50.00")],
    )
    report_of(sync_orders(erp, [v1]))
    order = Order.objects.get()

    # when it comes again with A changed, B gone and D new
    v2 = order_payload(
        "SO-1",
        customer,
        [(products["A"], 6, "230.00"), (products["C"], 2, "50.00"), (products["D"], 1, "20.00")],
    )
    report = report_of(sync_orders(erp, [v2]))

    # then it is updated to exactly the new lines and totals
    assert counts(report) == (0, 1, 0)
    order.refresh_from_db()
    assert stored_lines(order) == [
        ("A001", 6, Decimal("230.00"), Decimal("1380.00")),
        ("C001", 2, Decimal("50.00"), Decimal("100.00")),
        ("D001", 1, Decimal("20.00"), Decimal("20.00")),
    ]
    assert OrderLine.objects.count() == 3
    assert (order.cartons, order.amount, order.line_count) == (9, Decimal("1500.00"), 3)

    # and replaying the new version is unchanged
    assert counts(report_of(sync_orders(erp, [v2]))) == (0, 0, 1)


def test_order_sync_change_of_header_fields_is_an_update(erp, customer, products):
    lines = [(products["A"], 5, "230.00")]
    report_of(sync_orders(erp, [order_payload("SO-1", customer, lines)]))

    changed = order_payload(
        "SO-1",
        customer,
        lines,
        order_date="2026-11-02",
        payment_method="cash",
        paid_on_time=False,
        payment_date="2026-11-20",
    )
    report = report_of(sync_orders(erp, [changed]))

    assert counts(report) == (0, 1, 0)
    order = Order.objects.get()
    assert (str(order.order_date), str(order.month)) == ("2026-11-02", "2026-11-01")
    assert (order.payment_method, order.paid_on_time, str(order.payment_date)) == (
        "cash",
        False,
        "2026-11-20",
    )
    assert {str(m) for m in OrderLine.objects.values_list("month", flat=True)} == {"2026-11-01"}


def test_new_orders_write_no_history_changed_and_cancelled_ones_do(erp, customer, products):
    # given a new order: no history for it
    lines = [(products["A"], 5, "230.00")]
    report_of(sync_orders(erp, [order_payload("SO-1", customer, lines)]))
    order = Order.objects.get()
    assert not order_audit(order).exists()

    # when its quantity changes
    changed = [(products["A"], 4, "230.00")]
    report_of(sync_orders(erp, [order_payload("SO-1", customer, changed)]))

    # then an update is recorded as coming from the client through the API
    updates = order_audit(order).filter(action=AuditAction.UPDATE)
    assert updates.exists()
    assert {(e.source, e.actor_label) for e in updates} == {(AuditSource.API, "erp")}

    # and cancelling it records another update
    seen = updates.count()
    cancelled = order_payload("SO-1", customer, changed, status="cancelled")
    assert counts(report_of(sync_orders(erp, [cancelled]))) == (0, 1, 0)
    assert order_audit(order).filter(action=AuditAction.UPDATE).count() > seen
    order.refresh_from_db()
    assert order.status == "cancelled"


# --- orders: validation, one order at a time --------------------------------------------


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("external_id", MISSING),
        ("external_id", ""),
        ("external_id", None),
        ("external_id", "X" * 65),
        ("customer_code", MISSING),
        ("customer_code", "440100999999"),
        ("customer_code", None),
        ("order_date", MISSING),
        ("order_date", "2026-13-01"),
        ("order_date", "05/10/2026"),
        ("order_date", None),
        ("status", MISSING),
        ("status", "shipped"),
        ("payment_method", MISSING),
        ("payment_method", "card"),
        ("lines", MISSING),
        ("lines", []),
        ("lines", "A001"),
        ("lines", None),
        ("lines", {"product_code": "A001"}),
        ("paid_on_time", "maybe"),
        ("payment_date", "tomorrow"),
        ("payment_date", "2026-02-30"),
    ],
)
def test_order_sync_reports_a_bad_order_field(erp, customer, products, key, value):
    order = without(order_payload("SO-1", customer, [(products["A"], 1, "230.00")]), key, value)

    report = report_of(sync_orders(erp, [order]))

    assert counts(report) == (0, 0, 0)
    [error] = report["errors"]
    assert error["index"] == 0
    assert set(error["errors"]) == {key}, error
    assert all(isinstance(m, str) for m in error["errors"][key])
    if key != "external_id":
        assert error["external_id"] == "SO-1"
    assert not Order.objects.exists()
    assert not OrderLine.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("quantity", "5"),
        ("quantity", 5.0),
        ("quantity", 2.5),
        ("quantity", True),
        ("quantity", 0),
        ("quantity", -1),
        ("quantity", None),
        ("quantity", MISSING),
        ("unit_price", "-1.00"),
        ("unit_price", -1),
        ("unit_price", "1.234"),
        ("unit_price", "abc"),
        ("unit_price", "NaN"),
        ("unit_price", "Infinity"),
        ("unit_price", None),
        ("unit_price", MISSING),
        ("amount", "-5.00"),
        ("amount", "abc"),
        ("product_code", "NOPE"),
        ("product_code", MISSING),
    ],
)
def test_order_sync_reports_a_bad_line_field_by_its_index(erp, customer, products, field, value):
    order = order_payload(
        "SO-1", customer, [(products["A"], 1, "230.00"), (products["B"], 2, "100.00")]
    )
    order["lines"][1] = without(order["lines"][1], field, value)

    report = report_of(sync_orders(erp, [order]))

    assert counts(report) == (0, 0, 0)
    [error] = report["errors"]
    assert (error["index"], error["external_id"]) == (0, "SO-1")
    assert set(error["errors"]) == {f"lines.1.{field}"}, error
    assert not Order.objects.exists()
    assert not OrderLine.objects.exists()


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        (1.0, "Expected a whole number of cartons."),
        (True, "Expected a whole number of cartons."),
        ("1", "Expected a whole number of cartons."),
    ],
)
def test_a_line_equal_to_an_earlier_valid_one_but_for_its_json_type_is_refused(
    erp, customer, products, quantity, message
):
    # given: the same product, cartons and price were taken on earlier orders of the batch
    good = order_payload("SO-1", customer, [(products["A"], 1, "230.00")])
    again = order_payload("SO-2", customer, [(products["A"], 1, "230.00")])
    odd = order_payload("SO-3", customer, [(products["A"], quantity, "230.00")])

    report = report_of(sync_orders(erp, [good, again, odd]))

    assert counts(report) == (2, 0, 0)
    [error] = report["errors"]
    assert (error["index"], error["errors"]) == (2, {"lines.0.quantity": [message]})


def test_order_sync_refuses_a_product_twice_in_one_order(erp, customer, products):
    order = order_payload(
        "SO-1",
        customer,
        [(products["A"], 1, "230.00"), (products["B"], 1, "100"), (products["A"], 2, "230")],
    )

    report = report_of(sync_orders(erp, [order]))

    [error] = report["errors"]
    assert set(error["errors"]) == {"lines.2.product_code"}, error
    assert not Order.objects.exists()


def test_order_sync_refuses_more_than_500_lines(erp, customer, products):
    many = [make_product(f"M{n:03d}", "10.00") for n in range(501)]
    order = order_payload("SO-1", customer, [(p, 1, "10.00") for p in many])

    report = report_of(sync_orders(erp, [order]))

    [error] = report["errors"]
    assert "lines" in error["errors"]
    assert not Order.objects.exists()

    # while 500 are fine
    order = order_payload("SO-1", customer, [(p, 1, "10.00") for p in many[:500]])
    assert counts(report_of(sync_orders(erp, [order]))) == (1, 0, 0)
    assert Order.objects.get().line_count == 500


def test_order_sync_reports_items_that_are_not_objects(erp, customer, products):
    good = order_payload("SO-1", customer, [(products["A"], 1, "230.00")])

    report = report_of(sync_orders(erp, [None, "SO-9", 5, [], good]))

    assert counts(report) == (1, 0, 0)
    assert [(e["index"], e["external_id"], list(e["errors"])) for e in report["errors"]] == [
        (0, None, ["non_field_errors"]),
        (1, None, ["non_field_errors"]),
        (2, None, ["non_field_errors"]),
        (3, None, ["non_field_errors"]),
    ]
    assert Order.objects.get().external_id == "SO-1"


def test_unknown_keys_of_an_order_and_a_line_are_refused_naming_them(erp, customer, products):
    # given a mistyped line key (the quantity would be lost) and an unknown order key
    bad = order_payload("SO-1", customer, [(products["A"], 1, "230.00")])
    bad["lines"][0]["quantiy"] = 5
    bad["channel"] = "app"
    good = order_payload("SO-2", customer, [(products["B"], 2, "100.00")])

    # when
    report = report_of(sync_orders(erp, [bad, good]))

    # then the order is refused with both keys named, the other stored
    assert report["errors"] == [
        {
            "index": 0,
            "external_id": "SO-1",
            "errors": {
                "channel": ["Unknown field."],
                "lines.0.quantiy": ["Unknown field."],
            },
        }
    ]
    assert counts(report) == (1, 0, 0)
    assert list(Order.objects.values_list("external_id", flat=True)) == ["SO-2"]


def test_an_unknown_product_key_is_refused_naming_it(erp, db):
    items = [
        {"code": "P1", "name": "一", "wholesale_price": "10.00", "is_keybrand": True},
        {"code": "P2", "name": "二", "wholesale_price": "10.00"},
    ]

    report = report_of(erp.post(url("product_sync"), {"products": items}, format="json"))

    assert report["errors"] == [
        {"index": 0, "code": "P1", "errors": {"is_keybrand": ["Unknown field."]}}
    ]
    assert list(Product.objects.values_list("code", flat=True)) == ["P2"]


def test_an_unknown_key_beside_the_items_refuses_the_body(erp, customer, products):
    order = order_payload("SO-1", customer, [(products["A"], 1, "230.00")])

    response = erp.post(url("order_sync"), {"orders": [order], "dry_run": True}, format="json")

    assert field_errors(response) == {"dry_run": ["Unknown field."]}
    assert not Order.objects.exists()


def test_a_bad_order_stores_nothing_and_the_others_are_stored(erp, customer, products):
    good_1 = order_payload("SO-1", customer, [(products["A"], 1, "230.00")])
    bad = order_payload(
        "SO-2",
        customer,
        [(products["A"], 1, "230.00"), (products["B"], 2, "100"), (products["C"], "3", "50")],
    )
    good_3 = order_payload("SO-3", customer, [(products["B"], 2, "100"), (products["C"], 1, 50)])

    report = report_of(sync_orders(erp, [good_1, bad, good_3]))

    assert counts(report) == (2, 0, 0)
    assert [(e["index"], e["external_id"], list(e["errors"])) for e in report["errors"]] == [
        (1, "SO-2", ["lines.2.quantity"])
    ]
    assert sorted(Order.objects.values_list("external_id", flat=True)) == ["SO-1", "SO-3"]
    assert OrderLine.objects.count() == 3


def test_a_bad_change_leaves_the_stored_order_as_it_was(erp, customer, products):
    v1 = order_payload("SO-1", customer, [(products["A"], 5, "230.00"), (products["B"], 1, "100")])
    report_of(sync_orders(erp, [v1]))
    order = Order.objects.get()
    before = (order.updated_at, stored_lines(order))

    bad = order_payload(
        "SO-1", customer, [(products["A"], 7, "230.00"), (products["B"], 1, "1.001")]
    )
    report = report_of(sync_orders(erp, [bad]))

    assert counts(report) == (0, 0, 0)
    assert list(report["errors"][0]["errors"]) == ["lines.1.unit_price"]
    order.refresh_from_db()
    assert (order.updated_at, stored_lines(order)) == before
    assert (order.cartons, order.amount) == (6, Decimal("1250.00"))


def test_the_same_number_twice_in_one_request_refuses_the_later(erp, customer, products):
    first = order_payload("SO-1", customer, [(products["A"], 1, "230.00")])
    later = order_payload("SO-1", customer, [(products["B"], 9, "100.00")])

    report = report_of(sync_orders(erp, [first, later]))

    assert counts(report) == (1, 0, 0)
    assert [(e["index"], e["external_id"], list(e["errors"])) for e in report["errors"]] == [
        (1, "SO-1", ["external_id"])
    ]
    assert stored_lines(Order.objects.get()) == [("A001", 1, Decimal("230.00"), Decimal("230.00"))]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("customer_code", 440100000001),
        ("customer_code", {"code": "x"}),
        ("external_id", ["SO-1"]),
        ("order_date", 20261005),
        ("status", None),
        ("paid_on_time", [True]),
        ("lines", [None]),
        ("lines", [["A001", 1, "230.00"]]),
        ("lines", [{"product_code": ["A001"], "quantity": 1, "unit_price": "1"}]),
        ("lines", [{"product_code": None, "quantity": 1, "unit_price": "1"}]),
        ("lines", [{"product_code": "A001", "quantity": 10**12, "unit_price": "1"}]),
        ("lines", [{"product_code": "A001", "quantity": 2**31, "unit_price": "1"}]),
        ("lines", [{"product_code": "A001", "quantity": 1, "unit_price": "1e400"}]),
        ("lines", [{"product_code": "A001", "quantity": 1, "unit_price": "99999999999.99"}]),
        ("lines", [{"product_code": "A001", "quantity": 1, "unit_price": {"v": 1}}]),
        (
            "lines",
            [{"product_code": "A001", "quantity": 1, "unit_price": "1", "amount": "1e20"}],
        ),
    ],
)
def test_odd_values_are_reported_never_a_server_error(erp, customer, products, key, value):
    order = order_payload("SO-1", customer, [(products["A"], 1, "230.00")])
    order[key] = value

    response = sync_orders(erp, [order])

    assert response.status_code == 200, response.content[:500]
    report = response.json()
    assert report["created"] == 0, report
    assert len(report["errors"]) == 1
    assert not Order.objects.exists()


# --- orders: the body as a whole --------------------------------------------------------


def test_order_sync_refuses_more_than_1000_orders(erp, customer):
    response = sync_orders(erp, [{"external_id": f"SO-{n}"} for n in range(1001)])

    assert "1000" in api_error(response, 413, "payload_too_large")["detail"]


def test_order_sync_takes_1000_orders(erp, customer):
    response = sync_orders(erp, [{"external_id": f"SO-{n}"} for n in range(1000)])

    report = report_of(response)
    assert len(report["errors"]) == 1000


def test_order_sync_refuses_a_body_over_the_byte_limit(erp, customer, products, settings):
    settings.SYNC_MAX_BYTES = 300
    orders = [order_payload(f"SO-{n}", customer, [(products["A"], 1, "230.00")]) for n in range(5)]
    assert len(json.dumps({"orders": orders})) > 300

    response = sync_orders(erp, orders)

    api_error(response, 413, "payload_too_large")
    assert not Order.objects.exists()


@pytest.mark.parametrize("body", ['{"orders": [', '{"orders": [NaN]}', "orders", "{'orders': []}"])
def test_order_sync_refuses_malformed_json(erp, db, body):
    response = erp.post(url("order_sync"), body, content_type="application/json")

    api_error(response, 400)


@pytest.mark.parametrize(
    "body",
    [{}, {"orders": "x"}, {"orders": None}, {"orders": {"external_id": "SO-1"}}, {"order": []}],
)
def test_order_sync_refuses_a_body_of_the_wrong_shape(erp, db, body):
    response = erp.post(url("order_sync"), body, format="json")

    assert names_orders(response), api_error(response, 400, "invalid")


def test_order_sync_refuses_a_list_as_the_body(erp, db):
    response = erp.post(url("order_sync"), [{"external_id": "SO-1"}], format="json")
    assert "orders" in field_errors(response)


# --- orders: idempotency keys -----------------------------------------------------------


def test_a_retry_with_the_same_key_gets_the_first_response(erp, customer, products):
    orders = [order_payload("SO-1", customer, [(products["A"], 1, "230.00")])]

    first = sync_orders(erp, orders, HTTP_IDEMPOTENCY_KEY="batch-42")
    retry = sync_orders(erp, orders, HTTP_IDEMPOTENCY_KEY="batch-42")

    assert first.status_code == retry.status_code == 200
    assert first.json() == retry.json()
    assert counts(retry.json()) == (1, 0, 0)
    assert Order.objects.count() == 1

    # a new key is processed afresh
    fresh = report_of(sync_orders(erp, orders, HTTP_IDEMPOTENCY_KEY="batch-43"))
    assert counts(fresh) == (0, 0, 1)


def test_the_same_key_with_another_body_is_a_conflict(erp, customer, products):
    report_of(
        sync_orders(
            erp,
            [order_payload("SO-1", customer, [(products["A"], 1, "230.00")])],
            HTTP_IDEMPOTENCY_KEY="batch-42",
        )
    )

    response = sync_orders(
        erp,
        [order_payload("SO-1", customer, [(products["A"], 2, "230.00")])],
        HTTP_IDEMPOTENCY_KEY="batch-42",
    )

    api_error(response, 409)
    assert Order.objects.get().cartons == 1


class Killed(BaseException):
    """Stands for the worker process being killed mid-request: nothing after it runs (not
    even `except Exception` handlers)."""


def kill_the_worker_once(monkeypatch, *, after_storing: bool) -> None:
    """The next order sync's worker dies, before or after the orders are written."""
    from orders.api import views

    real = views.order_sync_many

    def dying(**kwargs):
        monkeypatch.setattr(views, "order_sync_many", real)
        if after_storing:
            real(**kwargs)
        raise Killed

    monkeypatch.setattr(views, "order_sync_many", dying)


@pytest.mark.parametrize("after_storing", [False, True])
def test_a_key_whose_worker_died_is_retried_at_once_and_stores_each_order_once(
    erp, customer, products, monkeypatch, after_storing
):
    orders = [order_payload(f"SO-{n}", customer, [(products["A"], n, "230.00")]) for n in (1, 2, 3)]
    # given a request whose worker was killed while handling it
    kill_the_worker_once(monkeypatch, after_storing=after_storing)
    with pytest.raises(Killed):
        sync_orders(erp, orders, HTTP_IDEMPOTENCY_KEY="batch-7")
    # when the client retries with the same key
    retry = sync_orders(erp, orders, HTTP_IDEMPOTENCY_KEY="batch-7")
    # then it is processed at once, as if for the first time, and every order is stored once
    assert counts(report_of(retry)) == (3, 0, 0)
    assert Order.objects.count() == 3
    assert OrderLine.objects.count() == 3
    record = IdempotencyRecord.objects.get()
    assert (record.key, record.status_code) == ("batch-7", 200)
    # and a further retry is a replay
    again = sync_orders(erp, orders, HTTP_IDEMPOTENCY_KEY="batch-7")
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == retry.json()


def test_a_database_error_while_handling_a_keyed_request_is_not_taken_for_the_key_in_use(
    erp, customer, products, monkeypatch
):
    # given a sync whose handling breaks a constraint of the database
    from orders.api import views

    def breaking(**kwargs):
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(views, "order_sync_many", breaking)
    orders = [order_payload("SO-1", customer, [(products["A"], 1, "230.00")])]
    # when it is sent with an Idempotency-Key, then it is the server's error (a 500), not a
    # 409 telling the client its key is still running
    with pytest.raises(IntegrityError):
        sync_orders(erp, orders, HTTP_IDEMPOTENCY_KEY="batch-8")
    # and nothing is kept under the key
    assert not IdempotencyRecord.objects.exists()


def test_a_key_left_running_by_a_dead_worker_of_the_earlier_version_is_retryable(
    erp, customer, products
):
    # given the mark the earlier version committed before handling a request, left behind
    # when its worker died
    IdempotencyRecord.objects.create(
        client=User.objects.get(username="erp"),
        endpoint="OrderSyncAPIView",
        key="batch-9",
        request_hash="0" * 64,
        status_code=0,
        response="",
    )
    orders = [order_payload("SO-1", customer, [(products["A"], 1, "230.00")])]
    # when the client retries, then it is processed
    assert counts(report_of(sync_orders(erp, orders, HTTP_IDEMPOTENCY_KEY="batch-9"))) == (
        1,
        0,
        0,
    )
    assert IdempotencyRecord.objects.get().status_code == 200


def test_a_key_recorded_by_the_earlier_version_still_answers_its_retry(erp, customer, products):
    # given a key whose record the earlier version kept, with the digest it took of the body
    # (sha256 of json.dumps with sorted keys), and the orders it stored
    import hashlib

    orders = [order_payload("SO-1", customer, [(products["A"], 1, "230.00")])]
    first = report_of(sync_orders(erp, orders))
    body = json.dumps({"orders": orders}, sort_keys=True, ensure_ascii=False)
    IdempotencyRecord.objects.create(
        client=User.objects.get(username="erp"),
        endpoint="OrderSyncAPIView",
        key="batch-10",
        request_hash=hashlib.sha256(body.encode()).hexdigest(),
        status_code=200,
        response=json.dumps(first),
    )

    # when the client retries the same body after the upgrade, then it gets that answer
    retry = sync_orders(erp, orders, HTTP_IDEMPOTENCY_KEY="batch-10")
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json() == first
    # and another body under that key is still a conflict
    other = [order_payload("SO-1", customer, [(products["A"], 2, "230.00")])]
    api_error(sync_orders(erp, other, HTTP_IDEMPOTENCY_KEY="batch-10"), 409)


def test_an_idempotency_key_over_100_characters_is_refused(erp, customer, products):
    orders = [order_payload("SO-1", customer, [(products["A"], 1, "230.00")])]

    too_long = sync_orders(erp, orders, HTTP_IDEMPOTENCY_KEY="k" * 101)

    assert list(field_errors(too_long)) == ["Idempotency-Key"]
    assert not Order.objects.exists()
    assert counts(report_of(sync_orders(erp, orders, HTTP_IDEMPOTENCY_KEY="k" * 100))) == (
        1,
        0,
        0,
    )
