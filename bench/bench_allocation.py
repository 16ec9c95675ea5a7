"""Benchmark: supply allocation (issue 21) on 200,000 shops, by hand (PostgreSQL only).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench \
        .venv/bin/python bench/bench_allocation.py [--customers 200000] [--plans 20] [--runs 3]
        [--month 2026-10] [--on 2026-12-07] [--profile] [--skip-sync] [--keep | --reuse]

Fills a throwaway database (same handling as bench_import.py), untimed: `--customers`
customers with their dynamic and system rows over the nine bench districts
(`bench_visits.fill_customers`: the SQL of bench_grading.py), one grade result per customer
for the grade month `--month` (grades 1-8 and structure classes 1-10, spread by a hash of the
id) with its `GradePublication`, and `--plans` products (`bench_order_sync.ensure_products`).
Then, each `--runs` times (best and median), with the load average before and after:

- baselines in the same run: `COPY` of one plan's rows (`--customers`) into a scratch table
  `LIKE allocation_allocationquota INCLUDING ALL` (what publishing writes), and of all the
  plans' rows; `COPY (SELECT …) TO STDOUT` of the quota table and a plain `GROUP BY plan,
  grade` over it (what the full walk of `?on=` reads);
- `allocation.services.plan_publish` of one draft plan (quotas for grades 1-8, every class,
  the supply 80% of the demand so it scales); the plan and its quotas deleted after each run
  (untimed);
- `plan_sync_many` of `--plans` plans at once, each published (one product each, the same
  period: what the ordering system sends for a month); the last run's plans stay in force;
- `GET /api/v1/allocations/?customer=CODE&on=…` (median of `--requests` requests through the
  Django test client as the integration client, different customers) and the walk of every
  row with `?on=…&page_size=--page-size` — when the endpoint exists; otherwise the selector
  the endpoint runs (`allocation.selectors.allocations_on` with a keyset `values_list`), said so;
- the order sync's quota check (`allocation.usage.orders_recorded`, called by
  `orders.services.order_sync_many`): `--sync-batches` batches of `--sync-orders` orders ×
  `--sync-lines` lines of the plans' products, in-process (`bench_order_sync.profile`), with
  the plans in force and with them set aside (status superseded), alternating, `--runs` pairs.

`--profile` prints cProfile's top functions of one publication and of the 20-plan sync.

See bench/README.md.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import functools
import io
import json
import os
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_grading import frac, migrate_if_needed, vm_kib  # noqa: E402
from bench_import import add_database_arguments, bench_database  # noqa: E402
from bench_order_sync import (  # noqa: E402
    OrderMaker,
    code_version,
    ensure_api_client,
    ensure_products,
    make_batches,
    profile,
    require_postgres,
    vacuum_analyze,
)
from bench_visits import fill_customers  # noqa: E402

PER_DISTRICT = 4  # account managers per bench district
# Cartons per shop for the plans' quarter: a shop's order lines (1-15 cartons, bench_order_sync's
# OrderMaker) seldom take it past its quota, as in a normal month.
GRADE_QUOTAS = {"1": 300, "2": 240, "3": 180, "4": 150, "5": 120, "6": 90, "7": 60, "8": 30}
SUPPLY_SHARE = 0.8  # of the demand: every plan is scaled
PLAN_PREFIX = "BENCH-"

# One grade result per customer for the grade month: grades 1-8 (fewer shops in the high
# grades), structure classes 1-10, the other columns plausible constants.
_GRADES_SQL = f"""
INSERT INTO grading_graderesult (customer_id, month, scheme_id, run_id, basis, "window",
    months_used, avg_cartons, avg_amount, avg_price, structure_share, assessment, score,
    floor_area_m2, quantity_pct, amount_pct, scale_score, group_size, computed_grade, grade,
    override_id, business_scale, category_code, price_band, structure_class, computed_at,
    digest)
SELECT c.id, %(month)s, %(scheme)s, NULL, 'window', '', 3, 100, 20000, 200, NULL, NULL, NULL,
       NULL, 0.5, 0.5, 0.5, 1000, g.grade, g.grade, NULL, 'medium', 'C12', 3,
       1 + floor({frac("c.id", 41)} * 10)::int, now(), NULL
FROM customers_customer c
CROSS JOIN LATERAL (SELECT 1 + floor(sqrt({frac("c.id", 43)}) * 8)::int AS grade) g
WHERE NOT EXISTS (SELECT 1 FROM grading_graderesult r WHERE r.month = %(month)s
                  AND r.customer_id = c.id)
"""  # noqa: S608 (our own constants)


def load() -> str:
    return f"{os.getloadavg()[0]:.2f}"


def fill(url: str, *, customers: int, month: dt.date) -> None:
    """Customers, the grade month's results and its publication, if missing."""
    import psycopg

    from grading.models import GradePublication, GradingScheme

    with psycopg.connect(url) as conn:
        changed = fill_customers(conn, customers=customers, per_district=PER_DISTRICT)
        scheme = GradingScheme.objects.order_by("pk").values_list("pk", flat=True).first() or 0
        started = time.perf_counter()
        added = conn.execute(_GRADES_SQL, {"month": month, "scheme": scheme}).rowcount
        conn.commit()
        if added:
            changed = True
            print(
                f"Grades of {month:%Y-%m} for {added:,} customers in "
                f"{time.perf_counter() - started:.1f} s",
                flush=True,
            )
        if changed:
            conn.autocommit = True
            conn.execute("VACUUM ANALYZE")
    if not GradePublication.objects.filter(month=month).exists():
        GradePublication.objects.create(month=month, note="bench")


def plan_rows(products: list, *, start: dt.date, end: dt.date, supply: int, tag: str) -> list:
    return [
        {
            "code": f"{PLAN_PREFIX}{tag}-{n:02d}",
            "name": f"bench {tag} {n}",
            "product_code": code,
            "starts_on": start.isoformat(),
            "ends_on": end.isoformat(),
            "quotas": GRADE_QUOTAS,
            "supply": supply,
            "status": "published",
        }
        for n, (code, _pk, _price) in enumerate(products, start=1)
    ]


def plans_forget(codes: list[str]) -> None:
    """Deletes plans and their quotas by SQL (untimed; the ORM's cascade would load them)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM allocation_allocationexception WHERE quota_id IN (SELECT q.id FROM "
            "allocation_allocationquota q JOIN allocation_allocationplan p ON p.id = q.plan_id "
            "WHERE p.code = ANY(%s))",
            [codes],
        )
        cursor.execute(
            "DELETE FROM allocation_allocationquota WHERE plan_id IN (SELECT id FROM "
            "allocation_allocationplan WHERE code = ANY(%s))",
            [codes],
        )
        cursor.execute("DELETE FROM allocation_allocationplan WHERE code = ANY(%s)", [codes])


def vacuum(table: str = "allocation_allocationquota") -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {table}")


def summary(label: str, seconds: list[float], note: str = "") -> None:
    if not seconds:
        return
    best, median = min(seconds), statistics.median(seconds)
    runs = ", ".join(f"{s:.2f}" for s in seconds)
    print(f"  {label:<62} best {best:7.3f}  median {median:7.3f}  ({runs}) {note}", flush=True)


def profiled(call: Callable[[], Any], top: int = 25) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    call()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
    print(out.getvalue())


# --- baselines ---------------------------------------------------------------------------


def copy_in(url: str, rows: int) -> float:
    """COPY of `rows` quota rows into a scratch table shaped like the quotas (indexes and
    checks, no foreign keys), and its commit."""
    import psycopg

    body = "".join(
        f"{i},{1 + i % 8},{1 + i % 10},{10 + i % 30},{8 + i % 25},0,1,{i + 1}\n"
        for i in range(rows)
    ).encode()
    with psycopg.connect(url) as conn:
        conn.execute(
            "CREATE TEMP TABLE scratch_quota (LIKE allocation_allocationquota INCLUDING ALL)"
        )
        conn.commit()
        started = time.perf_counter()
        with (
            conn.cursor() as cur,
            cur.copy(
                "COPY scratch_quota (id, grade, structure_class, requested, quota, ordered, "
                "plan_id, customer_id) FROM STDIN WITH (FORMAT csv)"
            ) as copy,
        ):
            for start in range(0, len(body), 1 << 20):
                copy.write(body[start : start + (1 << 20)])
        conn.commit()
        return time.perf_counter() - started


def copy_out(url: str) -> tuple[float, int]:
    import psycopg

    with psycopg.connect(url) as conn:
        started = time.perf_counter()
        size = 0
        with (
            conn.cursor() as cur,
            cur.copy(
                "COPY (SELECT id, plan_id, customer_id, grade, quota, ordered FROM "
                "allocation_allocationquota) TO STDOUT"
            ) as copy,
        ):
            for data in copy:
                size += len(data)
        return time.perf_counter() - started, size


def group_by(url: str) -> float:
    import psycopg

    with psycopg.connect(url) as conn:
        started = time.perf_counter()
        conn.execute(
            "SELECT plan_id, grade, COUNT(*), SUM(quota), SUM(ordered) "
            "FROM allocation_allocationquota GROUP BY plan_id, grade"
        ).fetchall()
        return time.perf_counter() - started


# --- the reads of the API ----------------------------------------------------------------


def api_available() -> bool:
    from django.urls import Resolver404, resolve

    try:
        resolve("/api/v1/allocations/")
    except Resolver404:
        return False
    return True


def api_reads(*, on: dt.date, codes: list[str], requests: int, page_size: int, token: str):
    """Through the Django test client (in-process, no server), as the integration client."""
    from django.conf import settings
    from django.test import Client

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    client = Client(HTTP_AUTHORIZATION=f"Token {token}")
    path = "/api/v1/allocations/"
    times = []
    for code in codes[:requests]:
        started = time.perf_counter()
        response = client.get(path, {"customer": code, "on": on.isoformat()})
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, response.content[:300]
    rows_one = len(response.json()["results"])
    started = time.perf_counter()
    url: str | None = f"{path}?on={on.isoformat()}&page_size={page_size}"
    pages = rows = 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content[:300]
        data = response.json()
        rows += len(data["results"])
        pages += 1
        url = data.get("next")
    walk = time.perf_counter() - started
    return times, rows_one, walk, pages, rows


def selector_reads(*, on: dt.date, codes: list[str], requests: int, page_size: int, user):
    """What the endpoint will run, without HTTP: `allocations_on` and a keyset page of
    `values_list` rows (the rows' plan and product named from the plans list)."""
    from allocation.selectors import allocations_on

    columns = ("pk", "plan_id", "customer__customer_code", "grade", "quota", "ordered")

    def page(qs, after: int):
        return list(qs.filter(pk__gt=after).values_list(*columns)[:page_size])

    times = []
    for code in codes[:requests]:
        started = time.perf_counter()
        plans, qs = allocations_on(user=user, on=on, customer_code=code)
        by_id = {p.pk: p for p in plans}
        rows = [
            (by_id[r[1]].code, by_id[r[1]].product.code, r[2], r[3], r[4], r[5], r[4] - r[5])
            for r in page(qs, 0)
        ]
        times.append(time.perf_counter() - started)
    rows_one = len(rows)
    started = time.perf_counter()
    plans, qs = allocations_on(user=user, on=on)
    by_id = {p.pk: p for p in plans}
    after, pages, total = 0, 0, 0
    while True:
        chunk = page(qs, after)
        if not chunk:
            break
        body = json.dumps(
            {
                "results": [
                    {
                        "plan": by_id[r[1]].code,
                        "product_code": by_id[r[1]].product.code,
                        "customer_code": r[2],
                        "grade": r[3],
                        "quota": r[4],
                        "ordered": r[5],
                        "remaining": r[4] - r[5],
                    }
                    for r in chunk
                ]
            }
        )
        del body
        total += len(chunk)
        pages += 1
        after = chunk[-1][0]
    return times, rows_one, time.perf_counter() - started, pages, total


# --- the order sync's quota check ---------------------------------------------------------


def sync_overhead(args, *, codes: list[str], products: list, client, plan_codes: list[str]):
    from django.db import connection

    from allocation.models import AllocationPlan
    from orders import services

    recorded = {"seconds": 0.0}
    original = services.orders_recorded
    profiler = cProfile.Profile() if args.profile else None

    def timed(*a, **k):
        started = time.perf_counter()
        try:
            if profiler is not None and state == "with":
                return profiler.runcall(original, *a, **k)
            return original(*a, **k)
        finally:
            recorded["seconds"] += time.perf_counter() - started

    lines = args.sync_batches * args.sync_orders * min(args.sync_lines, len(products))
    results: dict[str, list[tuple[float, float]]] = {"with": [], "without": []}
    services.orders_recorded = timed
    try:
        for run in range(args.runs):
            for state in ("with", "without"):
                AllocationPlan.objects.filter(code__in=plan_codes).update(
                    status="published" if state == "with" else "superseded"
                )
                today = args.on
                maker = OrderMaker(
                    codes,
                    products,
                    lines=min(args.sync_lines, len(products)),
                    first_day=args.month,
                    days=(today - args.month).days + 1,
                    prefix=f"S{int(time.time())}{state[0]}{run}-",
                    seed=run * 2 + (state == "with"),
                )
                warm, bodies = make_batches(
                    maker, count=args.sync_batches, size=args.sync_orders, clients=1
                )
                profile(warm, client=client)
                with connection.cursor() as cursor:
                    cursor.execute("ANALYZE orders_order")
                    cursor.execute("ANALYZE orders_orderline")
                    cursor.execute("ANALYZE allocation_allocationquota")
                recorded["seconds"] = 0.0
                before = load()
                spans, statements = profile(bodies, client=client)
                if args.profile:
                    top = sorted(statements.items(), key=lambda item: -item[1])[:8]
                    print("    " + "; ".join(f"{w} {t:.2f} s" for w, t in top))
                total = spans["json.loads"] + spans["order_sync_many"]
                results[state].append((total, recorded["seconds"]))
                print(
                    f"  run {run + 1}, plans {state:<7}: {lines:,} lines in {total:.2f} s = "
                    f"{lines / total:,.0f} lines/s; orders_recorded {recorded['seconds']:.2f} s "
                    f"({recorded['seconds'] / total:.0%}); load {before} → {load()}",
                    flush=True,
                )
    finally:
        services.orders_recorded = original
        AllocationPlan.objects.filter(code__in=plan_codes).update(status="published")
    if profiler is not None:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(30)
        print("orders_recorded, every batch with plans:", out.getvalue())
    best = {k: min(t for t, _r in v) for k, v in results.items()}
    median = {k: statistics.median(t for t, _r in v) for k, v in results.items()}
    share = [r / t for t, r in results["with"]]
    print(
        f"  order sync, lines/s best with plans {lines / best['with']:,.0f}, without "
        f"{lines / best['without']:,.0f}: cost {1 - best['without'] / best['with']:.1%} (best), "
        f"{1 - median['without'] / median['with']:.1%} (median); orders_recorded's share of "
        f"the sync with plans {min(share):.1%}-{max(share):.1%}",
        flush=True,
    )


# --- main --------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--plans", type=int, default=20, help="Plans published together.")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--month",
        type=lambda s: dt.date.fromisoformat(f"{s}-01"),
        default=dt.date(2026, 10, 1),
        help="The grade month and the plans' first month (YYYY-MM; default 2026-10).",
    )
    parser.add_argument(
        "--on",
        type=dt.date.fromisoformat,
        default=None,
        help="The day the reads ask for (default today; must be inside the plans' period).",
    )
    parser.add_argument("--requests", type=int, default=200, help="?customer= requests.")
    parser.add_argument("--page-size", type=int, default=5000)
    parser.add_argument(
        "--walk-runs", type=int, default=1, help="Runs of the reads (each walks every row)."
    )
    parser.add_argument("--sync-batches", type=int, default=4)
    parser.add_argument("--sync-orders", type=int, default=1000)
    parser.add_argument("--sync-lines", type=int, default=20)
    parser.add_argument(
        "--sync-products",
        type=int,
        default=0,
        help="Products the synced orders draw their lines from: the plans' first, then others "
        "(default: the plans' only, every line in a plan).",
    )
    parser.add_argument("--skip-sync", action="store_true", help="No order sync overhead.")
    parser.add_argument("--skip-publish", action="store_true", help="Reuse the kept plans.")
    parser.add_argument("--profile", action="store_true", help="cProfile the publications.")
    add_database_arguments(parser)
    args = parser.parse_args()
    url = require_postgres()

    with bench_database(keep=args.keep, reuse=args.reuse) as database:
        from django.db import connection, connections
        from django.db.models import Count
        from django.utils import timezone

        from allocation.models import AllocationPlan, AllocationQuota
        from allocation.services import plan_create_draft, plan_publish, plan_sync_many
        from crm.choices import AuditSource, Role
        from crm.dates import add_months
        from crm.models import User
        from crm.services import Actor
        from customers.models import Customer
        from grading.models import GradeResult

        args.on = args.on or timezone.localdate()
        start = args.month
        end = add_months(args.month, 3) - dt.timedelta(days=1)
        print(
            f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; {database}; CPUs: {os.cpu_count()}; "
            f"{code_version()}; load {load()}",
            flush=True,
        )
        migrate_if_needed()
        fill(url, customers=args.customers, month=args.month)
        every_product = ensure_products(max(args.plans, args.sync_products))
        products = every_product[: args.plans]
        actor = Actor.system("bench", AuditSource.COMMAND)
        client, token = ensure_api_client()
        admin = User.objects.filter(role=Role.ADMINISTRATOR).first() or client
        shops = Customer.objects.count()
        demand = sum(
            GRADE_QUOTAS[str(g)] * n
            for g, n in GradeResult.objects.filter(month=args.month)
            .order_by()
            .values_list("grade")
            .annotate(n=Count("pk"))
        )
        supply = int(demand * SUPPLY_SHARE)
        print(
            f"{shops:,} customers; grade month {args.month:%Y-%m} published; plans "
            f"{start} – {end}, demand {demand:,} cartons per plan, supply {supply:,}",
            flush=True,
        )
        vacuum_analyze()

        # -- baselines: one plan's rows and all plans' rows written by COPY
        one = [copy_in(url, shops) for _ in range(args.runs)]
        summary(f"COPY of {shops:,} quota rows into a scratch table (+ commit)", one)

        if not args.skip_publish:
            plans_forget(
                list(
                    AllocationPlan.objects.filter(code__startswith=PLAN_PREFIX).values_list(
                        "code", flat=True
                    )
                )
            )
            vacuum()
            # -- one plan
            seconds = []
            for run in range(args.runs):
                row = plan_rows(products[:1], start=start, end=end, supply=supply, tag=f"ONE{run}")
                plan = plan_create_draft(data=row[0], actor=actor)
                before = load()
                started = time.perf_counter()
                plan = plan_publish(plan=plan, actor=actor)
                seconds.append(time.perf_counter() - started)
                print(
                    f"    publish: {plan.shops:,} shops, {plan.allocated:,} of {plan.demand:,} "
                    f"cartons, {seconds[-1]:.2f} s; load {before} → {load()}",
                    flush=True,
                )
                if args.profile and run == 0:
                    plans_forget([plan.code])
                    plan = plan_create_draft(data=row[0], actor=actor)
                    profiled(lambda plan=plan: plan_publish(plan=plan, actor=actor))
                plans_forget([plan.code])
                vacuum()
            summary("plan_publish, one plan", seconds, f"(/ COPY {min(seconds) / min(one):.1f}×)")

            # -- N plans by the sync
            big = [copy_in(url, shops * args.plans) for _ in range(1)]
            summary(f"COPY of {shops * args.plans:,} quota rows (+ commit)", big)
            seconds = []
            for run in range(args.runs):
                rows = plan_rows(products, start=start, end=end, supply=supply, tag=f"R{run}")
                before = load()
                started = time.perf_counter()
                if args.profile and run == 0:
                    profiled(lambda rows=rows: plan_sync_many(rows=rows, actor=actor))
                    report = None
                else:
                    report = plan_sync_many(rows=rows, actor=actor)
                seconds.append(time.perf_counter() - started)
                print(
                    f"    plan_sync_many of {len(rows)} plans: {report and report.as_dict()} "
                    f"{seconds[-1]:.2f} s; load {before} → {load()}",
                    flush=True,
                )
                if run < args.runs - 1:
                    plans_forget([r["code"] for r in rows])
                vacuum()
            summary(
                f"plan_sync_many, {args.plans} plans published",
                seconds,
                f"(/ COPY {min(seconds) / min(big):.1f}×)",
            )
        plan_codes = list(
            AllocationPlan.objects.filter(
                code__startswith=PLAN_PREFIX, status="published"
            ).values_list("code", flat=True)
        )
        quotas = AllocationQuota.objects.count()
        print(f"{len(plan_codes)} plans in force, {quotas:,} quotas", flush=True)
        vacuum()

        # -- the reads
        outs = [copy_out(url) for _ in range(args.runs)]
        summary(
            f"COPY (SELECT …) TO STDOUT of the quota table ({outs[0][1] / 2**20:.0f} MB)",
            [s for s, _n in outs],
        )
        summary(
            "GROUP BY plan, grade over the quota table", [group_by(url) for _ in range(args.runs)]
        )
        codes = list(
            Customer.objects.order_by("?").values_list("customer_code", flat=True)[: args.requests]
        )
        connections.close_all()
        read = {"on": args.on, "codes": codes, "requests": args.requests}
        read["page_size"] = args.page_size
        if api_available():
            how = "GET through the Django test client (integration client's token)"
            reads = functools.partial(api_reads, **read, token=token)
        else:
            how = "the selector the endpoint will run (no endpoint on this branch), as admin"
            reads = functools.partial(selector_reads, **read, user=admin)
        print(f"Reads on {args.on}: {how}", flush=True)
        walks = []
        for _run in range(args.walk_runs):
            before = load()
            times, rows_one, walk, pages, rows = reads()
            walks.append(walk)
            print(
                f"    ?customer=: median {statistics.median(times) * 1000:.1f} ms, p95 "
                f"{sorted(times)[int(len(times) * 0.95)] * 1000:.1f} ms of {len(times)} "
                f"({rows_one} rows each); walk of ?on=: {rows:,} rows in {pages} pages, "
                f"{walk:.1f} s; load {before} → {load()}",
                flush=True,
            )
        summary(f"walk of ?on= with page_size {args.page_size}", walks)

        if not args.skip_sync and plan_codes:
            print("Order sync with and without plans in force (in-process):", flush=True)
            codes_all = list(Customer.objects.values_list("customer_code", flat=True))
            sync_overhead(
                args,
                codes=codes_all,
                products=every_product[: args.sync_products or args.plans],
                client=client,
                plan_codes=plan_codes,
            )
        connection.close()
        print(f"peak RSS {vm_kib('VmHWM') / 1024:.0f} MB; load {load()}", flush=True)


if __name__ == "__main__":
    main()
