"""Benchmark: the customer list query at 200,000 customers, run by hand.

    .venv/bin/python bench/bench_customer_list.py [--customers 200000] [--runs 5] [--explain]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench \
        .venv/bin/python bench/bench_customer_list.py [--keep | --reuse]

Fills a throwaway database (same handling as bench_import.py) with customers through
`customer_upsert_many`, then times what the list page asks of `customers.selectors.
customer_list`: the count plus the first 50 rows, for several filters, as a supervisor of
one district and as an administrator. Prints the median of --runs runs in milliseconds.
With --keep the PostgreSQL database stays, and --reuse times it again without refilling.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_import import (  # noqa: E402 (the path above makes bench_import importable)
    add_database_arguments,
    bench_database,
    ensure_areas_and_managers,
    ensure_user,
    generate_rows,
    peak_rss_mb,
)

PAGE_SIZE = 50
# Customers per customer_upsert_many call while filling: bounds the rows held in memory.
FILL_BATCH = 10_000

CASES = [
    ("page 1, unfiltered", {}),
    ("text search q=便利 (part of store names)", {"q": "便利"}),
    ("text search q=烟酒行1234 (one shop)", {"q": "烟酒行1234"}),
    ("digit prefix q=440100123", {"q": "440100123"}),
    (
        "area=TH + format Z,B, sorted by store_name",
        {"area": "TH", "business_format": ["Z", "B"], "ordering": "store_name"},
    ),
]


def fill(count: int) -> None:
    from crm.choices import AuditSource
    from crm.services import Actor
    from customers.models import Customer
    from customers.services import customer_upsert_many

    managers = ensure_areas_and_managers()
    have = Customer.objects.count()
    if have >= count:
        print(f"{have:,} customers already there.")
        return
    actor = Actor.system("bench", AuditSource.IMPORT)
    started = time.perf_counter()
    for start in range(have + 1, count + 1, FILL_BATCH):
        size = min(FILL_BATCH, count + 1 - start)
        rows = list(generate_rows(size, managers, start=start))
        report = customer_upsert_many(rows=rows, actor=actor)
        if report.counts()["created"] != size:
            print(f"  unexpected counts: {report.counts()}; {report.errors()[:3]}")
        done = start + size - 1
        elapsed = time.perf_counter() - started
        print(f"  filled {done:,} ({done / elapsed:,.0f} rows/s)", end="\r", flush=True)
    print(
        f"Filled {count - have:,} customers in {time.perf_counter() - started:.0f} s "
        f"(max RSS {peak_rss_mb():.0f} MB)."
    )


def analyse() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        # Planner statistics, as autovacuum (PostgreSQL) would have gathered by now in real use.
        cursor.execute("ANALYZE")


def time_case(username: str, filters: dict, runs: int) -> tuple[float, float, int]:
    from crm.models import User
    from customers.selectors import customer_list

    totals, counts, count = [], [], 0
    for _ in range(runs):
        # A fresh user each run, as each request has: the scope's area ids are not cached.
        user = User.objects.get(username=username)
        started = time.perf_counter()
        queryset = customer_list(user=user, filters=filters)
        count = queryset.count()
        counted = time.perf_counter()
        page = list(queryset[:PAGE_SIZE])
        finished = time.perf_counter()
        assert len(page) == min(PAGE_SIZE, count)
        totals.append((finished - started) * 1000)
        counts.append((counted - started) * 1000)
    return statistics.median(totals), statistics.median(counts), count


def explain(username: str, filters: dict) -> None:
    from crm.models import User
    from customers.selectors import customer_list

    queryset = customer_list(user=User.objects.get(username=username), filters=filters)
    print(queryset[:PAGE_SIZE].explain(analyze=True) if _postgres() else queryset.explain())


def _postgres() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--explain", action="store_true", help="Print each page query's plan.")
    add_database_arguments(parser)
    args = parser.parse_args()

    with bench_database(keep=args.keep, reuse=args.reuse) as database:
        from crm.choices import Role
        from customers.models import Customer

        print(f"Database: {database}")
        fill(args.customers)
        ensure_user("bench_sup_th", Role.SUPERVISOR, ("TH",))
        ensure_user("bench_admin", Role.ADMINISTRATOR)
        analyse()
        total = Customer.objects.count()
        print(f"{total:,} customers; median of {args.runs} runs; count + first {PAGE_SIZE} rows\n")
        print(f"{'case':<46} {'user':<22} {'rows':>8} {'total ms':>9} {'count ms':>9}")
        for label, filters in CASES:
            for username, who in (
                ("bench_sup_th", "supervisor of TH"),
                ("bench_admin", "administrator"),
            ):
                median, count_ms, count = time_case(username, filters, args.runs)
                print(f"{label:<46} {who:<22} {count:>8,} {median:>9.1f} {count_ms:>9.1f}")
                if args.explain:
                    explain(username, filters)


if __name__ == "__main__":
    main()
