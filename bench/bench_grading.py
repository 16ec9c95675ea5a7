"""Benchmark: the monthly grading recompute of 200,000 customers from 12 months of facts, by hand.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench_grading \
        .venv/bin/python bench/bench_grading.py [--customers 200000] [--runs 3]
        [--other-runs 1] [--month 2026-11] [--fill-only] [--keep | --reuse]

Fills a throwaway PostgreSQL database (same handling as bench_import.py) straight in SQL
(`INSERT … SELECT generate_series`): `--customers` customers with their dynamic and system
rows, spread over the nine bench districts, all 7 formats × 2 market types, about 9% without a
floor area; then 12 months of `orders_monthlysalesfact` ending with the month before the grade
month, one statement per month (so the table is laid out month by month, as the order sync
leaves it): most shops 20-300 cartons a month, about 5% 300-1,500, 0.6% above 1,500, 4% below
20; amount = cartons × a per-shop price of 60-400 CNY; price-class, key-brand, new-product and
low-tar cartons within the cartons; first and last order dates inside the month; 3% of the
customers start inside the 12 months (their first month half a month), 1% have no facts at all,
4% of the other months are missing. VACUUM ANALYZE and CHECKPOINT, then times, each --runs
times (best and median):

- plain SQL baselines: `GROUP BY customer_id` of cartons and amount over the scheme's window
  and over all 12 months, into a temporary table (the recompute writes its result too);
- reading the window's facts into pandas four ways: `crm.frames.query_frame` (COPY, what the
  recompute uses), `pandas.read_sql` on the DB-API connection, a cursor's `fetchall`, and an
  ORM `values_list`; and each read the recompute makes, alone;
- `grading.services.grading_recompute` of the month with the active (thresholds) scheme, its
  phases from `outcome.seconds`; runs after the first replace the month, and must store the
  same results (checksum of customer, grade, scale, category code and structure class);
- one recompute in a fresh child process (`--child-recompute`), for its peak memory;
- the score and the matrix scheme (drafts with the brief's defaults, activated), --other-runs
  recomputes each; then a copy of the thresholds scheme is activated again.

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
       'retail', '', false, false, now(), now()
FROM k CROSS JOIN LATERAL (
    SELECT i, (floor({frac("i", 7)} * cardinality(k.areas)))::int AS a
    FROM generate_series(%(start)s::bigint, %(stop)s::bigint) i
) g
"""  # noqa: S608 (our own constants)

_DYNAMIC_SQL = """
INSERT INTO customers_customerdynamic (customer_id, status, phone, contact_person,
    payment_method, bank_account, order_cycle, visit_cycle, visit_batch, order_batch,
    order_frequency, delivery_route, delivery_segment, delivery_person, order_taker,
    outlet_size, operating_status, cooperation, business_characteristics, trade_area,
    credit_rating, home_address, mailing_address, latitude, longitude)
SELECT c.id, CASE WHEN c.id % 97 = 0 THEN 'suspended' ELSE 'active' END,
       '139' || lpad((c.id % 100000000)::text, 8, '0'), '', 'electronic', '', 'weekly',
       'weekly', '', '', 2, '', '', '', '', '', '', '', '', '', '', '', '', NULL, NULL
FROM customers_customer c
WHERE NOT EXISTS (SELECT 1 FROM customers_customerdynamic d WHERE d.customer_id = c.id)
"""

_SYSTEM_SQL = """
INSERT INTO customers_customersystem (customer_id, business_scale, category_code, value_tier)
SELECT c.id, '', '', '' FROM customers_customer c
WHERE NOT EXISTS (SELECT 1 FROM customers_customersystem s WHERE s.customer_id = c.id)
"""

# One month of facts for every customer. Per shop (hashes of its id): u1 size tier, u2 size
# within the tier, u3 average price, u4/u5 whether and when it starts inside the 12 months,
# u6-u9 low-tar, key-brand, new-product and e-settled shares. Per shop and month: v (4% of
# months missing), w (variation ±30%, order days).
_FACTS_SQL = f"""
WITH k AS (SELECT %(month)s::date AS month, %(m)s::int AS m, %(months)s::int AS months)
INSERT INTO orders_monthlysalesfact (customer_id, month, cartons, amount, orders, lines,
    class_1_cartons, class_2_cartons, class_3_cartons, class_4_cartons, class_5_cartons,
    key_brand_cartons, new_product_cartons, low_tar_cartons, electronic_orders,
    electronic_amount, first_order_date, last_order_date)
SELECT c.id, k.month, q.cartons, q.amount, q.orders, q.orders * (4 + (c.id %% 12)::int),
       q.c1, q.c2, q.c3, q.c4, q.cartons - q.c1 - q.c2 - q.c3 - q.c4,
       floor(q.cartons * (0.10 + 0.40 * s.u7))::int,
       floor(q.cartons * 0.08 * s.u8)::int,
       floor(q.cartons * (0.05 + 0.25 * s.u6))::int,
       floor(q.orders * s.u9)::int, round(q.amount * s.u9::numeric, 2),
       k.month + q.first_day, k.month + 25 + floor(h.w * 3)::int
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
WHERE k.m >= s.start_m AND NOT (k.m > s.start_m AND h.v < 0.04)
ORDER BY c.id
"""  # noqa: S608 (our own constants)


def fill(url: str, *, customers: int, month: dt.date) -> None:
    """Customers (with their dynamic and system rows) and 12 months of facts, if missing."""
    import psycopg

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
            print(
                f"Filled {customers - have:,} customers (+ dynamic, system rows) in "
                f"{time.perf_counter() - started:.0f} s",
                flush=True,
            )
        else:
            print(f"{have:,} customers already there.")

        facts = conn.execute("SELECT COUNT(*) FROM orders_monthlysalesfact").fetchone()[0]
        if facts:
            print(f"{facts:,} facts already there: not filling.")
            return
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
        print(f"Filled {total:,} facts in {time.perf_counter() - started:.0f} s", flush=True)
        conn.autocommit = True
        started = time.perf_counter()
        conn.execute("VACUUM ANALYZE")
        conn.execute("CHECKPOINT")
        print(f"VACUUM ANALYZE + CHECKPOINT in {time.perf_counter() - started:.0f} s", flush=True)


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
        "COPY → read_csv (crm.frames.query_frame)": lambda: sales_facts_frame(
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


def vacuum_results() -> None:
    """What autovacuum would have done between two monthly runs (not timed; it may be off)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE grading_graderesult, customers_customersystem")


def recompute_once(month: dt.date) -> dict:
    """One `grading_recompute` of `month`, with its phases (`outcome.seconds`, the COMMITs,
    the rest) and the CPU seconds this process, its database backend and anything else on the
    machine used meanwhile (the machine is quiet when "others" is near 0)."""
    from django.db import connection

    from crm.services import Actor
    from grading.services import grading_recompute

    connection.ensure_connection()
    backend = connection.connection.info.backend_pid
    commits: list[float] = []
    commit = connection.commit

    def timed_commit() -> None:
        started = time.perf_counter()
        try:
            commit()
        finally:
            commits.append(time.perf_counter() - started)

    connection.commit = timed_commit  # what transaction.atomic calls on the way out
    own_before = sum(os.times()[:2]) + cpu_seconds([backend]).get(backend, 0.0)
    busy_before, total_before = machine_cpu()
    started = time.perf_counter()
    try:
        outcome = grading_recompute(month=month, actor=Actor.system("bench"))
    finally:
        del connection.commit
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
        "kind": outcome.scheme.kind,
        "version": outcome.scheme.version,
        "distribution": outcome.distribution,
        "basis": outcome.results["basis"].value_counts().to_dict(),
    }


def child_recompute(month: dt.date) -> None:
    """One recompute in this fresh process; prints a JSON line with its figures and memory."""
    with bench_database(keep=True, reuse=True):
        rss_before = vm_kib("VmRSS")
        figures = recompute_once(month)
        figures |= {
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
        f"of {cpu['available']:.1f}",
        flush=True,
    )


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
        from django.db import connection, transaction

        from crm.dates import add_months
        from crm.services import Actor
        from customers.selectors import customer_grading_frame
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
        from orders.selectors import first_order_frame, sales_facts_frame

        print(
            f"{dt.date.today()}; {database}; CPUs: {os.cpu_count()}; "  # noqa: DTZ011
            f"{args.customers:,} customers; grade month {month:%Y-%m}; {code_version()}; "
            f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
            flush=True,
        )
        fill(url, customers=args.customers, month=month)
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
                "current_setting('autovacuum'), current_setting('server_version')"
            )
            customers, facts, facts_size, work_mem, shared, parallel, autovacuum, version = (
                cursor.fetchone()
            )
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
            "  recompute read: customers (customer_grading_frame)": customer_grading_frame,
            f"  recompute read: first orders (MIN over {MONTHS} months)": lambda: first_order_frame(
                before=month
            ),
            "  recompute read: assessments (ORM)": lambda: list(
                GradeAssessment.objects.filter(month=month).values_list("customer_id", "score")
            ),
            "  recompute read: window facts (sales_facts_frame)": lambda: sales_facts_frame(
                months=window, columns=computations.FACT_COLUMNS
            ),
        }
        for label, action in parts.items():
            results[label] = repeat(args.runs, action)
            print(f"  {label.strip()}: {min(results[label]):.2f} s", flush=True)

        # 3. The recompute with the thresholds scheme; runs after the first replace the month.
        thresholds = scheme
        runs: dict[str, list[dict]] = {}
        digests = []
        for n in range(args.runs):
            vacuum_results()
            figures = recompute_once(month)
            runs.setdefault(figures["kind"], []).append(figures)
            digests.append(checksum(month))
            print_recompute(f"recompute {figures['kind']} run {n + 1}", figures)
        print(f"  grades: {runs[thresholds.kind][-1]['distribution']}")
        print(f"  basis: {runs[thresholds.kind][-1]['basis']}")
        same = len({digest for _count, digest, _differ in digests}) == 1
        idempotent = (
            f"{len(digests)} runs, {digests[0][0]:,} results each, checksums "
            f"{'identical' if same else 'DIFFER'} ({digests[0][1][:12]}…); customers whose "
            f"system fields disagree with the results: {max(d for *_x, d in digests)}"
        )
        print(f"  idempotent replace: {idempotent}", flush=True)

        # 4. Peak memory of one recompute in a fresh process.
        vacuum_results()
        child = run_child(month)
        child_digest = checksum(month)
        print_recompute("recompute in a fresh child process", child)
        print(
            f"  child: ru_maxrss {child['ru_maxrss_kib'] / 1024:.0f} MB, VmHWM "
            f"{child['vmhwm_kib'] / 1024:.0f} MB (after django.setup: "
            f"{child['rss_before_kib'] / 1024:.0f} MB); process incl. start-up "
            f"{child['process_seconds']:.1f} s; checksum "
            f"{'identical' if child_digest[1] == digests[0][1] else 'DIFFERS'}",
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
        print(f"  thresholds active again as v{again.version}", flush=True)

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
        best = min(f["wall"] for f in runs[thresholds.kind])
        print(
            f"recompute (thresholds, best) / window GROUP BY: "
            f"{best / min(results[window_label]):.1f}×, / 12-month GROUP BY: "
            f"{best / min(results[year_label]):.1f}×"
        )
        print(f"idempotent replace: {idempotent}")
        print(
            f"peak memory of one recompute in a fresh process: VmHWM "
            f"{child['vmhwm_kib'] / 1024:.0f} MB, ru_maxrss {child['ru_maxrss_kib'] / 1024:.0f} "
            f"MB (goal < 1,536 MB); its wall time {child['wall']:.2f} s"
        )
        print(
            f"this process's peak RSS (fill, four reads, runs): "
            f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
        )
        for kind, figures in runs.items():
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
