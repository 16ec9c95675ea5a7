"""Benchmark: rebuilding the monthly sales facts from 10 million order lines, run by hand.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench \
        .venv/bin/python bench/bench_sales_facts.py [--lines 10000000] [--customers 20000]
        [--runs 3] [--explain] [--keep | --reuse]

Fills a throwaway PostgreSQL database (same handling as bench_import.py) with customers and
products (as bench_order_sync.py does), then orders and their lines straight in SQL
(`INSERT … SELECT generate_series`, 20 lines per order, a year of order dates, foreign-key
triggers off during the load): consistent as the services would write them (month = first
day of order_date's month, the order's cartons/amount/line_count = the sums of its lines, one
line per product). VACUUM ANALYZE and CHECKPOINT, then times, each --runs times:

- plain GROUP BY baselines: month totals over the lines alone, and the join of lines and
  orders grouped by (customer, month), written to a temporary table;
- `orders.services.sales_facts_rebuild()`, split into the facts statement and the
  `purchase_figures_refresh` it ends with;
- `sales_facts_refresh` of about 1,000 (customer, month) pairs, what each sync batch pays at
  this size.

Checks the facts against the orders afterwards. --explain prints the plans (EXPLAIN ANALYZE).
See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_import import add_database_arguments, bench_database  # noqa: E402
from bench_order_sync import (  # noqa: E402
    code_version,
    ensure_customers,
    ensure_products,
    require_postgres,
)

SOURCE = "bench-facts"
# Orders per INSERT statement while filling (× lines per order rows of lines).
FILL_CHUNK = 50_000

BASELINES = (
    "SELECT month, SUM(cartons), SUM(amount) FROM orders_orderline GROUP BY month",
    # Written to a temporary table: the rebuild writes its result too (and a plain SELECT
    # would spend the time sending 240,000 rows to Python).
    "CREATE TEMPORARY TABLE bench_baseline AS "
    "SELECT o.customer_id, o.month, SUM(l.cartons) AS cartons, SUM(l.amount) AS amount "
    "FROM orders_orderline l JOIN orders_order o ON o.id = l.order_id GROUP BY 1, 2",
)
WORK_MEM = "work_mem = '256MB'"  # what sales_facts_rebuild sets
# PostgreSQL 15 runs no INSERT … SELECT with parallel workers; a SELECT or CREATE TABLE AS
# uses them (2 by default).
SERIAL = "max_parallel_workers_per_gather = 0"

# The parameters, typed once (psycopg sends small ints as smallint).
_PARAMS = """
WITH k AS (
    SELECT %(base)s::bigint AS base, %(start)s::bigint AS start, %(stop)s::bigint AS stop,
           %(c)s::int AS c, %(span)s::int AS span, %(per_customer)s::int AS per_customer,
           %(lines)s::int AS lines, %(p)s::int AS p, %(first_day)s::date AS first_day,
           %(customers)s::bigint[] AS customers, %(products)s::bigint[] AS products,
           %(prices)s::numeric[] AS prices
)
"""

# Both statements follow _PARAMS (WITH k AS … INSERT …).
_ORDERS_SQL = """
INSERT INTO orders_order (id, source, external_id, customer_id, order_date, month, status,
    payment_method, paid_on_time, payment_date, cartons, amount, line_count, content_hash,
    created_at, updated_at)
SELECT k.base + g.i, %(source)s, 'F' || g.i, k.customers[1 + g.i %% k.c],
       g.d, date_trunc('month', g.d)::date, g.status,
       CASE WHEN g.i %% 10 < 7 THEN 'electronic' WHEN g.i %% 10 < 9 THEN 'cash' ELSE 'other' END,
       CASE WHEN g.status = 'delivered' THEN g.i %% 20 <> 0 END,
       CASE WHEN g.status = 'delivered' THEN g.d + 1 END,
       t.cartons, t.amount, k.lines, md5(g.i::text), now(), now()
FROM k
CROSS JOIN LATERAL (
    SELECT i, k.first_day + ((i / k.c) * k.span / k.per_customer + i %% 5)::int AS d,
           CASE WHEN i %% 33 = 0 THEN 'cancelled' WHEN i %% 17 = 0 THEN 'placed'
                ELSE 'delivered' END AS status
    FROM generate_series(k.start, k.stop) i
) g
CROSS JOIN LATERAL (
    SELECT SUM(1 + (g.i * 7 + j * 13) %% 15)::int AS cartons,
           SUM((1 + (g.i * 7 + j * 13) %% 15) * k.prices[1 + (g.i * 37 + j) %% k.p]) AS amount
    FROM generate_series(0, k.lines - 1) j
) t
"""

_LINES_SQL = """
INSERT INTO orders_orderline (order_id, month, product_id, cartons, unit_price, amount)
SELECT o.id, o.month, k.products[1 + (o.i * 37 + j) %% k.p], 1 + (o.i * 7 + j * 13) %% 15,
       k.prices[1 + (o.i * 37 + j) %% k.p],
       (1 + (o.i * 7 + j * 13) %% 15) * k.prices[1 + (o.i * 37 + j) %% k.p]
FROM k
CROSS JOIN LATERAL (
    SELECT id, month, id - k.base AS i FROM orders_order
    WHERE id BETWEEN k.base + k.start AND k.base + k.stop
) o
CROSS JOIN LATERAL generate_series(0, k.lines - 1) j
ORDER BY o.id, j
"""


def fill(url: str, *, lines: int, per_order: int, customers: list[int], products) -> None:
    import psycopg

    with psycopg.connect(url) as conn:
        have = conn.execute("SELECT COUNT(*) FROM orders_order WHERE source = %s", [SOURCE])
        existing = have.fetchone()[0]
        orders = lines // per_order
        if existing:
            print(f"{existing:,} orders of {SOURCE!r} already there: not filling.")
            return
        base = conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM orders_order").fetchone()[0]
        today = dt.date.today()  # noqa: DTZ011 (a rough year of history is enough)
        first_day = (today.replace(day=1) - dt.timedelta(days=335)).replace(day=1)
        params = {
            "base": base,
            "source": SOURCE,
            "customers": customers,
            "c": len(customers),
            "first_day": first_day,
            "span": (today - first_day).days - 5,
            "per_customer": -(-orders // len(customers)),
            "lines": per_order,
            "products": [pk for _code, pk, _price in products],
            "prices": [price for _code, _pk, price in products],
            "p": len(products),
        }
        # Foreign-key triggers off for the load (superuser): the rows reference existing
        # customers, orders and products by construction.
        conn.execute("SET session_replication_role = replica")
        started = time.perf_counter()
        for start in range(0, orders, FILL_CHUNK):
            stop = min(start + FILL_CHUNK, orders) - 1
            chunk = {**params, "start": start, "stop": stop}
            conn.execute(_PARAMS + _ORDERS_SQL, chunk)
            conn.execute(_PARAMS + _LINES_SQL, chunk)
            conn.commit()
            done = (stop + 1) * per_order
            rate = done / (time.perf_counter() - started)
            print(f"  filled {done:,} lines ({rate:,.0f} lines/s)", flush=True)
        conn.execute("SET session_replication_role = DEFAULT")
        conn.execute(
            "SELECT setval(pg_get_serial_sequence('orders_order', 'id'), MAX(id)) FROM orders_order"
        )
        conn.commit()
        print(f"Filled {orders * per_order:,} lines in {time.perf_counter() - started:.0f} s")
        conn.autocommit = True
        started = time.perf_counter()
        conn.execute("VACUUM ANALYZE orders_order")
        conn.execute("VACUUM ANALYZE orders_orderline")
        conn.execute("CHECKPOINT")
        print(f"VACUUM ANALYZE + CHECKPOINT in {time.perf_counter() - started:.0f} s", flush=True)


def repeat(runs: int, action: Callable[[], object]) -> list[float]:
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        seconds.append(time.perf_counter() - started)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--lines-per-order", type=int, default=20)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--products", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--explain", action="store_true", help="Print EXPLAIN ANALYZE plans.")
    add_database_arguments(parser)
    args = parser.parse_args()
    url = require_postgres()

    with bench_database(keep=args.keep, reuse=args.reuse) as database:
        from django.db import connection, transaction
        from django.utils import timezone

        from orders import services
        from orders.models import OrderLine

        print(
            f"{timezone.localdate()}; {database}; CPUs: {os.cpu_count()}; "
            f"{args.lines:,} lines; {args.customers:,} customers; {code_version()}",
            flush=True,
        )
        customers = [pk for _code, pk in ensure_customers(args.customers)]
        products = ensure_products(args.products)
        fill(
            url,
            lines=args.lines,
            per_order=args.lines_per_order,
            customers=customers,
            products=products,
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_size_pretty(pg_total_relation_size('orders_orderline')), "
                "pg_size_pretty(pg_total_relation_size('orders_order')), "
                "(SELECT COUNT(*) FROM orders_order), current_setting('work_mem'), "
                "current_setting('shared_buffers'), "
                "current_setting('max_parallel_workers_per_gather')"
            )
            lines_size, orders_size, order_count, work_mem, shared, parallel = cursor.fetchone()
        line_count = OrderLine.objects.count()
        print(
            f"{line_count:,} lines ({lines_size} with indexes), {order_count:,} orders "
            f"({orders_size}); work_mem {work_mem}, shared_buffers {shared}, "
            f"max_parallel_workers_per_gather {parallel}",
            flush=True,
        )

        results: dict[str, list[float]] = {}

        def baseline(sql: str, settings: tuple[str, ...]) -> Callable[[], None]:
            def run() -> None:
                with transaction.atomic(), connection.cursor() as cursor:
                    for setting in settings:
                        cursor.execute(f"SET LOCAL {setting}")
                    cursor.execute(sql)
                    if cursor.description:
                        cursor.fetchall()
                    transaction.set_rollback(True)  # drops the temporary table too

            return run

        for label, sql, settings in (
            ("lines: GROUP BY month", BASELINES[0], ()),
            ("lines JOIN orders: GROUP BY customer, month", BASELINES[1], ()),
            ("  the same, work_mem 256MB (as the rebuild)", BASELINES[1], (WORK_MEM,)),
            ("  the same, work_mem 256MB, no parallel workers", BASELINES[1], (WORK_MEM, SERIAL)),
        ):
            results[label] = repeat(args.runs, baseline(sql, settings))
            print(f"  {label.strip()}: {min(results[label]):.1f} s", flush=True)

        # The rebuild, with its final purchase_figures_refresh timed apart.
        purchase: list[float] = []
        original = services.purchase_figures_refresh

        def timed_purchase(**kwargs):
            started = time.perf_counter()
            try:
                return original(**kwargs)
            finally:
                purchase.append(time.perf_counter() - started)

        services.purchase_figures_refresh = timed_purchase
        written: list[int] = []

        def vacuum_then_rebuild() -> float:
            # What autovacuum would have done since the last rebuild (not timed): without it
            # each run inserts next to the dead facts of the run before and gets slower.
            with connection.cursor() as cursor:
                cursor.execute("VACUUM orders_monthlysalesfact, customers_customersystem")
            started = time.perf_counter()
            written.append(services.sales_facts_rebuild())
            return time.perf_counter() - started

        try:
            rebuild = [vacuum_then_rebuild() for _ in range(args.runs)]
        finally:
            services.purchase_figures_refresh = original
        facts_only = [total - part for total, part in zip(rebuild, purchase, strict=True)]
        results["sales_facts_rebuild(), total"] = rebuild
        results["  of which the facts (DELETE + INSERT … SELECT)"] = facts_only
        results["  of which purchase_figures_refresh()"] = purchase
        print(f"  sales_facts_rebuild: {min(rebuild):.1f} s ({written[-1]:,} facts)", flush=True)
        alone = repeat(args.runs, lambda: transaction.atomic(services.purchase_figures_refresh)())
        results["purchase_figures_refresh() alone"] = alone

        # What one sync batch pays at this size: ~1,000 (customer, month) pairs.
        with connection.cursor() as cursor:
            # Random customers' latest two months, as a batch of new orders would touch.
            cursor.execute(
                "SELECT customer_id, month FROM (SELECT DISTINCT customer_id, month "
                "FROM orders_order WHERE month >= (SELECT MAX(month) FROM orders_order) "
                "- INTERVAL '1 month') s ORDER BY md5(customer_id::text) LIMIT 1000"
            )
            keys = cursor.fetchall()
        refresh = repeat(
            args.runs, lambda: transaction.atomic(services.sales_facts_refresh)(keys=keys)
        )
        results[f"sales_facts_refresh() of {len(keys):,} pairs (one sync batch)"] = refresh

        print(f"\n{args.lines:,} lines; seconds over {args.runs} runs")
        print(f"{'what':<72} {'min':>7} {'median':>7}")
        for label, seconds in results.items():
            print(f"{label:<72} {min(seconds):>7.2f} {statistics.median(seconds):>7.2f}")
        print("\nRebuild / join GROUP BY baseline (best runs):")
        for label in (
            "lines JOIN orders: GROUP BY customer, month",
            "  the same, work_mem 256MB (as the rebuild)",
            "  the same, work_mem 256MB, no parallel workers",
        ):
            base = min(results[label])
            print(
                f"  vs {label.strip():<48} total {min(rebuild) / base:.2f}×, "
                f"facts alone {min(facts_only) / base:.2f}×"
            )

        check(connection)
        if args.explain:
            explain(connection, services, keys)


def check(connection) -> None:
    """The facts against the orders: cartons, amounts, orders and lines per (customer, month)
    of counted orders, and each fact's price-class split adding up to its cartons."""
    counted = ", ".join(f"'{status}'" for status in ("placed", "delivered"))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT COUNT(*) FROM (
                SELECT customer_id, month, SUM(cartons) AS cartons, SUM(amount) AS amount,
                       COUNT(*) AS orders, SUM(line_count) AS lines
                FROM orders_order WHERE status IN ({counted}) GROUP BY 1, 2
            ) o FULL JOIN orders_monthlysalesfact f USING (customer_id, month)
            WHERE f.customer_id IS NULL OR o.customer_id IS NULL OR f.cartons <> o.cartons
               OR f.amount <> o.amount OR f.orders <> o.orders OR f.lines <> o.lines
               OR f.class_1_cartons + f.class_2_cartons + f.class_3_cartons
                  + f.class_4_cartons + f.class_5_cartons <> f.cartons
            """  # noqa: S608 (statuses are ours)
        )
        wrong = cursor.fetchone()[0]
    print(f"Check: {wrong} facts disagree with the orders.")


def explain(connection, services, keys) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of the join baseline, and of the statements that write facts
    and purchase figures as the rebuild and a refresh of `keys` really send them (caught on
    their way to the database, explained instead, then rolled back)."""
    from django.db import transaction

    baseline = BASELINES[1].replace("CREATE TEMPORARY TABLE bench_baseline AS ", "")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL {WORK_MEM}")
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {baseline}")
        print("\n--- baseline: lines JOIN orders\n" + "\n".join(r[0] for r in cursor.fetchall()))
        transaction.set_rollback(True)

    def explaining(execute, sql, params, many, context):
        if not sql.lstrip().startswith(
            ("INSERT INTO orders_monthlysalesfact", "UPDATE customers_customersystem")
        ):
            return execute(sql, params, many, context)
        result = execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params, many, context)
        print(f"\n--- {' '.join(sql.split()[:3])}")
        print("\n".join(row[0] for row in context["cursor"].fetchall()))
        return result

    for label, call in (
        ("sales_facts_rebuild()", services.sales_facts_rebuild),
        (
            f"sales_facts_refresh() of {len(keys):,} pairs",
            lambda: services.sales_facts_refresh(keys=keys),
        ),
    ):
        print(f"\n===== {label}")
        with transaction.atomic(), connection.execute_wrapper(explaining):
            call()
            transaction.set_rollback(True)


if __name__ == "__main__":
    main()
