"""Reading orders and products through the API: shape, filters, scope, paging, query counts."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from crm.choices import Role
from tests.api_errors import field_errors
from tests.customers.factories import make_customer
from tests.orders.factories import integration_client, make_product, order_payload, url

ORDER_FIELDS = {
    "external_id",
    "source",
    "customer_code",
    "order_date",
    "status",
    "payment_method",
    "paid_on_time",
    "payment_date",
    "cartons",
    "amount",
    "line_count",
    "lines",
}
LINE_FIELDS = {"product_code", "product_name", "quantity", "unit_price", "amount"}
PRODUCT_FIELDS = {
    "code",
    "name",
    "brand",
    "manufacturer",
    "wholesale_price",
    "suggested_retail_price",
    "price_class",
    "tar_mg",
    "is_key_brand",
    "is_new_product",
    "active",
}


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
        "A": make_product("A001", "230.00", name="中华(硬)", brand="中华", is_key_brand=True),
        "B": make_product("B001", "100.00", name="玉溪(软)", brand="玉溪", tar_mg="10.0"),
        "C": make_product("C001", "50.00", name="红双喜", brand="双喜", active=False),
    }


def sync(api, orders):
    response = api.post(url("order_sync"), {"orders": orders}, format="json")
    assert response.status_code == 200, response.content[:500]
    report = response.json()
    assert not report["errors"], report
    return report


@pytest.fixture
def orders(erp, customer_world, products):
    """Four orders of three customers, from 2026-09-30 to 2026-11-01."""
    w, p = customer_world, products
    sync(
        erp,
        [
            order_payload(
                "SO-1",
                w["c_th"],
                [(p["A"], 5, "230.00"), (p["B"], 2, "100.50")],
                order_date="2026-10-05",
                payment_date="2026-10-06",
            ),
            order_payload(
                "SO-2",
                w["c_th2"],
                [(p["C"], 1, "50.00")],
                order_date="2026-10-07",
                status="placed",
                payment_method="cash",
                paid_on_time=None,
            ),
            order_payload(
                "SO-3",
                w["c_yx"],
                [(p["A"], 1, "230.00")],
                order_date="2026-09-30",
                status="cancelled",
            ),
            order_payload(
                "SO-4",
                w["c_th"],
                [(p["B"], 3, "100.00")],
                order_date="2026-11-01",
                status="returned",
            ),
        ],
    )
    return customer_world


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content[:500]
    return [row["external_id"] for row in response.json()["results"]]


# --- orders -----------------------------------------------------------------------------


def test_order_list_item_has_the_order_and_its_lines(erp, orders):
    response = erp.get(url("order_list"))

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "count_exact", "next", "previous", "results"}
    assert body["count"] == 4
    item = next(row for row in body["results"] if row["external_id"] == "SO-1")
    assert set(item) == ORDER_FIELDS
    assert {k: item[k] for k in ORDER_FIELDS - {"amount", "lines"}} == {
        "external_id": "SO-1",
        "source": "erp",
        "customer_code": orders["c_th"].customer_code,
        "order_date": "2026-10-05",
        "status": "delivered",
        "payment_method": "electronic",
        "paid_on_time": True,
        "payment_date": "2026-10-06",
        "cartons": 7,
        "line_count": 2,
    }
    assert isinstance(item["amount"], str) and Decimal(item["amount"]) == Decimal("1351.00")
    lines = sorted(item["lines"], key=lambda line: line["product_code"])
    assert all(set(line) == LINE_FIELDS for line in lines)
    assert [
        (
            line["product_code"],
            line["product_name"],
            line["quantity"],
            Decimal(line["unit_price"]),
            Decimal(line["amount"]),
        )
        for line in lines
    ] == [
        ("A001", "中华(硬)", 5, Decimal("230.00"), Decimal("1150.00")),
        ("B001", "玉溪(软)", 2, Decimal("100.50"), Decimal("201.00")),
    ]


def test_order_list_is_newest_first(erp, orders):
    assert ids(erp.get(url("order_list"))) == ["SO-4", "SO-2", "SO-1", "SO-3"]


def test_order_list_filters(erp, orders):
    get = erp.get
    assert ids(get(url("order_list"), {"customer": orders["c_th"].customer_code})) == [
        "SO-4",
        "SO-1",
    ]
    assert ids(get(url("order_list"), {"date_from": "2026-10-05", "date_to": "2026-10-07"})) == [
        "SO-2",
        "SO-1",
    ]
    assert ids(get(url("order_list"), {"date_from": "2026-10-06"})) == ["SO-4", "SO-2"]
    assert ids(get(url("order_list"), {"date_to": "2026-09-30"})) == ["SO-3"]
    assert ids(get(url("order_list"), {"status": "cancelled"})) == ["SO-3"]
    assert ids(get(url("order_list"), {"external_id": "SO-2"})) == ["SO-2"]
    assert ids(get(url("order_list"), {"external_id": "SO-9"})) == []


def test_order_list_refuses_an_unknown_status(erp, orders):
    response = erp.get(url("order_list"), {"status": "shipped"})
    assert "status" in field_errors(response)


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("am_th", ["SO-4", "SO-1"]),
        ("am_th2", ["SO-2"]),
        ("am_yx", ["SO-3"]),
        ("sup_th", ["SO-4", "SO-2", "SO-1"]),
        ("sup_yx", ["SO-3"]),
        ("sup_gz", ["SO-4", "SO-2", "SO-1", "SO-3"]),
        ("admin", ["SO-4", "SO-2", "SO-1", "SO-3", "SO-SZ"]),
    ],
)
def test_order_list_is_scoped_like_customers(as_user, erp, orders, areas, products, who, expected):
    # given an order of a customer outside GZ
    sz = make_customer(areas["SZ"])
    sync(erp, [order_payload("SO-SZ", sz, [(products["A"], 1, "230")], order_date="2026-09-01")])

    assert ids(as_user(orders[who]).get(url("order_list"))) == expected


def test_integration_clients_see_every_order(erp, orders, areas, products):
    other, _user = integration_client("pos")
    sz = make_customer(areas["SZ"])
    sync(other, [order_payload("SO-SZ", sz, [(products["A"], 1, "230")], order_date="2026-09-01")])

    assert ids(erp.get(url("order_list"))) == ["SO-4", "SO-2", "SO-1", "SO-3", "SO-SZ"]


def test_a_manager_cannot_filter_their_way_to_other_orders(as_user, orders):
    api = as_user(orders["am_th"])
    assert ids(api.get(url("order_list"), {"customer": orders["c_th2"].customer_code})) == []
    assert ids(api.get(url("order_list"), {"external_id": "SO-2"})) == []


def test_order_list_is_paged(erp, orders):
    body = erp.get(url("order_list"), {"page_size": 2}).json()
    assert body["count"] == 4
    assert [row["external_id"] for row in body["results"]] == ["SO-4", "SO-2"]
    assert body["next"] is not None and body["previous"] is None


@pytest.mark.parametrize(
    ("who", "queries"),
    [
        # session, user, the supervisor's areas, the area tree, count, orders, lines
        ("sup_gz", 7),
        # session, user, count, orders, lines
        ("am_th", 5),
        # token, count, orders, lines
        ("erp", 4),
    ],
)
def test_order_list_query_count_does_not_grow_with_the_orders(
    as_user, erp, orders, products, django_assert_num_queries, who, queries
):
    api = erp if who == "erp" else as_user(orders[who])
    api.get(url("order_list"))  # a token's first use is recorded once, out of the count
    with django_assert_num_queries(queries):
        response = api.get(url("order_list"))
    seen_before = response.json()["count"]

    # when there are more orders, of every customer, with more lines and other products
    extra = [make_product(f"X{n}", f"{10 + n}.00") for n in range(4)]
    customers = [orders["c_th"], orders["c_th2"], orders["c_yx"]]
    sync(
        erp,
        [
            order_payload(
                f"SO-X{n}",
                customers[n % 3],
                [(p, n + 1, "12.00") for p in [*extra[: 1 + n % 4], products["B"]]],
                order_date=f"2026-08-{n + 1:02d}",
            )
            for n in range(7)
        ],
    )

    # then the same number of queries gives every row
    with django_assert_num_queries(queries):
        response = api.get(url("order_list"))
    assert response.json()["count"] > seen_before
    assert all(row["lines"] for row in response.json()["results"])


def test_order_list_needs_authentication(api, orders):
    assert api.get(url("order_list")).status_code == 401


# --- products ---------------------------------------------------------------------------


def test_product_list_item(as_user, customer_world, products):
    response = as_user(customer_world["am_th"]).get(url("product_list"))

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "count_exact", "next", "previous", "results"}
    assert body["count"] == 3
    by_code = {row["code"]: row for row in body["results"]}
    assert set(by_code["A001"]) == PRODUCT_FIELDS
    assert by_code["A001"] == {
        "code": "A001",
        "name": "中华(硬)",
        "brand": "中华",
        "manufacturer": "",
        "wholesale_price": "230.00",
        "suggested_retail_price": None,
        "price_class": 1,
        "tar_mg": None,
        "is_key_brand": True,
        "is_new_product": False,
        "active": True,
    }
    assert isinstance(by_code["B001"]["tar_mg"], str)
    assert Decimal(by_code["B001"]["tar_mg"]) == Decimal("10.0")
    assert by_code["B001"]["price_class"] == 2


@pytest.mark.parametrize("role", [Role.ACCOUNT_MANAGER, Role.LICENSE_OFFICER, Role.SUPERVISOR])
def test_any_person_may_list_products(as_user, make_user, products, role):
    response = as_user(make_user(role)).get(url("product_list"))
    assert response.status_code == 200
    assert response.json()["count"] == 3


def test_integration_clients_may_list_products(erp, products):
    assert erp.get(url("product_list")).json()["count"] == 3


def test_product_list_filters(erp, products):
    def codes(params):
        response = erp.get(url("product_list"), params)
        assert response.status_code == 200, response.content[:500]
        return sorted(row["code"] for row in response.json()["results"])

    assert codes({"q": "玉溪"}) == ["B001"]
    assert codes({"q": "c001"}) == ["C001"]
    assert codes({"q": "中华"}) == ["A001"]
    assert codes({"price_class": 3}) == ["C001"]
    assert codes({"active": "false"}) == ["C001"]
    assert codes({"active": "true"}) == ["A001", "B001"]
    assert codes({"is_key_brand": "true"}) == ["A001"]


def test_product_list_query_count_does_not_grow(erp, products, django_assert_num_queries):
    erp.get(url("product_list"))  # the token's first use is recorded once, out of the count
    # token, count, page
    with django_assert_num_queries(3):
        assert erp.get(url("product_list")).status_code == 200

    for n in range(10):
        make_product(f"Y{n}", f"{20 + n}.00", brand="品牌")

    with django_assert_num_queries(3):
        assert erp.get(url("product_list")).json()["count"] == 13
