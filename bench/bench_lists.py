"""Benchmark: every list page at 200,000 shops, per role, through the Django test client.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench_lists \
        .venv/bin/python bench/bench_lists.py [--customers 200000] [--order-lines 4000000]
        [--runs 20] [--only customers,orders] [--case LABEL] [--user LABEL] [--explain]
        [--fill-only] [--keep | --reuse]

Fills a throwaway PostgreSQL database (same handling as bench_import.py) straight in SQL:
`--customers` shops as bench_visits.py makes them (its dynamic and system rows, 8 weeks of
visits and follow-ups), renamed like real shops (district + 便利店 / 烟酒行 / 超市 … + number,
road addresses, as bench_import.generate_rows writes them, so a common term such as 便利
matches about one shop in eight), the service requests and activities of bench_services.py,
and `--order-lines` order lines (10 per order, a year of history) as bench_sales_facts.py
writes them. VACUUM ANALYZE.

Then requests every list page with the test client (the whole view: middleware, queries,
template rendering; no network, no gunicorn) as four users — an administrator, a supervisor of
all areas (GZ and SZ), a supervisor of one district (TH) and an account manager of TH — each
case --runs times after one warm-up request, and prints p50 / p95 in milliseconds with the
queries of one request and the count the page showed. The server's load average is printed
before and after. Run the same script in a worktree of the old code against the kept database
(--reuse --keep: without --keep the database is dropped at the end) for the before figures:
the script only uses the pages' URLs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent / "load"))

from bench_import import (  # noqa: E402
    CITY_DISTRICTS,
    ROADS,
    SHOP_WORDS,
    add_database_arguments,
    bench_database,
    ensure_user,
)
from bench_order_sync import code_version, cpu_seconds, require_postgres  # noqa: E402

# Account managers per district (bench_visits' default).
PER_DISTRICT = 4
ORDER_LINES_PER_ORDER = 10

USERS = (
    ("bench_admin", "administrator", "administrator", ()),
    ("bench_sup_all", "supervisor of all areas", "supervisor", ("GZ", "SZ")),
    ("bench_sup_th", "supervisor of TH", "supervisor", ("TH",)),
    ("am_th1", "account manager (TH)", "account_manager", ("TH",)),
)

# (page, label, path) — the roles that may not open a page get a 403 and are skipped.
CASES = (
    ("customers", "unfiltered", "/customers/"),
    ("customers", "q=便利 (1 in 8 shops)", "/customers/?q=%E4%BE%BF%E5%88%A9"),
    ("customers", "q=烟酒行1234 (one shop)", "/customers/?q=%E7%83%9F%E9%85%92%E8%A1%8C1234"),
    ("customers", "q=44080001 (digit prefix)", "/customers/?q=44080001"),
    (
        "customers",
        "format Z+B, by store name",
        "/customers/?business_format=Z&business_format=B&ordering=store_name",
    ),
    ("customers", "value tier potential", "/customers/?value_tier=potential"),
    ("customers", "status suspended", "/customers/?status=suspended"),
    ("customers", "area TH, by purchase", "/customers/?area=TH&ordering=-purchase_amount"),
    ("customers", "page 50", "/customers/?page=50"),
    ("orders", "unfiltered", "/orders/"),
    ("orders", "status placed", "/orders/?status=placed"),
    ("orders", "page 50", "/orders/?page=50"),
    ("products", "unfiltered", "/orders/products/"),
    ("visits", "unfiltered", "/visits/all/"),
    ("visits", "flagged", "/visits/all/?flagged=true"),
    ("services", "queue (default tab)", "/services/"),
    ("services", "queue, area tab", "/services/?queue=area"),
    ("services", "activities", "/services/activities/"),
    ("services", "care", "/services/care/"),
    ("areas", "unfiltered", "/areas/"),
)


# --- filling ------------------------------------------------------------------------------

# Realistic names and addresses over the SQL-made shops: district name's first two characters,
# a shop word, the number; a district road and a house number.
_NAMES_SQL = """
UPDATE customers_customer c
SET store_name = left(a.name, 2) || (%(words)s::text[])[1 + (c.id * 7 %% %(nwords)s)::int]
                 || c.id || '号',
    address = a.name || (%(roads)s::text[])[1 + (c.id * 13 %% %(nroads)s)::int]
              || (1 + c.id * 31 %% 999) || '号'
FROM crm_area a
WHERE a.id = c.area_id AND c.store_name LIKE '基准店%%'
"""


def fill(url: str, *, customers: int, order_lines: int) -> None:
    import bench_sales_facts
    import bench_services
    import bench_visits
    import psycopg
    from bench_order_sync import ensure_products
    from django.utils import timezone
    from run_load import fill_visits  # bench/load: empties the visits with CASCADE

    from visits.models import VisitsConfig

    today = timezone.localdate()
    planning_day = bench_visits.previous_work_day(today, VisitsConfig.current().work_weekdays)
    fill_visits(url, customers=customers, per_district=PER_DISTRICT, as_of=planning_day)
    bench_services.fill(url, customers=customers, per_district=PER_DISTRICT, care_day=today)
    with psycopg.connect(url) as conn:
        renamed = conn.execute(
            _NAMES_SQL,
            {
                "words": SHOP_WORDS,
                "nwords": len(SHOP_WORDS),
                "roads": ROADS,
                "nroads": len(ROADS),
            },
        ).rowcount
        conn.commit()
        if renamed:
            print(f"Renamed {renamed:,} shops and gave them addresses.", flush=True)
        ids = [row[0] for row in conn.execute("SELECT id FROM customers_customer ORDER BY id")]
    products = ensure_products(200)
    bench_sales_facts.fill(
        url,
        lines=order_lines,
        per_order=ORDER_LINES_PER_ORDER,
        customers=ids,
        products=products,
    )
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def rebuild_facts() -> None:
    """The monthly facts and the customers' purchase figures from the orders, as the monthly
    rebuild writes them: the customer list's purchase sort and filters read those figures."""
    from django.db import connection

    from orders.services import sales_facts_rebuild

    started = time.perf_counter()
    facts = sales_facts_rebuild()
    print(f"Rebuilt {facts:,} monthly facts in {time.perf_counter() - started:.0f} s.", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE customers_customersystem")
        cursor.execute("VACUUM ANALYZE orders_monthlysalesfact")


# --- timing -------------------------------------------------------------------------------


def loadavg() -> str:
    return Path("/proc/loadavg").read_text().split(" ", 3)[:3].__str__()


def shown_count(html: str) -> str:
    """What the page said about its size: "Page 1 of 4,000", "more than 10,000"…"""
    match = re.search(r"(Page \d+ of [\d,]+|Page \d+|[Mm]ore than [\d,]+[^<]*)", html)
    return match.group(1) if match else ""


def time_page(client, path: str, runs: int) -> dict | None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = client.get(path)  # warm-up (and the status)
    if response.status_code != 200:
        return {"status": response.status_code}
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    queries = len(captured.captured_queries)
    backend = connection.connection.info.backend_pid
    times = []
    python_cpu = postgres_cpu = 0.0
    for _ in range(runs):
        before = cpu_seconds([backend]).get(backend, 0.0)
        own = time.process_time()
        started = time.perf_counter()
        client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        python_cpu += time.process_time() - own
        postgres_cpu += cpu_seconds([backend]).get(backend, before) - before
    times.sort()
    return {
        "status": 200,
        "p50": statistics.median(times),
        "p95": times[min(len(times) - 1, round(0.95 * (len(times) - 1)))],
        # CPU per request, this process and its PostgreSQL backend (parallel workers not
        # counted): steadier than the wall times on a shared machine.
        "python_cpu": python_cpu / runs * 1000,
        "postgres_cpu": postgres_cpu / runs * 1000,
        "queries": queries,
        "shown": shown_count(response.content.decode()),
    }


def explain(path: str, user) -> None:
    """The plans of the page's slow queries (EXPLAIN ANALYZE of every query over 20 ms)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(user)
    with CaptureQueriesContext(connection) as captured:
        client.get(path)
    for query in captured.captured_queries:
        if float(query["time"]) < 0.02:
            continue
        print(f"--- {float(query['time']) * 1000:.0f} ms: {query['sql'][:300]}")
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
            print("\n".join(row[0] for row in cursor.fetchall()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--order-lines", type=int, default=4_000_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--only", default="", help="Pages to time, comma separated.")
    parser.add_argument("--case", default="", help="Only cases whose label contains this.")
    parser.add_argument("--user", default="", help="Only users whose label contains this.")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE slow queries.")
    parser.add_argument("--fill-only", action="store_true")
    parser.add_argument(
        "--facts",
        action="store_true",
        help="Rebuild the monthly facts and purchase figures of a reused database (the fill "
        "does it).",
    )
    add_database_arguments(parser)
    args = parser.parse_args()
    url = require_postgres()

    with bench_database(keep=args.keep, reuse=args.reuse) as database:
        from django.conf import settings
        from django.test import Client
        from django.test.utils import setup_test_environment

        print(f"{dt.date.today()}; {database}; {code_version()}", flush=True)  # noqa: DTZ011
        if not args.reuse:
            fill(url, customers=args.customers, order_lines=args.order_lines)
        if args.facts or not args.reuse:
            rebuild_facts()
        if args.fill_only:
            return
        # The pages a role may not open answer 403: no traceback in the output for those.
        logging.getLogger("django.request").setLevel(logging.ERROR)
        setup_test_environment()  # the test client's response.templates, ALLOWED_HOSTS
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        from crm.models import Area

        assert {code for (code, _n) in CITY_DISTRICTS} <= set(
            Area.objects.values_list("code", flat=True)
        )
        users = [
            (ensure_user(username, role, areas), label) for username, label, role, areas in USERS
        ]
        only = {name for name in args.only.split(",") if name}
        print(f"load average before: {loadavg()}", flush=True)
        print(
            f"{'page':<10} {'case':<28} {'user':<26} {'p50 ms':>7} {'p95 ms':>7} "
            f"{'cpu py':>6} {'cpu pg':>6} {'q':>3}  shown"
        )
        for page, label, path in CASES:
            if (only and page not in only) or args.case not in label:
                continue
            for user, who in users:
                if args.user not in who:
                    continue
                client = Client()
                client.force_login(user)
                result = time_page(client, path, args.runs)
                if result["status"] != 200:
                    continue
                print(
                    f"{page:<10} {label:<28} {who:<26} {result['p50']:>7.1f} "
                    f"{result['p95']:>7.1f} {result['python_cpu']:>6.1f} "
                    f"{result['postgres_cpu']:>6.1f} {result['queries']:>3}  {result['shown']}",
                    flush=True,
                )
                if args.explain:
                    explain(path, user)
        print(f"load average after: {loadavg()}", flush=True)


if __name__ == "__main__":
    main()
