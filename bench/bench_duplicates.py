"""Benchmark: the duplicate checks and the likely-duplicates page at 200,000 customers, by hand.

    .venv/bin/python bench/bench_duplicates.py [--customers 200000] [--runs 5]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench \
        .venv/bin/python bench/bench_duplicates.py [--keep | --reuse]

Fills a throwaway database with customers as bench_customer_list.py does (its generated rows
share each address among about three shops, and almost no phone: the duplicates page's worst
case by address, its usual case by phone), then times, as an administrator and as the
supervisor of one district: the page's pair count and one page of pairs (`customers.selectors.
duplicate_pairs`, all pairs and phone pairs only), the values shared too widely to pair, one
duplicate check of the create page (`customer_duplicates`) and one of a 1,000-row import or
sync batch (`customer_duplicates_many`). Beside them, in the same run, the baseline: a plain
`GROUP BY address_key` over every customer. Prints the median of --runs runs (ms) and the load
average. See bench/README.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_customer_list import fill  # noqa: E402 (the path above makes it importable)
from bench_import import (  # noqa: E402
    add_database_arguments,
    bench_database,
    ensure_user,
)


def median_ms(work: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=5)
    add_database_arguments(parser)
    args = parser.parse_args()

    with bench_database(keep=args.keep, reuse=args.reuse) as database:
        from django.db import connection

        from crm.choices import Role
        from customers.selectors import (
            customer_duplicates,
            customer_duplicates_many,
            duplicate_pairs,
        )

        print(f"{database}; load average {Path('/proc/loadavg').read_text().strip()}")
        fill(args.customers)
        users = {
            "administrator": ensure_user("bench_admin", Role.ADMINISTRATOR),
            "supervisor of TH": ensure_user("bench_sup_th", Role.SUPERVISOR, ("TH",)),
        }
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT d.phone, c.address FROM customers_customer c "
                "JOIN customers_customerdynamic d ON d.customer_id = c.id ORDER BY c.id LIMIT 1000"
            )
            probes = [(phone, address, None) for phone, address in cursor.fetchall()]

        def baseline() -> None:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT address_key, COUNT(*) FROM customers_customer "
                    "GROUP BY address_key HAVING COUNT(*) > 1"
                )
                cursor.fetchall()

        rows = [
            ("baseline: GROUP BY address_key over every customer", median_ms(baseline, args.runs))
        ]
        for who, user in users.items():
            for kind, label in (("", "all pairs"), ("phone", "phone pairs")):
                pairs = duplicate_pairs(user=user, kind=kind)
                count = pairs.count()
                rows += [
                    (
                        f"{who}: {label} ({count:,}), count",
                        median_ms(
                            lambda u=user, k=kind: duplicate_pairs(user=u, kind=k).count(),
                            args.runs,
                        ),
                    ),
                    (
                        f"{who}: {label}, first page of 25",
                        median_ms(
                            lambda u=user, k=kind: duplicate_pairs(user=u, kind=k)[0:25], args.runs
                        ),
                    ),
                ]
            rows.append(
                (
                    f"{who}: values shared by more than 8 shops",
                    median_ms(lambda u=user: duplicate_pairs(user=u).shared_values(), args.runs),
                )
            )
        admin = users["administrator"]
        phone, address, _pk = probes[0]
        rows += [
            (
                "create page: one duplicate check",
                median_ms(
                    lambda: customer_duplicates(user=admin, phone=phone, address=address), args.runs
                ),
            ),
            (
                "import or sync: a batch of 1,000 rows",
                median_ms(
                    lambda: customer_duplicates_many(user=admin, probes=probes, shown=None),
                    args.runs,
                ),
            ),
        ]
        width = max(len(label) for label, _ms in rows)
        for label, ms in rows:
            print(f"  {label:<{width}}  {ms:8.1f} ms")
        print(f"load average at the end {Path('/proc/loadavg').read_text().strip()}")


if __name__ == "__main__":
    main()
