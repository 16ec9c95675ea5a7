"""Benchmark: the monthly chain — grading recompute, then valuation with its early-warning
refresh — of 200,000 customers from 12 months of facts, by hand.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench_grading \
        .venv/bin/python bench/bench_grading.py [--customers 200000] [--runs 3]
        [--other-runs 1] [--month 2026-11] [--fill-only] [--keep | --reuse]
        [--chain-only [--new-month] | --shard-check]

Fills a throwaway PostgreSQL database (same handling as bench_import.py) straight in SQL
(`INSERT … SELECT generate_series`): `--customers` customers with their dynamic and system
rows, spread over the nine bench districts, all 7 formats × 2 market types, about 9% without a
floor area, 2% model outlets; outlet size (large/medium/small) and trade area (eight kinds),
each blank for 5%; then 12 months of `orders_monthlysalesfact` ending with the month before the
grade month, one statement per month (so the table is laid out month by month, as the order
sync leaves it): most shops 20-300 cartons a month, about 5% 300-1,500, 0.6% above 1,500, 4%
below 20; amount = cartons × a per-shop price of 60-400 CNY; price-class, key-brand, new-product
and low-tar cartons within the cartons; orders paid late about 3% of the orders (30% for 2% of
the shops), the rest on time; first and last order dates inside the month; 3% of the customers
start inside the 12 months (their first month half a month), 1% have no facts at all, 4% of the
other months are missing. Compliance records: a violation for 1% of the customers in the 6
months before the grade month, a passed inspection for 3%. The customers' last order date is
set relative to today (most within the week, 4% 15-60 days ago). A database kept by an earlier
version is migrated and the missing columns are filled with the same values. The month before
is graded and valued once (not timed), as production has it. VACUUM ANALYZE and CHECKPOINT,
then times, each --runs times (best and median):

- plain SQL baselines: `GROUP BY customer_id` of cartons and amount over the scheme's window
  and over all 12 months, into a temporary table (the recompute writes its result too);
- reading the window's facts into pandas four ways: `crm.frames.query_frame` (COPY, what the
  recompute uses), `pandas.read_sql` on the DB-API connection, a cursor's `fetchall`, and an
  ORM `values_list`; and each read the recompute makes, alone; each read and pure step of the
  valuation and of the warning signs, alone;
- `grading.services.grading_recompute` of the month with the active (thresholds) scheme, its
  phases from `outcome.seconds`, then right after it `valuation.services.valuation_recompute`
  of the same month (phases read, compute, write, system, warnings); runs after the first
  replace the month, and must store the same results (checksums of customer, grade, scale,
  category code and structure class; of customer, value tier, the five indicator scores,
  current and potential value, core, problem and missing inputs) with the customers' system
  fields agreeing; valuation's share of the chain's wall time;
- `warnings_refresh()` (daily) and `compliance_flags_refresh()` alone;
- the chain (grading, then valuation) in a fresh child process (`--child-recompute`), for its
  peak memory;
- the score and the matrix scheme (drafts with the brief's defaults, activated), --other-runs
  grading recomputes each; then a copy of the thresholds scheme is activated again and the
  month regraded with it (not timed).

`--chain-only` times just the baselines and the chain as `manage.py recompute` runs it (any
commit's code; `--new-month`: each run the month's first), `--shard-check` what a split
run's parts cost against the in-process read.

See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_import import (  # noqa: E402
    add_database_arguments,
    bench_database,
    ensure_areas_and_managers,
)
from bench_order_sync import (  # noqa: E402
    code_version,
    cpu_seconds,
    machine_cpu,
    require_postgres,
)

MONTHS = 12
CUSTOMER_CHUNK = 50_000
CODE_PREFIX = "4409"


def frac(expression: str, seed: int) -> str:
    """SQL for a deterministic pseudo-random float in [0, 1) from a bigint expression."""
    return f"((hashint8extended({expression}, {seed}) & 2147483647)::float8 / 2147483648.0)"


_CUSTOMERS_SQL = f"""
WITH k AS (SELECT %(areas)s::bigint[] AS areas, %(managers)s::bigint[] AS managers,
                  %(per_area)s::int AS per_area)
INSERT INTO customers_customer (customer_code, store_name, license_number,
    legal_representative, business_scope, address, address_key, business_format, market_type,
    area_id, account_manager_id, registered_capital, premises, floor_area_m2, license_type,
    issuing_bureau, is_monitored, is_model_outlet, created_at, updated_at)
SELECT '{CODE_PREFIX}' || lpad(g.i::text, 8, '0'), '基准店' || g.i || '号',
       '4408' || lpad(g.i::text, 8, '0'), '', '', '', '',
       substr('ZZZZBBBSNYYFQ', 1 + (g.i * 7 %% 13)::int, 1),
       CASE WHEN g.i %% 10 < 7 THEN 'C' ELSE 'X' END,
       k.areas[1 + g.a], k.managers[1 + g.a * k.per_area + (g.i %% k.per_area)::int],
       NULL, '',
       CASE WHEN g.i %% 11 = 0 THEN NULL ELSE round(8 + (g.i * 7907 %% 2920) / 10.0, 1) END,
       'retail', '', false, {frac("g.i", 25)} < 0.02, now(), now()
FROM k CROSS JOIN LATERAL (
    SELECT i, (floor({frac("i", 7)} * cardinality(k.areas)))::int AS a
    FROM generate_series(%(start)s::bigint, %(stop)s::bigint) i
) g
"""  # noqa: S608 (our own constants)


def outlet_size_sql(key: str) -> str:
    """Outlet size of a shop: 5% blank; large for the shops buying more than 300 cartons a
    month (u1 < 0.06 in _FACTS_SQL) and 12% of the others, then 38% medium, the rest small."""
    return (
        f"CASE WHEN {frac(key, 21)} < 0.05 THEN '' "
        f"WHEN {frac(key, 1)} < 0.06 OR {frac(key, 22)} < 0.12 THEN 'large' "
        f"WHEN {frac(key, 22)} < 0.50 THEN 'medium' ELSE 'small' END"
    )


# Trade-area environment: the upper bound of each one's share (cumulative), 5% blank first.
TRADE_AREAS = (
    ("", 0.05),
    ("residential", 0.38),
    ("commercial", 0.56),
    ("village", 0.71),
    ("school", 0.78),
    ("industrial", 0.84),
    ("transport", 0.89),
    ("tourist", 0.92),
)


def trade_area_sql(key: str) -> str:
    whens = " ".join(f"WHEN {frac(key, 23)} < {upto} THEN '{name}'" for name, upto in TRADE_AREAS)
    return f"CASE {whens} ELSE 'other' END"


# Rows a shop has already are skipped by the primary key (ON CONFLICT), not by an anti-join: a
# NOT EXISTS over the table being filled was planned, even after ANALYZE, as a nested loop over
# the rows it was inserting (quadratic: 13 minutes for 200,000 shops).
_DYNAMIC_SQL = f"""
INSERT INTO customers_customerdynamic (customer_id, status, phone, contact_person,
    payment_method, bank_account, order_cycle, visit_cycle, visit_batch, order_batch,
    order_frequency, delivery_route, delivery_segment, delivery_person, order_taker,
    outlet_size, operating_status, cooperation, business_characteristics, trade_area,
    credit_rating, home_address, mailing_address, latitude, longitude, care_need)
SELECT c.id, CASE WHEN c.id % 97 = 0 THEN 'suspended' ELSE 'active' END,
       '139' || lpad((c.id % 100000000)::text, 8, '0'), '', 'electronic', '', 'weekly',
       'weekly', '', '', 2, '', '', '', '', {outlet_size_sql("c.id")}, '', '', '',
       {trade_area_sql("c.id")}, '', '', '', NULL, NULL, ''
FROM customers_customer c
ON CONFLICT (customer_id) DO NOTHING
"""  # noqa: S608 (our own constants)

# A bench database filled by an earlier version of this script has blank shop attributes
# and no model outlets: the same values as a fresh fill (model outlets keyed by id there).
_ATTRIBUTES_SQL = (
    f"UPDATE customers_customerdynamic SET outlet_size = {outlet_size_sql('customer_id')}, "  # noqa: S608
    f"trade_area = {trade_area_sql('customer_id')} WHERE NOT EXISTS (SELECT 1 FROM "
    "customers_customerdynamic WHERE outlet_size <> '' OR trade_area <> '')"
)
_MODEL_OUTLETS_SQL = (
    f"UPDATE customers_customer SET is_model_outlet = true WHERE {frac('id', 25)} < 0.02 "  # noqa: S608
    "AND NOT EXISTS (SELECT 1 FROM customers_customer WHERE is_model_outlet)"
)

_SYSTEM_SQL = """
INSERT INTO customers_customersystem (customer_id, business_scale, category_code, value_tier)
SELECT c.id, '', '', '' FROM customers_customer c
ON CONFLICT (customer_id) DO NOTHING
"""


def late_orders_sql(key: str, m: str, orders: str) -> str:
    """Orders paid late in one fact: 30% (20-40) of the orders of 2% of the shops, 3% (0-6)
    of the others', rounded up or down at random (per shop and month) so small shops have
    a late month now and then."""
    rate = (
        f"CASE WHEN {frac(key, 10)} < 0.02 THEN 0.20 + 0.20 * {frac(key, 11)} "
        f"ELSE 0.06 * {frac(key, 11)} END"
    )
    return f"least({orders}, floor({orders} * {rate} + {frac(f'{key} * 16 + {m}', 103)})::int)"


# One month of facts for every customer. Per shop (hashes of its id): u1 size tier, u2 size
# within the tier, u3 average price, u4/u5 whether and when it starts inside the 12 months,
# u6-u9 low-tar, key-brand, new-product and e-settled shares (and, in late_orders_sql, its
# share of orders paid late). Per shop and month: v (4% of months missing), w (variation
# ±30%, order days).
_FACTS_SQL = f"""
WITH k AS (SELECT %(month)s::date AS month, %(m)s::int AS m, %(months)s::int AS months)
INSERT INTO orders_monthlysalesfact (customer_id, month, cartons, amount, orders, lines,
    class_1_cartons, class_2_cartons, class_3_cartons, class_4_cartons, class_5_cartons,
    key_brand_cartons, new_product_cartons, low_tar_cartons, electronic_orders,
    electronic_amount, first_order_date, last_order_date, on_time_orders, late_orders)
SELECT c.id, k.month, q.cartons, q.amount, q.orders, q.orders * (4 + (c.id %% 12)::int),
       q.c1, q.c2, q.c3, q.c4, q.cartons - q.c1 - q.c2 - q.c3 - q.c4,
       floor(q.cartons * (0.10 + 0.40 * s.u7))::int,
       floor(q.cartons * 0.08 * s.u8)::int,
       floor(q.cartons * (0.05 + 0.25 * s.u6))::int,
       floor(q.orders * s.u9)::int, round(q.amount * s.u9::numeric, 2),
       k.month + q.first_day, k.month + 25 + floor(h.w * 3)::int, q.orders - p.late, p.late
FROM k
CROSS JOIN customers_customer c
CROSS JOIN LATERAL (
    SELECT {frac("c.id", 1)} AS u1, {frac("c.id", 2)} AS u2, {frac("c.id", 3)} AS u3,
           {frac("c.id", 4)} AS u4, {frac("c.id", 5)} AS u5, {frac("c.id", 6)} AS u6,
           {frac("c.id", 7)} AS u7, {frac("c.id", 8)} AS u8, {frac("c.id", 9)} AS u9
) u
CROSS JOIN LATERAL (
    SELECT CASE WHEN u.u1 < 0.006 THEN 1500 + 1500 * u.u2
                WHEN u.u1 < 0.06 THEN 300 + 1200 * u.u2
                WHEN u.u1 < 0.10 THEN 2 + 18 * u.u2
                ELSE 20 + 280 * power(u.u2, 1.6) END AS base,
           round((60 + 340 * power(u.u3, 1.5))::numeric, 2) AS price,
           CASE WHEN u.u4 < 0.03 THEN 1 + floor(u.u5 * (k.months - 1))::int
                WHEN u.u4 < 0.04 THEN k.months ELSE 0 END AS start_m,
           u.u6, u.u7, u.u8, u.u9
) s
CROSS JOIN LATERAL (
    SELECT {frac("c.id * 16 + k.m", 101)} AS v, {frac("c.id * 16 + k.m", 102)} AS w
) h
CROSS JOIN LATERAL (
    SELECT greatest(1, round(s.base * (0.7 + 0.6 * h.w)
                             * CASE WHEN k.m = s.start_m AND s.start_m > 0 THEN 0.5 ELSE 1 END)
           )::int AS cartons
) n
CROSS JOIN LATERAL (
    SELECT n.cartons, round(n.cartons * s.price, 2) AS amount,
           least(31, 1 + n.cartons / 50) AS orders,
           floor(n.cartons * (0.05 + 0.30 * (s.price - 60) / 340))::int AS c1,
           floor(n.cartons * (0.05 + 0.15 * (s.price - 60) / 340))::int AS c2,
           floor(n.cartons * 0.30)::int AS c3, floor(n.cartons * 0.15)::int AS c4,
           CASE WHEN k.m = s.start_m AND s.start_m > 0 THEN 10 + floor(h.w * 15)::int
                ELSE floor(h.w * 5)::int END AS first_day
) q
CROSS JOIN LATERAL (SELECT {late_orders_sql("c.id", "k.m", "q.orders")} AS late) p
WHERE k.m >= s.start_m AND NOT (k.m > s.start_m AND h.v < 0.04)
ORDER BY c.id
"""  # noqa: S608 (our own constants)

# Facts of a bench database filled before the facts counted on-time and late orders: the
# migration (orders 0002) adds both as 0. The same values as a fresh fill of the same month.
_FACT_M = (
    "(%(months)s - ((extract(year FROM %(month)s::date) - extract(year FROM f.month)) * 12 "
    "+ extract(month FROM %(month)s::date) - extract(month FROM f.month))::int)"
)  # the fact's month as _FACTS_SQL numbers it (0 … months - 1)
_FACT_LATE = late_orders_sql("f.customer_id", _FACT_M, "f.orders")
_PUNCTUALITY_SQL = (
    f"UPDATE orders_monthlysalesfact f SET late_orders = {_FACT_LATE}, "  # noqa: S608 (our own constants)
    f"on_time_orders = f.orders - {_FACT_LATE} WHERE f.on_time_orders + f.late_orders <> f.orders"
)

# Licence officers' records: a violation for 1% of the customers in the 6 months before the
# grade month (the problem list's window), a passed inspection for 3% in the year before.
_VIOLATION_TYPES = ("counterfeit", "smuggled", "minors", "price", "licence", "other")
_COMPLIANCE_SQL = f"""
INSERT INTO valuation_compliancerecord (customer_id, date, record_type, note, recorded_by_id,
    recorded_at, voided_by_id, voided_at, void_reason)
SELECT c.id, %(month)s::date - (1 + floor({frac("c.id", 31)} * 182))::int,
       (%(types)s::text[])[1 + floor({frac("c.id", 32)} * %(n_types)s)::int],
       '基准违规记录', %(user)s::bigint, now(), NULL::bigint, NULL::timestamptz, ''
FROM customers_customer c WHERE {frac("c.id", 30)} < 0.01
UNION ALL
SELECT c.id, %(month)s::date - (1 + floor({frac("c.id", 34)} * 365))::int, 'passed', '',
       %(user)s::bigint, now(), NULL::bigint, NULL::timestamptz, ''
FROM customers_customer c WHERE {frac("c.id", 33)} < 0.03
ORDER BY 1
"""  # noqa: S608 (our own constants)

# The customers' last order date (CustomerSystem, which the order sync keeps and the
# no-orders warning reads), as of `today`: within the last week for most, 15-60 days ago for
# 4% (two weekly order cycles without an order), none for those without facts. The facts end
# with last month, so it is set relative to the day the benchmark runs (only rows that change).
_LAST_ORDER_SQL = f"""
UPDATE customers_customersystem s SET last_order_date = v.last
FROM (
    SELECT c.id, CASE WHEN EXISTS (SELECT 1 FROM orders_monthlysalesfact f
                                   WHERE f.customer_id = c.id)
        THEN %(today)s::date - CASE WHEN {frac("c.id", 41)} < 0.04
                                    THEN 15 + floor({frac("c.id", 42)} * 46)::int
                                    ELSE floor({frac("c.id", 42)} * 7)::int END
        END AS last
    FROM customers_customer c
) v
WHERE v.id = s.customer_id AND s.last_order_date IS DISTINCT FROM v.last
"""  # noqa: S608 (our own constants)


def migrate_if_needed() -> None:
    """Applies the migrations a database filled by an earlier version lacks (`--reuse` does
    not migrate): e.g. orders 0002, which adds the facts' on-time and late counts as 0."""
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if not plan:
        return
    names = ", ".join(f"{m.app_label} {m.name}" for m, _backwards in plan)
    print(f"Migrating the reused database: {names} …", flush=True)
    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    print(f"  migrated in {time.perf_counter() - started:.0f} s", flush=True)


def fill(url: str, *, customers: int, month: dt.date) -> None:
    """Customers (with their dynamic and system rows), 12 months of facts and compliance
    records, if missing; what a database filled by an earlier version lacks; the customers'
    last order dates as of today."""
    import psycopg
    from django.utils import timezone

    from crm.dates import add_months
    from crm.models import Area, User

    managers = ensure_areas_and_managers()
    districts = sorted(managers)
    area_ids = dict(Area.objects.filter(code__in=districts).values_list("code", "id"))
    user_ids = dict(
        User.objects.filter(username__in=[u for d in districts for u in managers[d]]).values_list(
            "username", "id"
        )
    )
    per_area = len(managers[districts[0]])
    changed = False  # VACUUM ANALYZE + CHECKPOINT at the end
    rewritten: list[str] = []  # tables updated in bulk: VACUUM FULL (as a fresh fill lays them)
    with psycopg.connect(url) as conn:
        have = conn.execute("SELECT COUNT(*) FROM customers_customer").fetchone()[0]
        started = time.perf_counter()
        if have < customers:
            params = {
                "areas": [area_ids[d] for d in districts],
                "managers": [user_ids[u] for d in districts for u in managers[d]],
                "per_area": per_area,
            }
            for start in range(have + 1, customers + 1, CUSTOMER_CHUNK):
                stop = min(start + CUSTOMER_CHUNK - 1, customers)
                conn.execute(_CUSTOMERS_SQL, {**params, "start": start, "stop": stop})
                conn.commit()
                print(f"  filled {stop:,} customers", flush=True)
            conn.execute(_DYNAMIC_SQL)
            conn.execute(_SYSTEM_SQL)
            conn.commit()
            changed = True
            print(
                f"Filled {customers - have:,} customers (+ dynamic, system rows) in "
                f"{time.perf_counter() - started:.0f} s",
                flush=True,
            )
        else:
            print(f"{have:,} customers already there.")
        # An earlier version left the shop attributes blank and no model outlets.
        for table, sql in (
            ("customers_customerdynamic", _ATTRIBUTES_SQL),
            ("customers_customer", _MODEL_OUTLETS_SQL),
        ):
            started = time.perf_counter()
            updated = conn.execute(sql).rowcount
            conn.commit()
            if updated:
                rewritten.append(table)
                print(
                    f"  {table}: shop attributes of {updated:,} rows filled in "
                    f"{time.perf_counter() - started:.0f} s",
                    flush=True,
                )

        facts = conn.execute("SELECT COUNT(*) FROM orders_monthlysalesfact").fetchone()[0]
        if facts:
            print(f"{facts:,} facts already there: not filling.")
            started = time.perf_counter()
            updated = conn.execute(_PUNCTUALITY_SQL, {"month": month, "months": MONTHS}).rowcount
            conn.commit()
            if updated:
                rewritten.append("orders_monthlysalesfact")
                print(
                    f"  on-time and late orders of {updated:,} facts filled (they were 0: "
                    f"filled by an earlier version) in {time.perf_counter() - started:.0f} s",
                    flush=True,
                )
        else:
            # Foreign-key triggers off for the load (superuser): the rows reference existing
            # customers by construction.
            conn.execute("SET session_replication_role = replica")
            started = time.perf_counter()
            total = 0
            for m in range(MONTHS):
                first_day = add_months(month, m - MONTHS)
                cursor = conn.execute(_FACTS_SQL, {"month": first_day, "m": m, "months": MONTHS})
                total += cursor.rowcount
                conn.commit()
                rate = total / (time.perf_counter() - started)
                print(f"  {first_day:%Y-%m}: {total:,} facts ({rate:,.0f} rows/s)", flush=True)
            conn.execute("SET session_replication_role = DEFAULT")
            conn.commit()
            changed = True
            print(f"Filled {total:,} facts in {time.perf_counter() - started:.0f} s", flush=True)

        if not conn.execute("SELECT EXISTS (SELECT 1 FROM valuation_compliancerecord)").fetchone()[
            0
        ]:
            started = time.perf_counter()
            records = conn.execute(
                _COMPLIANCE_SQL,
                {
                    "month": month,
                    "types": list(_VIOLATION_TYPES),
                    "n_types": len(_VIOLATION_TYPES),
                    "user": user_ids[managers[districts[0]][0]],
                },
            ).rowcount
            conn.commit()
            changed = True
            print(
                f"Filled {records:,} compliance records in {time.perf_counter() - started:.1f} s",
                flush=True,
            )

        started = time.perf_counter()
        updated = conn.execute(_LAST_ORDER_SQL, {"today": timezone.localdate()}).rowcount
        conn.commit()
        if updated:
            rewritten.append("customers_customersystem")
            print(
                f"Last order dates of {updated:,} customers set as of today in "
                f"{time.perf_counter() - started:.1f} s",
                flush=True,
            )

        conn.autocommit = True
        if rewritten:
            started = time.perf_counter()
            conn.execute(f"VACUUM FULL {', '.join(rewritten)}")
            changed = True
            print(
                f"VACUUM FULL {', '.join(rewritten)} in {time.perf_counter() - started:.0f} s",
                flush=True,
            )
        if changed:
            started = time.perf_counter()
            conn.execute("VACUUM ANALYZE")
            conn.execute("CHECKPOINT")
            print(
                f"VACUUM ANALYZE + CHECKPOINT in {time.perf_counter() - started:.0f} s", flush=True
            )


# --- measuring ------------------------------------------------------------------------------


def repeat(runs: int, action: Callable[[], object]) -> list[float]:
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        seconds.append(time.perf_counter() - started)
    return seconds


def vm_kib(field: str) -> int:
    """A field of /proc/self/status in KiB (VmRSS now, VmHWM the peak of this process)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


def fact_reads(window: list[dt.date]) -> dict[str, Callable[[], object]]:
    """The window's facts into the same DataFrame (FACT_COLUMNS; month as datetime64, amount
    float, counts int64) four ways."""
    import pandas as pd
    from django.db import connection

    from grading.computations import FACT_COLUMNS
    from orders.models import MonthlySalesFact
    from orders.selectors import sales_facts_frame

    columns = list(FACT_COLUMNS)
    qs = MonthlySalesFact.objects.filter(month__in=window).order_by().values_list(*columns)
    sql, params = qs.query.sql_with_params()

    def typed(frame: pd.DataFrame) -> pd.DataFrame:
        frame["month"] = pd.to_datetime(frame["month"])
        frame["amount"] = frame["amount"].astype(float)
        for name in columns:
            if name not in ("month", "amount"):
                frame[name] = frame[name].astype("int64")
        return frame

    def read_sql() -> pd.DataFrame:
        connection.ensure_connection()
        with warnings.catch_warnings():
            # "pandas only supports SQLAlchemy connectable …": a plain DB-API connection works.
            warnings.simplefilter("ignore", UserWarning)
            frame = pd.read_sql(sql, connection.connection, params=list(params))
        frame.columns = columns
        return typed(frame)

    def fetchall() -> pd.DataFrame:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return typed(pd.DataFrame.from_records(cursor.fetchall(), columns=columns))

    def orm() -> pd.DataFrame:
        return typed(pd.DataFrame.from_records(list(qs.all()), columns=columns))

    return {
        "crm.frames.query_frame (Arrow through ADBC)": lambda: sales_facts_frame(
            months=window, columns=columns
        ),
        "pandas.read_sql (DB-API connection)": read_sql,
        "cursor.fetchall → DataFrame": fetchall,
        "ORM values_list → DataFrame": orm,
    }


def checksum(month: dt.date) -> tuple[int, str, int]:
    """(results, md5 of customer/grade/scale/code/class in customer order, customers whose
    system fields disagree with the month's results)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*), md5(string_agg(customer_id || ':' || grade || ':' || business_scale "
            "|| ':' || category_code || ':' || structure_class, ',' ORDER BY customer_id)) "
            "FROM grading_graderesult WHERE month = %s",
            [month],
        )
        count, digest = cursor.fetchone()
        cursor.execute(
            "SELECT COUNT(*) FROM grading_graderesult r JOIN customers_customersystem s "
            "USING (customer_id) WHERE r.month = %s AND (s.grade IS DISTINCT FROM r.grade "
            "OR s.category_code <> r.category_code OR s.business_scale <> r.business_scale "
            "OR s.structure_class IS DISTINCT FROM r.structure_class)",
            [month],
        )
        differ = cursor.fetchone()[0]
    return count, digest or "", differ


_VALUE_FIELDS = (
    "value_tier",
    "contribution_score",
    "support_score",
    "credit_score",
    "growth_score",
    "influence_score",
    "current_value",
    "potential_value",
    "is_core",
    "is_problem",
)


def value_checksum(month: dt.date) -> tuple[int, str, int]:
    """(value results, md5 of customer/tier/five indicator scores/two values/core/problem/
    missing inputs in customer order, customers whose value fields on CustomerSystem disagree
    with the month's results)."""
    from django.db import connection

    fields = ", ".join(_VALUE_FIELDS)
    differs = " OR ".join(f"s.{name} IS DISTINCT FROM r.{name}" for name in _VALUE_FIELDS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*), md5(string_agg(concat_ws(':', customer_id, {fields}, missing), "  # noqa: S608 (our names)
            "',' ORDER BY customer_id)) FROM valuation_valueresult WHERE month = %s",
            [month],
        )
        count, digest = cursor.fetchone()
        cursor.execute(
            "SELECT COUNT(*) FROM valuation_valueresult r JOIN customers_customersystem s "  # noqa: S608 (our names)
            f"USING (customer_id) WHERE r.month = %s AND ({differs})",
            [month],
        )
        differ = cursor.fetchone()[0]
    return count, digest or "", differ


def vacuum_results() -> None:
    """What autovacuum would have done between two monthly runs (not timed; it may be off)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "VACUUM ANALYZE grading_graderesult, valuation_valueresult, valuation_earlywarning, "
            "customers_customersystem"
        )


def measured(call: Callable[[], Any], *, aside: tuple[Any, str] | None = None) -> dict:
    """Runs `call` (a recompute returning an outcome with `.seconds`) and returns its wall
    time, its phases (`outcome.seconds`, the COMMITs, the rest) and the CPU seconds this
    process, its database backend and anything else on the machine used meanwhile (the
    machine is quiet when "others" is near 0).

    `aside` = (module, function name): COMMITs made while that function runs belong to a
    phase of `outcome.seconds` already (the valuation's "warnings"), not to "commit"."""
    from django.db import connection

    connection.ensure_connection()
    backend = connection.connection.info.backend_pid
    commits: list[float] = []
    inside = [0]
    commit = connection.commit

    def timed_commit() -> None:
        started = time.perf_counter()
        try:
            commit()
        finally:
            if not inside[0]:
                commits.append(time.perf_counter() - started)

    patched = None
    if aside is not None:
        module, name = aside
        patched = getattr(module, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            inside[0] += 1
            try:
                return patched(*args, **kwargs)
            finally:
                inside[0] -= 1

        setattr(module, name, wrapper)
    connection.commit = timed_commit  # what transaction.atomic calls on the way out
    own_before = sum(os.times()[:2]) + cpu_seconds([backend]).get(backend, 0.0)
    busy_before, total_before = machine_cpu()
    started = time.perf_counter()
    try:
        outcome = call()
    finally:
        del connection.commit
        if aside is not None:
            setattr(aside[0], aside[1], patched)
    wall = time.perf_counter() - started
    busy, total = machine_cpu()
    own = sum(os.times()[:2]) + cpu_seconds([backend]).get(backend, 0.0) - own_before
    phases = dict(outcome.seconds)
    phases["commit"] = sum(commits)
    phases["other"] = wall - sum(phases.values())
    return {
        "wall": wall,
        "phases": phases,
        "cpu": {
            "python + backend": own,
            "others": busy - busy_before - own,
            "available": total - total_before,
        },
        "customers": outcome.customers,
        "version": outcome.scheme.version,
        "outcome": outcome,
    }


def chain_context(month: dt.date) -> Any:
    """A chain context with both steps' facts declared, as `manage.py recompute` makes it;
    None with code from before `crm.chain` (to measure the old code with this script)."""
    try:
        from crm.chain import ChainContext
    except ImportError:
        return None
    from grading.services import grading_chain_prepare
    from valuation.services import valuation_chain_prepare

    context = ChainContext(month=month)
    grading_chain_prepare(context=context)
    valuation_chain_prepare(context=context)
    context.start()
    return context


def with_context(context: Any) -> dict[str, Any]:
    return {} if context is None else {"context": context}


def recompute_once(month: dt.date, context: Any = None) -> dict:
    """One `grading_recompute` of `month`, measured (with the chain's `context`, if any)."""
    from crm.services import Actor
    from grading.services import grading_recompute

    figures = measured(
        lambda: grading_recompute(month=month, actor=Actor.system("bench"), **with_context(context))
    )
    outcome = figures.pop("outcome")
    return figures | {
        "written": getattr(outcome, "written", None),
        "kind": outcome.scheme.kind,
        "distribution": outcome.distribution,
        "basis": outcome.results["basis"].value_counts().to_dict(),
    }


def valuation_once(month: dt.date, context: Any = None) -> dict:
    """One `valuation_recompute` of `month` (the chain's second step), measured; its
    "warnings" phase (compliance flags and early warnings) includes that refresh's COMMIT."""
    from crm.services import Actor
    from valuation import services
    from valuation.models import WarningRefresh

    figures = measured(
        lambda: services.valuation_recompute(
            month=month, actor=Actor.system("bench"), **with_context(context)
        ),
        aside=(services, "warnings_refresh"),
    )
    outcome = figures.pop("outcome")
    refresh = WarningRefresh.objects.order_by("-id").first()
    return figures | {
        "written": getattr(outcome, "written", None),
        "counts": outcome.counts,
        "core": outcome.core,
        "problem": outcome.problem,
        "missing": int((outcome.results["missing"] != "").sum()),
        "warnings": warning_counts(refresh),
    }


def warning_counts(refresh: Any) -> dict[str, Any]:
    """The latest refresh's counts and the unresolved warnings by kind."""
    from django.db.models import Count

    from valuation.choices import WarningStatus
    from valuation.models import EarlyWarning

    unresolved = dict(
        EarlyWarning.objects.filter(status__in=WarningStatus.unresolved())
        .order_by()
        .values_list("kind")
        .annotate(n=Count("id"))
        .values_list("kind", "n")
    )
    if refresh is None:
        return {"unresolved": unresolved}
    return {
        "opened": refresh.opened,
        "updated": refresh.updated,
        "resolved": refresh.resolved,
        "error": refresh.error,
        "unresolved": unresolved,
    }


def child_recompute(month: dt.date) -> None:
    """The monthly chain (grading, then valuation with its warnings refresh) in this fresh
    process; prints a JSON line with the figures of both and the memory of the whole."""
    with bench_database(keep=True, reuse=True):
        rss_before = vm_kib("VmRSS")
        context = chain_context(month)
        grading = recompute_once(month, context)
        grading_hwm = vm_kib("VmHWM")
        valuation = valuation_once(month, context)
        del context
        figures = {
            "grading": grading,
            "valuation": valuation,
            "grading_vmhwm_kib": grading_hwm,
            "ru_maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            "vmhwm_kib": vm_kib("VmHWM"),
            "rss_before_kib": rss_before,
        }
        print("CHILD " + json.dumps(figures, default=str), flush=True)


def run_child(month: dt.date) -> dict:
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603 (this script, our arguments)
        [sys.executable, __file__, "--child-recompute", "--month", f"{month:%Y-%m}"],
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    lines = [line for line in done.stdout.splitlines() if line.startswith("CHILD ")]
    if done.returncode or not lines:
        print(done.stdout[-2000:], done.stderr[-4000:])
        sys.exit("The child recompute failed.")
    return json.loads(lines[-1][len("CHILD ") :]) | {"process_seconds": elapsed}


def print_recompute(label: str, figures: dict) -> None:
    phases = "  ".join(f"{name} {seconds:.2f}" for name, seconds in figures["phases"].items())
    cpu = figures["cpu"]
    print(
        f"  {label}: {figures['wall']:.2f} s ({phases}); {figures['customers']:,} customers; "
        f"CPU s: ours {cpu['python + backend']:.1f}, others {cpu['others']:.1f} "
        f"of {cpu['available']:.1f}; result rows written {figures.get('written')}",
        flush=True,
    )


def print_valuation(label: str, figures: dict) -> None:
    print_recompute(label, figures)
    print(
        f"    tiers {figures['counts']}; core {figures['core']:,}, problem "
        f"{figures['problem']:,}, {figures['missing']:,} with a missing input; warnings "
        f"{figures['warnings']}",
        flush=True,
    )


def prior_month(month: dt.date) -> None:
    """Grades and values the month before `month` once (not timed) if it is not yet, as
    production has it: the recompute compares against it (movements), and the early
    warnings read its grades (a fall of two grades)."""
    from crm.dates import add_months
    from grading.models import GradeResult
    from grading.services import scheme_active
    from valuation.models import ValueResult

    before = add_months(month, -1)
    if not GradeResult.objects.filter(month=before).exists():
        print_recompute(f"the month before ({before:%Y-%m}), graded once", recompute_once(before))
    if not ValueResult.objects.filter(month=before).exists():
        # The warnings refresh that ends the valuation reads the latest graded month: in a
        # database kept by an earlier version that is `month` graded by the matrix scheme
        # (step 5), which would open a warning for nearly every customer. Regrade it first.
        if (
            GradeResult.objects.filter(month=month)
            .exclude(scheme__kind=scheme_active().kind)
            .exists()
        ):
            print_recompute(f"{month:%Y-%m} regraded once", recompute_once(month))
        print_valuation(f"the month before ({before:%Y-%m}), valued once", valuation_once(before))


def month_results_forget(month: dt.date) -> None:
    """`--new-month`: the month's grade and value results deleted (not timed), so that the
    next chain is the month's first run and writes every row, as each new month does."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ("grading_graderesult", "valuation_valueresult"):
            cursor.execute(f"DELETE FROM {table} WHERE month = %s", [month])  # noqa: S608


def chain_only(
    month: dt.date,
    runs: int,
    window: list[float],
    year: list[float],
    *,
    new_month: bool = False,
) -> None:
    """`--chain-only`: the monthly chain as `manage.py recompute` runs it (one chain context
    shared by the steps, where the code has one), `runs` times, each figure beside the
    same run's GROUP BY baselines, with the load average before and after and the rows each
    step wrote; then the chain in a fresh process for its peak memory. Runs the code of any
    commit (without `crm.chain` the steps read for themselves). With `new_month` every run
    (and the fresh process) is the month's first: its results are deleted before."""
    chains, gradings, valuations, digests = [], [], [], []
    load_before = os.getloadavg()
    for n in range(runs):
        if new_month:
            month_results_forget(month)
        vacuum_results()
        context = chain_context(month)
        grading = recompute_once(month, context)
        valued = valuation_once(month, context)
        del context
        gradings.append(grading)
        valuations.append(valued)
        chains.append(grading["wall"] + valued["wall"])
        digests.append((checksum(month), value_checksum(month)))
        print_recompute(f"chain run {n + 1}: grading", grading)
        print_valuation(f"chain run {n + 1}: valuation", valued)
        print(f"  chain run {n + 1}: {chains[-1]:.2f} s", flush=True)
    load_after = os.getloadavg()
    if new_month:
        month_results_forget(month)
    vacuum_results()
    child = run_child(month)
    child_digest = (checksum(month), value_checksum(month))
    child_chain = child["grading"]["wall"] + child["valuation"]["wall"]
    best_window, best_year = min(window), min(year)
    print("\nchain only: seconds, best / median of runs")
    for label, values in (
        ("SQL GROUP BY customer, window", window),
        ("SQL GROUP BY customer, 12 months", year),
        ("grading_recompute", [g["wall"] for g in gradings]),
        ("valuation_recompute (with warnings)", [v["wall"] for v in valuations]),
        ("monthly chain", chains),
    ):
        print(f"{label:<40} {min(values):>7.2f} {statistics.median(values):>7.2f}")
    for name, figures in (("grading", gradings), ("valuation", valuations)):
        for phase in figures[0]["phases"]:
            values = [f["phases"].get(phase, 0.0) for f in figures]
            print(f"  {name} {phase:<29} {min(values):>7.2f} {statistics.median(values):>7.2f}")
    print(
        f"chain (best) / window GROUP BY: {min(chains) / best_window:.1f}×, / 12-month "
        f"GROUP BY: {min(chains) / best_year:.1f}×; median {statistics.median(chains):.2f} s"
    )
    print(
        f"result rows written per run: grading {[g.get('written') for g in gradings]}, "
        f"valuation {[v.get('written') for v in valuations]}"
    )
    same = len(set(digests)) == 1 and child_digest == digests[0]
    print(
        f"checksums: grades {digests[0][0][1]}, values {digests[0][1][1]} ({digests[0][0][0]:,} "
        f"and {digests[0][1][0]:,} rows); all runs and the fresh process "
        f"{'identical' if same else 'DIFFER'}; system fields disagreeing: "
        f"{max(d[0][2] for d in digests)} grades, {max(d[1][2] for d in digests)} values"
    )
    print(
        f"fresh process: chain {child_chain:.2f} s (grading {child['grading']['wall']:.2f} + "
        f"valuation {child['valuation']['wall']:.2f}); peak VmHWM {child['vmhwm_kib'] / 1024:.0f} "
        f"MB (after the grading {child['grading_vmhwm_kib'] / 1024:.0f} MB, after django.setup "
        f"{child['rss_before_kib'] / 1024:.0f} MB); written: grading "
        f"{child['grading'].get('written')}, valuation {child['valuation'].get('written')}"
    )
    others = sum(f["cpu"]["others"] for f in [*gradings, *valuations])
    available = sum(f["cpu"]["available"] for f in [*gradings, *valuations])
    print(
        f"load average before {' '.join(f'{x:.2f}' for x in load_before)}, after "
        f"{' '.join(f'{x:.2f}' for x in load_after)}; CPU seconds other processes used "
        f"during the chains: {others:.1f} of {available:.1f}; {code_version()}"
    )


def shard_check(month: dt.date, runs: int, window: list[float]) -> None:
    """`--shard-check`: what the split run (the Celery chord) must beat. Times, in this
    process, the in-process grading's read (`grading_inputs` of everyone) and, for 2 and for
    `GRADING_MAX_PARTS` parts, each part's read of its areas plus storing its figures
    (`GradingRunPart`), and the body's reading them back. With W workers on C cores the
    chord takes at least sum(parts) / min(W, C) + body, plus the broker's latency; the
    in-process run takes the read. Best of `runs`."""
    from django.conf import settings

    from grading import services
    from grading.services import grading_inputs, scheme_active

    scheme = scheme_active()
    whole = repeat(runs, lambda: grading_inputs(month=month, scheme=scheme))
    print(f"  in-process read (grading_inputs, everyone): {min(whole):.2f} s", flush=True)
    cores = os.cpu_count() or 1
    for count in sorted({2, settings.GRADING_MAX_PARTS}):
        settings.GRADING_MAX_PARTS = count
        settings.GRADING_SPLIT_MIN_CUSTOMERS = 1
        parts = services.grading_run_parts(run_id=0)
        part_seconds: list[float] = []
        payloads: list[bytes] = []
        for area_ids in parts:
            best = float("inf")
            for _ in range(runs):
                started = time.perf_counter()
                inputs = grading_inputs(month=month, scheme=scheme, area_ids=area_ids)
                payload = services._frame_bytes(inputs)
                best = min(best, time.perf_counter() - started)
            part_seconds.append(best)
            payloads.append(payload)
        started = time.perf_counter()
        frames = [services._frame_from_bytes(p) for p in payloads]
        body = time.perf_counter() - started
        total = sum(part_seconds)
        customers = sum(len(f) for f in frames)
        floor = total / min(count, cores) + body
        print(
            f"  {count} parts: each part's read + store "
            f"{', '.join(f'{x:.2f}' for x in part_seconds)} s (sum {total:.2f}; "
            f"{customers:,} customers, "
            f"{sum(len(p) for p in payloads) / 1e6:.1f} MB); body's decode {body:.2f} s; chord "
            f"at best on {cores} cores {floor:.2f} s vs in-process {min(whole):.2f} s "
            f"({floor / min(whole):.1f}×)",
            flush=True,
        )
    print(f"  (window GROUP BY {min(window):.2f} s; load average {os.getloadavg()})")


# --- main -----------------------------------------------------------------------------------


def parse_month(text: str) -> dt.date:
    return dt.datetime.strptime(text, "%Y-%m").date().replace(day=1)  # noqa: DTZ007 (a month)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--other-runs", type=int, default=1, help="Recomputes with the score and matrix schemes."
    )
    parser.add_argument(
        "--month",
        type=parse_month,
        default=dt.date.today().replace(day=1),  # noqa: DTZ011 (a month is enough)
        help="Grade month YYYY-MM (default: this month); the facts end the month before.",
    )
    parser.add_argument(
        "--fill-only", action="store_true", help="Fill the database and stop (with --keep)."
    )
    parser.add_argument(
        "--chain-only",
        action="store_true",
        help="Only the baselines, the chain --runs times and the chain in a fresh process.",
    )
    parser.add_argument(
        "--new-month",
        action="store_true",
        help="With --chain-only: delete the month's results before each run, so each run is "
        "the month's first and writes every row.",
    )
    parser.add_argument(
        "--shard-check",
        action="store_true",
        help="Only the baselines and the split run's steps beside the in-process read.",
    )
    parser.add_argument("--child-recompute", action="store_true", help=argparse.SUPPRESS)
    add_database_arguments(parser)
    args = parser.parse_args()
    require_postgres()
    if args.child_recompute:
        child_recompute(args.month)
        return
    url = os.environ["DATABASE_URL"]
    month = args.month

    with bench_database(keep=args.keep, reuse=args.reuse) as database:
        import pandas as pd
        from django.db import connection, transaction
        from django.utils import timezone

        from crm.dates import add_months
        from crm.services import Actor
        from customers.selectors import customer_monthly_frame
        from grading import computations
        from grading.choices import SchemeKind
        from grading.models import GradeAssessment
        from grading.services import (
            grading_window,
            scheme_activate,
            scheme_active,
            scheme_copy,
            scheme_create_draft,
        )
        from orders.selectors import first_order_frame, sales_facts_frame, sales_facts_parts
        from valuation import computations as value_computations
        from valuation import services as valuation_services
        from valuation.choices import RecordType
        from valuation.models import ComplianceRecord, ValueResult, WarningRefresh

        print(
            f"{dt.date.today()}; {database}; CPUs: {os.cpu_count()}; "  # noqa: DTZ011
            f"{args.customers:,} customers; grade month {month:%Y-%m}; {code_version()}; "
            f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
            flush=True,
        )
        migrate_if_needed()
        fill(url, customers=args.customers, month=month)
        prior_month(month)
        if args.fill_only:
            return
        first_month = add_months(month, -MONTHS)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT (SELECT COUNT(*) FROM customers_customer), "
                "(SELECT COUNT(*) FROM orders_monthlysalesfact), "
                "pg_size_pretty(pg_total_relation_size('orders_monthlysalesfact')), "
                "current_setting('work_mem'), current_setting('shared_buffers'), "
                "current_setting('max_parallel_workers_per_gather'), "
                "current_setting('autovacuum'), current_setting('server_version'), "
                "(SELECT COUNT(*) FROM customers_customer WHERE is_model_outlet), "
                "(SELECT COUNT(DISTINCT customer_id) FROM valuation_compliancerecord "
                "WHERE record_type <> 'passed' AND date >= %s AND date < %s), "
                "(SELECT COUNT(*) FROM customers_customerdynamic WHERE outlet_size = ''), "
                "(SELECT COUNT(*) FROM customers_customerdynamic WHERE trade_area = ''), "
                "(SELECT SUM(late_orders)::float8 / SUM(on_time_orders + late_orders) "
                "FROM orders_monthlysalesfact)",
                [add_months(month, -6), month],
            )
            (
                customers,
                facts,
                facts_size,
                work_mem,
                shared,
                parallel,
                autovacuum,
                version,
                model_outlets,
                violators,
                no_size,
                no_area,
                late_share,
            ) = cursor.fetchone()
        scheme = scheme_active()
        window = grading_window(month=month, scheme=scheme)
        print(
            f"{customers:,} customers, {facts:,} facts ({facts_size} with indexes) for "
            f"{first_month:%Y-%m} … {add_months(month, -1):%Y-%m}; active scheme "
            f"v{scheme.version} {scheme.kind}, window {', '.join(f'{m:%Y-%m}' for m in window)}; "
            f"work_mem {work_mem}, shared_buffers {shared}, max_parallel_workers_per_gather "
            f"{parallel}, autovacuum {autovacuum}",
            flush=True,
        )
        print(
            f"{model_outlets:,} model outlets, {violators:,} customers with a violation in the 6 "
            f"months before {month:%Y-%m}, {no_size:,} without an outlet size and {no_area:,} "
            f"without a trade area; {late_share:.1%} of the orders paid late",
            flush=True,
        )

        results: dict[str, list[float]] = {}

        # 1. Plain SQL baselines.
        def baseline(start: dt.date) -> Callable[[], None]:
            def run() -> None:
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute(
                        "CREATE TEMPORARY TABLE bench_baseline AS SELECT customer_id, "
                        "SUM(cartons) AS cartons, SUM(amount) AS amount "
                        "FROM orders_monthlysalesfact WHERE month >= %s AND month < %s "
                        "GROUP BY customer_id",
                        [start, month],
                    )
                    transaction.set_rollback(True)  # drops the temporary table too

            return run

        window_label = f"SQL GROUP BY customer, window ({len(window)} months)"
        year_label = f"SQL GROUP BY customer, all {MONTHS} months"
        results[window_label] = repeat(args.runs, baseline(window[0]))
        results[year_label] = repeat(args.runs, baseline(first_month))
        for label in (window_label, year_label):
            print(f"  {label}: {min(results[label]):.2f} s", flush=True)

        if args.shard_check:
            shard_check(month, args.runs, results[window_label])
            return
        if args.chain_only:
            chain_only(
                month,
                args.runs,
                results[window_label],
                results[year_label],
                new_month=args.new_month,
            )
            return

        # 2. Reading the window's facts four ways.
        frames = {}
        read_labels = []
        for way, read in fact_reads(window).items():
            label = f"read window facts: {way}"
            read_labels.append(label)
            seconds = []
            for _ in range(args.runs):
                started = time.perf_counter()
                frames[way] = read()
                seconds.append(time.perf_counter() - started)
            results[label] = seconds
            print(f"  {label}: {min(seconds):.2f} s", flush=True)
        sums = {
            (len(frame), int(frame["cartons"].sum()), round(float(frame["amount"].sum()), 2))
            for frame in frames.values()
        }
        rows = len(next(iter(frames.values())))
        print(f"  the four frames agree: {len(sums) == 1} ({rows:,} rows)", flush=True)
        del frames

        # Each read the recompute makes, alone.
        parts = {
            "  recompute read: customers (customer_monthly_frame)": customer_monthly_frame,
            f"  recompute read: first orders (MIN over {MONTHS} months)": lambda: first_order_frame(
                before=month
            ),
            "  recompute read: assessments (ORM)": lambda: list(
                GradeAssessment.objects.filter(month=month).values_list("customer_id", "score")
            ),
            "  recompute read: window facts (sales_facts_frame)": lambda: sales_facts_frame(
                months=window,
                columns=computations.fact_columns(
                    scheme.parameters["grades"].get("structure_metric")
                ),
            ),
        }
        for label, action in parts.items():
            results[label] = repeat(args.runs, action)
            print(f"  {label.strip()}: {min(results[label]):.2f} s", flush=True)

        # Each read and step the valuation makes, alone (what its phases are made of).
        value_scheme = valuation_services.scheme_active()
        parameters = value_scheme.parameters
        value_months = value_computations.months_read(parameters, month)
        longest = max(
            parameters["credit"]["violation_months"], parameters["problem"]["violation_months"]
        )

        def value_customers() -> Any:
            return customer_monthly_frame().merge(
                first_order_frame(before=month), on="customer_id", how="left"
            )

        def value_facts() -> Any:
            # As the valuation reads them: in parts (amounts of every month, the other
            # columns in the window only).
            request = valuation_services._facts_request(parameters, month)
            return sales_facts_parts(**request)

        def value_violations() -> Any:
            return pd.DataFrame.from_records(
                ComplianceRecord.objects.filter(
                    record_type__in=RecordType.violations(),
                    voided_at__isnull=True,
                    date__gte=add_months(month, -longest),
                    date__lt=month,
                ).values_list("customer_id", "date"),
                columns=list(value_computations.VIOLATION_COLUMNS),
            )

        value_frames = {"customers": value_customers(), "facts": value_facts()}
        value_frames["violations"] = value_violations()
        value_frames["inputs"] = value_computations.value_inputs(
            value_frames["facts"],
            value_frames["customers"],
            value_frames["violations"],
            month=month,
            parameters=parameters,
        )
        today = timezone.localdate()
        fact_rows = sum(len(part) for part in value_frames["facts"])
        value_parts = {
            "  valuation read: customers (customer_monthly_frame, again)": customer_monthly_frame,
            f"  valuation read: facts of {len(value_months)} months in parts ({fact_rows:,} "
            "rows)": value_facts,
            "  valuation read: violations (ORM)": value_violations,
            "  valuation read: last month's tiers (ORM)": lambda: dict(
                ValueResult.objects.filter(month=add_months(month, -1)).values_list(
                    "customer_id", "value_tier"
                )
            ),
            "  valuation compute: value_inputs": lambda: value_computations.value_inputs(
                value_frames["facts"],
                value_frames["customers"],
                value_frames["violations"],
                month=month,
                parameters=parameters,
            ),
            "  valuation compute: value_frame": lambda: value_computations.value_frame(
                value_frames["inputs"], parameters=parameters
            ),
            "  warnings: warning_signs (3 reads + warning_frame)": lambda: (
                valuation_services.warning_signs(today=today, parameters=parameters)
            ),
        }
        for label, action in value_parts.items():
            results[label] = repeat(args.runs, action)
            print(f"  {label.strip()}: {min(results[label]):.2f} s", flush=True)
        value_frames.clear()

        # 3. The monthly chain with the thresholds scheme: the grading recompute, then the
        # valuation of the same month; runs after the first replace the month.
        thresholds = scheme
        runs: dict[str, list[dict]] = {}
        valuations: list[dict] = []
        digests = []
        value_digests = []
        for n in range(args.runs):
            vacuum_results()
            figures = recompute_once(month)
            runs.setdefault(figures["kind"], []).append(figures)
            digests.append(checksum(month))
            print_recompute(f"recompute {figures['kind']} run {n + 1}", figures)
            valued = valuation_once(month)
            valuations.append(valued)
            value_digests.append(value_checksum(month))
            print_valuation(f"valuation run {n + 1}", valued)
            print(
                f"    valuation's share of the chain: "
                f"{valued['wall'] / (figures['wall'] + valued['wall']):.0%}",
                flush=True,
            )
        print(f"  grades: {runs[thresholds.kind][-1]['distribution']}")
        print(f"  basis: {runs[thresholds.kind][-1]['basis']}")

        def agreement(what: str, digests: list[tuple[int, str, int]]) -> str:
            same = len({digest for _count, digest, _differ in digests}) == 1
            return (
                f"{len(digests)} runs, {digests[0][0]:,} {what} each, checksums "
                f"{'identical' if same else 'DIFFER'} ({digests[0][1][:12]}…); customers whose "
                f"system fields disagree with the results: {max(d for *_x, d in digests)}"
            )

        idempotent = agreement("grade results", digests)
        value_idempotent = agreement("value results", value_digests)
        print(f"  idempotent replace, grading: {idempotent}", flush=True)
        print(f"  idempotent replace, valuation: {value_idempotent}", flush=True)

        # The refreshes the valuation ends with, alone (the warnings one runs daily too).
        refreshes: list[dict] = []

        def refresh() -> None:
            try:
                made = valuation_services.warnings_refresh()
            except Exception:  # noqa: BLE001 (recorded on the WarningRefresh; reported below)
                made = WarningRefresh.objects.order_by("-id").first()
            refreshes.append(warning_counts(made))

        warnings_label = "warnings_refresh() alone (daily)"
        flags_label = "compliance_flags_refresh() alone"
        results[warnings_label] = repeat(args.runs, refresh)
        results[flags_label] = repeat(args.runs, valuation_services.compliance_flags_refresh)
        print(
            f"  {warnings_label}: {min(results[warnings_label]):.2f} s; {refreshes[-1]}",
            flush=True,
        )
        print(f"  {flags_label}: {min(results[flags_label]):.2f} s", flush=True)
        failed = [f["warnings"].get("error") for f in valuations] + [
            r.get("error") for r in refreshes
        ]
        refresh_failures = sum(1 for error in failed if error)
        if refresh_failures:
            print(
                f"  WARNINGS REFRESH FAILED {refresh_failures} of {len(failed)} times "
                f"({next(e for e in failed if e)}): its times above are those of a failure",
                flush=True,
            )

        # 4. Peak memory of the monthly chain (grading, then valuation) in a fresh process.
        vacuum_results()
        child = run_child(month)
        child_digest = checksum(month)
        child_value_digest = value_checksum(month)
        print_recompute("recompute in a fresh child process", child["grading"])
        print_valuation("valuation in the same child process", child["valuation"])
        child_chain = child["grading"]["wall"] + child["valuation"]["wall"]
        child_same = (
            "identical"
            if child_digest[1] == digests[0][1] and child_value_digest[1] == value_digests[0][1]
            else "DIFFER"
        )
        print(
            f"  child: ru_maxrss {child['ru_maxrss_kib'] / 1024:.0f} MB, VmHWM "
            f"{child['vmhwm_kib'] / 1024:.0f} MB for the chain (after the grading: "
            f"{child['grading_vmhwm_kib'] / 1024:.0f} MB; after django.setup: "
            f"{child['rss_before_kib'] / 1024:.0f} MB); chain {child_chain:.2f} s, valuation "
            f"{child['valuation']['wall'] / child_chain:.0%} of it; process incl. start-up "
            f"{child['process_seconds']:.1f} s; checksums {child_same} "
            f"(system fields disagreeing: {child_digest[2]} grades, {child_value_digest[2]} "
            f"values)",
            flush=True,
        )

        # 5. The score and matrix schemes.
        actor = Actor.system("bench")
        for kind in (SchemeKind.SCORE, SchemeKind.MATRIX):
            draft = scheme_create_draft(kind=kind, name=f"bench {kind}", actor=actor)
            scheme_activate(scheme=draft, actor=actor)
            for n in range(args.other_runs):
                vacuum_results()
                figures = recompute_once(month)
                runs.setdefault(figures["kind"], []).append(figures)
                print_recompute(f"recompute {figures['kind']} run {n + 1}", figures)
            print(f"  grades: {figures['distribution']}", flush=True)
        again = scheme_activate(scheme=scheme_copy(scheme=thresholds, actor=actor), actor=actor)
        # Regraded with it (not timed), so a kept database holds the thresholds grades its
        # warnings were refreshed against.
        regraded = recompute_once(month)
        print(
            f"  thresholds active again as v{again.version}, the month regraded with it "
            f"({regraded['wall']:.1f} s; checksum "
            f"{'identical' if checksum(month)[1] == digests[0][1] else 'DIFFERS'})",
            flush=True,
        )

        # The table.
        print(f"\n{customers:,} customers, {facts:,} facts; seconds (best, median of runs)")
        print(f"{'what':<66} {'runs':>4} {'best':>7} {'median':>7}")

        def line(label: str, seconds: list[float]) -> None:
            print(
                f"{label:<66} {len(seconds):>4} {min(seconds):>7.2f} "
                f"{statistics.median(seconds):>7.2f}"
            )

        for label, seconds in results.items():
            line(label, seconds)
        copy_best = min(results[read_labels[0]])
        for label in read_labels[1:]:
            print(f"  {label.split(': ')[1]} / COPY: {min(results[label]) / copy_best:.1f}×")
        for kind, figures in runs.items():
            line(f"grading_recompute, {kind}: total", [f["wall"] for f in figures])
            for phase in figures[0]["phases"]:
                line(f"  {phase}", [f["phases"].get(phase, 0.0) for f in figures])
        line("valuation_recompute (after thresholds): total", [f["wall"] for f in valuations])
        for phase in valuations[0]["phases"]:
            line(f"  {phase}", [f["phases"].get(phase, 0.0) for f in valuations])
        chain = [
            g["wall"] + v["wall"] for g, v in zip(runs[thresholds.kind], valuations, strict=True)
        ]
        line("monthly chain (grading + valuation)", chain)
        shares = [v["wall"] / c for v, c in zip(valuations, chain, strict=True)]
        print(
            f"valuation's share of the chain's wall time: median {statistics.median(shares):.0%} "
            f"(runs: {', '.join(f'{x:.0%}' for x in shares)}; fresh process "
            f"{child['valuation']['wall'] / child_chain:.0%})"
        )
        best = min(f["wall"] for f in runs[thresholds.kind])
        print(
            f"recompute (thresholds, best) / window GROUP BY: "
            f"{best / min(results[window_label]):.1f}×, / 12-month GROUP BY: "
            f"{best / min(results[year_label]):.1f}×"
        )
        print(f"idempotent replace, grading: {idempotent}")
        print(f"idempotent replace, valuation: {value_idempotent}")
        print(f"fresh process: checksums {child_same}")
        if refresh_failures:
            print(f"WARNINGS REFRESH FAILED {refresh_failures} of {len(failed)} times")
        print(
            f"peak memory of the monthly chain in a fresh process: VmHWM "
            f"{child['vmhwm_kib'] / 1024:.0f} MB (after its grading: "
            f"{child['grading_vmhwm_kib'] / 1024:.0f} MB), ru_maxrss "
            f"{child['ru_maxrss_kib'] / 1024:.0f} MB (goal < 1,536 MB); wall time: grading "
            f"{child['grading']['wall']:.2f} s + valuation {child['valuation']['wall']:.2f} s"
        )
        print(
            f"this process's peak RSS (fill, four reads, runs): "
            f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
        )
        for kind, figures in [*runs.items(), ("valuation", valuations)]:
            others = sum(f["cpu"]["others"] for f in figures)
            available = sum(f["cpu"]["available"] for f in figures)
            print(
                f"CPU seconds other processes used during the {kind} runs: {others:.1f} of "
                f"{available:.1f} available (0 on a quiet machine)"
            )
        print(
            f"environment: {os.cpu_count()} CPUs, PostgreSQL {version} (work_mem {work_mem}, "
            f"shared_buffers {shared}, autovacuum {autovacuum}), {code_version()}"
        )


if __name__ == "__main__":
    main()
