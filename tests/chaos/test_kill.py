"""Chaos: `recompute`, `import_orders` and a sync worker killed with SIGKILL — at named points
(`crm/faults.py`: after a run is claimed, between import batches, before and after a sync
commits) and at random moments drawn from a seeded RNG — then run again or retried. Every
round's process must have been killed: one that finished before its random kill came is
played again with a shorter delay (`Kills`). After
each round the stored data must be exact: the monthly facts equal a rebuild from the orders,
the grade and value results equal those of a clean run, no run is left live, and each order
sent with an Idempotency-Key is stored once with one record of its response.

PostgreSQL only (the processes under test share the test database; SQLite's in-memory test
database lives in the test process). Reproduce a failure with the seed it names:
`CHAOS_SEED=<n> pytest -m chaos`.
"""

from __future__ import annotations

import csv
import datetime as dt
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from io import StringIO
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from crm.choices import AuditSource, RunStatus
from crm.dates import add_months, month_start
from crm.models import IdempotencyRecord
from crm.services import Actor, api_client_create
from customers.models import CustomerSystem
from grading.models import GradeResult, GradingRun
from orders.management.commands import import_orders
from orders.models import MonthlySalesFact, Order, SalesFactPending
from tests.customers.factories import make_customer
from tests.grading.factories import make_fact
from tests.orders.factories import facts_rebuilt, facts_snapshot, make_product, order_payload
from valuation.models import ValuationRun, ValueResult

SEED = int(os.environ.get("CHAOS_SEED", "18"))
ROOT = Path(__file__).resolve().parents[2]
STOPPED = "the process running it stopped before it finished"

pytestmark = [pytest.mark.chaos, pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def rng() -> random.Random:
    return random.Random(SEED)  # noqa: S311 (reproducible kill points, not secrets)


# --- processes against the test database ----------------------------------------------------


def process_env(**faults: str) -> dict[str, str]:
    """The environment of a process working on the test database, with `faults` armed
    (CRM_FAULT_KILL_AT=…, CRM_FAULT_KILL_AFTER=…, CRM_FAULT_ONCE=…)."""
    db = connection.settings_dict
    auth = quote(db["USER"] or "postgres")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"])
    env = {key: value for key, value in os.environ.items() if not key.startswith("CRM_FAULT_")}
    env.update(
        DATABASE_URL=f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/"
        f"{db['NAME']}",
        DJANGO_SETTINGS_MODULE="crm.settings.test",
        PYTHONPATH=str(ROOT),
        **faults,
    )
    return env


def manage(*args: str, **faults: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=process_env(**faults),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def was_killed(result: subprocess.CompletedProcess) -> bool:
    return result.returncode == -signal.SIGKILL


def fault(kind: str, spec: str) -> dict[str, str]:
    return {"CRM_FAULT_KILL_AT" if kind == "at" else "CRM_FAULT_KILL_AFTER": spec}


class Kills:
    """A chaos test's rounds, as (n, kind, spec): a kill at each of the points `at`, then
    `randoms` kills at a random moment (seeded RNG) up to `limit` seconds after `after`.

    Every round's process must be killed (`check`). A random kill can come after the work is
    done — the process then proves only a clean run — so such a round is played again with
    the range halved, at most `MISSES` times: the test cannot pass without its kills."""

    MISSES = 6

    def __init__(
        self, rng: random.Random, *, at: list[str], after: str, limit: float, randoms: int = 2
    ) -> None:
        self.rng, self.after, self.limit = rng, after, limit
        self.todo: list[tuple[str, str | None]] = [("at", spec) for spec in at]
        self.todo += [("after", None)] * randoms
        self.missed = 0

    def __iter__(self) -> Iterator[tuple[int, str, str]]:
        n = 0
        while self.todo:
            kind, spec = self.todo.pop(0)
            yield n, kind, spec or f"{self.after}+{self.rng.uniform(0.0, self.limit):.3f}"
            n += 1

    def check(self, kind: str, killed: bool, note: str) -> None:
        if killed:
            return
        assert kind == "after", f"{note}: the process reached its fault point and lived"
        self.missed += 1
        assert self.missed <= self.MISSES, f"{note}: {self.missed} random kills came too late"
        self.limit /= 2
        self.todo.append(("after", None))


def database_noticed_the_kill() -> float:
    """Waits until the database has ended the killed process's sessions (it notices the
    closed socket within milliseconds), so their advisory locks are gone; returns the wait."""
    started = time.monotonic()
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid <> "
                "pg_backend_pid() AND database = "
                "(SELECT oid FROM pg_database WHERE datname = current_database())"
            )
            if cursor.fetchone()[0] == 0:
                return time.monotonic() - started
            assert time.monotonic() - started < 10, "the killed sessions still hold locks"
            time.sleep(0.02)


# --- recompute ------------------------------------------------------------------------------

MONTH = add_months(month_start(timezone.localdate()), -1)
_RESULT_SKIP = {"id", "run", "computed_at"}
_SYSTEM_FIELDS = (
    "customer_id",
    "grade",
    "business_scale",
    "category_code",
    "structure_class",
    "value_tier",
    "current_value",
    "potential_value",
    "is_core",
    "is_problem",
)


def results_of(model) -> list[tuple]:
    names = [f.attname for f in model._meta.concrete_fields if f.name not in _RESULT_SKIP]
    return list(model.objects.filter(month=MONTH).order_by("customer_id").values_list(*names))


def results() -> dict[str, list]:
    return {
        "grades": results_of(GradeResult),
        "values": results_of(ValueResult),
        "system": list(CustomerSystem.objects.order_by("customer_id").values_list(*_SYSTEM_FIELDS)),
    }


def recompute_in_process() -> None:
    call_command("recompute", "--month", f"{MONTH:%Y-%m}", stdout=StringIO())


def test_recompute_killed_anywhere_reruns_at_once_and_leaves_exact_results(postgres, areas, rng):
    # given a dozen shops with six months of sales, graded and valued once
    shops = [make_customer(areas["TH" if n % 2 else "YX"]) for n in range(12)]
    for n, shop in enumerate(shops):
        for k in range(1, 7):
            make_fact(shop, add_months(MONTH, -k), 40 + 90 * n + 7 * k, 60 + 20 * (n % 5))
    recompute_in_process()
    kills = Kills(
        rng, at=["jobs.run_claimed#1", "jobs.run_claimed#2"], after="jobs.run_claimed", limit=0.4
    )
    for n, kind, spec in kills:
        note = f"CHAOS_SEED={SEED}, kill {kind} {spec}"
        # the shops buy differently each round, so a run changes the stored results
        MonthlySalesFact.objects.filter(customer=shops[(5 * n) % len(shops)]).update(
            cartons=F("cartons") + 400, class_3_cartons=F("class_3_cartons") + 400
        )
        before = results()

        # when a recompute is killed
        killed = manage("recompute", "--month", f"{MONTH:%Y-%m}", **fault(kind, spec))
        assert was_killed(killed) or killed.returncode == 0, (note, killed.stderr[-2000:])
        kills.check(kind, was_killed(killed), note)
        if kind == "at":
            live = GradingRun if spec.endswith("#1") else ValuationRun
            assert live.objects.filter(status=RunStatus.RUNNING).exists(), note
        during = results()

        # then the month is rerun at once
        assert database_noticed_the_kill() < 5, note
        recompute_in_process()
        after = results()
        assert after["grades"] != before["grades"], note
        # nothing half-written: each kind of result is the old month or the new one, whole
        assert during["grades"] in (before["grades"], after["grades"]), note
        assert during["values"] in (before["values"], after["values"]), note
        # the killed runs say why they stopped, and nothing is left live
        for model in (GradingRun, ValuationRun):
            assert not model.objects.filter(status__in=RunStatus.live()).exists(), note
            for run in model.objects.filter(status=RunStatus.FAILED):
                assert STOPPED in run.error, (note, run.error)
        # and the rerun stored exactly what a clean run stores
        recompute_in_process()
        assert results() == after, note
    assert GradingRun.objects.filter(status=RunStatus.FAILED).exists()
    assert ValuationRun.objects.filter(status=RunStatus.FAILED).exists()


# --- import_orders --------------------------------------------------------------------------

HEADER = [*import_orders.REQUIRED, "paid_on_time"]
ORDERS, BATCH = 300, 25


def order_rows(rng: random.Random, shops, products, version: int) -> tuple[list, dict]:
    """The file's rows (one per line) and each order's expected (cartons, status, month).
    From version 2 on, a third of the orders change: other quantities, another month, or
    cancelled."""
    rows, expected = [], {}
    first = add_months(month_start(timezone.localdate()), -4)
    for n in range(ORDERS):
        shop = shops[n % len(shops)]
        month = add_months(first, n % 4)
        status, payment = "delivered", "electronic" if n % 3 else "cash"
        lines = [(products[(n + k) % len(products)], 1 + (n + k) % 6) for k in range(1 + n % 3)]
        if version > 1 and rng.random() < 1 / 3:
            change = rng.choice(["quantity", "month", "cancel"])
            if change == "quantity":
                lines = [(product, quantity + version) for product, quantity in lines]
            elif change == "month":
                month = add_months(month, -1)
            else:
                status = "cancelled"
        day = month + dt.timedelta(days=n % 27)
        external_id = f"SO-{n:04d}"
        order = {
            "external_id": external_id,
            "customer_code": shop.customer_code,
            "order_date": day.isoformat(),
            "status": status,
            "payment_method": payment,
            "paid_on_time": "true",
        }
        for product, quantity in lines:
            rows.append(
                order
                | {
                    "product_code": product.code,
                    "quantity": quantity,
                    "unit_price": product.wholesale_price,
                }
            )
        expected[external_id] = (sum(q for _p, q in lines), status, month)
    return rows, expected


def test_import_killed_anywhere_and_run_again_leaves_every_fact_exact(
    postgres, areas, rng, tmp_path
):
    # given shops, products and three versions of an order history file
    shops = [make_customer(areas["TH"]) for _shop in range(15)]
    products = [make_product(f"P{n}", f"{40 + 60 * n}.00") for n in range(4)]
    kills = Kills(
        rng, at=["import_orders.batch_stored#3"], after="import_orders.batch_stored", limit=0.4
    )
    for n, kind, spec in kills:
        version = n + 1
        note = f"CHAOS_SEED={SEED}, file v{version}, kill {kind} {spec}"
        rows, expected = order_rows(rng, shops, products, version)
        path = tmp_path / f"orders-v{version}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, HEADER)
            writer.writeheader()
            writer.writerows(rows)
        args = ("import_orders", str(path), "--source", "erp", "--batch-size", str(BATCH))

        # when the import is killed
        killed = manage(*args, **fault(kind, spec))
        assert was_killed(killed) or killed.returncode == 0, (note, killed.stderr[-2000:])
        kills.check(kind, was_killed(killed), note)
        if kind == "at":
            # three batches stored, their facts not yet refreshed: wrong until the rerun
            assert Order.objects.count() == 3 * BATCH, note
            assert facts_snapshot() != facts_rebuilt(), note

        # and run again to its end
        database_noticed_the_kill()
        call_command(*args, stdout=StringIO(), stderr=StringIO())

        # then every order is as the file says, and every fact as a rebuild makes it
        stored = {
            o.external_id: (o.cartons, o.status, o.month)
            for o in Order.objects.filter(source="erp")
        }
        assert stored == expected, note
        assert facts_snapshot() == facts_rebuilt(), note
        assert not SalesFactPending.objects.exists(), note


# --- a sync worker --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def gunicorn(tmp_path: Path, **faults: str) -> Iterator[int]:
    """A gunicorn master with one sync worker on the test database (the master starts a new
    worker when one is killed); yields its port."""
    port = free_port()
    log = (tmp_path / f"gunicorn-{port}.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "crm.wsgi:application",
            "--workers=1",
            # The app is loaded once, in the master: a killed worker is replaced at once.
            "--preload",
            f"--bind=127.0.0.1:{port}",
            "--timeout=120",
        ],
        cwd=ROOT,
        env=process_env(**faults),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        answered(lambda: request(port, "GET", "/api/v1/"), deadline=60)
        yield port
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=20)
        log.close()


def request(port: int, method: str, path: str, body=None, headers=None):
    """(status, headers, body: parsed when JSON), or None when the worker dropped the
    connection."""
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        client.request(method, path, body=body, headers=headers or {})
        response = client.getresponse()
        content = response.read()
        if "json" in response.getheader("Content-Type", ""):
            content = json.loads(content)
        return response.status, dict(response.getheaders()), content
    except (ConnectionError, http.client.HTTPException):
        return None
    finally:
        client.close()


def answered(send, *, deadline: float):
    """`send()` again until a worker answers, within `deadline` seconds."""
    limit = time.monotonic() + deadline
    while True:
        result = send()
        if result is not None:
            return result
        assert time.monotonic() < limit, f"no answer but {result!r} within {deadline} s"
        time.sleep(0.2)


def test_a_sync_worker_killed_mid_request_is_retried_at_once_and_stores_each_order_once(
    postgres, areas, rng, tmp_path
):
    # given an integration client, shops and products
    shops = [make_customer(areas["TH"]) for _shop in range(8)]
    products = [make_product(f"P{n}", f"{40 + 60 * n}.00") for n in range(4)]
    _client, token = api_client_create(name="erp", actor=Actor.system("tests", AuditSource.COMMAND))
    path = reverse("orders_api:order_sync")
    kills = Kills(
        rng, at=["api.sync.handled", "api.sync.committed"], after="api.sync.started", limit=0.15
    )
    for n, kind, spec in kills:
        note = f"CHAOS_SEED={SEED}, kill {kind} {spec}"
        orders = [
            order_payload(
                f"SO-{n}-{i:03d}",
                shops[i % len(shops)],
                [
                    (products[(i + k) % 4], 1 + (i + k) % 5, products[(i + k) % 4].wholesale_price)
                    for k in range(1 + i % 3)
                ],
                order_date=(
                    add_months(month_start(timezone.localdate()), -1 - i % 3)
                    + dt.timedelta(days=i % 27)
                ).isoformat(),
            )
            for i in range(150)
        ]
        body = json.dumps({"orders": orders}, default=str)
        headers = {
            "Authorization": f"Token {token}",
            "Content-Type": "application/json",
            "Idempotency-Key": f"batch-{n}",
        }

        with gunicorn(
            tmp_path, **fault(kind, spec), CRM_FAULT_ONCE=str(tmp_path / f"once-{n}")
        ) as port:

            def send(port=port, body=body, headers=headers):
                return request(port, "POST", path, body, headers)

            # when the worker handling the request is killed
            first = send()
            kills.check(kind, first is None, note)
            # then the client's retry with the same key is answered as soon as the master has
            # started a new worker (never "still running")
            status, _headers, report = answered(send, deadline=60)

        # and every order is stored once, the key holds one record of the one response
        assert status == 200, (note, status, report)
        assert (report["created"], report["updated"], report["errors"]) == (150, 0, []), note
        if first is not None:
            assert report == first[2], note
        assert Order.objects.filter(external_id__startswith=f"SO-{n}-").count() == 150, note
        record = IdempotencyRecord.objects.get(key=f"batch-{n}")
        assert record.status_code == 200, note
        assert json.loads(record.response) == report, note
        assert facts_snapshot() == facts_rebuilt(), note
    assert sum(o.amount for o in Order.objects.all()) > Decimal(0)
