"""One request at a time: where the load test's pages spend their time (run by hand, not in CI).

    .venv/bin/python bench/load/profile_pages.py [--runs 30] [--managers 10]
        [--pages customer,form,save,visit,queue | all] [--profile PAGE] [--queries PAGE]
        [--database-url postgres://postgres@127.0.0.1:5432/crm_load]

Against the load database run_load.py fills (crm_load; run `run_load.py --fill-only` first),
through Django's test client with the settings run_load.py gives gunicorn (production, DEBUG
off: the whole middleware stack, the templates, the session; no gunicorn), signed in as
`--managers` of the account managers the load test signs in as, each opening pages of its own
customers, round-robin. For each page: the median and p95 of `--runs` requests in ms, the
queries per request (least-most), the median time in the database driver (the SQL, including
its round trips) and the rest (Python: views, forms, templates), and the CPU a request took in
this process and in its PostgreSQL backend: the steadier figure on a shared machine, and what
bounds the load test's throughput. The load test's server times are these plus the queueing
for a free core.

`--profile PAGE` runs cProfile over that page's requests and prints the 35 costliest functions
(by own time and by cumulative time); `--queries PAGE` prints each query of one request with its
time. Pages: customer (the customer page), form (the visit form shown), save (the visit form
sent: a visit is stored, with the load test's purpose, so run_load.py deletes it before its next
run; this script deletes its own at the end too), visit (the visit's page), queue (the service
request queue), tab (one of the customer page's other tabs, loaded on demand, chosen as the load
test chooses them), whole (the customer page with every tab drawn: the phone's offline copy);
for comparison: home, agenda, visits (the visit list), list (the customer list).
To compare two versions of the code, copy this script into a worktree of the other one and run
both against the same database one after the other (see bench/README.md).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/crm_load"
CLIENT_ID_RE = re.compile(r'name="client_id" value="([^"]+)"')
MINE = ("customer", "tab", "whole", "form", "save", "visit", "queue")
OTHERS = ("home", "agenda", "visits", "list")


def setup(url: str) -> None:
    """Django with the server's settings as run_load.py starts gunicorn (production settings,
    whitenoise's manifest storage: so `collectstatic` into a temporary directory first)."""
    from run_load import collectstatic, server_env

    env = server_env(url, Path(tempfile.mkdtemp(prefix="crm-profile-")))
    env["ALLOWED_HOSTS"] = "testserver"
    collectstatic(env)
    os.environ.update(env)
    import django

    django.setup()


class Manager:
    """A signed-in account manager and the codes of some of their customers."""

    def __init__(self, user, rng: random.Random) -> None:
        from django.test import Client

        from customers.models import Customer

        self.client = Client()
        self.client.force_login(user)
        # Each test client loads the middleware on its first request (whitenoise then reads
        # every static file's headers: about 40 ms), as each gunicorn worker does once.
        self.client.get("/health/")
        codes = list(
            Customer.objects.filter(account_manager=user, dynamic__status="active")
            .order_by("customer_code")
            .values_list("customer_code", flat=True)[:300]
        )
        self.codes = codes
        self.rng = rng
        self.visits: list[str] = []

    def code(self) -> str:
        return self.rng.choice(self.codes)


def managers(count: int, per_district: int) -> list[Manager]:
    """The first `count` account managers run_load.py's users sign in as."""
    from run_load import load_usernames

    from crm.models import User

    usernames = load_usernames(per_district)[:count]
    users = {u.username: u for u in User.objects.filter(username__in=usernames)}
    rng = random.Random(23)  # noqa: S311 (a simulated user's choices)
    return [Manager(users[name], rng) for name in usernames]


def visit_data(client_id: str) -> dict[str, str]:
    from django.utils import timezone
    from visit_form import visit_form_data

    now = timezone.localtime().replace(second=0, microsecond=0)
    return visit_form_data(now, client_id, stock_level="low", price_display="compliant")


def request(page: str, manager: Manager):
    """One request of `page` as `manager`: (the call to time, a check of its response)."""
    client = manager.client
    if page == "customer":
        return lambda: client.get(f"/customers/{manager.code()}/"), 200
    if page == "tab":
        # One of the customer page's other tabs, loaded on demand, as the load test opens them.
        from mix import TAB_WEIGHTS, TABS

        tab = manager.rng.choices(TABS, weights=TAB_WEIGHTS)[0]
        url = f"/customers/{manager.code()}/tab/{tab}/"
        return lambda: client.get(url, HTTP_HX_REQUEST="true"), 200
    if page == "whole":
        # The customer page with every tab drawn (the phone's offline copy; every customer
        # page before the tabs loaded on demand).
        url = f"/customers/{manager.code()}/"
        return lambda: client.get(url, HTTP_X_CRM_WHOLE_PAGE="1"), 200
    if page == "form":
        return lambda: client.get(f"/visits/log/?customer={manager.code()}"), 200
    if page == "save":
        code = manager.code()
        shown = client.get(f"/visits/log/?customer={code}")
        client_id = CLIENT_ID_RE.search(shown.content.decode()).group(1)
        data = visit_data(client_id)

        def save():
            response = client.post(f"/visits/log/?customer={code}", data)
            if response.status_code == 302:
                manager.visits.append(response["Location"])
            return response

        return save, 302
    if page == "visit":
        if not manager.visits:
            request("save", manager)[0]()
        return lambda: client.get(manager.rng.choice(manager.visits)), 200
    paths = {
        "queue": "/services/",
        "home": "/",
        "agenda": "/visits/",
        "visits": "/visits/all/",
        "list": "/customers/",
    }
    return lambda: client.get(paths[page]), 200


class Recorder:
    """Counts the queries of a request and the time spent in the database driver."""

    def __init__(self) -> None:
        self.queries: list[tuple[float, str]] = []

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.queries.append((time.perf_counter() - started, sql))


def measure(page: str, crowd: list[Manager], runs: int, profiler=None) -> dict:
    """`runs` requests of `page`: each one's wall time, SQL time and queries, and the CPU
    seconds they took in this process and in its PostgreSQL backend (what a request costs on a
    machine shared with others, whose load makes the wall times noisy)."""
    from bench_order_sync import cpu_seconds
    from django.db import connection

    walls, sqls, counts = [], [], []
    cpu = {"python": 0.0, "postgres": 0.0}
    for n in range(runs):
        call, status = request(page, crowd[n % len(crowd)])
        connection.ensure_connection()
        backend = connection.connection.info.backend_pid
        recorder = Recorder()
        with connection.execute_wrapper(recorder):
            if profiler is not None:
                profiler.enable()
            before = cpu_seconds([backend]).get(backend, 0.0)
            own = time.process_time()
            started = time.perf_counter()
            response = call()
            wall = time.perf_counter() - started
            cpu["python"] += time.process_time() - own
            cpu["postgres"] += cpu_seconds([backend]).get(backend, before) - before
            if profiler is not None:
                profiler.disable()
        if response.status_code != status:
            sys.exit(f"{page}: {response.status_code} instead of {status}")
        walls.append(wall * 1000)
        sqls.append(sum(t for t, _ in recorder.queries) * 1000)
        counts.append(len(recorder.queries))
    return {"walls": walls, "sqls": sqls, "counts": counts, "cpu": cpu}


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered) + 0.999) - 1)]


def show_queries(page: str, crowd: list[Manager]) -> None:
    from django.db import connection

    call, _status = request(page, crowd[0])
    recorder = Recorder()
    with connection.execute_wrapper(recorder):
        call()
    print(f"\nQueries of one request of {page} ({len(recorder.queries)}):")
    for seconds, sql in recorder.queries:
        print(f"{seconds * 1000:8.2f} ms  {' '.join(sql.split())[:220]}")


def clean_up() -> int:
    from visit_form import VISIT_PURPOSE

    from visits.models import Visit

    deleted, _ = Visit.objects.filter(purpose=VISIT_PURPOSE).delete()
    return deleted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--managers", type=int, default=10)
    parser.add_argument("--managers-per-district", type=int, default=75, help="As run_load.py.")
    parser.add_argument("--pages", default=",".join(MINE), help="Comma-separated, or 'all'.")
    parser.add_argument("--profile", help="cProfile this page's requests.")
    parser.add_argument("--queries", help="Print the queries of one request of this page.")
    args = parser.parse_args()
    pages = [*MINE, *OTHERS] if args.pages == "all" else args.pages.split(",")

    setup(args.database_url)
    from bench_order_sync import code_version

    print(
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {code_version()}; load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}",
        flush=True,
    )
    crowd = managers(args.managers, args.managers_per_district)
    for page in pages:  # warm-up: URL resolvers, templates, translations, connections
        measure(page, crowd, 2)
    print(
        f"{len(crowd)} account managers, {args.runs} requests per page "
        "(test client, production settings)"
    )
    print(
        "| page | median ms | p95 ms | queries | SQL median ms | rest median ms "
        "| CPU ms: Python + PostgreSQL |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for page in pages:
        profiler = cProfile.Profile() if page == args.profile else None
        got = measure(page, crowd, args.runs, profiler)
        rest = [w - s for w, s in zip(got["walls"], got["sqls"], strict=True)]
        counts, cpu = got["counts"], got["cpu"]
        print(
            f"| {page} | {statistics.median(got['walls']):.1f} | {p95(got['walls']):.1f} | "
            f"{min(counts)}-{max(counts)} | {statistics.median(got['sqls']):.1f} | "
            f"{statistics.median(rest):.1f} | {cpu['python'] * 1000 / args.runs:.1f} + "
            f"{cpu['postgres'] * 1000 / args.runs:.1f} |",
            flush=True,
        )
        if profiler is not None:
            for key in ("tottime", "cumulative"):
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).sort_stats(key).print_stats(35)
                print(out.getvalue())
    if args.queries:
        show_queries(args.queries, crowd)
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"Deleted {clean_up():,} rows of the visits this script stored.")


if __name__ == "__main__":
    sys.path[:0] = [str(HERE), str(ROOT / "bench")]
    main()
