"""`seed_demo --customers N --months M --seed S`: the size options, the organisation that grows
with N, the seasonality, trends, new and closing shops and e-settlement of the orders, the
bulk order path agreeing with the sync's checks, reproducibility and refusals."""

import datetime as dt
import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Min, Sum
from django.utils import timezone

from crm.choices import Role
from crm.dates import add_months, month_start
from crm.demo import (
    DEMO_USERS,
    SPRING_FESTIVALS,
    DemoOptions,
    organisation_plan,
)
from crm.models import AuditEntry, User
from customers.choices import BusinessFormat, CustomerStatus, MarketType
from customers.demo import customer_rows as demo_customer_rows
from customers.demo import shop_profile
from customers.models import Customer
from customers.selectors import duplicate_pairs
from grading.models import GradeResult, PeakMonth
from orders.demo import _PRICE, shop_clean_orders, shop_orders
from orders.models import MonthlySalesFact, Order, OrderLine
from orders.sync import clean_order
from valuation.models import ValueResult
from visits.models import Visit

CUSTOMERS, SEED = 150, 7


def seed(*args) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def months_for_spring_festival(today: dt.date) -> int:
    """Enough months to hold the latest Spring Festival month whose next month is over."""
    this_month = month_start(today)
    festival = max(
        month_start(day) for day in SPRING_FESTIVALS if add_months(month_start(day), 1) < this_month
    )
    return (this_month.year - festival.year) * 12 + this_month.month - festival.month + 1


def checksum() -> str:
    """The demo's data by natural keys (no ids, no creation times)."""
    parts = [
        list(
            Customer.objects.order_by("customer_code").values_list(
                "customer_code",
                "store_name",
                "business_format",
                "market_type",
                "area__code",
                "account_manager__username",
                "dynamic__status",
                "dynamic__payment_method",
            )
        ),
        list(Order.objects.order_by("external_id").values_list("external_id", "content_hash")),
        list(
            MonthlySalesFact.objects.order_by("customer__customer_code", "month").values_list(
                "customer__customer_code", "month", "cartons", "amount", "electronic_amount"
            )
        ),
        list(
            GradeResult.objects.order_by("customer__customer_code", "month").values_list(
                "customer__customer_code", "month", "grade"
            )
        ),
        list(
            ValueResult.objects.order_by("customer__customer_code", "month").values_list(
                "customer__customer_code", "month", "value_tier"
            )
        ),
        list(User.objects.order_by("username").values_list("username", "role", "name")),
        Visit.objects.count(),
    ]
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def test_seed_demo_options_build_a_believable_reproducible_company(db, settings):
    # One test, as seeding takes a while.
    settings.DEBUG = True
    today = timezone.localdate()
    months = months_for_spring_festival(today)
    args = ("--customers", str(CUSTOMERS), "--months", str(months), "--seed", str(SEED))

    # when
    out = seed(*args)

    # then: progress lines with each stage's time
    assert "[3/11] seed_orders done in" in out
    first = checksum()

    # customers and people: N shops (and the one shop entered twice that the duplicates page
    # lists: customers.demo._seed_duplicate), the named users and the plan's people of every role
    assert Customer.objects.count() == CUSTOMERS + 1
    plan = organisation_plan(CUSTOMERS)
    for role in Role.people():
        assert User.objects.filter(role=role).count() == plan.role_counts().get(role, 0), role
    assert set(User.objects.values_list("username", flat=True)) >= {u[0] for u in DEMO_USERS}
    assert not Customer.objects.filter(account_manager__isnull=True).exists()
    # every format and market type
    assert set(Customer.objects.values_list("business_format", flat=True)) == set(
        BusinessFormat.values
    )
    assert set(Customer.objects.values_list("market_type", flat=True)) == set(MarketType.values)

    # orders over the period, graded and valued every month
    first_month = add_months(month_start(today), -(months - 1))
    facts = MonthlySalesFact.objects.all()
    assert set(facts.values_list("month", flat=True)) == {
        add_months(first_month, n) for n in range(months)
    }
    assert GradeResult.objects.values("month").distinct().count() == months
    assert ValueResult.objects.values("month").distinct().count() == months

    # the Spring Festival: its month flagged, and more cartons than the month after
    festival = min(PeakMonth.objects.values_list("month", flat=True))
    assert festival == first_month
    by_month = dict(facts.values_list("month").annotate(Sum("cartons")))
    assert by_month[festival] > 1.4 * by_month[add_months(festival, 1)]

    # trends: some shops grow, some decline, relative to the whole (the months after the
    # peak, when there are two complete ones; the shops' profiles otherwise)
    start, last = add_months(festival, 1), add_months(month_start(today), -1)
    if last > start:
        shops: dict[str, dict] = {}
        for code, month, cartons in facts.filter(month__in=[start, last]).values_list(
            "customer__customer_code", "month", "cartons"
        ):
            shops.setdefault(code, {})[month] = cartons
        whole = by_month[last] / by_month[start]
        ratios = [s[last] / s[start] / whole for s in shops.values() if len(s) == 2]
        assert sum(r > 1.1 for r in ratios) >= 5
        assert sum(r < 0.9 for r in ratios) >= 5
    trends = [
        shop_profile(SEED, code, market).trend
        for code, market in Customer.objects.values_list("customer_code", "market_type")
    ]
    assert trends.count("growth") >= 10 and trends.count("decline") >= 10

    # new shops start ordering mid-period; closing shops stop (those long gone are closed)
    first_months = facts.values("customer").annotate(first=Min("month"))
    assert any(row["first"] > add_months(first_month, 1) for row in first_months)
    closed = Customer.objects.filter(dynamic__status=CustomerStatus.CLOSED)
    assert closed.exists()
    assert all(
        c.system.last_order_date < today - dt.timedelta(days=45)
        for c in closed.select_related("system")
    )

    # e-settlement: most of the money, not all of it; some cash-only shops
    money = facts.aggregate(e=Sum("electronic_amount"), all=Sum("amount"))
    assert 0.6 <= money["e"] / money["all"] <= 0.95
    assert facts.filter(electronic_orders=0).values("customer").distinct().count() >= 3

    # price classes: lines in every class
    assert set(OrderLine.objects.values_list("product__price_class", flat=True)) == {1, 2, 3, 4, 5}

    # data quality: the shop entered twice, its phone and address typed another way, is a pair
    # of the duplicates page for am_zhang's supervisor
    assert "Duplicates:" in out
    pairs = duplicate_pairs(user=User.objects.get(username="sup_tianhe"))
    [pair] = [p for p in pairs[0 : pairs.count()] if p.second.customer_code.endswith("90000001")]
    assert pair.reasons == {"phone", "address", "name"}
    assert pair.first.dynamic.phone != pair.second.dynamic.phone

    # when: seeded again with the same options
    audit_rows = AuditEntry.objects.count()
    second = seed(*args)

    # then: nothing changed
    assert checksum() == first
    assert AuditEntry.objects.count() == audit_rows
    assert f"Customers: 0 created, {CUSTOMERS} existing left as they are." in second


def test_the_bulk_orders_are_what_the_sync_would_store():
    options = DemoOptions(customers=200_000, months=14, seed=SEED)
    today = dt.date(2026, 11, 20)
    product_ids = {code: n for n, code in enumerate(_PRICE, start=1)}
    for n, (fmt, market, cadence) in enumerate(
        [("Z", "C", 7), ("S", "X", 14), ("Y", "C", 28), ("Q", "X", 7), ("N", "C", 28)]
    ):
        code = f"4401{n + 1:08d}"
        shop = {"today": today, "code": code, "business_format": fmt, "market": market}
        rows = shop_orders(options, cadence=cadence, **shop)
        assert rows
        expected = [
            clean_order(
                row,
                index=0,
                customers={code: 42},
                products=product_ids,
                dates=(dt.date(2000, 1, 1), today + dt.timedelta(days=31)),
            )
            for row in rows
        ]
        assert (
            shop_clean_orders(
                options,
                cadence=cadence,
                customer_id=42,
                product_ids=product_ids,
                amounts={},
                **shop,
            )
            == expected
        )
        # the same options give the same orders; another seed others
        assert shop_orders(options, cadence=cadence, **shop) == rows
        other = DemoOptions(customers=200_000, months=14, seed=SEED + 1)
        assert shop_orders(other, cadence=cadence, **shop) != rows


def generated(options: DemoOptions, today: dt.date) -> str:
    """A checksum of what the demo generates: its customers' rows and their orders."""
    rows = list(demo_customer_rows(options, today))
    orders = [
        shop_orders(
            options,
            today=today,
            code=row["customer_code"],
            business_format=row["business_format"],
            market=row["market_type"],
        )
        for row in rows
    ]
    return hashlib.sha256(repr((rows, orders)).encode()).hexdigest()


def test_the_same_seed_gives_the_same_data_and_another_seed_other_data():
    today = dt.date(2026, 11, 20)
    options = DemoOptions(customers=CUSTOMERS, months=3, seed=SEED)
    assert generated(options, today) == generated(options, today)
    assert generated(DemoOptions(customers=CUSTOMERS, months=3, seed=SEED + 1), today) != (
        generated(options, today)
    )


def test_the_organisation_grows_with_the_demo():
    small = organisation_plan(100)
    assert not small.users  # the named users only
    assert sum(b.count for b in small.books) == 100

    big = organisation_plan(200_000)
    assert sum(b.count for b in big.books) == 200_000
    cities = {code for code, _name, parent in big.areas if parent is None}
    districts = {code for code, _name, parent in big.areas if parent is not None}
    assert len(cities) >= 5 and len(districts) >= 50
    generated = [b for b in big.books if not b.named]
    assert all(150 <= b.count <= 400 for b in generated)
    counts = big.role_counts()
    assert 600 <= counts[Role.ACCOUNT_MANAGER] <= 1000
    assert counts[Role.SUPERVISOR] >= len(districts)
    assert counts[Role.LICENSE_OFFICER] >= len(districts)
    # the named account managers keep their books in their districts
    named = {b.manager: b.area for b in big.books if b.named}
    assert named == {
        "am_zhang": "GZ-TH",
        "am_liu": "GZ-TH",
        "am_zhao": "GZ-YX",
        "am_huang": "GZ-BY",
    }
    usernames = [u[0] for u in big.users]
    assert len(usernames) == len(set(usernames)) and "am_0001" in usernames
    assert organisation_plan(200_000) == big  # deterministic


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--customers", "10"], "--customers"),
        (["--months", "0"], "--months"),
        (["--months", "37"], "--months"),
        (["--seed", "-1"], "--seed"),
    ],
)
def test_seed_demo_refuses_bad_options_clearly(db, settings, args, message):
    settings.DEBUG = True
    with pytest.raises(CommandError, match=message):
        seed(*args)
    assert not User.objects.exists()


def test_the_demo_leaves_some_shop_attributes_blank_as_real_data_does():
    # given the default demo's 100 shops
    rows = list(demo_customer_rows(DemoOptions(), dt.date(2026, 11, 20)))
    # then: a few with no outlet size or trade area, and the model-outlet flag in its three
    # states (yes, no, and unknown: not in the row at all)
    blank = [r for r in rows if r["outlet_size"] == "" and r["trade_area"] == ""]
    flags = [r.get("is_model_outlet") for r in rows]
    assert 0 < len(blank) < len(rows) / 4
    assert {"yes", "no", None} <= set(flags)
    assert flags.count("yes") < flags.count("no")
