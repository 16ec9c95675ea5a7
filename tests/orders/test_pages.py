"""Order pages through Django's test client: products and the order settings (administrators),
the order list and an order's lines (scoped), and the sales card on the customer page.

Products, orders and facts are made directly with the ORM: these tests are about the pages,
not about how the sync derives what they show.
"""

import itertools
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.choices import Role
from crm.models import AuditEntry
from orders.models import MonthlySalesFact, Order, OrderLine, OrdersConfig, Product
from orders.selectors import customer_sales_summary
from tests.customers.factories import make_customer
from tests.orders.factories import integration_client, order_payload, url

_numbers = itertools.count(1)


def make_product(code, price="100.00", **fields):
    price = Decimal(price)
    fields.setdefault("name", f"卷烟{code}")
    fields.setdefault("price_class", OrdersConfig.current().price_class_for(price))
    return Product.objects.create(code=code, wholesale_price=price, **fields)


def make_order(customer, lines, *, order_date=None, status="delivered", external_id=None):
    """An order with `lines` = [(product, cartons, unit price)]; totals are the lines' sums."""
    order_date = order_date or timezone.localdate()
    month = order_date.replace(day=1)
    amounts = [cartons * Decimal(price) for _product, cartons, price in lines]
    order = Order.objects.create(
        source="tests",
        external_id=external_id or f"SO{next(_numbers):06d}",
        customer=customer,
        order_date=order_date,
        month=month,
        status=status,
        payment_method="electronic",
        cartons=sum(cartons for _product, cartons, _price in lines),
        amount=sum(amounts, Decimal("0")),
        line_count=len(lines),
        content_hash="x",
    )
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            month=month,
            product=product,
            cartons=cartons,
            unit_price=Decimal(price),
            amount=amount,
        )
        for (product, cartons, price), amount in zip(lines, amounts, strict=True)
    )
    return order


def make_fact(customer, month, cartons, amount, *, classes=None, electronic=None, orders=1):
    """A monthly fact; `classes` are the cartons of classes 1..5 (all in class 3 if omitted)."""
    classes = classes or (0, 0, cartons, 0, 0)
    amount = Decimal(amount)
    return MonthlySalesFact.objects.create(
        customer=customer,
        month=month,
        cartons=cartons,
        amount=amount,
        orders=orders,
        lines=orders,
        **{f"class_{n}_cartons": c for n, c in enumerate(classes, start=1)},
        key_brand_cartons=0,
        new_product_cartons=0,
        low_tar_cartons=0,
        electronic_orders=orders,
        electronic_amount=amount if electronic is None else Decimal(electronic),
        first_order_date=month,
        last_order_date=month,
    )


def months_back(month, n):
    index = month.year * 12 + month.month - 1 - n
    return date(index // 12, index % 12 + 1, 1)


# --- products ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"), [("admin", 200), ("sup_th", 403), ("am_th", 403), ("lo_th", 403)]
)
def test_product_list_is_for_administrators_only(client, customer_world, who, status):
    client.force_login(customer_world[who])
    assert client.get(reverse("orders:products")).status_code == status


def test_product_list_sends_anonymous_users_to_sign_in(client, db):
    response = client.get(reverse("orders:products"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_product_list_filters_sorts_and_pages(client, customer_world):
    make_product("6901", "230.00", name="中华(硬)", brand="中华", is_key_brand=True)
    make_product("6902", "95.00", name="玉溪(软)", brand="玉溪", is_new_product=True)
    make_product("6903", "20.00", name="红梅(黄)", brand="红梅", active=False)
    client.force_login(customer_world["admin"])
    url = reverse("orders:products")

    def codes(**params):
        return [p.code for p in client.get(url, params).context["products"]]

    assert codes(q="玉溪") == ["6902"]
    assert codes(price_class="1") == ["6901"]  # 230 ≥ 130
    assert codes(price_class="5") == ["6903"]  # 20 < 22
    assert codes(is_key_brand="true") == ["6901"]
    assert codes(is_new_product="true") == ["6902"]
    assert codes(active="false") == ["6903"]
    assert codes(ordering="-wholesale_price") == ["6901", "6902", "6903"]
    assert codes(ordering="wholesale_price") == ["6903", "6902", "6901"]
    assert codes(price_class="not-a-class") == ["6901", "6902", "6903"]  # ignored, not a 500

    html = client.get(url).content.decode()
    assert "中华(硬)" in html and "Class 1" in html
    assert reverse("orders:settings") in html


def test_product_list_pages_by_50_and_pins_its_query_count(
    client, customer_world, django_assert_num_queries
):
    for n in range(55):
        make_product(f"P{n:03d}", str(20 + n))
    client.force_login(customer_world["admin"])
    url = reverse("orders:products")
    client.get(url)  # warm caches
    # session, user, unread notifications, count, page rows
    with django_assert_num_queries(5):
        response = client.get(url, {"page": 2})
    assert [p.code for p in response.context["products"]] == [f"P{n:03d}" for n in range(50, 55)]
    assert response.context["paginator"].count == 55


# --- settings ------------------------------------------------------------------------------

VALID_SETTINGS = {
    "class_1_min": "120.00",
    "class_2_min": "80.00",
    "class_3_min": "40.00",
    "class_4_min": "20.00",
    "low_tar_max_mg": "8.0",
    "purchase_window_months": "12",
    "order_date_earliest": "2000-01-01",
    "order_date_days_ahead": "31",
}


def test_settings_page_is_for_administrators_only(client, customer_world):
    client.force_login(customer_world["sup_gz"])
    assert client.get(reverse("orders:settings")).status_code == 403
    assert client.post(reverse("orders:settings"), VALID_SETTINGS).status_code == 403


def test_settings_page_shows_the_bands_and_says_what_saving_does(client, customer_world):
    client.force_login(customer_world["admin"])
    html = client.get(reverse("orders:settings")).content.decode()
    assert 'data-testid="current-bands"' in html
    assert "≥ 130.00" in html and "&lt; 22.00" in html  # class 1 and class 5 of the defaults
    assert "in the background" in html


def test_settings_refuses_bands_out_of_order_and_saves_nothing(client, customer_world):
    client.force_login(customer_world["admin"])
    before = OrdersConfig.current()
    # given class 2 starting above class 1
    data = {**VALID_SETTINGS, "class_2_min": "150.00"}
    # when
    response = client.post(reverse("orders:settings"), data)
    # then
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "class_2_min" in errors
    assert "Must be below the start of class 1" in response.content.decode()
    after = OrdersConfig.objects.get(pk=before.pk)
    assert (after.class_1_min, after.class_2_min) == (Decimal("130.00"), Decimal("90.00"))
    assert not AuditEntry.objects.filter(object_repr=str(before)).exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("class_4_min", "0"),
        ("purchase_window_months", "37"),
        ("purchase_window_months", "0"),
        ("order_date_earliest", "1899-12-31"),
        ("order_date_earliest", "9999-12-31"),
        ("order_date_earliest", "0001-01-01"),
        ("order_date_earliest", "2000-13-01"),
        ("order_date_days_ahead", "367"),
        ("order_date_days_ahead", "-1"),
    ],
)
def test_settings_refuses_out_of_range_values(client, customer_world, field, value):
    client.force_login(customer_world["admin"])
    response = client.post(reverse("orders:settings"), {**VALID_SETTINGS, field: value})
    assert response.status_code == 200
    assert field in response.context["form"].errors
    config = OrdersConfig.current()
    assert config.purchase_window_months == 12
    assert config.order_date_range(date(2026, 12, 6)) == (
        date(2000, 1, 1),
        date(2027, 1, 6),
    )


def test_settings_change_the_range_of_order_dates_a_sync_accepts(client, customer_world):
    # given the range narrowed to 2026-01-01 .. today + 3 days
    client.force_login(customer_world["admin"])
    data = {**VALID_SETTINGS, "order_date_earliest": "2026-01-01", "order_date_days_ahead": "3"}
    html = client.post(reverse("orders:settings"), data, follow=True).content.decode()
    assert "2026-01-01 to today + 3 days" in html
    config = OrdersConfig.current()
    assert (config.order_date_earliest, config.order_date_days_ahead) == (date(2026, 1, 1), 3)
    entry = AuditEntry.objects.get(object_repr=str(config), field="order_date_earliest")
    assert (entry.old_value, entry.new_value) == ("2000-01-01", "2026-01-01")
    # when orders dated on both sides of its ends are synced
    make_product("6901", "100.00")
    today = timezone.localdate()
    days = {
        "SO-1": date(2025, 12, 31),
        "SO-2": date(2026, 1, 1),
        "SO-3": today + timedelta(days=3),
        "SO-4": today + timedelta(days=4),
    }
    erp, _user = integration_client()
    orders = [
        order_payload(key, customer_world["c_th"], [("6901", 1, "100.00")], order_date=str(day))
        for key, day in days.items()
    ]
    report = erp.post(url("order_sync"), {"orders": orders}, format="json").json()
    # then only the two inside it are stored
    assert [(e["external_id"], list(e["errors"])) for e in report["errors"]] == [
        ("SO-1", ["order_date"]),
        ("SO-4", ["order_date"]),
    ]
    assert "Must be between 2026-01-01 and" in report["errors"][0]["errors"]["order_date"][0]
    assert sorted(Order.objects.values_list("external_id", flat=True)) == ["SO-2", "SO-3"]


def test_settings_save_rederives_price_classes(client, customer_world):
    product = make_product("6901", "125.00")
    assert product.price_class == 2  # 90 ≤ 125 < 130
    client.force_login(customer_world["admin"])

    response = client.post(reverse("orders:settings"), VALID_SETTINGS, follow=True)

    assert response.redirect_chain == [(reverse("orders:settings"), 302)]
    assert "were saved" in response.content.decode()
    config = OrdersConfig.current()
    assert config.class_1_min == Decimal("120.00")
    assert config.updated_by == customer_world["admin"]
    product.refresh_from_db()
    assert product.price_class == 1  # 125 ≥ 120


# --- orders --------------------------------------------------------------------------------


@pytest.fixture
def orders_world(customer_world):
    product = make_product("6901", "100.00")
    return {
        **customer_world,
        "o_th": make_order(customer_world["c_th"], [(product, 2, "100.00")], external_id="TH-1"),
        "o_th2": make_order(customer_world["c_th2"], [(product, 3, "100.00")], external_id="TH2-1"),
        "o_yx": make_order(customer_world["c_yx"], [(product, 4, "100.00")], external_id="YX-1"),
    }


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("am_th", ["TH-1"]),
        ("sup_th", ["TH-1", "TH2-1"]),
        ("sup_gz", ["TH-1", "TH2-1", "YX-1"]),
        ("admin", ["TH-1", "TH2-1", "YX-1"]),
    ],
)
def test_order_list_is_scoped(client, orders_world, who, expected):
    client.force_login(orders_world[who])
    response = client.get(reverse("orders:list"))
    assert sorted(o.external_id for o in response.context["orders"]) == expected


def test_order_list_filters_and_links_to_the_customer(client, orders_world):
    product = Product.objects.get(code="6901")
    customer = orders_world["c_th"]
    make_order(customer, [(product, 1, "100.00")], order_date=date(2020, 1, 15), external_id="OLD")
    make_order(customer, [(product, 1, "100.00")], status="cancelled", external_id="CXL")
    client.force_login(orders_world["admin"])
    url = reverse("orders:list")

    def numbers(**params):
        return [o.external_id for o in client.get(url, params).context["orders"]]

    assert set(numbers(customer=customer.customer_code)) == {"TH-1", "OLD", "CXL"}
    assert numbers(status="cancelled") == ["CXL"]
    assert numbers(date_to="2020-01-31") == ["OLD"]
    assert "OLD" not in numbers(date_from="2020-02-01")
    html = client.get(url, {"customer": customer.customer_code}).content.decode()
    assert reverse("customers:detail", args=[customer.customer_code]) in html
    assert reverse("orders:detail", args=[orders_world["o_th"].pk]) in html


def test_order_list_pins_its_query_count(client, orders_world, django_assert_num_queries):
    client.force_login(orders_world["am_th"])
    url = reverse("orders:list")
    client.get(url)  # warm caches
    # session, user, unread notifications, count, page rows with their customers
    with django_assert_num_queries(5):
        client.get(url)
    product = Product.objects.get(code="6901")
    for _ in range(10):
        make_order(orders_world["c_th"], [(product, 1, "100.00")])
    with django_assert_num_queries(5):
        response = client.get(url)
    assert len(response.context["orders"]) == 11


def test_order_detail_lists_the_lines_and_is_404_outside_scope(client, orders_world):
    order = orders_world["o_th"]
    client.force_login(orders_world["am_th"])
    response = client.get(reverse("orders:detail", args=[order.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="order-lines"' in html
    assert "6901" in html and "200.00" in html  # 2 cartons × 100.00
    other = orders_world["o_th2"]
    assert client.get(reverse("orders:detail", args=[other.pk])).status_code == 404


# --- customer page -------------------------------------------------------------------------


def test_customer_page_shows_twelve_months_of_sales(client, customer_world):
    customer = customer_world["c_th"]
    this_month = timezone.localdate().replace(day=1)
    # given: month i (1 = eleven months ago … 12 = this month) bought 10·i cartons at 100.00,
    # i of class 1, 4·i of class 2, 5·i of class 3, three quarters settled electronically
    for i in range(1, 13):
        make_fact(
            customer,
            months_back(this_month, 12 - i),
            10 * i,
            f"{1000 * i}.00",
            classes=(i, 4 * i, 5 * i, 0, 0),
            electronic=f"{750 * i}.00",
        )
    make_fact(customer, months_back(this_month, 12), 999, "99900.00")  # outside the window
    make_order(customer, [(make_product("6901"), 120, "100.00")])
    client.force_login(customer_world["am_th"])

    url = reverse("customers:detail", args=[customer.customer_code]) + "?tab=sales"
    response = client.get(url)

    html = response.content.decode()
    assert 'data-testid="customer-sales"' in html
    # 10 + 20 + … + 120 = 780 cartons, 78,000.00 CNY, 100.00 per carton, 75 % electronic
    assert 'data-total="cartons">780<' in html
    assert 'data-total="amount">78000.00<' in html
    assert 'data-total="average_price">100.00<' in html
    assert 'data-total="e_settlement_share">75.0%<' in html
    assert html.count("<tr data-month=") == 12
    assert (
        f'<tr data-month="{this_month:%Y-%m}"><td>{this_month:%Y-%m}</td><td class="text-end">120<'
        in html
    )
    # class mix: 78 / 312 / 390 of 780 cartons
    sales = response.context["sales"]
    assert [row["share"] for row in sales["class_mix"]] == [
        Decimal("10.0"),
        Decimal("40.0"),
        Decimal("50.0"),
        Decimal("0.0"),
        Decimal("0.0"),
    ]
    assert 'id="sales-data"' in html and "sales_chart.js" in html and "chart.umd.min.js" in html
    assert reverse("orders:list") + f"?customer={customer.customer_code}" in html


def test_customer_page_says_when_there_are_no_orders(client, customer_world, areas):
    customer = make_customer(areas["TH"], customer_world["am_th"])
    client.force_login(customer_world["am_th"])
    url = reverse("customers:detail", args=[customer.customer_code]) + "?tab=sales"
    html = client.get(url).content.decode()
    assert 'data-testid="customer-sales"' in html
    assert "No orders yet." in html
    assert 'id="sales-data"' not in html


def test_sales_summary_fills_missing_months_with_zeros_across_a_year_end(
    customer_world, django_assert_num_queries
):
    customer = customer_world["c_th"]
    make_fact(customer, date(2025, 3, 1), 5, "250.00", electronic="0.00")  # the first month
    make_fact(customer, date(2026, 2, 1), 15, "1750.00", electronic="0.00")  # the last
    make_fact(customer, date(2025, 2, 1), 100, "1.00")  # a month too early

    with django_assert_num_queries(2):  # facts, latest orders
        sales = customer_sales_summary(customer=customer, today=date(2026, 2, 15))

    assert [row["month"] for row in sales["monthly"]][:2] == [date(2025, 3, 1), date(2025, 4, 1)]
    assert len(sales["monthly"]) == 12
    assert sales["monthly"][-1] == {
        "month": date(2026, 2, 1),
        "cartons": 15,
        "amount": Decimal("1750.00"),
        "orders": 1,
    }
    assert [row["cartons"] for row in sales["monthly"]] == [5] + [0] * 10 + [15]
    # 2000.00 / 20 cartons; nothing settled electronically
    assert sales["totals"]["average_price"] == Decimal("100.00")
    assert sales["totals"]["e_settlement_share"] == Decimal("0.0")
    assert sales["class_mix"][2]["share"] == Decimal("100.0")
    assert sales["has_orders"] is False


def test_navigation_has_orders_for_everyone_and_products_for_administrators(
    client, make_user, areas
):
    client.force_login(make_user(Role.ACCOUNT_MANAGER, [areas["TH"]]))
    html = client.get(reverse("home")).content.decode()
    assert f'href="{reverse("orders:list")}"' in html
    assert f'href="{reverse("orders:products")}"' not in html
    client.force_login(make_user(Role.ADMINISTRATOR))
    html = client.get(reverse("home")).content.decode()
    assert f'href="{reverse("orders:products")}"' in html


def test_settings_shows_the_services_refusal_on_the_field(client, customer_world):
    client.force_login(customer_world["admin"])
    # given a value the form's field accepts (4 digits) but the service refuses (over 99.9 mg)
    data = {**VALID_SETTINGS, "low_tar_max_mg": "150.0"}

    response = client.post(reverse("orders:settings"), data)

    assert response.status_code == 200
    assert "low_tar_max_mg" in response.context["form"].errors
    assert OrdersConfig.current().class_1_min == Decimal("130.00")  # nothing saved


def test_order_list_deep_pages_show_the_same_rows_in_order_and_scope(
    client, orders_world, monkeypatch, django_assert_num_queries
):
    """Pages after the first are fetched by their keys (crm.paginators.DeepPagePaginator): the
    pages together are exactly the manager's orders newest first, with no colleague's order,
    each page in as many queries as the first."""
    from orders.views import OrderListView

    monkeypatch.setattr(OrderListView, "paginate_by", 2)
    product = Product.objects.get(code="6901")
    for day in (3, 1, 2, 2, 5):
        make_order(orders_world["c_th"], [(product, 1, "100.00")], order_date=date(2026, 3, day))
    make_order(orders_world["c_th2"], [(product, 1, "100.00")], order_date=date(2026, 3, 4))
    client.force_login(orders_world["am_th"])
    url = reverse("orders:list")
    expected = list(
        Order.objects.filter(customer=orders_world["c_th"])
        .order_by("-order_date", "-id")
        .values_list("external_id", flat=True)
    )
    assert len(expected) == 6
    client.get(url)  # warm caches
    seen = []
    for number in (1, 2, 3):
        with django_assert_num_queries(5):  # the customer comes with each row
            response = client.get(url, {"page": number})
            customers = {o.customer.customer_code for o in response.context["orders"]}
        seen += [o.external_id for o in response.context["orders"]]
        assert customers == {orders_world["c_th"].customer_code}
    assert seen == expected
    assert not response.context["page_obj"].has_next()
