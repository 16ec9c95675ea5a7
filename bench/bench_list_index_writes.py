"""Benchmark: what the list pages' filter and sort indexes cost the writes that maintain them.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench_lists \
        .venv/bin/python bench/bench_list_index_writes.py [--rounds 4] [--orders 1000]

On the kept database of bench_lists.py (PostgreSQL only; run `bench_lists.py --reuse --keep
--facts` once so the purchase figures exist). The indexes are `orders_order_status_date_idx`
and `customers_system_purchase_idx`, as the models declare them. Each round times, once
without the indexes (dropped) and once with them (created), alternating, in process:

- the order sync: `order_sync_many` of `--orders` new orders × 10 lines (facts and purchase
  figures refreshed, committed), the issue's batch shape; afterwards (untimed) those orders are
  deleted and their customers' facts rebuilt, so the database stays as it was;
- the order INSERT alone: `--orders` orders in one `INSERT … SELECT` (committed), then deleted;
- `purchase_figures_refresh` of the `--orders` customers the sync touched (what each sync batch
  runs, committed), and of every customer (the daily refresh) in the last round.

Prints the median of each figure per state and the load average before and after.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_import import bench_database  # noqa: E402
from bench_order_sync import OrderMaker, code_version, ensure_products, require_postgres  # noqa: E402

INDEXES = (("orders", "Order", "orders_order_status_date_idx"),
           ("customers", "CustomerSystem", "customers_system_purchase_idx"))  # fmt: skip
LINES = 10


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def set_indexes(on: bool) -> None:
    from django.apps import apps
    from django.db import connection

    for app, model_name, name in INDEXES:
        model = apps.get_model(app, model_name)
        (index,) = [i for i in model._meta.indexes if i.name == name]
        with connection.cursor() as cursor:
            cursor.execute(f'DROP INDEX IF EXISTS "{name}"')
        if on:
            with connection.schema_editor() as editor:
                editor.add_index(model, index)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE orders_order")
        cursor.execute("ANALYZE customers_customersystem")


def timed(function) -> tuple[float, object]:
    started = time.perf_counter()
    result = function()
    return (time.perf_counter() - started) * 1000, result


def sync_round(maker: OrderMaker, count: int) -> dict[str, float]:
    from django.db import connection, transaction

    from crm.choices import AuditSource
    from crm.services import Actor
    from customers.models import Customer
    from orders.models import Order
    from orders.services import order_sync_many, purchase_figures_refresh, sales_facts_rebuild

    actor = Actor.system("bench", AuditSource.COMMAND)
    rows = [maker.new() for _ in range(count)]
    ms = {}
    ms["order sync"], report = timed(
        lambda: order_sync_many(rows=rows, source="bench_idx", actor=actor)
    )
    assert report.created == count, report  # noqa: S101
    ids = list(
        Customer.objects.filter(customer_code__in={r["customer_code"] for r in rows}).values_list(
            "pk", flat=True
        )
    )

    def refresh():
        with transaction.atomic():
            return purchase_figures_refresh(customer_ids=ids)

    ms["purchase figures, sync's customers"], _n = timed(refresh)
    # Put the database back (untimed): the orders go, their customers' facts are rebuilt.
    Order.objects.filter(source="bench_idx").delete()
    sales_facts_rebuild(customer_ids=ids)

    def insert():
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO orders_order (source, external_id, customer_id, order_date, month,
                    status, payment_method, paid_on_time, payment_date, cartons, amount,
                    line_count, content_hash, created_at, updated_at)
                SELECT 'bench_idx', 'INS' || g, o.customer_id, o.order_date, o.month, o.status,
                    o.payment_method, o.paid_on_time, o.payment_date, o.cartons, o.amount,
                    o.line_count, o.content_hash, now(), now()
                FROM generate_series(1, %s) g
                JOIN orders_order o ON o.id = g * 37
                """,
                [count],
            )

    ms["order INSERT alone"], _n = timed(insert)
    Order.objects.filter(source="bench_idx").delete()
    return ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--orders", type=int, default=1000)
    args = parser.parse_args()
    require_postgres()
    with bench_database(keep=True, reuse=True) as database:
        from django.db import connection, transaction

        from customers.models import Customer
        from orders.services import purchase_figures_refresh

        print(f"{dt.date.today()}; {database}; {code_version()}", flush=True)  # noqa: DTZ011
        customers = list(Customer.objects.values_list("customer_code", flat=True)[::50])
        maker = OrderMaker(
            customers,
            ensure_products(200),
            lines=LINES,
            first_day=dt.date(2026, 5, 1),
            days=30,
            prefix=f"IDX{int(time.time())}-",
        )
        print(f"load average before: {loadavg()}", flush=True)
        results: dict[bool, dict[str, list[float]]] = {False: {}, True: {}}
        for number in range(args.rounds):
            for on in (False, True):
                set_indexes(on)
                for name, value in sync_round(maker, args.orders).items():
                    results[on].setdefault(name, []).append(value)
                if number == args.rounds - 1:

                    def refresh_all():
                        with transaction.atomic():
                            return purchase_figures_refresh()

                    value, _n = timed(refresh_all)
                    results[on].setdefault("purchase figures, every customer", []).append(value)
                    with connection.cursor() as cursor:
                        cursor.execute("VACUUM customers_customersystem")
        set_indexes(True)
        print(f"load average after: {loadavg()}", flush=True)
        print(f"{'ms (median of ' + str(args.rounds) + ' rounds)':<40} {'without':>9} {'with':>9}")
        for name in results[False]:
            before = statistics.median(results[False][name])
            after = statistics.median(results[True][name])
            print(f"{name:<40} {before:>9.1f} {after:>9.1f}  ({after / before - 1:+.0%})")


if __name__ == "__main__":
    main()
