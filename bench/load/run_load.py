"""Load test: account managers at work against gunicorn + PostgreSQL, run by hand (not in CI).

    .venv/bin/python bench/load/run_load.py [--users 50] [--spawn-rate 5] [--steady 180]
        [--customers 200000] [--managers-per-district 75] [--workers 4] [--threads 2]
        [--keep-alive 10] [--database-url postgres://postgres@127.0.0.1:5432/crm_load] [--fresh]
        [--fill-only] [--out DIR]

1. Fills the PostgreSQL database `crm_load` (created and migrated when missing; `--fresh`
   drops it first): `--customers` customers over the nine bench districts and
   `--managers-per-district` account managers each (75: 675 managers, about 300 customers
   each, a real portfolio; the users sign in as the first of them, spread over the districts),
   with 8 weeks of visit history (bench_visits.py's SQL), a year of service requests and care
   activities (bench_services.py's fill), today's visit plan (`plan_refresh`) and one known
   password for every account manager. The fills are idempotent: a kept database is reused as
   it is (the visit history is refilled on another day, as bench_visits.py does); the visits an
   earlier load run stored are deleted first. No orders, facts or grade results (the customer
   page's sales card and the grading overview are empty).
2. `collectstatic`, then `gunicorn crm.wsgi` on a free port of 127.0.0.1 with the production
   settings (DEBUG off, whitenoise's compressed manifest storage, `DJANGO_HTTPS=false` as
   nothing terminates TLS here), `--workers` gthread workers × `--threads` threads, idle
   connections kept `--keep-alive` seconds (longer than the think time), the access log to a
   file.
3. locust, headless (bench/load/locustfile.py, in its own venv bench/load/.venv, made from
   requirements-load.txt when missing): `--users` account managers, each signing in as a
   different one, spawned at `--spawn-rate` per second; statistics reset once all are running
   (`--reset-stats`), then `--steady` seconds of steady state; CSV statistics in `--out`.
4. Stops gunicorn and prints the per-page table (requests, req/s, median, p95, p99, max,
   failures) and where the CPU went (gunicorn, PostgreSQL, locust, anything else) during the
   steady state; the same as summary.md in `--out`.

The database is kept at the end (refilling it takes minutes): drop it with
`dropdb -h 127.0.0.1 -U postgres crm_load`. See bench/README.md.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import http.client
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from bench_order_sync import (  # noqa: E402
    code_version,
    cpu_seconds,
    cpu_used,
    free_port,
    machine_cpu,
    worker_pids,
)
from mix import TAB_OPENED  # noqa: E402
from visit_form import VISIT_PURPOSE  # noqa: E402 (the visits the test stores)

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/crm_load"
PASSWORD = "load-test-only-9"  # noqa: S105 (the account managers' password in the load database)
LOCUST_VENV = HERE / ".venv"
# gunicorn's default access log line plus the time the request took in the server (µs).
ACCESS_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(D)s'


# --- the database --------------------------------------------------------------------------


def _admin(url: str):
    import psycopg

    parts = urlsplit(url)
    admin_url = urlunsplit(("postgresql", parts.netloc, "/postgres", parts.query, ""))
    return psycopg.connect(admin_url, autocommit=True)


def create_database(url: str, *, fresh: bool) -> None:
    name = urlsplit(url).path.lstrip("/")
    if "load" not in name:
        sys.exit(f"Refusing to use database {name!r}: its name must contain 'load'.")
    with _admin(url) as conn:
        if fresh:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
            print(f"Created database {name}.", flush=True)


def fill_visits(url: str, *, customers: int, per_district: int, as_of: dt.date) -> None:
    """Customers and 8 weeks of visit history as bench_visits.fill makes them (its SQL), but
    emptying the visit tables with CASCADE: the services tables refer to visits, so the plain
    TRUNCATE of bench_visits.fill is refused on a database with the services app."""
    import bench_visits
    import psycopg
    from django.conf import settings

    from visits.models import VisitsConfig

    config = VisitsConfig.current()
    with psycopg.connect(url) as conn:
        changed = bench_visits.fill_customers(conn, customers=customers, per_district=per_district)
        conn.execute("CREATE TABLE IF NOT EXISTS bench_visits_fill (as_of date NOT NULL)")
        filled = conn.execute("SELECT max(as_of) FROM bench_visits_fill").fetchone()[0]
        if filled == as_of and not changed:
            print(f"Visit history as of {as_of} already there.", flush=True)
            return
        started = time.perf_counter()
        # CASCADE empties the service requests and activities too; bench_services.fill, run
        # next, fills them again.
        conn.execute(
            "TRUNCATE visits_followup, visits_plannedvisit, visits_visit RESTART IDENTITY CASCADE"
        )
        conn.execute("DELETE FROM bench_visits_fill")
        conn.execute("DROP TABLE IF EXISTS bench_services_fill")
        visits = conn.execute(
            bench_visits.visits_sql(config),
            {
                "as_of": as_of,
                "days": bench_visits.WEEKS * 7,
                "tz": settings.TIME_ZONE,
                "radius": config.location_radius_m,
            },
        ).rowcount
        follow_ups = conn.execute(
            bench_visits._FOLLOW_UPS_SQL, {"as_of": as_of, "tz": settings.TIME_ZONE}
        ).rowcount
        conn.execute("INSERT INTO bench_visits_fill (as_of) VALUES (%s)", [as_of])
        conn.commit()
        print(
            f"Filled {visits:,} visits of the {bench_visits.WEEKS} weeks before {as_of} and "
            f"{follow_ups:,} follow-ups in {time.perf_counter() - started:.0f} s",
            flush=True,
        )


def prepare(url: str, *, customers: int, per_district: int, scratch: Path) -> list[str]:
    """Migrates and fills the load database; returns the account managers' usernames."""
    os.environ.update(
        {
            "DATABASE_URL": url,
            "DJANGO_SETTINGS_MODULE": "crm.settings.local",
            "DJANGO_DEBUG": "false",  # DEBUG would keep every query of the fill in memory
            "CRM_VAR_DIR": str(scratch),
        }
    )
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    import bench_services
    import bench_visits
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connections
    from django.utils import timezone

    from crm.choices import Role
    from crm.models import User
    from visits.models import Visit, VisitsConfig
    from visits.services import plan_refresh

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    print(f"Migrated in {time.perf_counter() - started:.0f} s", flush=True)

    today = timezone.localdate()
    config = VisitsConfig.current()
    planning_day = bench_visits.previous_work_day(today, config.work_weekdays)
    fill_visits(url, customers=customers, per_district=per_district, as_of=planning_day)
    bench_services.fill(url, customers=customers, per_district=per_district, care_day=today)

    earlier = Visit.objects.filter(purpose=VISIT_PURPOSE)
    if earlier.exists():
        deleted, _by_model = earlier.delete()
        print(f"Deleted {deleted:,} rows of an earlier load run's visits.", flush=True)
    started = time.perf_counter()
    run = plan_refresh(today=today)
    print(
        f"plan_refresh({today}) in {time.perf_counter() - started:.1f} s: "
        f"{run.planned:,} planned, {run.withdrawn:,} withdrawn, {run.missed:,} missed",
        flush=True,
    )

    usernames = load_usernames(per_district)
    updated = User.objects.filter(username__in=usernames, role=Role.ACCOUNT_MANAGER).update(
        password=make_password(PASSWORD), is_active=True
    )
    print(f"{updated} account managers, password {PASSWORD!r}.", flush=True)
    # Fresh statistics for the planner: plan_refresh has just written about 240,000 planned
    # visits, and autovacuum may be off (it is on the development server). With the table's
    # statistics from before, the agenda's and home page's plan queries took 1.5-2 s each
    # (an index scan of every district's plans, estimated at 3 rows) instead of 30 ms.
    started = time.perf_counter()
    with connections["default"].cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"ANALYZE in {time.perf_counter() - started:.0f} s", flush=True)
    connections.close_all()
    return usernames


def load_usernames(per_district: int) -> list[str]:
    """The account managers the simulated users sign in as, in order (user n takes the n-th):
    interleaved by district, so the first users spread over every district."""
    import bench_visits

    managers = bench_visits.ensure_managers(per_district)
    return [
        managers[code][n]
        for n in range(max(len(names) for names in managers.values()))
        for code in sorted(managers)
        if n < len(managers[code])
    ]


_FACTS_SQL = {
    "version": "SHOW server_version",
    "shared_buffers": "SHOW shared_buffers",
    "work_mem": "SHOW work_mem",
    "customers": "SELECT COUNT(*) FROM customers_customer",
    "visits": "SELECT COUNT(*) FROM visits_visit",
    "planned": "SELECT COUNT(*) FROM visits_plannedvisit",
    "requests": "SELECT COUNT(*) FROM services_servicerequest",
}


def database_facts(url: str) -> dict[str, str]:
    """The server's version and memory settings, and what the load database holds."""
    import psycopg

    facts = {}
    with psycopg.connect(url) as conn:
        for name, sql in _FACTS_SQL.items():
            value = conn.execute(sql).fetchone()[0]
            facts[name] = f"{value:,}" if isinstance(value, int) else str(value)
        facts["load_visits"] = str(
            conn.execute(
                "SELECT COUNT(*) FROM visits_visit WHERE purpose = %s", [VISIT_PURPOSE]
            ).fetchone()[0]
        )
    return facts


# --- gunicorn ------------------------------------------------------------------------------


def server_env(url: str, scratch: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": url,
            "DJANGO_SETTINGS_MODULE": "crm.settings.production",
            "DJANGO_DEBUG": "false",
            "SECRET_KEY": "load-test-only-not-secret",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_HTTPS": "false",  # plain HTTP on 127.0.0.1: no redirect, no secure cookies
            "STATIC_ROOT": str(scratch / "static"),
            "CRM_VAR_DIR": str(scratch),
            "LOG_LEVEL": "WARNING",
        }
    )
    return env


def collectstatic(env: dict[str, str]) -> None:
    started = time.perf_counter()
    subprocess.run(  # noqa: S603 (our own venv's python)
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    print(f"collectstatic in {time.perf_counter() - started:.0f} s", flush=True)


def start_gunicorn(
    env: dict[str, str], *, workers: int, threads: int, keep_alive: int, out: Path
) -> tuple[subprocess.Popen, int]:
    port = free_port()
    log = (out / "gunicorn.log").open("w")
    process = subprocess.Popen(  # noqa: S603 (our own venv's gunicorn)
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "crm.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--worker-class",
            "gthread",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--timeout",
            "60",
            # Longer than a simulated user's thinking (1-3 s): with gunicorn's default of 2 s the
            # server closed idle connections just as users sent their next request on them, and
            # python-requests, unlike a browser, does not resend such a request on a new
            # connection: 2% of the requests failed with a connection error no user would see.
            "--keep-alive",
            str(keep_alive),
            "--access-logfile",
            str(out / "access.log"),
            "--access-logformat",
            ACCESS_FORMAT,
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"gunicorn exited ({process.returncode}); see {out / 'gunicorn.log'}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/health/")
            status = conn.getresponse().status
            conn.close()
            if status == 200:
                return process, port
            sys.exit(f"/health/ answered {status}; see {out / 'gunicorn.log'}")
        except OSError:
            time.sleep(0.3)
    process.terminate()
    sys.exit("gunicorn did not answer within 60 s")


def warm_up(port: int, *, requests: int) -> None:
    """GETs the sign-in page `requests` times, so most workers have loaded their URLs and
    templates (Django does on the first request) before the test's first users arrive."""
    started = time.perf_counter()
    for _ in range(requests):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("GET", "/login/")
        conn.getresponse().read()
        conn.close()
    print(f"warm-up: {requests} GET /login/ in {time.perf_counter() - started:.1f} s", flush=True)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)  # gunicorn: graceful shutdown of its workers
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- locust --------------------------------------------------------------------------------


def ensure_locust() -> Path:
    locust = LOCUST_VENV / "bin" / "locust"
    if not locust.exists():
        print(f"Installing locust into {LOCUST_VENV} …", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(LOCUST_VENV)], check=True)  # noqa: S603
        subprocess.run(  # noqa: S603
            [
                str(LOCUST_VENV / "bin" / "pip"),
                "install",
                "--quiet",
                "-r",
                str(HERE / "requirements-load.txt"),
            ],
            check=True,
        )
    return locust


def backend_pids(database: str) -> list[int]:
    """PostgreSQL's server processes for connections to `database` (their title names it):
    the server's own background processes and other databases' connections are left out."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if title.startswith("postgres: ") and f" {database} " in title:
                pids.append(int(entry.name))
    return pids


def run_locust(
    locust: Path,
    *,
    port: int,
    database: str,
    usernames: list[str],
    users: int,
    spawn_rate: float,
    steady: int,
    out: Path,
    server: subprocess.Popen,
) -> dict[str, float]:
    """Runs locust; returns the CPU seconds used during the steady state, by whom, and when
    the steady state began ("from", a POSIX time)."""
    ramp = math.ceil(users / spawn_rate)
    env = dict(os.environ)
    env.update(
        {"LOAD_USERS": ",".join(usernames), "LOAD_PASSWORD": PASSWORD, "LOAD_TZ": "Asia/Shanghai"}
    )
    command = [
        str(locust),
        "--locustfile",
        str(HERE / "locustfile.py"),
        "--headless",
        "--host",
        f"http://127.0.0.1:{port}",
        "--users",
        str(users),
        "--spawn-rate",
        str(spawn_rate),
        "--run-time",
        f"{ramp + steady}s",
        "--reset-stats",
        "--stop-timeout",
        "10",
        "--csv",
        str(out / "load"),
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    print(
        f"locust: {users} users, {spawn_rate}/s (all running after about {ramp} s), then "
        f"{steady} s of steady state …",
        flush=True,
    )
    with (out / "locust.log").open("w") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
        time.sleep(ramp + 1)  # statistics are reset once every user runs
        groups = {
            "gunicorn": lambda: [server.pid, *worker_pids(server.pid)],
            "PostgreSQL": lambda: backend_pids(database),
            "locust": lambda: [process.pid],
        }
        before = {name: cpu_seconds(pids()) for name, pids in groups.items()}
        steady_from = dt.datetime.now(dt.UTC)
        busy0, total0 = busy1, total1 = machine_cpu()
        wall0 = wall1 = time.monotonic()
        # Snapshots on the way, so processes that end before locust does still count.
        latest = dict(before)
        while process.poll() is None:
            time.sleep(2)
            for name, pids in groups.items():
                latest[name] = {**latest[name], **cpu_seconds(pids())}
            busy1, total1 = machine_cpu()
            wall1 = time.monotonic()
        process.wait()
    if process.returncode not in (0, 1):  # 1: some requests failed, which the table shows
        sys.exit(f"locust exited with {process.returncode}; see {out / 'locust.log'}")
    used = {name: cpu_used(before[name], latest[name]) for name in groups}
    used["whole machine"] = busy1 - busy0
    used["available"] = total1 - total0
    used["wall"] = wall1 - wall0
    used["from"] = steady_from.timestamp()
    return used


# --- the summary ---------------------------------------------------------------------------


def summary(out: Path) -> tuple[list[str], dict[str, str]]:
    """The per-page table from locust's statistics (markdown lines) and the totals row."""
    with (out / "load_stats.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    lines = [
        "| page | requests | req/s | median ms | p95 ms | p99 ms | max ms | failures |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    total: dict[str, str] = {}
    body = []
    for row in rows:
        if row["Name"] == "Aggregated":
            total = row
            continue
        body.append(row)
    body.sort(key=lambda row: -int(row["Request Count"]))
    for row in [*body, total]:
        if not row:
            continue
        name = "**all requests**" if row is total else f"{row['Type']} {row['Name']}"
        lines.append(
            f"| {name} | {int(row['Request Count']):,} | {float(row['Requests/s']):.2f} | "
            f"{row['50%']} | {row['95%']} | {row['99%']} | {float(row['Max Response Time']):.0f} "
            f"| {row['Failure Count']} |"
        )
    return lines, total


def page_of(method: str, target: str) -> str:
    """locustfile's name for a request in the access log."""
    path, _, query = unquote(target).partition("?")
    params = dict(part.partition("=")[::2] for part in query.split("&") if part)
    if path.startswith("/static/"):
        return "static file (first visit)"
    if path == "/login/":
        return "sign in" if method == "POST" else "sign-in page"
    if path == "/customers/":
        if "q" in params:
            return "customer list: search " + ("code" if params["q"].isdigit() else "name")
        if "page" in params:
            return "customer list: page N"
        return "customer list: filter" if params else "customer list"
    if re.fullmatch(r"/customers/[^/]+/", path):
        return "customer detail"
    if re.fullmatch(r"/customers/[^/]+/tab/[^/]+/", path):
        return "customer tab (on demand)"
    if path == "/visits/log/":
        return "visit form: save" if method == "POST" else "visit form"
    if re.fullmatch(r"/visits/\d+/", path):
        return "visit detail"
    names = {
        "/": "home",
        "/visits/": "visits: agenda (today)",
        "/visits/all/": "visits: list",
        "/services/": "services: request queue",
        "/grading/": "grading overview",
        "/health/": "health",
    }
    return names.get(path, path)


_ACCESS_RE = re.compile(r'\[([^\]]+)\] "(\w+) (\S+) [^"]*" (\d{3}) .* (\d+)$')


def server_times(out: Path, since: float) -> dict[str, list[float]]:
    """Time in the server (ms) of each request of the steady state, by page, from the access
    log: what the response times are made of, apart from waiting for a free thread."""
    times: dict[str, list[float]] = {}
    for line in (out / "access.log").read_text().splitlines():
        found = _ACCESS_RE.search(line)
        if not found:
            continue
        moment = dt.datetime.strptime(found.group(1), "%d/%b/%Y:%H:%M:%S %z").timestamp()
        if moment < since:
            continue
        method, target = found.group(2), found.group(3)
        times.setdefault(page_of(method, target), []).append(int(found.group(5)) / 1000)
    return times


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


def server_table(times: dict[str, list[float]]) -> list[str]:
    lines = [
        "| page | requests | server median ms | server p95 ms |",
        "|---|---:|---:|---:|",
    ]
    everything = [t for values in times.values() for t in values]
    for name, values in sorted(times.items(), key=lambda item: -len(item[1])):
        lines.append(
            f"| {name} | {len(values):,} | {percentile(values, 0.5):.0f} | "
            f"{percentile(values, 0.95):.0f} |"
        )
    if everything:
        lines.append(
            f"| **all requests** | {len(everything):,} | {percentile(everything, 0.5):.0f} | "
            f"{percentile(everything, 0.95):.0f} |"
        )
    return lines


def failures(out: Path) -> list[str]:
    """locust's failures, by page and reason (a connection error is one: locustfile.py counts
    a request that got no answer as a failure of its page), the most frequent first; then any
    exception a simulated user's task raised (a bug of the locust file: that user's request
    was not counted, and the user stops)."""
    lines = []
    path = out / "load_failures.csv"
    if path.exists():
        with path.open(newline="") as handle:
            rows = sorted(csv.DictReader(handle), key=lambda row: -int(row["Occurrences"]))
        lines += [
            f"- {row['Method']} {row['Name']}: {row['Error']} ×{row['Occurrences']}" for row in rows
        ]
    path = out / "load_exceptions.csv"
    if path.exists():
        with path.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        lines += [
            f"- exception in the locust file (not counted as a request): {row['Message']} "
            f"×{row['Count']}; traceback in {path.name}"
            for row in rows
        ]
    return lines


def memory_gb() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024 / 1024
    return 0.0


# --- main ----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--managers-per-district", type=int, default=75)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--spawn-rate", type=float, default=5)
    parser.add_argument("--steady", type=int, default=180, help="Seconds after the ramp-up.")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn gthread workers.")
    parser.add_argument("--threads", type=int, default=2, help="Threads per gunicorn worker.")
    parser.add_argument(
        "--keep-alive",
        type=int,
        default=10,
        help="Seconds gunicorn keeps an idle connection open (longer than the think time).",
    )
    parser.add_argument("--fresh", action="store_true", help="Drop and refill the database.")
    parser.add_argument("--fill-only", action="store_true", help="Prepare the database and stop.")
    parser.add_argument(
        "--out", type=Path, help="Results directory (default bench/load/results/<time>)."
    )
    args = parser.parse_args()

    # Django sets the process's time zone to the site's (Asia/Shanghai): say UTC explicitly.
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    started_utc = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    out = (args.out or HERE / "results" / stamp).resolve()
    scratch = Path(tempfile.mkdtemp(prefix="crm-load-"))
    try:
        locust = ensure_locust()
        print(
            f"{started_utc}; {os.cpu_count()} CPUs, "
            f"{memory_gb():.0f} GB; {code_version()}; "
            f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
            flush=True,
        )
        create_database(args.database_url, fresh=args.fresh)
        usernames = prepare(
            args.database_url,
            customers=args.customers,
            per_district=args.managers_per_district,
            scratch=scratch,
        )
        if len(usernames) < args.users:
            print(
                f"Note: {len(usernames)} account managers for {args.users} users: some sign in "
                "twice (raise --managers-per-district).",
                flush=True,
            )
        facts = database_facts(args.database_url)
        if args.fill_only:
            return
        out.mkdir(parents=True, exist_ok=True)
        env = server_env(args.database_url, scratch)
        collectstatic(env)
        server, port = start_gunicorn(
            env, workers=args.workers, threads=args.threads, keep_alive=args.keep_alive, out=out
        )
        try:
            print(
                f"gunicorn on 127.0.0.1:{port}: {args.workers} gthread workers × "
                f"{args.threads} threads, keep-alive {args.keep_alive} s (production settings)",
                flush=True,
            )
            warm_up(port, requests=4 * args.workers * args.threads)
            cpu = run_locust(
                locust,
                port=port,
                database=urlsplit(args.database_url).path.lstrip("/"),
                usernames=usernames,
                users=args.users,
                spawn_rate=args.spawn_rate,
                steady=args.steady,
                out=out,
                server=server,
            )
        finally:
            stop(server)
        after = database_facts(args.database_url)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    table, total = summary(out)
    header = [
        f"Load test {started_utc}: {args.users} account managers (1-3 s think time), "
        f"spawned at {args.spawn_rate}/s, {args.steady} s of steady state "
        "(statistics reset once every user is spawned: the sign-ins and first static files of "
        "the last ones spawned may count).",
        f"Machine: {os.cpu_count()} cores, {memory_gb():.0f} GB; PostgreSQL {facts['version']} "
        f"(shared_buffers {facts['shared_buffers']}, work_mem {facts['work_mem']}) on the same "
        f"host; gunicorn {args.workers} gthread workers × {args.threads} threads (keep-alive "
        f"{args.keep_alive} s), production "
        f"settings; locust on the same cores; {code_version()}; a customer page opens another "
        f"tab {TAB_OPENED:.0%} of the time (LOAD_TAB_SHARE).",
        f"Data: {facts['customers']} customers, {len(usernames)} account managers (about "
        f"{int(facts['customers'].replace(',', '')) // max(1, len(usernames)):,} customers "
        f"each), {facts['visits']} visits, {facts['planned']} planned visits, "
        f"{facts['requests']} service requests; visits stored by this run: "
        f"{after['load_visits']}.",
        "",
    ]
    share = ", ".join(
        f"{name} {cpu[name]:.0f} s ({cpu[name] / cpu['available']:.0%})"
        for name in ("gunicorn", "PostgreSQL", "locust")
    )
    others = cpu["whole machine"] - cpu["gunicorn"] - cpu["PostgreSQL"] - cpu["locust"]
    footer = [
        "",
        f"Throughput {float(total.get('Requests/s', 0)):.1f} requests/s; "
        f"{int(total.get('Failure Count', 0)):,} failures of "
        f"{int(total.get('Request Count', 0)):,} requests.",
        f"CPU during the steady state ({cpu['wall']:.0f} s, {cpu['available']:.0f} CPU-seconds "
        f"available; PostgreSQL: the connections to this database): {share}, "
        f"anything else {others:.0f} s "
        f"({others / cpu['available']:.0%}); the machine busy "
        f"{cpu['whole machine'] / cpu['available']:.0%} of the time.",
    ]
    requests = int(total.get("Request Count", 0))
    if requests:
        per_request = (cpu["gunicorn"] + cpu["PostgreSQL"]) / requests
        footer.append(
            f"CPU per request: gunicorn {cpu['gunicorn'] / requests * 1000:.0f} ms + PostgreSQL "
            f"{cpu['PostgreSQL'] / requests * 1000:.0f} ms = {per_request * 1000:.0f} ms: "
            f"{os.cpu_count()} cores doing nothing else would serve at most about "
            f"{os.cpu_count() / per_request:.0f} requests/s of this mix."
        )
    footer += [
        "",
        "In the server (gunicorn's access log, the same steady state; the rest of a response "
        "time is waiting for a free worker thread and the network):",
        "",
        *server_table(server_times(out, cpu["from"])),
    ]
    problems = failures(out)
    if problems:
        footer += ["", "Failures by page and reason:", *problems]
    text = "\n".join([*header, *table, *footer]) + "\n"
    (out / "summary.md").write_text(text)
    print()
    print(text)
    print(f"CSV statistics, logs and this summary in {out}")


if __name__ == "__main__":
    main()
