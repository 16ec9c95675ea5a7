"""Benchmark: importing a customer file (read + batch upsert), run by hand.

    .venv/bin/python bench/bench_import.py [--rows 50000] [--xlsx]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench .venv/bin/python bench/bench_import.py

Always runs in a throwaway database: on SQLite a fresh file in a temporary directory; on
PostgreSQL the database named in DATABASE_URL is dropped and created again (its name must
contain "bench", so a real database is never touched) and dropped at the end unless --keep.

Phases, each timed with its rows/s and the process's peak memory (max RSS) after it:
read the CSV; check as the import page does (dry run + duplicate warnings); apply (every row
created); apply again (every row unchanged); apply a file changing one field of every row
(every row updated). See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import random
import resource
import shutil
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent

# --- a throwaway database (shared with bench_customer_list.py) --------------------------


def add_database_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--keep", action="store_true", help="Keep the PostgreSQL database at the end."
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="PostgreSQL: use the existing bench database as it is (no drop/create/migrate).",
    )


@contextlib.contextmanager
def bench_database(*, keep: bool = False, reuse: bool = False) -> Iterator[str]:
    """Sets up Django on a scratch database, migrates it, and yields a description of it.

    CRM_VAR_DIR (SQLite file, uploaded media) always points at a temporary directory.
    """
    scratch = tempfile.mkdtemp(prefix="crm-bench-")
    os.environ["CRM_VAR_DIR"] = scratch
    os.environ["DJANGO_SETTINGS_MODULE"] = "crm.settings.local"
    # DEBUG would keep every query in memory and distort both time and memory figures.
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    url = os.environ.get("DATABASE_URL", "")
    postgres = url.startswith(("postgres://", "postgresql://", "pgsql://"))
    if postgres:
        name = urlsplit(url).path.lstrip("/")
        if "bench" not in name:
            sys.exit(f"Refusing to use database {name!r}: its name must contain 'bench'.")
        if not reuse:
            _pg_recreate(url, name)
        description = f"PostgreSQL ({_pg_version(url)}), database {name}"
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{scratch}/bench.sqlite3"
        description = "SQLite (temporary file)"
        reuse = False

    sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command
    from django.db import connections

    django.setup()
    try:
        if not reuse:
            call_command("migrate", verbosity=0, interactive=False)
        if not postgres:
            import sqlite3

            description = f"SQLite {sqlite3.sqlite_version} (temporary file)"
        yield description
    finally:
        connections.close_all()
        if postgres and not keep:
            _pg_drop(url, name)
        shutil.rmtree(scratch, ignore_errors=True)


def _pg_admin_connection(url: str):
    import psycopg

    parts = urlsplit(url)
    # The maintenance database on the same server, with the same credentials.
    admin_url = urlunsplit(("postgresql", parts.netloc, "/postgres", parts.query, ""))
    return psycopg.connect(admin_url, autocommit=True)


def _pg_recreate(url: str, name: str) -> None:
    with _pg_admin_connection(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _pg_drop(url: str, name: str) -> None:
    with _pg_admin_connection(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _pg_version(url: str) -> str:
    with _pg_admin_connection(url) as conn:
        return conn.execute("SHOW server_version").fetchone()[0]


# --- realistic data ----------------------------------------------------------------------

CITY_DISTRICTS = {
    ("GZ", "广州市"): [
        ("TH", "天河区"),
        ("YX", "越秀区"),
        ("HZ", "海珠区"),
        ("BY", "白云区"),
        ("LW", "荔湾区"),
        ("PY", "番禺区"),
    ],
    ("SZ", "深圳市"): [("FT", "福田区"), ("NS", "南山区"), ("LG", "龙岗区")],
}
MANAGERS_PER_DISTRICT = 4
FORMATS = "ZZZZBBBSNYYFQ"  # weighted like a real network: mostly grocery and convenience
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
SHOP_WORDS = ["便利店", "烟酒行", "超市", "士多", "商行", "百货", "烟酒店", "便民店"]
ROADS = ["中山路", "解放路", "天河路", "人民路", "建设路", "新港路", "环市路", "东风路"]


def ensure_areas_and_managers() -> dict[str, list[str]]:
    """Creates the bench areas and account managers if missing; returns
    {district code: [manager usernames]}."""
    from crm.choices import Role
    from crm.models import Area, User
    from crm.services import Actor, area_upsert, user_create

    actor = Actor.system("bench")
    managers: dict[str, list[str]] = {}
    for (city, city_name), districts in CITY_DISTRICTS.items():
        if not Area.objects.filter(code=city).exists():
            area_upsert(code=city, name=city_name, actor=actor)
        for code, name in districts:
            if not Area.objects.filter(code=code).exists():
                area_upsert(code=code, name=name, parent_code=city, actor=actor)
            managers[code] = []
            for n in range(1, MANAGERS_PER_DISTRICT + 1):
                username = f"am_{code.lower()}{n}"
                if not User.objects.filter(username=username).exists():
                    user_create(
                        username=username,
                        role=Role.ACCOUNT_MANAGER,
                        area_codes=[code],
                        actor=actor,
                    )
                managers[code].append(username)
    return managers


def ensure_user(username: str, role: str, area_codes: tuple[str, ...] = ()):
    from crm.models import User
    from crm.services import Actor, user_create

    user = User.objects.filter(username=username).first()
    if user is None:
        user = user_create(
            username=username, role=role, area_codes=list(area_codes), actor=Actor.system("bench")
        )
    return user


def generate_rows(count: int, managers: dict[str, list[str]], *, start: int = 1, seed: int = 7):
    """`count` realistic customer rows (catalogue names -> text), codes from `start`."""
    rng = random.Random(seed + start)  # noqa: S311 (test data, not secrets)
    districts = list(managers)
    names = {code: name for city in CITY_DISTRICTS.values() for code, name in city}
    for i in range(start, start + count):
        district = rng.choice(districts)
        issue = f"20{rng.randint(15, 23)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        expiry = f"20{int(issue[2:4]) + 5}{issue[4:]}"
        person = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.randint(1, 2)))
        yield {
            "customer_code": f"4401{i:08d}",
            "store_name": f"{names[district][:2]}{rng.choice(SHOP_WORDS)}{i}号",
            "license_number": f"4406{i:08d}",
            "legal_representative": person,
            "address": f"{names[district]}{rng.choice(ROADS)}{rng.randint(1, 999)}号",
            "business_format": rng.choice(FORMATS),
            "market_type": "C" if rng.random() < 0.7 else "X",
            "area": district,
            "account_manager": rng.choice(managers[district]),
            "registered_capital": str(rng.choice([10000, 30000, 50000, 100000, 500000])),
            "floor_area_m2": f"{rng.uniform(8, 300):.1f}",
            "premises": rng.choice(["owned", "rented"]),
            "license_type": "retail",
            "license_issue_date": issue,
            "license_expiry_date": expiry,
            "phone": f"1{rng.choice('3589')}{rng.randrange(10**9):09d}",
            "contact_person": person,
            "payment_method": rng.choice(["electronic", "cash", "bank_transfer"]),
            "order_cycle": rng.choice(["weekly", "fortnightly"]),
            "visit_cycle": rng.choice(["weekly", "fortnightly", "monthly"]),
            "order_frequency": str(rng.randint(1, 8)),
            "outlet_size": rng.choice(["large", "medium", "small"]),
            "latitude": f"{rng.uniform(22.5, 23.5):.6f}",
            "longitude": f"{rng.uniform(113.0, 114.0):.6f}",
            "status": "active",
        }


def write_csv_file(path: Path, rows: Iterable[dict[str, str]]) -> None:
    """Writes rows as they come, so the generated data never sits in memory whole."""
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = None
        for row in rows:
            if writer is None:
                writer = csv.DictWriter(handle, fieldnames=list(row))
                writer.writeheader()
            writer.writerow(row)


def write_xlsx_file(path: Path, rows: Iterable[dict[str, str]]) -> None:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    for n, row in enumerate(rows):
        if n == 0:
            sheet.append(list(row))
        sheet.append(list(row.values()))
    workbook.save(path)


# --- measuring ---------------------------------------------------------------------------


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def timed(label: str, rows: int, action: Callable[[], Any], *, trace: bool = False) -> Any:
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    result = action()
    seconds = time.perf_counter() - started
    extra = ""
    if trace:
        extra = f"  python peak {tracemalloc.get_traced_memory()[1] / 2**20:7.1f} MB"
        tracemalloc.stop()
    print(
        f"{label:<44} {rows:>8,} rows {seconds:8.2f} s {rows / seconds:>9,.0f} rows/s"
        f"  max RSS {peak_rss_mb():7.1f} MB{extra}",
        flush=True,
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--xlsx", action="store_true", help="Also time reading an XLSX file.")
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="Also report Python's own peak allocation per phase (slows every phase).",
    )
    add_database_arguments(parser)
    args = parser.parse_args()

    with bench_database(keep=args.keep, reuse=args.reuse) as database:
        from crm.choices import AuditSource, Role
        from crm.services import Actor
        from customers.imports import customer_import_check
        from customers.io import read_rows
        from customers.models import Customer
        from customers.services import customer_upsert_many

        print(f"Database: {database}; CPUs: {os.cpu_count()}; rows: {args.rows:,}")
        managers = ensure_areas_and_managers()
        admin = ensure_user("bench_admin", Role.ADMINISTRATOR)
        first = Customer.objects.order_by("-customer_code").values_list("customer_code", flat=True)
        start = int(first[0][4:]) + 1 if first else 1
        scratch = Path(os.environ["CRM_VAR_DIR"])
        path = scratch / "customers.csv"
        write_csv_file(path, generate_rows(args.rows, managers, start=start))
        changed_path = scratch / "customers-changed.csv"
        write_csv_file(
            changed_path,
            (
                {**row, "contact_person": row["contact_person"] + "（新）"}
                for row in generate_rows(args.rows, managers, start=start)
            ),
        )
        print(f"CSV file: {path.stat().st_size / 2**20:.1f} MB; max RSS {peak_rss_mb():.0f} MB")
        actor = Actor(user=admin, source=AuditSource.IMPORT, label=admin.username)
        trace = args.tracemalloc

        def read(file: Path) -> list[dict[str, str]]:
            with file.open("rb") as handle:
                return read_rows(handle, file.name)

        def check() -> None:
            with path.open("rb") as handle:
                customer_import_check(uploaded_file=handle, user=admin)

        def upsert(file: Path, expected: str) -> None:
            report = customer_upsert_many(rows=read(file), actor=actor)
            counts = report.counts()
            if counts[expected] != args.rows:
                print(f"  unexpected counts: {counts}; first errors: {report.errors()[:3]}")

        if args.xlsx:
            xlsx = scratch / "customers.xlsx"
            write_xlsx_file(xlsx, generate_rows(args.rows, managers, start=start))
            timed("read_rows (XLSX)", args.rows, lambda: read(xlsx), trace=trace)
        timed("read_rows (CSV)", args.rows, lambda: read(path), trace=trace)
        timed("check: read + dry run + duplicate warnings", args.rows, check, trace=trace)
        timed("read + upsert, all created", args.rows, lambda: upsert(path, "created"), trace=trace)
        timed(
            "read + upsert, all unchanged",
            args.rows,
            lambda: upsert(path, "unchanged"),
            trace=trace,
        )
        timed(
            "read + upsert, all updated (1 field)",
            args.rows,
            lambda: upsert(changed_path, "updated"),
            trace=trace,
        )


if __name__ == "__main__":
    main()
