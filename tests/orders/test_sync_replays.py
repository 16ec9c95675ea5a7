"""An order sent again exactly as it was stored is known before any checking (its
`sent_hash`), and such a replay must answer exactly what the full checks answer: the same
counts and errors, the same rows stored. Each case is run twice: once on orders stored with
their digest, once on the same orders with it removed (as orders stored before it existed,
or by a bulk load), which take the full checks."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.services import Actor
from customers.models import Customer
from orders.models import MonthlySalesFact, Order, OrdersConfig
from orders.services import order_sync_many
from tests.orders.factories import ACTOR, make_product, order_payload

SOURCE = "erp"


@pytest.fixture
def products(db):
    return {"A": make_product("A001", "230.00"), "B": make_product("B001", "100.00")}


@pytest.fixture
def shops(customer_world):
    return customer_world["c_th"], customer_world["c_th2"]


def sync(rows, *, dry_run: bool = False, actor: Actor = ACTOR) -> dict:
    return order_sync_many(rows=rows, source=SOURCE, actor=actor, dry_run=dry_run).as_dict()


def stored() -> list[tuple]:
    """Every order as stored, with its lines, and the facts: what a sync leaves behind."""
    orders = [
        (
            o.external_id,
            o.customer_id,
            o.order_date,
            o.status,
            o.payment_date,
            o.content_hash,
            o.updated_at != o.created_at,  # replaced since it was created
            sorted(o.lines.values_list("product__code", "cartons", "amount")),
        )
        for o in Order.objects.order_by("external_id")
    ]
    facts = list(
        MonthlySalesFact.objects.order_by("customer_id", "month").values_list(
            "customer_id", "month", "cartons", "amount", "orders"
        )
    )
    return [orders, facts]


def forget_digests() -> None:
    Order.objects.update(sent_hash="")


def both_ways(first_rows, then, again_rows):
    """Syncs `first_rows`, runs `then()` (a change of the world), syncs `again_rows`; twice,
    rolled back between: with the digests stored by the first sync, and without them.
    Returns the two (report, stored) results."""
    from django.db import transaction

    results = []
    for keep in (True, False):
        with transaction.atomic():
            sync(first_rows)
            if not keep:
                forget_digests()
            then()
            report = sync(again_rows)
            results.append((report, stored()))
            transaction.set_rollback(True)
    return results


def test_a_replay_is_known_by_its_digest_with_three_queries_and_no_write(shops, products):
    shop = shops[0]
    rows = [
        order_payload("SO-1", shop, [(products["A"], 5, "230.00"), (products["B"], 1, "100")]),
        order_payload("SO-2", shop, [(products["B"], 2, 100)], status="cancelled"),
    ]
    assert sync(rows)["created"] == 2
    assert not Order.objects.filter(sent_hash="").exists()
    before = stored()

    # the same orders, their keys in another order: the same digests
    shuffled = [dict(reversed(list(row.items()))) for row in rows]
    with CaptureQueriesContext(connection) as queries:
        report = sync(shuffled)

    assert report == {"created": 0, "updated": 0, "unchanged": 2, "errors": [], "warnings": []}
    # customers, the stored digests, the order settings; no product look-up, no write
    assert len(queries) == 3, [q["sql"] for q in queries]
    assert all(q["sql"].lstrip().upper().startswith("SELECT") for q in queries)
    assert stored() == before


def test_orders_without_a_digest_are_checked_in_full_and_keep_none(shops, products):
    rows = [order_payload("SO-1", shops[0], [(products["A"], 5, "230.00")])]
    sync(rows)
    forget_digests()

    with CaptureQueriesContext(connection) as queries:
        report = sync(rows)

    assert report["unchanged"] == 1
    assert len(queries) > 3  # the products looked up, the order locked and compared
    assert Order.objects.get().sent_hash == ""  # a replay writes nothing


def test_the_same_values_written_otherwise_are_unchanged_by_the_full_checks(shops, products):
    first = order_payload("SO-1", shops[0], [(products["A"], 5, 230)])
    again = order_payload("SO-1", shops[0], [(products["A"], 5, "230.00")])
    sync([first])
    digest = Order.objects.get().sent_hash

    assert sync([again])["unchanged"] == 1
    assert Order.objects.get().sent_hash == digest  # unchanged: nothing written
    assert sync([first])["unchanged"] == 1


def test_a_changed_order_stores_its_new_digest_and_its_replay_is_unchanged(shops, products):
    v1 = order_payload("SO-1", shops[0], [(products["A"], 5, "230.00")])
    v2 = order_payload("SO-1", shops[0], [(products["A"], 6, "230.00")])
    sync([v1])
    first = Order.objects.get().sent_hash

    assert sync([v2])["updated"] == 1
    assert Order.objects.get().sent_hash not in ("", first)
    assert sync([v2])["unchanged"] == 1
    assert sync([v1])["updated"] == 1
    assert Order.objects.get().sent_hash == first


def test_a_code_that_now_names_another_customer_moves_the_order(shops, products):
    # given SO-1 stored for the first shop, whose code then passes to the second shop (a
    # merge of duplicates: the surviving record takes the code)
    first, second = shops
    code = first.customer_code
    rows = [order_payload("SO-1", code, [(products["A"], 5, "230.00")])]

    def hand_the_code_over():
        Customer.objects.filter(pk=first.pk).update(customer_code=f"{code}-merged")
        Customer.objects.filter(pk=second.pk).update(customer_code=code)

    with_digest, full = both_ways(rows, hand_the_code_over, rows)

    # then the same text is a change, as the full checks find: the order moves with its facts
    assert with_digest == full
    report, (orders, facts) = with_digest
    assert (report["updated"], report["unchanged"], report["errors"]) == (1, 0, [])
    assert orders[0][1] == second.pk
    assert [fact[0] for fact in facts] == [second.pk]


def test_a_code_that_now_names_no_customer_is_refused(shops, products):
    first = shops[0]
    code = first.customer_code
    rows = [order_payload("SO-1", code, [(products["A"], 5, "230.00")])]

    def rename():
        Customer.objects.filter(pk=first.pk).update(customer_code=f"{code}-old")

    with_digest, full = both_ways(rows, rename, rows)

    assert with_digest == full
    report = with_digest[0]
    assert (report["updated"], report["unchanged"]) == (0, 0)
    assert report["errors"] == [
        {
            "index": 0,
            "external_id": "SO-1",
            "errors": {"customer_code": [f"No customer has the code “{code}”."]},
        }
    ]


@pytest.mark.parametrize("which", ["order_date", "payment_date"])
def test_a_date_no_longer_accepted_is_refused(shops, products, which):
    today = timezone.localdate()
    rows = [
        order_payload(
            "SO-1",
            shops[0],
            [(products["A"], 5, "230.00")],
            order_date=(today - dt.timedelta(days=10)).isoformat(),
            payment_date=(today + dt.timedelta(days=5)).isoformat(),
        )
    ]

    def narrow_the_dates():
        config = OrdersConfig.current()
        if which == "order_date":  # the earliest date moves past the order's
            config.order_date_earliest = today - dt.timedelta(days=5)
        else:  # no date after today accepted any more: the payment's is out
            config.order_date_days_ahead = 0
        config.save()

    with_digest, full = both_ways(rows, narrow_the_dates, rows)

    assert with_digest == full
    report = with_digest[0]
    assert report["unchanged"] == 0
    assert [list(error["errors"]) for error in report["errors"]] == [[which]]


@pytest.mark.parametrize("replay_first", [True, False])
def test_an_order_twice_in_one_request_is_refused_the_second_time(shops, products, replay_first):
    v1 = order_payload("SO-1", shops[0], [(products["A"], 5, "230.00")])
    v2 = order_payload("SO-1", shops[0], [(products["A"], 6, "230.00")])
    again = [v1, v2] if replay_first else [v2, v1]

    with_digest, full = both_ways([v1], lambda: None, again)

    assert with_digest == full
    report = with_digest[0]
    assert (report["updated"], report["unchanged"]) == ((0, 1) if replay_first else (1, 0))
    assert report["errors"] == [
        {
            "index": 1,
            "external_id": "SO-1",
            "errors": {"external_id": ["This order is also at index 0 of this request."]},
        }
    ]


def test_a_replay_twice_in_one_request_is_refused_the_second_time(shops, products):
    v1 = order_payload("SO-1", shops[0], [(products["A"], 5, "230.00")])

    with_digest, full = both_ways([v1], lambda: None, [v1, v1])

    assert with_digest == full
    assert with_digest[0]["unchanged"] == 1
    assert [error["index"] for error in with_digest[0]["errors"]] == [1]


def test_a_mixed_batch_counts_as_the_full_checks_do(shops, products):
    first, second = shops
    kept = order_payload("SO-1", first, [(products["A"], 5, "230.00")])
    changed = order_payload("SO-2", second, [(products["B"], 1, "100.00")])
    rows = [kept, changed]
    again = [
        kept,
        {**changed, "status": "cancelled"},
        order_payload("SO-3", first, [(products["B"], 2, "100.00")]),
        {**kept, "external_id": "SO-4", "lines": [{"product_code": "NOPE", "quantity": 1}]},
    ]

    with_digest, full = both_ways(rows, lambda: None, again)

    assert with_digest == full
    report = with_digest[0]
    assert (report["created"], report["updated"], report["unchanged"]) == (1, 1, 1)
    assert [error["index"] for error in report["errors"]] == [3]


def test_a_dry_run_counts_a_replay_unchanged(shops, products):
    rows = [order_payload("SO-1", shops[0], [(products["A"], 5, "230.00")])]
    sync(rows)

    new = order_payload("SO-2", shops[0], [(products["A"], 1, "230.00")])
    report = sync([*rows, new], dry_run=True)

    assert (report["created"], report["updated"], report["unchanged"]) == (1, 0, 1)
    assert Order.objects.count() == 1


def test_an_order_another_writer_changed_is_not_taken_for_a_replay(shops, products):
    # given an order stored from this text, then changed by a writer that keeps no digest
    # (an older version of the sync: it rewrote the row and its content hash only)
    rows = [order_payload("SO-1", shops[0], [(products["A"], 5, "230.00")])]

    def rewrite_elsewhere():
        Order.objects.update(status="cancelled", content_hash="0" * 32)

    with_digest, full = both_ways(rows, rewrite_elsewhere, rows)

    # then the text sent again is a change, as the full checks find
    assert with_digest == full
    assert (with_digest[0]["updated"], with_digest[0]["unchanged"]) == (1, 0)
    assert with_digest[1][0][0][3] == "delivered"
