"""Quotas recounted by the order sync (one grouped count for every plan, written in one
statement) and plans published together sharing one read of the shops: small cases by hand."""

import datetime as dt

import pytest

from allocation.models import AllocationQuota
from allocation.services import plan_sync_many
from orders.services import order_sync_many
from tests.allocation.grades import publish_month
from tests.customers.factories import make_customer
from tests.grading.factories import make_grade
from tests.orders.factories import make_product, order_payload

MONTH = dt.date(2026, 10, 1)


@pytest.fixture
def world(areas, system_actor):
    first = make_customer(areas["TH"])
    second = make_customer(areas["TH"])
    make_grade(first, MONTH, 1)
    make_grade(second, MONTH, 2)
    publish_month(MONTH)
    p, q = make_product("6901000000001"), make_product("6901000000002")
    report = plan_sync_many(
        rows=[
            {
                "code": "P-OCT",
                "product_code": p.code,
                "starts_on": "2026-10-01",
                "ends_on": "2026-10-31",
                "quotas": {"1": 10, "2": 5},
                "status": "published",
            },
            {
                "code": "Q-MID",
                "product_code": q.code,
                "starts_on": "2026-10-15",
                "ends_on": "2026-11-15",
                "quotas": {"1": 8, "2": 5},
                "status": "published",
            },
        ],
        actor=system_actor,
    )
    assert report.as_dict()["created"] == 2, report.as_dict()
    return {"first": first, "second": second, "p": p, "q": q}


def quotas() -> dict[tuple[str, str], tuple[int, int]]:
    return {
        (row.plan.code, row.customer.customer_code): (row.quota, row.ordered)
        for row in AllocationQuota.objects.select_related("plan", "customer")
    }


def sync(orders, actor):
    return order_sync_many(rows=orders, source="erp", actor=actor)


def test_plans_published_together_each_get_every_graded_shop(world):
    first, second = world["first"].customer_code, world["second"].customer_code
    assert quotas() == {
        ("P-OCT", first): (10, 0),
        ("P-OCT", second): (5, 0),
        ("Q-MID", first): (8, 0),
        ("Q-MID", second): (5, 0),
    }


def test_orders_are_counted_per_plan_and_period_and_the_one_past_the_quota_warned(
    world, system_actor
):
    first, second, p, q = world["first"], world["second"], world["p"], world["q"]
    report = sync(
        [
            order_payload("A1", first, [(p, 6, "230.00"), (q, 2, "230.00")]),  # Oct 5
            order_payload("A2", first, [(p, 6, "230.00")], order_date="2026-10-20"),
            order_payload("B1", second, [(q, 3, "230.00")], order_date="2026-10-10"),
            order_payload("B2", second, [(q, 7, "230.00")], order_date="2026-10-16"),
        ],
        system_actor,
    )
    # Q-MID starts on the 15th: A1's and B1's cartons of q are outside its period.
    assert quotas() == {
        ("P-OCT", first.customer_code): (10, 12),
        ("P-OCT", second.customer_code): (5, 0),
        ("Q-MID", first.customer_code): (8, 0),
        ("Q-MID", second.customer_code): (5, 7),
    }
    assert [(w["index"], w["external_id"], w["field"]) for w in report.warnings] == [
        (1, "A2", "lines.0.quantity"),
        (3, "B2", "lines.0.quantity"),
    ]


def test_a_cancelled_order_gives_its_cartons_back(world, system_actor):
    first, p = world["first"], world["p"]
    sync([order_payload("A1", first, [(p, 6, "230.00")])], system_actor)
    sync([order_payload("A2", first, [(p, 6, "230.00")], order_date="2026-10-20")], system_actor)
    assert quotas()[("P-OCT", first.customer_code)] == (10, 12)
    report = sync(
        [
            order_payload(
                "A2", first, [(p, 6, "230.00")], order_date="2026-10-20", status="cancelled"
            )
        ],
        system_actor,
    )
    assert quotas()[("P-OCT", first.customer_code)] == (10, 6)
    assert report.warnings == []


def test_an_order_moved_to_another_shop_and_date_moves_its_cartons(world, system_actor):
    first, second, p, q = world["first"], world["second"], world["p"], world["q"]
    sync(
        [order_payload("A1", first, [(p, 4, "230.00"), (q, 3, "230.00")], order_date="2026-10-20")],
        system_actor,
    )
    assert quotas()[("P-OCT", first.customer_code)] == (10, 4)
    assert quotas()[("Q-MID", first.customer_code)] == (8, 3)
    # the same order, now the second shop's and in November: P-OCT's period is over, Q-MID's
    # is not
    sync(
        [
            order_payload(
                "A1", second, [(p, 4, "230.00"), (q, 3, "230.00")], order_date="2026-11-02"
            )
        ],
        system_actor,
    )
    assert quotas() == {
        ("P-OCT", first.customer_code): (10, 0),
        ("P-OCT", second.customer_code): (5, 0),
        ("Q-MID", first.customer_code): (8, 0),
        ("Q-MID", second.customer_code): (5, 3),
    }
