"""Monthly sales facts and the customers' purchase figures, kept right as orders arrive,
change and are cancelled, and rebuilt from scratch to the same rows.

Orders come in through the sync API (the public door); the expected figures are worked out
by hand in each test.
"""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from customers.models import CustomerSystem
from orders.models import MonthlySalesFact, OrdersConfig
from orders.services import orders_config_update, purchase_figures_refresh, sales_facts_rebuild
from tests.orders.factories import ACTOR, integration_client, make_product, order_payload, url

FACT_FIELDS = [
    "cartons",
    "amount",
    "orders",
    "lines",
    "class_1_cartons",
    "class_2_cartons",
    "class_3_cartons",
    "class_4_cartons",
    "class_5_cartons",
    "key_brand_cartons",
    "new_product_cartons",
    "low_tar_cartons",
    "electronic_orders",
    "electronic_amount",
    "first_order_date",
    "last_order_date",
]
OCT = datetime.date(2026, 10, 1)
SEP = datetime.date(2026, 9, 1)


@pytest.fixture
def sync(erp, django_capture_on_commit_callbacks):
    """Posts orders as "erp" (or another client) and runs what waits for the commit."""

    def post(orders, api: APIClient | None = None) -> dict:
        with django_capture_on_commit_callbacks(execute=True):
            response = (api or erp).post(url("order_sync"), {"orders": orders}, format="json")
        assert response.status_code == 200, response.content[:500]
        report = response.json()
        assert not report["errors"], report
        return report

    return post


@pytest.fixture
def p(db):
    """One product per price class, with flags and tar values to tell the figures apart."""
    return {
        1: make_product("P1", "230.00", is_key_brand=True, tar_mg=Decimal("10.0")),
        2: make_product("P2", "100.00", is_new_product=True, tar_mg=Decimal("8.0")),
        3: make_product("P3", "50.00", tar_mg=Decimal("8.1")),
        4: make_product("P4", "25.00", is_key_brand=True, tar_mg=Decimal("5.0")),
        5: make_product("P5", "15.00"),
    }


@pytest.fixture
def th(customer_world):
    return customer_world["c_th"]


@pytest.fixture
def th2(customer_world):
    return customer_world["c_th2"]


def fact_rows() -> list[dict]:
    return list(
        MonthlySalesFact.objects.order_by("customer_id", "month").values(
            "customer_id", "month", *FACT_FIELDS
        )
    )


def fact(customer, month: datetime.date) -> dict | None:
    row = MonthlySalesFact.objects.filter(customer=customer, month=month).values(*FACT_FIELDS)
    return row.first()


def figures(**values) -> dict:
    """A fact row's values: zero unless given; amounts as Decimal, dates as ISO strings."""
    row: dict = dict.fromkeys(FACT_FIELDS, 0)
    row["amount"] = row["electronic_amount"] = Decimal("0")
    for key, value in values.items():
        if key in ("amount", "electronic_amount"):
            value = Decimal(value)
        elif key.endswith("_date"):
            value = datetime.date.fromisoformat(value)
        row[key] = value
    return row


def assert_facts_match_a_rebuild() -> None:
    kept = fact_rows()
    count = sales_facts_rebuild()
    assert fact_rows() == kept
    assert count == len(kept)


def months_back(day: datetime.date, months: int) -> datetime.date:
    """The first day of the month `months` before the month of `day`."""
    index = day.year * 12 + day.month - 1 - months
    return datetime.date(index // 12, index % 12 + 1, 1)


def system_of(customer) -> CustomerSystem:
    return CustomerSystem.objects.get(customer=customer)


# --- the figures of a month -------------------------------------------------------------


def test_a_month_of_orders_makes_one_fact_row(sync, th, p):
    # given three counted orders in October, a cancelled and a returned one
    sync(
        [
            order_payload(
                "SO-1",
                th,
                [(p[1], 5, "230.00"), (p[2], 2, "100.00")],
                order_date="2026-10-05",
                payment_method="electronic",
            ),
            order_payload(
                "SO-2",
                th,
                [(p[3], 4, "50.00"), (p[4], 10, "25.00"), (p[5], 3, "15.00")],
                order_date="2026-10-20",
                status="placed",
                payment_method="cash",
            ),
            order_payload(
                "SO-3", th, [(p[1], 100, "230.00")], order_date="2026-10-25", status="cancelled"
            ),
            order_payload(
                "SO-4", th, [(p[2], 50, "100.00")], order_date="2026-10-02", status="returned"
            ),
            order_payload(
                "SO-5",
                th,
                [(p[5], 1, "15.00")],
                order_date="2026-10-28",
                payment_method="electronic",
            ),
        ]
    )

    # then October sums SO-1, SO-2 and SO-5 only
    #   SO-1: 5 × 230 + 2 × 100 = 1350 (e-settled); SO-2: 200 + 250 + 45 = 495; SO-5: 15
    #   low tar (≤ 8.0 mg): P2 (8.0) and P4 (5.0); key brands: P1 and P4; new: P2
    assert fact(th, OCT) == figures(
        cartons=25,
        amount="1860.00",
        orders=3,
        lines=6,
        class_1_cartons=5,
        class_2_cartons=2,
        class_3_cartons=4,
        class_4_cartons=10,
        class_5_cartons=4,
        key_brand_cartons=15,
        new_product_cartons=2,
        low_tar_cartons=12,
        electronic_orders=2,
        electronic_amount="1365.00",
        first_order_date="2026-10-05",
        last_order_date="2026-10-28",
    )
    assert MonthlySalesFact.objects.count() == 1
    assert_facts_match_a_rebuild()


def test_a_line_amount_and_the_products_class_are_what_count(sync, th, p):
    # a class-5 product sold dear, with a discounted amount
    line = {"product_code": "P5", "quantity": 2, "unit_price": "300.00", "amount": "550.00"}
    sync([{**order_payload("SO-1", th, [], order_date="2026-10-05"), "lines": [line]}])

    row = fact(th, OCT)
    assert (row["class_5_cartons"], row["class_1_cartons"]) == (2, 0)
    assert (row["amount"], row["electronic_amount"]) == (Decimal("550.00"), Decimal("550.00"))


def test_a_month_of_only_cancelled_or_returned_orders_has_no_fact(sync, th, p):
    sync(
        [
            order_payload(
                "SO-1", th, [(p[1], 1, "230")], order_date="2026-11-03", status="cancelled"
            ),
            order_payload(
                "SO-2", th, [(p[1], 1, "230")], order_date="2026-11-04", status="returned"
            ),
            order_payload("SO-3", th, [(p[1], 1, "230")], order_date="2026-10-04"),
        ]
    )

    assert fact(th, datetime.date(2026, 11, 1)) is None
    assert fact_rows() == [{"customer_id": th.pk, "month": OCT, **fact(th, OCT)}]
    assert_facts_match_a_rebuild()


def test_facts_are_per_customer_and_month_and_count_every_source(sync, th, th2, p):
    pos, _user = integration_client("pos")
    sync([order_payload("SO-1", th, [(p[1], 1, "230")], order_date="2026-10-04")])
    sync([order_payload("SO-1", th, [(p[2], 2, "100")], order_date="2026-10-09")], api=pos)
    sync([order_payload("SO-2", th, [(p[2], 1, "100")], order_date="2026-09-30")])
    sync([order_payload("SO-3", th2, [(p[3], 3, "50")], order_date="2026-10-01")])

    assert [(r["customer_id"], r["month"], r["cartons"], r["orders"]) for r in fact_rows()] == [
        (th.pk, SEP, 1, 1),
        (th.pk, OCT, 3, 2),
        (th2.pk, OCT, 3, 1),
    ]
    assert_facts_match_a_rebuild()


def test_low_tar_follows_the_configured_limit(sync, th, p):
    OrdersConfig.objects.update_or_create(pk=1, defaults={"low_tar_max_mg": Decimal("10.0")})

    sync([order_payload("SO-1", th, [(p[1], 1, "230"), (p[3], 2, "50"), (p[5], 4, "15")])])

    # P1 (10.0) and P3 (8.1) are now low tar; P5 has no tar value
    assert fact(th, OCT)["low_tar_cartons"] == 3


# --- keeping them right -----------------------------------------------------------------


def test_a_changed_order_corrects_its_fact(sync, th, p):
    lines = [(p[1], 5, "230.00"), (p[2], 2, "100.00")]
    sync([order_payload("SO-1", th, lines, order_date="2026-10-05")])
    sync([order_payload("SO-2", th, [(p[3], 1, "50.00")], order_date="2026-10-09")])

    # when SO-1 loses its P2 line, buys one more P1 and is paid in cash
    sync(
        [
            order_payload(
                "SO-1", th, [(p[1], 6, "230.00")], order_date="2026-10-05", payment_method="cash"
            )
        ]
    )

    assert fact(th, OCT) == figures(
        cartons=7,
        amount="1430.00",
        orders=2,
        lines=2,
        class_1_cartons=6,
        class_3_cartons=1,
        key_brand_cartons=6,
        electronic_orders=1,
        electronic_amount="50.00",
        first_order_date="2026-10-05",
        last_order_date="2026-10-09",
    )
    assert_facts_match_a_rebuild()


def test_moving_an_order_to_another_month_corrects_both_months(sync, th, p):
    # given two October orders
    sync(
        [
            order_payload("SO-1", th, [(p[1], 5, "230")], order_date="2026-10-05"),
            order_payload("SO-2", th, [(p[2], 2, "100")], order_date="2026-10-20"),
        ]
    )

    # when SO-2 turns out to be of September
    sync([order_payload("SO-2", th, [(p[2], 2, "100")], order_date="2026-09-28")])

    # then October keeps SO-1 only, and September has SO-2
    october, september = fact(th, OCT), fact(th, SEP)
    assert (october["cartons"], october["orders"], str(october["last_order_date"])) == (
        5,
        1,
        "2026-10-05",
    )
    assert (september["cartons"], september["amount"], september["orders"]) == (
        2,
        Decimal("200.00"),
        1,
    )
    assert_facts_match_a_rebuild()

    # and when SO-1 moves as well, October has no fact any more
    sync([order_payload("SO-1", th, [(p[1], 5, "230")], order_date="2026-09-02")])
    assert fact(th, OCT) is None
    assert fact(th, SEP)["orders"] == 2
    assert_facts_match_a_rebuild()


def test_moving_an_order_to_another_customer_corrects_both(sync, th, th2, p):
    sync(
        [
            order_payload("SO-1", th, [(p[1], 5, "230")], order_date="2026-10-05"),
            order_payload("SO-2", th2, [(p[2], 1, "100")], order_date="2026-10-07"),
        ]
    )

    sync([order_payload("SO-1", th2, [(p[1], 5, "230")], order_date="2026-10-05")])

    assert fact(th, OCT) is None
    moved = fact(th2, OCT)
    assert (moved["cartons"], moved["amount"], moved["orders"]) == (6, Decimal("1250.00"), 2)
    assert str(moved["first_order_date"]) == "2026-10-05"
    assert_facts_match_a_rebuild()


def test_cancelling_and_reinstating_an_order(sync, th, p):
    one = order_payload("SO-1", th, [(p[1], 5, "230")], order_date="2026-10-05")
    two = order_payload("SO-2", th, [(p[2], 2, "100")], order_date="2026-10-20")
    sync([one, two])

    # cancelling one of two corrects the month
    sync([{**two, "status": "cancelled"}])
    row = fact(th, OCT)
    assert (row["cartons"], row["orders"], str(row["last_order_date"])) == (5, 1, "2026-10-05")
    assert_facts_match_a_rebuild()

    # a return of the other leaves no counted order: no row
    sync([{**one, "status": "returned"}])
    assert fact(th, OCT) is None
    assert_facts_match_a_rebuild()

    # reinstating one brings it back
    sync([{**two, "status": "delivered"}])
    row = fact(th, OCT)
    assert (row["cartons"], row["orders"], str(row["first_order_date"])) == (2, 1, "2026-10-20")
    assert_facts_match_a_rebuild()


# --- rebuilding -------------------------------------------------------------------------


def test_rebuild_gives_the_same_rows_from_scratch(sync, th, th2, p):
    sync(
        [
            order_payload("SO-1", th, [(p[1], 5, "230"), (p[4], 1, "25")], order_date="2026-10-05"),
            order_payload("SO-2", th, [(p[2], 2, "100")], order_date="2026-09-20"),
            order_payload(
                "SO-3", th2, [(p[3], 3, "50")], order_date="2026-10-01", payment_method="cash"
            ),
            order_payload(
                "SO-4", th2, [(p[5], 9, "15")], order_date="2026-08-31", status="cancelled"
            ),
        ]
    )
    kept = fact_rows()
    assert len(kept) == 3

    # when the facts are lost, or wrong, or one is left over
    MonthlySalesFact.objects.all().delete()
    assert sales_facts_rebuild() == 3
    assert fact_rows() == kept

    MonthlySalesFact.objects.filter(customer=th, month=OCT).update(cartons=999)
    stray = dict(kept[0], month=datetime.date(2025, 1, 1))
    stray["customer_id"] = th2.pk
    MonthlySalesFact.objects.create(**stray)

    # then a rebuild gives back exactly the rows the services keep
    assert sales_facts_rebuild() == 3
    assert fact_rows() == kept


def test_rebuild_without_orders_leaves_no_facts(db):
    assert sales_facts_rebuild() == 0
    assert not MonthlySalesFact.objects.exists()


# --- the customer's purchase figures ----------------------------------------------------


def test_purchase_figures_cover_the_window_of_months(sync, th, p):
    today = timezone.localdate()
    oldest_in = months_back(today, 11)
    sync(
        [
            order_payload("SO-1", th, [(p[1], 2, "230")], order_date=today.isoformat()),
            order_payload(
                "SO-2",
                th,
                [(p[2], 3, "100")],
                order_date=oldest_in.isoformat(),
                payment_method="cash",
            ),
            # the last day of the month before the window: a fact, but outside the figures
            order_payload(
                "SO-3",
                th,
                [(p[1], 10, "230")],
                order_date=(oldest_in - datetime.timedelta(days=1)).isoformat(),
            ),
            order_payload(
                "SO-4", th, [(p[1], 50, "230")], order_date=today.isoformat(), status="cancelled"
            ),
            {
                **order_payload("SO-5", th, [], order_date=months_back(today, 0).isoformat()),
                "lines": [
                    {"product_code": "P3", "quantity": 1, "unit_price": "50", "amount": "40"}
                ],
            },
        ]
    )

    # cartons 2 + 3 + 1; amount 460 + 300 + 40; e-settled 460 + 40
    system = system_of(th)
    assert system.purchase_quantity == 6
    assert system.purchase_amount == Decimal("800.00")
    assert system.average_price == Decimal("133.33")
    assert system.e_settlement_rate == Decimal("0.6250")
    assert system.last_order_date == today
    assert fact(th, months_back(today, 12))["cartons"] == 10


def test_last_order_date_is_the_latest_counted_order_at_any_time(sync, th, p):
    today = timezone.localdate()
    long_ago = months_back(today, 30) + datetime.timedelta(days=4)
    sync(
        [
            order_payload("SO-1", th, [(p[1], 2, "230")], order_date=long_ago.isoformat()),
            order_payload(
                "SO-2", th, [(p[1], 2, "230")], order_date=today.isoformat(), status="cancelled"
            ),
        ]
    )

    system = system_of(th)
    assert system.last_order_date == long_ago
    assert system.purchase_quantity in (0, None)
    assert system.purchase_amount in (Decimal("0"), None)


def test_purchase_window_follows_the_settings(sync, th, p):
    OrdersConfig.objects.update_or_create(pk=1, defaults={"purchase_window_months": 1})
    today = timezone.localdate()
    sync(
        [
            order_payload("SO-1", th, [(p[1], 2, "230")], order_date=today.isoformat()),
            order_payload(
                "SO-2",
                th,
                [(p[2], 3, "100")],
                order_date=(months_back(today, 0) - datetime.timedelta(days=1)).isoformat(),
            ),
        ]
    )

    system = system_of(th)
    assert (system.purchase_quantity, system.purchase_amount) == (2, Decimal("460.00"))
    assert system.e_settlement_rate == Decimal("1.0000")


def test_purchase_figures_follow_changes_cancellations_and_moves(sync, th, th2, p):
    today = timezone.localdate()
    earlier = months_back(today, 2) + datetime.timedelta(days=9)
    one = order_payload("SO-1", th, [(p[1], 2, "230")], order_date=today.isoformat())
    two = order_payload(
        "SO-2", th, [(p[2], 3, "100")], order_date=earlier.isoformat(), payment_method="cash"
    )
    sync([one, two])
    assert (system_of(th).purchase_quantity, system_of(th).last_order_date) == (5, today)

    # a changed quantity
    sync([{**one, "lines": [{"product_code": "P1", "quantity": 4, "unit_price": "230"}]}])
    assert system_of(th).purchase_quantity == 7
    assert system_of(th).purchase_amount == Decimal("1220.00")

    # a cancellation: SO-2 is all that counts, and it is the last order
    sync([{**one, "status": "cancelled"}])
    system = system_of(th)
    assert (system.purchase_quantity, system.purchase_amount) == (3, Decimal("300.00"))
    assert system.average_price == Decimal("100.00")
    assert system.e_settlement_rate == Decimal("0.0000")
    assert system.last_order_date == earlier

    # a move to another customer takes SO-2's figures with it
    sync([{**two, "customer_code": th2.customer_code}])
    assert system_of(th).last_order_date is None
    assert system_of(th).purchase_quantity in (0, None)
    assert (system_of(th2).purchase_quantity, system_of(th2).last_order_date) == (3, earlier)


PURCHASE_FIELDS = [
    "purchase_quantity",
    "purchase_amount",
    "average_price",
    "e_settlement_rate",
    "last_order_date",
    # what a sync adds its batch to: the window's e-settled amount and first month
    "purchase_e_amount",
    "purchase_window_start",
]


def purchase_rows(*customers) -> list[dict]:
    rows = CustomerSystem.objects.order_by("customer_id")
    if customers:
        rows = rows.filter(customer__in=customers)
    return list(rows.values("customer_id", *PURCHASE_FIELDS))


def assert_purchase_figures_match_a_full_refresh(*customers) -> None:
    """What the syncs wrote (of `customers`, default all) is what a full recompute of the
    figures from the facts gives."""
    kept = purchase_rows(*customers)
    purchase_figures_refresh()
    assert purchase_rows(*customers) == kept


def test_figures_of_old_facts_and_backfilled_orders_match_a_full_refresh(sync, th, th2, p):
    # What a sync writes (on PostgreSQL the figures of the synced customers read only the
    # window's facts and the latest one) is what a full recompute of the facts and the
    # figures gives.
    purchase_figures_refresh()  # every customer's figures computed (0, not None, if none)
    today = timezone.localdate()
    day = datetime.timedelta(days=3)
    # th: facts only older than the window
    sync(
        [
            order_payload(
                "SO-1", th, [(p[1], 2, "230")], order_date=str(months_back(today, 14) + day)
            ),
            order_payload("SO-2", th, [(p[2], 1, "100")], order_date=str(months_back(today, 20))),
        ]
    )
    assert_purchase_figures_match_a_full_refresh()  # first: a rebuild refreshes them too
    assert_facts_match_a_rebuild()
    assert system_of(th).purchase_quantity in (0, None)
    assert system_of(th).last_order_date == months_back(today, 14) + day

    # th2: a recent order, then older ones sent later (in the window and before it)
    sync([order_payload("SO-3", th2, [(p[3], 4, "50")], order_date=today.isoformat())])
    backfilled = order_payload(
        "SO-4", th2, [(p[1], 1, "230")], order_date=str(months_back(today, 5) + day)
    )
    sync(
        [
            backfilled,
            order_payload(
                "SO-5",
                th2,
                [(p[4], 6, "25")],
                order_date=str(months_back(today, 13)),
                payment_method="cash",
            ),
            # the first month of the window
            order_payload("SO-6", th2, [(p[5], 2, "15")], order_date=str(months_back(today, 11))),
        ]
    )
    assert_purchase_figures_match_a_full_refresh()  # first: a rebuild refreshes them too
    assert_facts_match_a_rebuild()
    assert (system_of(th2).purchase_quantity, system_of(th2).last_order_date) == (7, today)

    # the backfilled order changed, the recent one cancelled, th's latest old order cancelled
    sync(
        [
            {
                **backfilled,
                "payment_method": "cash",
                "lines": [{"product_code": "P1", "quantity": 3, "unit_price": "230"}],
            }
        ]
    )
    sync(
        [
            {
                **order_payload("SO-3", th2, [(p[3], 4, "50")], order_date=today.isoformat()),
                "status": "cancelled",
            },
            {
                **order_payload(
                    "SO-1", th, [(p[1], 2, "230")], order_date=str(months_back(today, 14) + day)
                ),
                "status": "cancelled",
            },
        ]
    )
    assert_purchase_figures_match_a_full_refresh()  # first: a rebuild refreshes them too
    assert_facts_match_a_rebuild()
    assert system_of(th2).purchase_quantity == 5
    assert system_of(th2).last_order_date == months_back(today, 5) + day
    assert system_of(th).last_order_date == months_back(today, 20)


def test_a_product_changing_class_or_flags_moves_its_cartons(
    sync, erp, th, p, django_capture_on_commit_callbacks
):
    # given October cartons of P3 (class 3, not low tar, no flags)
    sync([order_payload("SO-1", th, [(p[3], 4, "50")], order_date="2026-10-05")])

    # when the ordering system reprices it into class 1 and marks it a low-tar key brand
    item = {
        "code": "P3",
        "name": p[3].name,
        "wholesale_price": "150.00",
        "tar_mg": "6.0",
        "is_key_brand": True,
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = erp.post(url("product_sync"), {"products": [item]}, format="json")
    assert response.json()["updated"] == 1

    # then the facts read the product as it is now
    row = fact(th, OCT)
    assert (row["class_3_cartons"], row["class_1_cartons"]) == (0, 4)
    assert (row["key_brand_cartons"], row["low_tar_cartons"]) == (4, 4)
    assert_facts_match_a_rebuild()


def every_fact_column() -> list[tuple]:
    columns = [f.attname for f in MonthlySalesFact._meta.concrete_fields if f.name != "id"]
    return list(MonthlySalesFact.objects.order_by("customer_id", "month").values_list(*columns))


def test_a_batch_adds_its_own_figures_and_recounts_what_changed_orders_leave(sync, th, th2, p):
    """The sync adds a batch's own figures to the facts already held (no recount of the
    month's history) and recounts only the months a replaced order counted in: after each
    batch every column is what a rebuild from the orders gives."""

    def assert_every_column_as_rebuilt() -> None:
        kept = every_fact_column()
        sales_facts_rebuild()
        assert every_fact_column() == kept

    sync(
        [
            order_payload("AD-1", th, [(p[1], 5, "230"), (p[4], 1, "25")], order_date="2026-10-05"),
            order_payload(
                "AD-2", th, [(p[2], 2, "100")], order_date="2026-10-20", paid_on_time=False
            ),
            order_payload(
                "AD-3", th2, [(p[3], 3, "50")], order_date="2026-09-02", payment_method="cash"
            ),
            order_payload(
                "AD-4", th2, [(p[5], 9, "15")], order_date="2026-09-30", paid_on_time=None
            ),
        ]
    )
    assert_every_column_as_rebuilt()
    assert fact(th, OCT) == figures(
        cartons=8, amount="1375.00", orders=2, lines=3, class_1_cartons=5, class_2_cartons=2,
        class_4_cartons=1, key_brand_cartons=6, new_product_cartons=2, low_tar_cartons=3,
        electronic_orders=2, electronic_amount="1375.00", first_order_date="2026-10-05",
        last_order_date="2026-10-20",
    )  # fmt: skip

    # Added to the months held: a new order of th in October (earlier than the first), and
    # one of th2 in a month it had none.
    sync(
        [
            order_payload("AD-5", th, [(p[3], 4, "50")], order_date="2026-10-01"),
            order_payload("AD-6", th2, [(p[1], 1, "230")], order_date="2026-10-31"),
        ]
    )
    assert_every_column_as_rebuilt()
    assert fact(th, OCT)["first_order_date"] == datetime.date(2026, 10, 1)
    assert fact(th, OCT)["cartons"] == 12

    # Changed, cancelled and moved orders beside new ones in the same months.
    sync(
        [
            # a line's quantity and the payment changed
            order_payload("AD-1", th, [(p[1], 6, "230"), (p[4], 1, "25")], order_date="2026-10-05",
                          payment_method="cash"),
            # cancelled: the last order of October goes
            order_payload("AD-2", th, [(p[2], 2, "100")], order_date="2026-10-20",
                          status="cancelled"),
            # moved to the other customer
            order_payload("AD-3", th, [(p[3], 3, "50")], order_date="2026-09-02",
                          payment_method="cash"),
            # moved to another month
            order_payload("AD-4", th2, [(p[5], 9, "15")], order_date="2026-08-15",
                          paid_on_time=None),
            # new, in a month being recounted and in one only added to
            order_payload("AD-7", th2, [(p[2], 1, "100")], order_date="2026-09-10"),
            order_payload("AD-8", th, [(p[5], 2, "15")], order_date="2026-08-01"),
        ]
    )  # fmt: skip
    assert_every_column_as_rebuilt()
    assert fact(th, OCT)["last_order_date"] == datetime.date(2026, 10, 5)
    assert fact(th, OCT)["orders"] == 2
    assert fact(th2, SEP)["orders"] == 1  # AD-3 left it, AD-7 came

    # A cancelled order reinstated (it counted nowhere before: only added).
    sync(
        [order_payload("AD-2", th, [(p[2], 2, "100")], order_date="2026-10-20", paid_on_time=False)]
    )
    assert_every_column_as_rebuilt()
    assert fact(th, OCT)["orders"] == 3


def test_a_changed_order_s_old_figures_are_taken_away_and_its_dates_kept_right(sync, th, th2, p):
    """A replaced order's old figures are taken from its month and the new ones added; the
    first and last order dates, which cannot be taken away, stay what the orders say: after
    each batch every column is what a rebuild gives."""

    def assert_every_column_as_rebuilt() -> None:
        kept = every_fact_column()
        sales_facts_rebuild()
        assert every_fact_column() == kept

    def order(number, day, cartons=1, customer=th, **extra):
        return order_payload(number, customer, [(p[1], cartons, "230")], order_date=day, **extra)

    # October of th: two orders on the 3rd (the first day), one on the 12th, one on the 28th
    # (the last day); September of th2: one order alone
    sync(
        [
            order("DT-1", "2026-10-03"),
            order("DT-2", "2026-10-03", 2),
            order("DT-3", "2026-10-12", 3),
            order("DT-4", "2026-10-28", 4),
            order("DT-5", "2026-09-15", 5, customer=th2),
        ]
    )
    assert_every_column_as_rebuilt()

    # the same days, other figures (delivered late, more cartons): taken away and added
    sync(
        [
            order("DT-1", "2026-10-03", 7, paid_on_time=False),
            order("DT-4", "2026-10-28", 1, payment_method="cash"),
            order("DT-5", "2026-09-15", 2, customer=th2, paid_on_time=None),
        ]
    )
    assert_every_column_as_rebuilt()
    assert fact(th, OCT)["cartons"] == 7 + 2 + 3 + 1

    # one of the two orders of the first day moves later: the other keeps the first day
    sync([order("DT-1", "2026-10-20", 7)])
    assert_every_column_as_rebuilt()
    assert fact(th, OCT)["first_order_date"] == datetime.date(2026, 10, 3)

    # the last order moves earlier, and the only order of the first day moves earlier still
    sync([order("DT-4", "2026-10-10", 1), order("DT-2", "2026-10-01", 2)])
    assert_every_column_as_rebuilt()
    assert (fact(th, OCT)["first_order_date"], fact(th, OCT)["last_order_date"]) == (
        datetime.date(2026, 10, 1),
        datetime.date(2026, 10, 20),
    )

    # a middle order changes day within the month; th2's only order of September leaves it
    sync([order("DT-3", "2026-10-11", 3), order("DT-5", "2026-08-15", 2, customer=th2)])
    assert_every_column_as_rebuilt()
    assert fact(th2, SEP) is None

    # the only order of the first day moves later, the only one of the last day earlier:
    # the next orders' days become the first and the last
    sync([order("DT-2", "2026-10-15", 2)])
    assert_every_column_as_rebuilt()
    sync([order("DT-1", "2026-10-12", 7)])
    assert_every_column_as_rebuilt()
    assert (fact(th, OCT)["first_order_date"], fact(th, OCT)["last_order_date"]) == (
        datetime.date(2026, 10, 10),
        datetime.date(2026, 10, 15),
    )

    # October's orders cancelled, two at a time: the fact goes with the last
    sync(
        [
            order(n, d, status="cancelled")
            for n, d in [("DT-1", "2026-10-12"), ("DT-3", "2026-10-11")]
        ]
    )
    assert_every_column_as_rebuilt()
    sync(
        [
            order("DT-2", "2026-10-15", 2, status="cancelled"),
            order("DT-4", "2026-10-10", 1, status="cancelled"),
        ]
    )
    assert_every_column_as_rebuilt()
    assert fact(th, OCT) is None


def test_a_change_to_an_order_whose_month_is_pending_recounts_that_month(sync, th, p):
    # given a month whose fact counts one order, and a second order stored by a load that
    # leaves the month's fact to a later refresh (marked pending)
    from orders.services import order_sync_many
    from tests.orders.factories import ACTOR

    sync([order_payload("PD-1", th, [(p[1], 5, "230")], order_date="2026-10-05")])
    loaded = order_payload("PD-2", th, [(p[2], 9, "100")], order_date="2026-10-09")
    order_sync_many(rows=[loaded], source="erp", actor=ACTOR, refresh_facts=False)
    assert fact(th, OCT)["cartons"] == 5

    # when the loaded order changes through the sync, then nothing is taken from a fact that
    # never counted it: the month is counted from its orders
    sync([{**loaded, "lines": [{"product_code": "P2", "quantity": 1, "unit_price": "100"}]}])
    assert fact(th, OCT)["cartons"] == 6
    assert_facts_match_a_rebuild()


# --- the purchase figures kept by each batch's own changes -----------------------------


@pytest.fixture
def refreshed(sync, monkeypatch):
    """Posts orders; returns the customers whose purchase figures were recomputed from their
    facts. The others had the batch's own changes added to the figures held, and no
    statement writing the figures read a fact for them."""
    from orders import services

    def post(orders) -> set[int]:
        original = services.purchase_figures_refresh
        customers: set[int] = set()

        def spy(**kwargs):
            customers.update(kwargs["customer_ids"])
            return original(**kwargs)

        monkeypatch.setattr(services, "purchase_figures_refresh", spy)
        with CaptureQueriesContext(connection) as queries:
            sync(orders)
        monkeypatch.setattr(services, "purchase_figures_refresh", original)
        writes = [q["sql"] for q in queries if "UPDATE customers_customersystem SET" in q["sql"]]
        reads = [sql for sql in writes if "orders_monthlysalesfact" in sql]
        assert bool(reads) == bool(customers)
        return customers

    return post


def test_a_batch_adds_its_own_figures_to_the_figures_held(refreshed, th, th2, p):
    today = timezone.localdate()
    purchase_figures_refresh()  # every customer's figures of this window (zero if no facts)
    in_window = months_back(today, 3)
    next_month = months_back(today, -1)  # dated ahead (31 days are accepted): counted

    def order(number, day, cartons=1, customer=th, **extra):
        return order_payload(
            number, customer, [(p[1], cartons, "230")], order_date=str(day), **extra
        )

    # new orders: this month, three in an earlier month (days 3, 10, 20), one dated ahead;
    # th2's only order older than the window
    batch = [
        order("DE-1", today, 2),
        order("DE-2", in_window + datetime.timedelta(days=2), 3, payment_method="cash"),
        order("DE-3", in_window + datetime.timedelta(days=9), 4),
        order("DE-4", in_window + datetime.timedelta(days=19), 5),
        order("DE-8", in_window + datetime.timedelta(days=14), 1),
        order("DE-5", next_month, 6, payment_method="cash"),
        order("DE-6", months_back(today, 14) + datetime.timedelta(days=4), 7, customer=th2),
    ]
    assert refreshed(batch) == set()
    assert_purchase_figures_match_a_full_refresh()
    assert system_of(th).purchase_quantity == 2 + 3 + 4 + 5 + 1 + 6
    assert system_of(th).last_order_date == next_month
    assert system_of(th2).purchase_quantity == 0
    assert system_of(th2).last_order_date == months_back(today, 14) + datetime.timedelta(days=4)

    # changes: more cartons, fewer cartons and cash, middle orders of a month to another
    # day of it, to this month and out of the window: by deltas
    for change in [
        order("DE-1", today, 9),
        order("DE-1", today, 1, payment_method="cash"),
        order("DE-3", in_window + datetime.timedelta(days=11), 4),
        order("DE-3", today, 4),
        order("DE-8", months_back(today, 13), 1),
    ]:
        assert refreshed([change]) == set()
        assert_purchase_figures_match_a_full_refresh()
    # the order dated ahead, th's latest and the only one of its month, to th2: th's month
    # is recounted, so th's figures come from the facts; th2 gains it by deltas
    assert refreshed([order("DE-5", next_month, 6, customer=th2, payment_method="cash")]) == {th.pk}
    assert_purchase_figures_match_a_full_refresh()
    assert system_of(th2).last_order_date == next_month

    # a cancelled middle order (neither the first nor the last of its month)
    cancel = order("DE-2", in_window + datetime.timedelta(days=2), 3, status="cancelled")
    assert refreshed([order("DE-7", in_window, 1), cancel]) == set()
    assert_purchase_figures_match_a_full_refresh()

    # an order of th's latest day cancelled (DE-3 stays on it): that month is recounted,
    # th's figures come from the facts
    assert refreshed([order("DE-1", today, 1, status="cancelled")]) == {th.pk}
    assert_purchase_figures_match_a_full_refresh()
    assert system_of(th).last_order_date == today
    assert_facts_match_a_rebuild()


def test_a_shop_s_first_order_mid_month(refreshed, th, th2, p):
    today = timezone.localdate()
    mid_month = months_back(today, 1) + datetime.timedelta(days=14)
    # th2's figures computed (zero: no facts yet); th's never (a shop new to this version)
    purchase_figures_refresh(customer_ids=[th2.pk])
    first = [
        order_payload("FM-1", th, [(p[2], 3, "100")], order_date=str(mid_month)),
        order_payload("FM-2", th2, [(p[2], 4, "100")], order_date=str(mid_month)),
    ]
    assert refreshed(first) == {th.pk}
    assert_purchase_figures_match_a_full_refresh(th, th2)
    assert (system_of(th2).purchase_quantity, system_of(th2).last_order_date) == (4, mid_month)
    # and th's next order by deltas
    later = order_payload("FM-3", th, [(p[1], 1, "230")], order_date=str(mid_month))
    assert refreshed([later]) == set()
    assert_purchase_figures_match_a_full_refresh()


def test_a_new_month_or_window_recomputes_the_figures_from_the_facts(
    sync, refreshed, th, th2, p, monkeypatch
):
    today = timezone.localdate()
    first_of_window = months_back(today, 11)
    sync(
        [
            order_payload("NM-1", th, [(p[1], 2, "230")], order_date=str(first_of_window)),
            order_payload("NM-2", th, [(p[2], 3, "100")], order_date=str(today)),
            order_payload("NM-3", th2, [(p[3], 5, "50")], order_date=str(months_back(today, 2))),
        ]
    )
    purchase_figures_refresh()

    # the purchase window shortened to 3 months; its refresh, queued for after the commit,
    # has not run yet: the figures held are of the 12-month window, so a sync of th
    # recomputes them from the facts (th2's stay as they are until the queued refresh)
    orders_config_update(data={"purchase_window_months": 3}, actor=ACTOR)
    nm4 = order_payload("NM-4", th, [(p[1], 1, "230")], order_date=str(today))
    assert refreshed([nm4]) == {th.pk}
    assert system_of(th).purchase_quantity == 3 + 1
    assert_purchase_figures_match_a_full_refresh(th)

    # the next month begins: the window moves, the figures held are of the month before
    later = months_back(today, -1) + datetime.timedelta(days=14)
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: later)
    # (th's figures stay those of last month until the daily refresh)
    nm5 = order_payload("NM-5", th2, [(p[1], 1, "230")], order_date=str(later))
    assert refreshed([nm5]) == {th2.pk}
    assert_purchase_figures_match_a_full_refresh(th2)
    assert system_of(th2).purchase_quantity == 1  # NM-3, two months back, left the window
    more = {**nm5, "lines": [{"product_code": "P1", "quantity": 3, "unit_price": "230"}]}
    assert refreshed([more]) == set()  # then by deltas again
    assert_purchase_figures_match_a_full_refresh(th2)
    assert system_of(th2).purchase_quantity == 3
