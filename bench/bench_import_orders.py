"""Benchmark: `manage.py import_orders` of a large order-history file, run by hand.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench \
        .venv/bin/python bench/bench_import_orders.py [--lines 5000000] [--customers 20000]
        [--products 200] [--replay] [--keep | --reuse]

Fills a throwaway database (same handling as bench_import.py) with customers and products
(as bench_order_sync.py does), writes a CSV of --lines order lines (20 per order, a year of
order dates, the columns import_orders reads) to a temporary file, then runs
`manage.py import_orders FILE --source bench` as a child process and reports wall time, lines/s
and the child's peak resident memory (its VmHWM, sampled every 0.2 s), with its RSS at each of
its progress lines to show whether memory grows with the file. --replay imports the same file
a second time (every order unchanged). Start with --lines 200000 to check the set-up.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_import import ROOT, add_database_arguments, bench_database  # noqa: E402
from bench_order_sync import (  # noqa: E402
    OrderMaker,
    code_version,
    ensure_customers,
    ensure_products,
    vacuum_analyze,
)

COLUMNS = [
    "external_id",
    "customer_code",
    "order_date",
    "status",
    "payment_method",
    "paid_on_time",
    "payment_date",
    "product_code",
    "quantity",
    "unit_price",
]
SOURCE = "bench"


def write_orders_csv(path: Path, maker: OrderMaker, lines: int) -> int:
    """Orders of maker.lines lines each until `lines` lines are written (streamed)."""
    written = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        while written < lines:
            order = maker.new()
            paid = order["paid_on_time"]
            head = [
                order["external_id"],
                order["customer_code"],
                order["order_date"],
                order["status"],
                order["payment_method"],
                "" if paid is None else ("true" if paid else "false"),
                order["payment_date"] or "",
            ]
            for line in order["lines"][: lines - written]:
                writer.writerow([*head, line["product_code"], line["quantity"], line["unit_price"]])
                written += 1
    return written


def memory_mb(pid: int, field: str = "VmRSS") -> float:
    """VmRSS (resident now) or VmHWM (peak resident) of a process, in MB; 0 once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class PeakWatcher(threading.Thread):
    """Samples the child's VmHWM every 0.2 s. (ru_maxrss from wait4 would not do: Linux
    carries the parent's peak over into a forked child, so it reports at least this script's
    own size.)"""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0.0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.2):
            self.peak = max(self.peak, memory_mb(self.pid, "VmHWM"))


def run_import(path: Path, label: str, lines: int) -> None:
    env = dict(os.environ)  # DATABASE_URL, CRM_VAR_DIR, settings from bench_database
    env["PYTHONUNBUFFERED"] = "1"  # progress lines as they are written, for the RSS samples
    errors_path = path.with_suffix(f".{label}.errors.txt")
    command = [sys.executable, "manage.py", "import_orders", str(path), "--source", SOURCE]
    print(f"\n[{label}] {' '.join(command[1:])}", flush=True)
    started = time.perf_counter()
    with errors_path.open("w") as errors:
        child = subprocess.Popen(  # noqa: S603 (our own manage.py)
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=errors, text=True
        )
        watcher = PeakWatcher(child.pid)
        watcher.start()
        samples = []
        summary = ""
        for line in child.stdout:
            rss = memory_mb(child.pid)
            samples.append(rss)
            elapsed = time.perf_counter() - started
            print(f"  {elapsed:7.1f} s  RSS {rss:6.0f} MB  {line.rstrip()}", flush=True)
            summary = line.strip()
        child.stdout.close()
        child.wait()
        watcher.stop.set()
        watcher.join()
    seconds = time.perf_counter() - started
    if child.returncode:
        sys.exit(f"import_orders failed ({child.returncode}); see {errors_path}")
    refused = sum(1 for _ in errors_path.open())
    peak = watcher.peak
    first = samples[0] if samples else 0.0
    print(
        f"[{label}] {lines:,} lines in {seconds:.1f} s = {lines / seconds:,.0f} lines/s; "
        f"peak RSS {peak:,.0f} MB (VmHWM; at the first progress line {first:,.0f} MB, "
        f"last {samples[-1] if samples else 0:,.0f} MB); {refused} error lines on stderr",
        flush=True,
    )
    if "refreshed in" in summary:
        print(f"[{label}] the command's summary: {summary}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=5_000_000, help="Order lines in the file.")
    parser.add_argument("--lines-per-order", type=int, default=20)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--products", type=int, default=200)
    parser.add_argument(
        "--replay", action="store_true", help="Import the same file again (all unchanged)."
    )
    add_database_arguments(parser)
    args = parser.parse_args()

    with bench_database(keep=args.keep, reuse=args.reuse) as database:
        from django.db import connection, connections
        from django.utils import timezone

        from orders.models import Order, OrderLine

        today = timezone.localdate()
        print(
            f"{today}; {database}; CPUs: {os.cpu_count()}; {args.lines:,} lines; {code_version()}",
            flush=True,
        )
        customers = ensure_customers(args.customers)
        products = ensure_products(args.products)
        first_day = (today.replace(day=1) - dt.timedelta(days=330)).replace(day=1)
        maker = OrderMaker(
            [code for code, _pk in customers],
            products,
            lines=args.lines_per_order,
            first_day=first_day,
            days=(today - first_day).days + 1,
            prefix=f"H{int(time.time())}-",
        )
        path = Path(os.environ["CRM_VAR_DIR"]) / "orders.csv"
        started = time.perf_counter()
        written = write_orders_csv(path, maker, args.lines)
        seconds = time.perf_counter() - started
        print(
            f"CSV: {written:,} lines, {maker.number:,} orders, "
            f"{path.stat().st_size / 2**20:,.0f} MB, written in {seconds:.0f} s",
            flush=True,
        )
        before = (Order.objects.count(), OrderLine.objects.count())
        print(f"VACUUM ANALYZE done; autovacuum is {vacuum_analyze()} on this server", flush=True)
        connections.close_all()

        run_import(path, "import", written)
        if args.replay:
            run_import(path, "replay", written)

        after = (Order.objects.count(), OrderLine.objects.count())
        print(
            f"\nDatabase: {after[0] - before[0]:,} orders and {after[1] - before[1]:,} lines added "
            f"({after[0]:,} / {after[1]:,} in all)"
        )
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_size_pretty(pg_total_relation_size('orders_orderline')), "
                    "pg_size_pretty(pg_total_relation_size('orders_order'))"
                )
                lines_size, orders_size = cursor.fetchone()
            print(f"Size on disk (with indexes): lines {lines_size}, orders {orders_size}")


if __name__ == "__main__":
    main()
