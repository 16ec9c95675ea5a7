"""Benchmark: order sync through the real HTTP endpoint (gunicorn) on PostgreSQL, run by hand.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench \
        .venv/bin/python bench/bench_order_sync.py [--batches 20] [--clients 2] [--workers 3]
        [--customers 200000] [--products 200] [--profile 3] [--replays 10] [--code DIR]
        [--idempotency-key] [--keep | --reuse]

Fills a throwaway PostgreSQL database (same handling as bench_import.py) with customers
(through `customer_upsert_many`, so each has its CustomerSystem row), products (through
`product_upsert_many`) and an integration client, starts `gunicorn crm.wsgi` on a free port
of 127.0.0.1 with the production settings (DJANGO_HTTPS=false, since nothing terminates TLS
here), and POSTs batches of 1,000 orders × 10 lines to /api/v1/orders/sync/ with
`Authorization: Token …` from --clients threads. After two all-new warm-up batches, every timed
batch is half new orders and half earlier orders sent again: half of those unchanged (replays)
and half changed (status placed -> delivered, payment date, one line's quantity). Then
--replays of those bodies are sent again verbatim (every order unchanged) and timed apart.
--code DIR serves the requests from another checkout (the code before a change, same schema),
so old and new code can be run alternately on the same database.

In the same run it times a raw COPY of the same line rows into a scratch table shaped like
orders_orderline (same columns, indexes and checks; no foreign keys), the yardstick of the
goal, and then runs --profile more batches of the same mix in-process through
`order_sync_many` with its steps timed, to show where a request's time goes.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_customer_list import fill  # noqa: E402 (the path above makes it importable)
from bench_import import (  # noqa: E402
    ROOT,
    add_database_arguments,
    bench_database,
    peak_rss_mb,
)

SYNC_PATH = "/api/v1/orders/sync/"
CLIENT_NAME = "bench-ordering"
WARM_UP_BATCHES = 2

# --- shared with bench_import_orders.py and bench_sales_facts.py ---------------------------

BRANDS = [
    ("中华", "上海烟草集团"),
    ("玉溪", "红塔烟草集团"),
    ("黄鹤楼", "湖北中烟"),
    ("芙蓉王", "湖南中烟"),
    ("利群", "浙江中烟"),
    ("云烟", "红云红河集团"),
    ("双喜", "广东中烟"),
    ("红塔山", "红塔烟草集团"),
    ("白沙", "湖南中烟"),
    ("红河", "红云红河集团"),
]
PRICES = ["620.00", "450.00", "380.00", "270.00", "230.00", "180.00", "140.00", "100.00"]
PRICES += ["95.00", "75.00", "60.00", "48.00", "30.00", "25.00", "18.00"]


def code_version(root: Path = ROOT) -> str:
    """The commit the product code at `root` is at, and whether it has uncommitted changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "*.py", ":!bench"],  # noqa: S607
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "code: unknown commit"
    return f"code at {head}" + (" + uncommitted changes" if dirty else "")


def require_postgres() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit(
            "This benchmark needs PostgreSQL: set DATABASE_URL, e.g. "
            "postgres://postgres@127.0.0.1:5432/crm_bench"
        )
    return url


def ensure_products(count: int) -> list[tuple[str, int, Decimal]]:
    """`count` products (codes 69019000xxxx) through product_upsert_many if missing;
    returns [(code, id, wholesale price)] of those products."""
    from crm.choices import AuditSource
    from crm.services import Actor
    from orders.models import Product
    from orders.services import MAX_PRODUCTS_PER_SYNC, product_upsert_many

    rng = random.Random(11)  # noqa: S311 (test data)
    rows = []
    for n in range(1, count + 1):
        brand, maker = rng.choice(BRANDS)
        rows.append(
            {
                "code": f"69019000{n:04d}",
                "name": f"{brand}({n})",
                "brand": brand,
                "manufacturer": maker,
                "wholesale_price": rng.choice(PRICES),
                "tar_mg": rng.choice([6, 8, 10, 10, 11, 11, 12]),
                "is_key_brand": rng.random() < 0.3,
                "is_new_product": rng.random() < 0.1,
                "active": True,
            }
        )
    codes = [row["code"] for row in rows]
    if Product.objects.filter(code__in=codes).count() < count:
        actor = Actor.system("bench", AuditSource.API)
        for start in range(0, count, MAX_PRODUCTS_PER_SYNC):
            report = product_upsert_many(
                rows=rows[start : start + MAX_PRODUCTS_PER_SYNC], actor=actor
            )
            if report.errors:
                print(f"  product errors: {report.errors[:3]}")
    found = {
        code: (pk, price)
        for code, pk, price in Product.objects.filter(code__in=codes).values_list(
            "code", "id", "wholesale_price"
        )
    }
    return [(code, *found[code]) for code in codes]


def ensure_customers(count: int) -> list[tuple[str, int]]:
    """At least `count` customers (bench_customer_list.fill); returns [(code, id)] of the
    first `count` by code."""
    from customers.models import Customer

    fill(count)
    return list(
        Customer.objects.order_by("customer_code").values_list("customer_code", "id")[:count]
    )


def ensure_api_client() -> tuple[Any, str]:
    """The integration client `bench-ordering` (made if missing) and a new token of it."""
    from crm.choices import AuditSource
    from crm.models import User
    from crm.services import Actor, api_client_create, api_token_rotate

    actor = Actor.system("bench", AuditSource.COMMAND)
    client = User.objects.filter(username=CLIENT_NAME).first()
    if client is None:
        return api_client_create(name=CLIENT_NAME, actor=actor)
    return client, api_token_rotate(client=client, actor=actor)


def vacuum_analyze() -> str:
    """VACUUM ANALYZE the whole bench database (what autovacuum would have done by now; it
    may be off on a test server). Returns the server's autovacuum setting."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.execute("ANALYZE")
            return "not a thing"
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("SHOW autovacuum")
        return cursor.fetchone()[0]


class OrderMaker:
    """Deterministic realistic orders: a shop buys `lines` distinct products, 1-15 cartons
    each, at the product's wholesale price."""

    def __init__(
        self,
        customers: Sequence[str],
        products: Sequence[tuple[str, int, Decimal]],
        *,
        lines: int,
        first_day: dt.date,
        days: int,
        prefix: str,
        seed: int = 3,
    ):
        self.customers = customers
        self.products = products
        self.lines = lines
        self.first_day = first_day
        self.days = days
        self.prefix = prefix
        self.rng = random.Random(seed)  # noqa: S311 (test data)
        self.number = 0

    def new(self, *, status: str | None = None) -> dict[str, Any]:
        rng = self.rng
        self.number += 1
        day = self.first_day + dt.timedelta(days=rng.randrange(self.days))
        if status is None:
            roll = rng.random()
            status = "delivered" if roll < 0.9 else "placed" if roll < 0.97 else "cancelled"
        roll = rng.random()
        method = "electronic" if roll < 0.7 else "cash" if roll < 0.95 else "other"
        paid = status == "delivered"
        return {
            "external_id": f"{self.prefix}{self.number:08d}",
            "customer_code": rng.choice(self.customers),
            "order_date": day.isoformat(),
            "status": status,
            "payment_method": method,
            "paid_on_time": (rng.random() < 0.95) if paid else None,
            "payment_date": (day + dt.timedelta(days=rng.randint(0, 3))).isoformat()
            if paid
            else None,
            "lines": [
                {"product_code": code, "quantity": rng.randint(1, 15), "unit_price": str(price)}
                for code, _pk, price in rng.sample(self.products, self.lines)
            ],
        }


# --- the batches -------------------------------------------------------------------------


def change(order: dict[str, Any]) -> None:
    """What the ordering system re-sends: the order delivered and paid, one line adjusted."""
    day = dt.date.fromisoformat(order["order_date"])
    order["status"] = "delivered"
    order["paid_on_time"] = True
    order["payment_date"] = (day + dt.timedelta(days=1)).isoformat()
    order["lines"][0]["quantity"] += 1


def make_batches(
    maker: OrderMaker, *, count: int, size: int, clients: int
) -> tuple[list[bytes], list[bytes]]:
    """Warm-up bodies (all new) and `count` bodies of half new, a quarter replays and a quarter
    changes (see `make_batches_and_replays`)."""
    warm_bodies, bodies, _replays = make_batches_and_replays(
        maker, count=count, size=size, clients=clients
    )
    return warm_bodies, bodies


def make_batches_and_replays(
    maker: OrderMaker, *, count: int, size: int, clients: int, replays: int = 0, after: int = 0
) -> tuple[list[bytes], list[bytes], list[bytes]]:
    """Warm-up bodies (all new), `count` bodies of half new, a quarter replays and a quarter
    changes, and `replays` bodies of the orders of the last `replays` of the first `after`
    bodies as they stand once those are sent: posted after them, every order is unchanged.
    Earlier orders are taken round-robin from those of batches at least `clients` back (the
    sender waits for those to finish), so no two batches in flight share an order. Each body
    is encoded when made: it holds the orders as they are sent then."""

    def encode(batch: list[dict]) -> bytes:
        return json.dumps({"orders": batch}).encode()

    warm = [[maker.new(status="placed") for _ in range(size)] for _ in range(WARM_UP_BATCHES)]
    warm_bodies = [encode(batch) for batch in warm]
    pool: list[dict] = [order for batch in warm for order in batch]
    pointer = 0
    bodies: list[bytes] = []
    batches: list[list[dict]] = []
    replay_bodies: list[bytes] = []
    waiting: list[list[dict]] = []
    half = size // 2
    for _ in range(count):
        if len(bodies) == after and replays:
            replay_bodies = [encode(batch) for batch in batches[-replays:]]
        if len(waiting) >= clients:
            pool += waiting.pop(0)
        earlier = []
        for k in range(size - half):
            order = pool[pointer % len(pool)]
            pointer += 1
            if k % 2:
                change(order)
            earlier.append(order)
        new = [maker.new(status="placed") for _ in range(half)]
        batch = new + earlier
        maker.rng.shuffle(batch)
        bodies.append(encode(batch))
        batches.append(batch)
        waiting.append(new)
    if len(bodies) == after and replays:
        replay_bodies = [encode(batch) for batch in batches[-replays:]]
    return warm_bodies, bodies, replay_bodies


# --- gunicorn ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(
    *, workers: int, settings: str, scratch: Path, code: Path = ROOT
) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = dict(os.environ)  # DATABASE_URL, CRM_VAR_DIR from bench_database
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": f"crm.settings.{settings}",
            "DJANGO_DEBUG": "false",
            "SECRET_KEY": "bench-only-not-secret",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_HTTPS": "false",  # plain HTTP on 127.0.0.1: no redirect to https
            "STATIC_ROOT": str(scratch / "static"),
            "LOG_LEVEL": "WARNING",
        }
    )
    (scratch / "static").mkdir(exist_ok=True)
    log = (scratch / "gunicorn.log").open("w")
    process = subprocess.Popen(  # noqa: S603 (our own venv's gunicorn)
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "crm.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--timeout",
            "300",
            "--log-level",
            "warning",
        ],
        cwd=code,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return process, port


def wait_until_up(process: subprocess.Popen, port: int, token: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"gunicorn exited ({process.returncode}):\n{log.read_text()[-3000:]}")
        try:
            status, _body = request(port, token, "GET", "/api/v1/products/?page_size=1")
            if status == 200:
                return
            sys.exit(f"GET products answered {status}:\n{_body[:500]!r}")
        except OSError:
            time.sleep(0.3)
    sys.exit("gunicorn did not answer within 60 s")


def request(
    port: int,
    token: str,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict | None = None,
    connection: http.client.HTTPConnection | None = None,
) -> tuple[int, bytes]:
    conn = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    conn.request(
        method,
        path,
        body=body,
        headers={
            "Authorization": f"Token {token}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            **(headers or {}),
        },
    )
    response = conn.getresponse()
    data = response.read()
    if connection is None:
        conn.close()
    return response.status, data


def worker_pids(master: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == master:
                pids.append(int(entry.name))
    return pids


def cpu_seconds(pids: Sequence[int]) -> dict[int, float]:
    """User + system CPU seconds of each process (left out once it is gone)."""
    ticks = os.sysconf("SC_CLK_TCK")
    seconds = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seconds[pid] = (int(fields[11]) + int(fields[12])) / ticks
    return seconds


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds between two snapshots; a process that started in between counts whole."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def backend_pids(url: str) -> list[int]:
    """The PostgreSQL backends of this database's clients (the gunicorn workers' connections,
    kept open between requests), not of other databases' sessions nor autovacuum."""
    import psycopg

    with psycopg.connect(url) as conn:
        return [
            row[0]
            for row in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
            )
        ]


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    ticks = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + fields[4]
    return (sum(fields) - idle) / ticks, sum(fields) / ticks


def post_all(
    port: int, token: str, bodies: Sequence[bytes], *, clients: int, idempotency: bool
) -> tuple[float, list[float], list[dict]]:
    """POSTs the bodies from `clients` threads (batch i starts after batch i - clients has
    finished, which make_batches relies on). Returns wall seconds, latencies, reports."""
    done = [threading.Event() for _ in bodies]
    latencies: list[float] = [0.0] * len(bodies)
    reports: list[dict] = [{}] * len(bodies)
    next_index = iter(range(len(bodies)))
    lock = threading.Lock()
    failures: list[str] = []

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        while True:
            with lock:
                index = next(next_index, None)
            if index is None:
                return
            if index >= clients:
                done[index - clients].wait()
            headers = {"Idempotency-Key": f"bench-{time.time_ns()}-{index}"} if idempotency else {}
            started = time.perf_counter()
            status, data = request(port, token, "POST", SYNC_PATH, bodies[index], headers, conn)
            latencies[index] = time.perf_counter() - started
            if status != 200:
                failures.append(f"batch {index}: HTTP {status} {data[:300]!r}")
            else:
                reports[index] = json.loads(data)
            done[index].set()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    if failures:
        sys.exit("\n".join(failures[:5]))
    return wall, latencies, reports


# --- the COPY yardstick ------------------------------------------------------------------

_COPY_COLUMNS = "order_id, month, product_id, cartons, unit_price, amount"


def line_rows(bodies: Sequence[bytes], product_ids: dict[str, int]) -> list[tuple]:
    """The line rows of every order sent, with made-up order ids (unique per order sent)."""
    rows = []
    order_id = 0
    for body in bodies:
        for order in json.loads(body)["orders"]:
            order_id += 1
            month = dt.date.fromisoformat(order["order_date"]).replace(day=1)
            for line in order["lines"]:
                price = Decimal(line["unit_price"])
                rows.append(
                    (
                        order_id,
                        month,
                        product_ids[line["product_code"]],
                        line["quantity"],
                        price,
                        price * line["quantity"],
                    )
                )
    return rows


def copy_baseline(url: str, rows: Sequence[tuple], per_batch: int) -> tuple[dict, dict, list[str]]:
    """Seconds to COPY the rows into a scratch table shaped like orders_orderline (same
    columns, indexes and checks): in one statement; in statements of `per_batch` rows, each
    committed; and the same with the foreign keys orders_orderline has (read from the
    catalogue; deferred, so checked at commit), the one to orders pointing at a scratch table
    of order ids. Returns the timings, the CPU seconds of each (label -> (this process's,
    its PostgreSQL backend's)) and the columns that have foreign keys."""
    import psycopg

    orders = max(row[0] for row in rows)
    timings: dict[str, float] = {}
    cpu: dict[str, tuple[float, float]] = {}
    with psycopg.connect(url) as conn:
        backend = conn.info.backend_pid
        keys = conn.execute(
            "SELECT a.attname, c.confrelid::regclass::text FROM pg_constraint c "
            "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
            "WHERE c.conrelid = 'orders_orderline'::regclass AND c.contype = 'f' ORDER BY 1"
        ).fetchall()

        def copy(chunk: Sequence[tuple]) -> None:
            with (
                conn.cursor() as cursor,
                cursor.copy(f"COPY bench_copy_lines ({_COPY_COLUMNS}) FROM STDIN") as copier,
            ):
                for row in chunk:
                    copier.write_row(row)
            conn.commit()

        def run(label: str, chunk_size: int, foreign_keys: bool = False) -> None:
            conn.execute("DROP TABLE IF EXISTS bench_copy_lines")
            conn.execute("CREATE TABLE bench_copy_lines (LIKE orders_orderline INCLUDING ALL)")
            for column, table in keys if foreign_keys else ():
                target = "bench_copy_orders" if table == "orders_order" else table
                conn.execute(
                    f"ALTER TABLE bench_copy_lines ADD FOREIGN KEY ({column}) "
                    f"REFERENCES {target} (id) DEFERRABLE INITIALLY DEFERRED"
                )
            conn.commit()
            started = time.perf_counter()
            cpu_started = (time.process_time(), cpu_seconds([backend])[backend])
            for start in range(0, len(rows), chunk_size):
                copy(rows[start : start + chunk_size])
            timings[label] = time.perf_counter() - started
            cpu[label] = (
                time.process_time() - cpu_started[0],
                cpu_seconds([backend])[backend] - cpu_started[1],
            )

        conn.execute("DROP TABLE IF EXISTS bench_copy_orders")
        conn.execute(
            "CREATE TABLE bench_copy_orders AS SELECT id::bigint FROM generate_series(1, %s) id",
            [orders],
        )
        conn.execute("ALTER TABLE bench_copy_orders ADD PRIMARY KEY (id)")
        conn.commit()
        run("one", len(rows))
        run("batched", per_batch)
        run("batched+fk", per_batch, foreign_keys=True)
        conn.execute("DROP TABLE bench_copy_lines")
        conn.execute("DROP TABLE bench_copy_orders")
        conn.commit()
    return timings, cpu, [column for column, _table in keys]


# --- the in-process profile --------------------------------------------------------------

_STEPS = (
    "_clean_orders",
    "_store_orders",
    "_replace_orders",
    "_insert_lines",
    "sales_facts_add",
    "_facts_recount",
    "purchase_figures_refresh",
    "purchase_figures_add",
    "orders_recorded",
)


def profile(bodies: Sequence[bytes], *, client) -> tuple[dict[str, list], dict[str, float]]:
    """Runs the bodies through order_sync_many in this process with its steps timed, and
    each SQL statement and commit (seconds summed over the bodies; nested steps are included
    in their callers). Each step is timed three ways: wall clock, this process's CPU
    (`time.process_time`) and its PostgreSQL backend's CPU (from /proc, 10 ms ticks), so a
    busy machine shows in the wall clock and not in the CPU. Returns (steps, statements)."""
    from django.db import connection

    from crm.choices import AuditSource
    from crm.services import Actor
    from orders import services

    spans: dict[str, list] = defaultdict(lambda: [0.0, 0.0, 0.0])
    statements: dict[str, float] = defaultdict(float)
    originals: dict[str, Callable] = {name: getattr(services, name) for name in _STEPS}
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]

    def clocks() -> tuple[float, float, float]:
        return (
            time.perf_counter(),
            time.process_time(),
            cpu_seconds([backend]).get(backend, 0.0),
        )

    def add(name: str, started: tuple[float, float, float]) -> None:
        for i, (now, then) in enumerate(zip(clocks(), started, strict=True)):
            spans[name][i] += now - then

    def wrap(name: str, original: Callable) -> Callable:
        def timed(*args, **kwargs):
            started = clocks()
            try:
                return original(*args, **kwargs)
            finally:
                add(name, started)

        return timed

    def sql_timer(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            words = " ".join(sql.split()[:4]).replace('"', "")
            statements[words[:48]] += time.perf_counter() - started

    for name, original in originals.items():
        setattr(services, name, wrap(name, original))
    original_commit = connection.commit

    def commit():
        started = time.perf_counter()
        try:
            return original_commit()
        finally:
            statements["COMMIT"] += time.perf_counter() - started

    connection.commit = commit
    actor = Actor(user=client, source=AuditSource.API, label=client.username)
    try:
        with connection.execute_wrapper(sql_timer):
            for body in bodies:
                started = clocks()
                rows = json.loads(body)["orders"]
                add("json.loads", started)
                started = clocks()
                services.order_sync_many(rows=rows, source=client.username, actor=actor)
                add("order_sync_many", started)
    finally:
        for name, original in originals.items():
            setattr(services, name, original)
        del connection.commit  # the class's method again
    return spans, statements


def print_profile(
    spans: dict[str, list], statements: dict[str, float], batches: int, lines: int
) -> None:
    def per(name: str) -> list[float]:
        return [seconds / batches * 1000 for seconds in spans.get(name, [0.0, 0.0, 0.0])]

    def minus(a: list[float], *others: list[float]) -> list[float]:
        return [x - sum(o[i] for o in others) for i, x in enumerate(a)]

    total = [a + b for a, b in zip(per("json.loads"), per("order_sync_many"), strict=True)]
    # By the batch's deltas (falling back to the facts for some customers: nested in it),
    # or, in code before it, from the facts alone.
    purchase = per("purchase_figures_add") if "purchase_figures_add" in spans else None
    purchase = purchase or per("purchase_figures_refresh")
    rows = [
        ("json.loads of the body", per("json.loads")),
        ("digests, replays, checks (_clean_orders)", per("_clean_orders")),
        (
            "orders: INSERT … ON CONFLICT, SELECT … FOR UPDATE",
            minus(per("_store_orders"), per("_replace_orders"), per("_insert_lines")),
        ),
        ("changed orders: UPDATE, DELETE lines, audit", per("_replace_orders")),
        ("lines: COPY", per("_insert_lines")),
        (
            "monthly facts (lock, add the batch's, recount the changed)",
            minus(per("sales_facts_add"), purchase),
        ),
        ("  of which recounting months a changed order left", per("_facts_recount")),
        ("purchase figures (UPDATE customersystem)", purchase),
        ("  of which recomputed from the facts", per("purchase_figures_refresh")),
        ("quota check (allocation orders_recorded)", per("orders_recorded")),
        (
            "commit (WAL flush, deferred checks) + rest",
            minus(
                per("order_sync_many"),
                per("_clean_orders"),
                per("_store_orders"),
                per("sales_facts_add"),
                per("orders_recorded"),
            ),
        ),
    ]
    print(f"\nIn-process, per batch of {lines:,} lines (mean of {batches}):")
    print(f"  {'step':<52} {'wall ms':>8} {'share':>6} {'CPU ms':>7} {'PG CPU':>7}")
    for label, (wall, cpu, pg) in rows:
        print(f"  {label:<52} {wall:>8.1f} {wall / total[0]:>6.0%} {cpu:>7.1f} {pg:>7.1f}")
    print(
        f"  {'total':<52} {total[0]:>8.1f} {'':>6} {total[1]:>7.1f} {total[2]:>7.1f}"
        f"   -> {lines / total[0] * 1000:,.0f} lines/s on one core"
    )
    print("  of which waiting on PostgreSQL, by statement (COPY not included):")
    for words, seconds in sorted(statements.items(), key=lambda item: -item[1])[:10]:
        print(f"    {words:<50} {seconds / batches * 1000:>8.1f}")


# --- main --------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batches", type=int, default=20, help="Timed batches (default 20).")
    parser.add_argument("--orders", type=int, default=1000, help="Orders per batch.")
    parser.add_argument("--lines", type=int, default=10, help="Lines per order.")
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument(
        "--replays",
        type=int,
        default=10,
        help="Timed bodies sent again verbatim afterwards, timed apart (default 10).",
    )
    parser.add_argument(
        "--code",
        type=Path,
        default=ROOT,
        help="Serve from this checkout (e.g. a worktree of main: the code before a change).",
    )
    parser.add_argument("--products", type=int, default=200)
    parser.add_argument("--clients", type=int, default=2, choices=range(1, 5), metavar="1-4")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (default 3).")
    parser.add_argument(
        "--settings",
        choices=["production", "local"],
        default="production",
        help="Django settings of the server (production, with DJANGO_HTTPS=false, by default).",
    )
    parser.add_argument(
        "--idempotency-key", action="store_true", help="Send an Idempotency-Key with each POST."
    )
    parser.add_argument(
        "--profile", type=int, default=3, help="Batches run in-process with steps timed."
    )
    add_database_arguments(parser)
    args = parser.parse_args()
    url = require_postgres()

    with bench_database(keep=args.keep, reuse=args.reuse) as database:
        from django.db import connections
        from django.utils import timezone

        print(
            f"{timezone.localdate()}; {database}; CPUs: {os.cpu_count()}; "
            f"{args.batches} batches × {args.orders:,} orders × {args.lines} lines; "
            f"{args.clients} client thread(s); gunicorn {args.workers} workers "
            f"({args.settings} settings); served: {args.code}, {code_version(args.code)}; "
            f"load average {Path('/proc/loadavg').read_text().strip()}",
            flush=True,
        )
        customers = ensure_customers(args.customers)
        products = ensure_products(args.products)
        client, token = ensure_api_client()
        connections.close_all()

        today = timezone.localdate()
        maker = OrderMaker(
            [code for code, _pk in customers],
            products,
            lines=args.lines,
            first_day=today.replace(day=1) - dt.timedelta(days=60),
            days=60 + today.day,
            prefix=f"B{int(time.time())}-",
        )
        started = time.perf_counter()
        warm, bodies, replay_bodies = make_batches_and_replays(
            maker,
            count=args.batches + args.profile,
            size=args.orders,
            clients=args.clients,
            replays=min(args.replays, args.batches),
            after=args.batches,
        )
        profile_bodies, bodies = bodies[args.batches :], bodies[: args.batches]
        print(
            f"Bodies built in {time.perf_counter() - started:.1f} s "
            f"({statistics.mean(len(b) for b in bodies) / 2**20:.1f} MB each)",
            flush=True,
        )

        scratch = Path(os.environ["CRM_VAR_DIR"])
        server, port = start_gunicorn(
            workers=args.workers, settings=args.settings, scratch=scratch, code=args.code
        )
        try:
            wait_until_up(server, port, token, scratch / "gunicorn.log")
            warm_wall, _lat, warm_reports = post_all(
                port, token, warm, clients=args.clients, idempotency=args.idempotency_key
            )
            autovacuum = vacuum_analyze()
            connections.close_all()
            workers = worker_pids(server.pid)
            backends = backend_pids(url)
            before = (
                cpu_seconds(workers),
                cpu_seconds(postgres_pids()),
                machine_cpu(),
                cpu_seconds(backends),
            )
            own = os.times()
            idempotent = args.idempotency_key
            wall, latencies, reports = post_all(
                port, token, bodies, clients=args.clients, idempotency=idempotent
            )
            own_after = os.times()
            backends = sorted({*backends, *backend_pids(url)})
            after = (
                cpu_seconds(workers),
                cpu_seconds(postgres_pids()),
                machine_cpu(),
                cpu_seconds(backends),
            )
            replay_cpu = (cpu_seconds(workers), cpu_seconds(backends))
            replay_wall, replay_latencies, replay_reports = 0.0, [0.0], []
            if replay_bodies:
                replay_wall, replay_latencies, replay_reports = post_all(
                    port, token, replay_bodies, clients=args.clients, idempotency=idempotent
                )
            backends = sorted({*backends, *backend_pids(url)})
            replay_cpu_after = (cpu_seconds(workers), cpu_seconds(backends))
        finally:
            server.terminate()
            server.wait(timeout=60)
        lines_sent = args.batches * args.orders * args.lines
        totals = {key: sum(r[key] for r in reports) for key in ("created", "updated", "unchanged")}
        errors = sum(len(r["errors"]) for r in reports + warm_reports)
        warm_lines = WARM_UP_BATCHES * args.orders * args.lines
        print(
            f"Warm-up: {warm_lines:,} new lines in {warm_wall:.1f} s; then VACUUM ANALYZE "
            f"(autovacuum is {autovacuum} on this server)"
        )
        print(
            f"Orders: {totals['created']:,} created, {totals['updated']:,} updated, "
            f"{totals['unchanged']:,} unchanged, {errors} refused"
        )

        replayed = {key: sum(r[key] for r in replay_reports) for key in totals}
        replay_lines = len(replay_bodies) * args.orders * args.lines
        if replay_bodies and replayed["unchanged"] != len(replay_bodies) * args.orders:
            sys.exit(f"Replays were not all unchanged: {replayed}")

        rows = line_rows(bodies, {code: pk for code, pk, _price in products})
        copies, copy_cpu, fk_columns = copy_baseline(url, rows, args.orders * args.lines)
        per_batch = f"{args.orders * args.lines:,} rows"
        print(f"\n{'what':<58} {'lines':>10} {'seconds':>8} {'lines/s':>9} {'time':>7}")
        for label, seconds in (
            (f"HTTP order sync, {args.clients} client(s), {args.workers} workers", wall),
            ("COPY, one statement", copies["one"]),
            (f"COPY, a statement + commit per {per_batch}", copies["batched"]),
            (f"  the same with its foreign keys ({', '.join(fk_columns)})", copies["batched+fk"]),
        ):
            print(
                f"{label:<58} {lines_sent:>10,} {seconds:>8.2f} {lines_sent / seconds:>9,.0f} "
                f"{seconds / copies['one']:>6.2f}×"
            )
        copy_rate = lines_sent / copies["one"]
        sync_rate = lines_sent / wall
        print(
            f"\nSync: {sync_rate:,.0f} lines/s = {sync_rate / copy_rate:.0%} "
            f"of one COPY; request latency median {statistics.median(latencies):.2f} s, "
            f"max {max(latencies):.2f} s"
        )
        if replay_bodies:
            replay_rate = replay_lines / replay_wall
            print(
                f"Replays (the orders of the last {len(replay_bodies)} bodies again, "
                f"{replay_lines:,} lines, "
                f"every order unchanged): {replay_rate:,.0f} lines/s = "
                f"{replay_rate / copy_rate:.0%} of one COPY; request latency median "
                f"{statistics.median(replay_latencies):.2f} s"
            )
        busy = after[2][0] - before[2][0]
        capacity = after[2][1] - before[2][1]
        client_cpu = (own_after.user + own_after.system) - (own.user + own.system)
        server_cpu = cpu_used(before[0], after[0])
        pg_cpu = cpu_used(before[1], after[1])
        other_cpu = busy - server_cpu - pg_cpu - client_cpu
        print(
            f"CPU during the timed run ({wall:.1f} s wall × {os.cpu_count()} cores): "
            f"gunicorn workers {server_cpu:.1f} s, PostgreSQL {pg_cpu:.1f} s, "
            f"bench client {client_cpu:.1f} s, anything else {other_cpu:.1f} s; "
            f"machine busy {busy / capacity:.0%}"
        )
        backend_cpu = cpu_used(before[3], after[3])
        batches_of_copy = lines_sent / (args.orders * args.lines)
        copy_client, copy_backend = (
            seconds / batches_of_copy * 1000 for seconds in copy_cpu["one"]
        )
        sync_cpu = (server_cpu + backend_cpu) / args.batches * 1000
        print(
            f"CPU per {args.orders * args.lines:,} lines: COPY {copy_backend:.0f} ms in its "
            f"PostgreSQL backend (+ {copy_client:.0f} ms psycopg formatting the rows here); "
            f"the sync {sync_cpu:.0f} ms (gunicorn + its backends) = "
            f"{copy_backend / sync_cpu:.0%} of COPY's lines per CPU second (its backend's)"
        )
        print(
            f"Per batch: {server_cpu / args.batches * 1000:.0f} ms Python in gunicorn, "
            f"{backend_cpu / args.batches * 1000:.0f} ms in the workers' PostgreSQL backends "
            f"({pg_cpu / args.batches * 1000:.0f} ms all PostgreSQL processes, other "
            "sessions' included)"
        )
        if replay_bodies:
            replay_python, replay_backend = (
                cpu_used(replay_cpu[i], replay_cpu_after[i]) / len(replay_bodies) * 1000
                for i in (0, 1)
            )
            print(
                f"Per replay batch: {replay_python:.0f} ms Python in gunicorn, "
                f"{replay_backend:.0f} ms in their PostgreSQL backends = "
                f"{copy_backend / (replay_python + replay_backend):.0%} of COPY's lines per CPU "
                "second"
            )

        if args.profile:
            spans, statements = profile(profile_bodies, client=client)
            print_profile(spans, statements, args.profile, args.orders * args.lines)
        print(f"\nmax RSS of this process {peak_rss_mb():.0f} MB")
        print(f"load average at the end {Path('/proc/loadavg').read_text().strip()}")


if __name__ == "__main__":
    main()
