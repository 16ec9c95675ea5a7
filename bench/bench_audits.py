"""Benchmark: retail price monitoring (issue 22) on 200,000 shops, by hand (PostgreSQL only).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench_audits \
        .venv/bin/python bench/bench_audits.py [--customers 200000] [--products 20]
        [--audits 4] [--month 2026-11] [--runs 3] [--batch 1000] [--keep | --reuse]

Fills a throwaway database (same handling as bench_import.py), untimed: `--customers`
customers over the nine bench districts (`bench_visits.fill_customers`), `--products`
products (`bench_order_sync.ensure_products`) each given a suggested retail price, one active
form asking each product's retail price per carton, and for the month `--month`, per shop,
`--audits` visits each with one audit of every product — visits, audits and answers written
with COPY straight into their tables (16 M answers at the defaults), and the
ProductObservation and PriceTally rows as `observations_record` leaves them (the latest
audit's price per shop and product; the shops per month, product, area and price), by COPY
too. A shop's prices sit around the suggested price (-10% … +15%, in steps of 5 yuan), and
its last audit of the month changes about a third of them.

Then, each `--runs` times (best and median), with the load average before and after:

- baselines in the same run: `percentile_cont(0.5)`, min, max and count per product in one
  GROUP BY over the month's observations (4 M rows) and over the answers (16 M rows), and a
  COPY (SELECT product, price …) TO STDOUT of the month's observations;
- `audits.reports.price_monitoring` for an administrator, a city supervisor (GZ: six of the
  nine districts) and one account manager (a bench district's ~5,500 shops: the heaviest
  owner scope the bench has);
- `audits.observations.observations_record` of one visit's audit (`--products` answers, a
  later day of the month, so every observation is replaced and the tallies move), and of a
  batch of `--batch` such audits (different shops), each in its own transaction (committed).

See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_import import add_database_arguments, bench_database, ensure_user  # noqa: E402
from bench_order_sync import ensure_products, require_postgres  # noqa: E402
from bench_visits import fill_customers  # noqa: E402

PER_DISTRICT = 4
FORM_CODE = "bench-prices"
DAYS = (3, 10, 17, 24, 28)  # the audits' days of the month (the 5th: the timed audits)


def load() -> str:
    return f"{os.getloadavg()[0]:.2f}"


def summary(label: str, seconds: list[float], note: str = "") -> None:
    best, median = min(seconds), statistics.median(seconds)
    runs = ", ".join(f"{s:.3f}" for s in seconds)
    print(f"  {label:<64} best {best:7.3f}  median {median:7.3f}  ({runs}) {note}", flush=True)


def _hash(*parts: int) -> float:
    """A deterministic pseudo-random float in [0, 1) (the bench must not change between runs)."""
    x = 0
    for p in parts:
        x = (x * 1_000_003 + p) & 0xFFFFFFFFFFFF
    x = (x ^ (x >> 17)) * 0x2545F4914F6CDD1D & 0xFFFFFFFFFFFFFFFF
    return ((x >> 11) & 0xFFFFFFF) / 0x10000000


def price_of(srp: int, shop: int, product: int, audit: int, audits: int) -> int:
    """A shop's price (yuan per carton) of a product at its n-th audit of the month: around
    the suggested price, in steps of 5 yuan; the last audit moves about a third of them."""
    price = round(srp * (0.90 + 0.25 * _hash(shop, product)) / 5) * 5
    if audit == audits - 1 and _hash(product, shop, 7) < 0.33:
        price += 5
    return price


# --- the data ------------------------------------------------------------------------------


def _copy(conn, table: str, columns: str, rows, *, label: str) -> None:
    started = time.perf_counter()
    n = 0
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        buffer: list[str] = []
        for row in rows:
            buffer.append(row)
            n += row.count("\n")
            if len(buffer) >= 50_000:
                copy.write("".join(buffer))
                buffer.clear()
        if buffer:
            copy.write("".join(buffer))
    conn.commit()
    print(f"  COPY {n:,} rows into {label} in {time.perf_counter() - started:.0f} s", flush=True)


def fill_audits(url: str, *, customers: int, products: int, audits: int, month: dt.date):
    """The month's visits, audits, answers, observations and tallies, if missing."""
    import psycopg
    from django.utils import timezone

    from audits.models import AuditForm, AuditQuestion
    from orders.models import Product

    with psycopg.connect(url) as conn:
        fill_customers(conn, customers=customers, per_district=PER_DISTRICT)
    rows = ensure_products(products)
    ids = [pk for _code, pk, _price in rows]
    for pk, (_code, _id, wholesale) in zip(ids, rows, strict=True):
        srp = (Decimal(wholesale) * Decimal("1.25") / 5).quantize(Decimal(1)) * 5
        Product.objects.filter(pk=pk, suggested_retail_price__isnull=True).update(
            suggested_retail_price=srp
        )
    srps = {
        pk: int(srp)
        for pk, srp in Product.objects.filter(pk__in=ids).values_list(
            "pk", "suggested_retail_price"
        )
    }
    form = AuditForm.objects.filter(code=FORM_CODE).first()
    if form is None:
        form = AuditForm.objects.create(
            code=FORM_CODE, name="Bench prices", status="active", activated_at=timezone.now()
        )
        question = AuditQuestion.objects.create(
            form=form,
            position=1,
            key="price",
            kind="product_price",
            label="Retail price",
            price_unit="carton",
            product_scope="listed",
        )
        question.products.set(ids)
    question = form.questions.get()
    with psycopg.connect(url) as conn:
        done = conn.execute(
            "SELECT COUNT(*) FROM audits_audit WHERE form_id = %s", [form.pk]
        ).fetchone()[0]
        if done:
            print(f"{done:,} audits already there.", flush=True)
            return form, question, ids
        shops = conn.execute(
            "SELECT id, area_id, account_manager_id FROM customers_customer ORDER BY id"
        ).fetchall()
        base = conn.execute("SELECT COALESCE(MAX(id), 0) FROM visits_visit").fetchone()[0] + 1
        abase = conn.execute("SELECT COALESCE(MAX(id), 0) FROM audits_audit").fetchone()[0] + 1
        tz = timezone.get_current_timezone()
        times = [
            dt.datetime.combine(month.replace(day=day), dt.time(10), tzinfo=tz).isoformat()
            for day in DAYS[:audits]
        ]
        now = timezone.now().isoformat()
        # A bulk load: no foreign-key triggers row by row (the rows are built consistent), and
        # the answers' secondary indexes built once after the COPY rather than row by row.
        conn.execute("SET session_replication_role = replica")
        indexes = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = "
            "'audits_auditanswer' AND indexname NOT LIKE '%%_pkey'"
        ).fetchall()
        for name, _definition in indexes:
            conn.execute(f'DROP INDEX IF EXISTS "{name}"')
        conn.commit()

        def visits():
            n = 0
            for shop, _area, manager in shops:
                for k in range(audits):
                    yield (
                        f"{base + n}\t{shop}\t{manager}\t{times[k]}\troutine\tAudit\t\t\t\t\t\t"
                        f"\t\tf\tpage\t{now}\n"
                    )
                    n += 1

        _copy(
            conn,
            "visits_visit",
            "id, customer_id, visited_by_id, visited_at, visit_type, purpose, stock_level, "
            "stock_notes, price_display, competitor_notes, customer_requests, photo, "
            "photo_thumbnail, location_flagged, source, created_at",
            visits(),
            label="visits",
        )

        def audit_rows():
            n = 0
            for shop, _area, manager in shops:
                for k in range(audits):
                    yield (
                        f"{abase + n}\t{base + n}\t{form.pk}\t{shop}\t{manager}\t{times[k]}\t0\t0"
                        f"\t{now}\n"
                    )
                    n += 1

        _copy(
            conn,
            "audits_audit",
            "id, visit_id, form_id, customer_id, audited_by_id, audited_at, display_yes, "
            "display_answered, created_at",
            audit_rows(),
            label="audits",
        )

        def answers():
            n = 0
            for shop, _area, _manager in shops:
                prices = [
                    [price_of(srps[pk], shop, pk, k, audits) for pk in ids] for k in (0, audits - 1)
                ]
                for k in range(audits):
                    audit = abase + n
                    row = prices[1] if k == audits - 1 else prices[0]
                    yield "".join(
                        f'{audit}\t{question.pk}\t{pk}\t"{price}"\t{price}\t\t\n'
                        for pk, price in zip(ids, row, strict=True)
                    )
                    n += 1

        _copy(
            conn,
            "audits_auditanswer",
            "audit_id, question_id, product_id, value, number, photo, photo_thumbnail",
            answers(),
            label="answers",
        )
        tally: Counter = Counter()
        last = audits - 1

        def observations():
            for i, (shop, area, _manager) in enumerate(shops):
                audit = abase + i * audits + last
                for pk in ids:
                    price = price_of(srps[pk], shop, pk, last, audits)
                    tally[(pk, area, price)] += 1
                    yield (
                        f"{shop}\t{pk}\t{month}\t{area}\t{audit}\t{times[last]}\t\\N\t{price}"
                        "\t\\N\n"
                    )

        _copy(
            conn,
            "audits_productobservation",
            "customer_id, product_id, month, area_id, audit_id, observed_at, on_shelf, price, "
            "facings",
            observations(),
            label="observations",
        )
        _copy(
            conn,
            "audits_pricetally",
            "month, product_id, area_id, price, shops",
            (f"{month}\t{p}\t{a}\t{price}\t{n}\n" for (p, a, price), n in sorted(tally.items())),
            label="tallies",
        )
        started = time.perf_counter()
        for _name, definition in indexes:
            conn.execute(definition)
        conn.commit()
        print(f"  answers' indexes built in {time.perf_counter() - started:.0f} s", flush=True)
        for table in ("visits_visit", "audits_audit", "audits_auditanswer"):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT MAX(id) FROM {table}))"
            )
        conn.commit()
        conn.autocommit = True
        started = time.perf_counter()
        conn.execute("VACUUM ANALYZE")
        print(f"  VACUUM ANALYZE in {time.perf_counter() - started:.0f} s", flush=True)
    return form, question, ids


# --- baselines -----------------------------------------------------------------------------


def baselines(url: str, month: dt.date, runs: int) -> dict[str, float]:
    import psycopg

    queries = {
        "GROUP BY product, percentile_cont over the month's observations": (
            "SELECT product_id, COUNT(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY price), "
            "MIN(price), MAX(price) FROM audits_productobservation WHERE month = %s "
            "AND price IS NOT NULL GROUP BY product_id"
        ),
        "GROUP BY product, percentile_cont over the answers": (
            "SELECT product_id, COUNT(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY number), "
            "MIN(number), MAX(number) FROM audits_auditanswer WHERE number IS NOT NULL "
            "AND %s::date IS NOT NULL GROUP BY product_id"
        ),
    }
    best = {}
    with psycopg.connect(url) as conn:
        for label, sql in queries.items():
            seconds = []
            for _ in range(runs):
                started = time.perf_counter()
                conn.execute(sql, [month]).fetchall()
                seconds.append(time.perf_counter() - started)
            summary(label, seconds)
            best[label] = min(seconds)
        seconds = []
        for _ in range(runs):
            started = time.perf_counter()
            size = 0
            sql = f"COPY (SELECT product_id, price FROM audits_productobservation WHERE month = '{month}') TO STDOUT"  # noqa: S608, E501 (a date)
            with conn.cursor() as cur, cur.copy(sql) as copy:
                for data in copy:
                    size += len(data)
            seconds.append(time.perf_counter() - started)
        summary(f"COPY (SELECT product, price …) TO STDOUT ({size / 2**20:.0f} MB)", seconds)
        best["copy"] = min(seconds)
    return best


# --- observations_record --------------------------------------------------------------------


def record_timed(*, form, question, product_ids, shops, month, runs, batch) -> None:
    """One visit's audit, then batches of `batch` audits, each of a later day of the month
    (every observation replaced, the tallies moved); committed."""
    from django.db import transaction
    from django.utils import timezone

    from audits.models import Audit, AuditAnswer
    from audits.observations import observations_record
    from orders.models import Product
    from visits.models import Visit

    srps = {
        pk: int(srp)
        for pk, srp in Product.objects.filter(pk__in=product_ids).values_list(
            "pk", "suggested_retail_price"
        )
    }
    tz = timezone.get_current_timezone()
    at = dt.datetime.combine(month.replace(day=DAYS[-1]), dt.time(9), tzinfo=tz)
    cursor = 0

    def stored(n: int, minute: int) -> list[Audit]:
        nonlocal cursor
        chosen = shops[cursor : cursor + n]
        cursor += n
        moment = at + dt.timedelta(minutes=minute)
        visits = Visit.objects.bulk_create(
            [
                Visit(
                    customer_id=shop,
                    visited_by_id=manager,
                    visited_at=moment,
                    visit_type="routine",
                    purpose="Audit",
                )
                for shop, manager in chosen
            ]
        )
        audits = Audit.objects.bulk_create(
            [
                Audit(
                    visit=v,
                    form=form,
                    customer_id=v.customer_id,
                    audited_by_id=v.visited_by_id,
                    audited_at=moment,
                )
                for v in visits
            ]
        )
        answers = []
        for audit in audits:
            for pk in product_ids:
                price = Decimal(srps[pk] + 5 * (1 + minute % 3))
                answers.append(
                    AuditAnswer(
                        audit=audit,
                        question=question,
                        product_id=pk,
                        value=str(price),
                        number=price,
                    )
                )
        AuditAnswer.objects.bulk_create(answers, batch_size=5000)
        return audits

    for n, label in ((1, "one visit's audit"), (batch, f"{batch:,} audits")):
        seconds = []
        for run in range(runs):
            audits = stored(n, run + (0 if n == 1 else 10))
            before = load()
            started = time.perf_counter()
            with transaction.atomic():
                observations_record(audits=audits)
            seconds.append(time.perf_counter() - started)
            print(f"    run {run + 1}: {seconds[-1]:.3f} s; load {before} → {load()}", flush=True)
        summary(
            f"observations_record of {label} × {len(product_ids)} products",
            seconds,
            f"({n * len(product_ids) / min(seconds):,.0f} answers/s)",
        )


# --- main --------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--products", type=int, default=20)
    parser.add_argument("--audits", type=int, default=4, help="Audits per shop in the month.")
    parser.add_argument(
        "--month",
        type=lambda s: dt.date.fromisoformat(f"{s}-01"),
        default=dt.date(2026, 11, 1),
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=1000, help="Audits of the big batch.")
    add_database_arguments(parser)
    args = parser.parse_args()
    url = require_postgres()
    with bench_database(keep=args.keep, reuse=args.reuse) as database:
        print(f"Database: {database}; load {load()}", flush=True)
        from crm.choices import Role
        from crm.models import User
        from customers.models import Customer

        started = time.perf_counter()
        form, question, product_ids = fill_audits(
            url,
            customers=args.customers,
            products=args.products,
            audits=args.audits,
            month=args.month,
        )
        print(f"Data ready in {time.perf_counter() - started:.0f} s; load {load()}", flush=True)

        from audits import reports
        from audits.models import PriceTally, ProductObservation

        observations = ProductObservation.objects.filter(month=args.month).count()
        tallies = PriceTally.objects.filter(month=args.month).count()
        print(f"{observations:,} observations, {tallies:,} tally rows in {args.month:%Y-%m}")

        print("Baselines (same run):", flush=True)
        base = baselines(url, args.month, args.runs)

        admin = ensure_user("bench_admin", Role.ADMINISTRATOR)
        supervisor = ensure_user("bench_sup_gz", Role.SUPERVISOR, ("GZ",))
        manager = User.objects.get(username="am_th1")
        shops_of_manager = Customer.objects.filter(account_manager=manager).count()
        print("price_monitoring:", flush=True)
        for label, user in (
            ("administrator (every shop)", admin),
            ("supervisor of GZ (6 of 9 districts)", supervisor),
            (f"account manager am_th1 ({shops_of_manager:,} shops)", manager),
        ):
            seconds = []
            before = load()
            for _ in range(args.runs):
                user = User.objects.get(pk=user.pk)  # no cached scope between runs
                started = time.perf_counter()
                rows = reports.price_monitoring(user, args.month)
                seconds.append(time.perf_counter() - started)
            summary(
                f"{label}",
                seconds,
                f"{len(rows)} products, {sum(r['observations'] for r in rows):,} observations; "
                f"load {before} → {load()}",
            )
        first = rows[0]
        print(
            f"    e.g. {first['product_code']}: median {first['median']}, "
            f"{first['min']}-{first['max']}, SRP {first['suggested_retail_price']}, "
            f"above {first['share_above']}"
        )
        print(
            "  baseline bests: " + ", ".join(f"{k[:40]} {v:.3f} s" for k, v in base.items()),
            flush=True,
        )

        print("observations_record (committed, on the full tables):", flush=True)
        shops = list(
            Customer.objects.order_by("?").values_list("pk", "account_manager_id")[
                : (1 + args.batch) * args.runs
            ]
        )
        record_timed(
            form=form,
            question=question,
            product_ids=product_ids,
            shops=shops,
            month=args.month,
            runs=args.runs,
            batch=args.batch,
        )
        print(f"load {load()}", flush=True)


if __name__ == "__main__":
    main()
