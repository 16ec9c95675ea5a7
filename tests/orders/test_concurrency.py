"""Two syncs of overlapping batches at the same time (PostgreSQL only: SQLite serialises
writers, so it cannot show the races these guard against).

Each round, two threads post 50 orders each with 25 order numbers in common, some of them
with other lines (and another customer) in each batch. Afterwards no order may be doubled,
every order must hold exactly one of the versions sent (never a mix), the monthly facts must
equal a rebuild from scratch, and each order number must have been reported created once.
"""

import functools
import threading
import time
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
from rest_framework.test import APIClient

from crm.choices import AuditSource
from crm.services import Actor, api_client_create
from customers.models import CustomerSystem
from orders.models import MonthlySalesFact, Order
from orders.services import order_sync_many, purchase_figures_refresh, sales_facts_rebuild
from tests.customers.factories import make_customer
from tests.orders.factories import ACTOR, make_product, order_payload, url

BATCH = 50
SHARED = 25
ROUNDS = 3

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def version(n: int, thread: int, customers, products) -> dict:
    """Order n as thread 0 or 1 sends it: odd shared numbers differ between the threads."""
    external_id = f"SO-{n:04d}"
    if thread == 1 and n % 2:
        return order_payload(
            external_id,
            customers[(n + 1) % len(customers)],
            [(products[(n + 3) % 10], 7, "31.50")],
            order_date=f"2026-09-{1 + n % 28:02d}",
            payment_method="cash",
        )
    return order_payload(
        external_id,
        customers[n % len(customers)],
        [(products[n % 10], 1 + n % 5, "12.50"), (products[(n + 1) % 10], 2, "230.00")],
        order_date=f"2026-10-{1 + n % 28:02d}",
    )


def batches(first: int, customers, products) -> list[list[dict]]:
    """Thread 0 sends first … first+49, thread 1 first+25 … first+74."""
    return [
        [version(n, 0, customers, products) for n in range(first, first + BATCH)],
        [
            version(n, 1, customers, products)
            for n in range(first + BATCH - SHARED, first + 2 * BATCH - SHARED)
        ],
    ]


def post_together(token: str, bodies: list[list[dict]]) -> list:
    """Posts each batch from its own thread and client, released at the same moment."""
    barrier = threading.Barrier(len(bodies))
    results: list = [None] * len(bodies)
    spans: list = [None] * len(bodies)

    def run(index: int) -> None:
        try:
            api = APIClient()
            api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
            barrier.wait(timeout=30)
            started = time.monotonic()
            response = api.post(url("order_sync"), {"orders": bodies[index]}, format="json")
            spans[index] = (started, time.monotonic())
            results[index] = (response.status_code, response.json())
        except Exception as exc:  # reported by the test below
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    if all(spans):
        # the requests were in flight together (else this test proves nothing)
        assert max(start for start, _end in spans) < min(end for _start, end in spans)
    return results


def as_stored(order: Order) -> tuple:
    return (
        order.customer.customer_code,
        str(order.order_date),
        frozenset(
            (line.product.code, line.cartons, line.unit_price)
            for line in order.lines.select_related("product")
        ),
    )


def as_sent(payload: dict) -> tuple:
    return (
        payload["customer_code"],
        payload["order_date"],
        frozenset(
            (line["product_code"], line["quantity"], Decimal(line["unit_price"]))
            for line in payload["lines"]
        ),
    )


def fact_rows() -> list[dict]:
    return list(MonthlySalesFact.objects.order_by("customer_id", "month").values())


def test_overlapping_syncs_at_the_same_time(postgres, areas):
    # given customers, products and an integration client
    customers = [make_customer(areas["TH"]) for _ in range(3)]
    products = [make_product(f"C{n}", f"{20 + 25 * n}.00") for n in range(10)]
    _client, token = api_client_create(name="erp", actor=Actor.system("tests", AuditSource.COMMAND))
    sent: dict[str, set] = defaultdict(set)
    created_per_round = []

    # when rounds of overlapping batches arrive together: two of new orders, then the first
    # round again with the threads' versions swapped (every shared order changes)
    first_round = batches(0, customers, products)
    rounds = [first_round, batches(1000, customers, products), first_round[::-1]]
    assert len(rounds) == ROUNDS
    for bodies in rounds:
        for body in bodies:
            for payload in body:
                sent[payload["external_id"]].add(as_sent(payload))
        results = post_together(token, bodies)

        # then both requests succeed, and every order is accounted for
        for result, body in zip(results, bodies, strict=True):
            assert not isinstance(result, Exception), repr(result)
            assert result is not None, "a request did not finish"
            status, report = result
            assert status == 200, report
            assert report["errors"] == [], report["errors"][:3]
            assert report["created"] + report["updated"] + report["unchanged"] == len(body)
        created_per_round.append(sum(report["created"] for _status, report in results))

    # each order number was created once, in its first round
    assert created_per_round == [2 * BATCH - SHARED, 2 * BATCH - SHARED, 0]

    # no order is doubled
    assert Order.objects.count() == len(sent) == 2 * (2 * BATCH - SHARED)
    doubled = Order.objects.values("source", "external_id").annotate(n=Count("id")).filter(n__gt=1)
    assert not doubled.exists()

    # every order holds exactly one version that was sent, with its totals
    for order in Order.objects.select_related("customer"):
        stored = as_stored(order)
        assert stored in sent[order.external_id], order.external_id
        lines = list(order.lines.all())
        assert order.line_count == len(lines)
        assert order.cartons == sum(line.cartons for line in lines)
        assert order.amount == sum(line.amount for line in lines)

    # the facts kept along the way equal a rebuild from scratch, and so do the purchase
    # figures (after the first round, each batch added to them)
    kept, figures = fact_rows(), purchase_rows()
    assert kept
    sales_facts_rebuild()
    rebuilt = fact_rows()
    strip = [{k: v for k, v in row.items() if k != "id"} for row in kept]
    assert strip == [{k: v for k, v in row.items() if k != "id"} for row in rebuilt]
    assert purchase_rows() == figures


def purchase_rows() -> list[dict]:
    return list(
        CustomerSystem.objects.order_by("customer_id").values(
            "customer_id",
            "purchase_quantity",
            "purchase_amount",
            "purchase_e_amount",
            "last_order_date",
            "purchase_window_start",
        )
    )


def test_the_daily_refresh_beside_a_sync_misses_none_of_its_orders(postgres, areas):
    # given a customer whose figures are kept by each batch's own changes
    customer = make_customer(areas["TH"])
    product = make_product("C1", "45.00")
    today = timezone.localdate()
    sync = functools.partial(order_sync_many, source="erp", actor=ACTOR)
    sync(rows=[order_payload("SO-1", customer, [(product, 2, "45")], order_date=str(today))])
    purchase_figures_refresh()
    committing, refreshed = threading.Event(), []

    def refresh() -> None:
        try:
            committing.wait(timeout=30)
            refreshed.append(purchase_figures_refresh())
        finally:
            connection.close()

    # when the daily refresh starts while a sync's transaction, its figures written, is
    # still open (its commit comes a moment later)
    thread = threading.Thread(target=refresh)
    thread.start()
    with transaction.atomic():
        sync(rows=[order_payload("SO-2", customer, [(product, 3, "45")], order_date=str(today))])
        committing.set()
        time.sleep(1)
    thread.join(timeout=60)

    # then the refresh waited for the sync and counted its order: the figures are what a
    # refresh gives now, and the next batch adds to them
    assert refreshed
    assert CustomerSystem.objects.get(customer=customer).purchase_quantity == 5
    sync(rows=[order_payload("SO-3", customer, [(product, 1, "45")], order_date=str(today))])
    figures = purchase_rows()
    purchase_figures_refresh()
    assert purchase_rows() == figures
    assert CustomerSystem.objects.get(customer=customer).purchase_quantity == 6


def test_a_duplicate_sent_while_the_first_request_runs_gets_a_quick_409(
    postgres, areas, monkeypatch
):
    # given a sync with an Idempotency-Key whose handling takes a while
    from orders.api import views

    customer = make_customer(areas["TH"])
    product = make_product("C1", "230.00")
    _client, token = api_client_create(name="erp", actor=Actor.system("tests", AuditSource.COMMAND))
    body = {"orders": [order_payload("SO-1", customer, [(product, 2, "230.00")])]}
    started, finish = threading.Event(), threading.Event()
    real = views.order_sync_many

    def slow(**kwargs):
        started.set()
        finish.wait(30)
        return real(**kwargs)

    monkeypatch.setattr(views, "order_sync_many", slow)

    def post() -> tuple[int, dict]:
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        response = api.post(url("order_sync"), body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
        return response.status_code, response.json()

    first: list = []
    thread = threading.Thread(target=lambda: (first.append(post()), connection.close()))
    thread.start()
    assert started.wait(30)
    try:
        # when a duplicate arrives meanwhile
        began = time.monotonic()
        status, _body = post()
        # then it is refused at once, without waiting for the first
        assert status == 409
        assert time.monotonic() - began < 5
    finally:
        finish.set()
        thread.join(30)
    # and the first completes; a retry then replays it, and the order is stored once
    assert first[0][0] == 200 and first[0][1]["created"] == 1
    assert post() == first[0]
    assert Order.objects.count() == 1
