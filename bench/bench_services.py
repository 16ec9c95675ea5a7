"""Benchmark: the services app at scale — the care due this week and its daily notice, the
request queue and its counts, the satisfaction summary, the escalation job and raising one
request — by hand.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench_services \
        .venv/bin/python bench/bench_services.py [--customers 200000] [--runs 3]
        [--managers-per-district 4] [--log-runs 20] [--care-day 2026-09-22]
        [--fill-only] [--keep | --reuse]

Fills a throwaway PostgreSQL database (same handling as bench_import.py) straight in SQL
(`INSERT … SELECT generate_series`): `--customers` customers over the nine bench districts and
their account managers, as bench_visits.py does (bench_grading.py's customer rows,
bench_visits.py's dynamic and system rows); then care marks on 3% of the customers (elderly
1.5%, special need 1.5%), an owner's birthday on 30% (spread over the year: about 0.6% in any
week), core customers 10% (`CustomerSystem.is_core`); 12 months of service requests, about one
per ten customers (types and priorities spread; 85% closed with a satisfaction of 1-5 skewed
high, closing spread over the year; the rest open, in progress or reopened, raised in the last
30 days, some already overdue, none escalated); family service for half of the marked customers
in the 60 days before the care day; holiday greetings for 10% of the greeting audience for each
holiday of the care day's week. VACUUM ANALYZE and CHECKPOINT.

Then, each --runs times (best and median), with the queries sent and the peak resident memory
of each call (VmHWM, reset before the call through /proc/self/clear_refs):

- `services.selectors.care_due` on the care day (a week with a holiday, so greetings are
  listed) for one account manager (as themself), as the supervisor of one district (TH) and
  as an administrator (every customer); `services.care_due_notify` once (every account
  manager: the daily job);
- `selectors.request_queue(queue="area")` first page (50 rows) and `request_counts` as that
  supervisor;
- `selectors.satisfaction_summary(months=12)` as an administrator and as that supervisor;
- `services.service_requests_escalate()` on the backlog (every overdue request escalates) and
  again (nothing to do); escalation cleared in SQL before each run (untimed);
- `services.service_request_raise` of one request, --log-runs times.

Counts (customers, marks, requests by status, due items by kind…) are printed with the times and
checked against SQL; a failed check prints CHECK FAILED and exits with status 1. See
bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_grading import (  # noqa: E402
    frac,
    migrate_if_needed,
)
from bench_import import (  # noqa: E402
    add_database_arguments,
    bench_database,
    ensure_user,
)
from bench_order_sync import code_version, require_postgres  # noqa: E402
from bench_visits import (  # noqa: E402
    fill_customers,
    measure,
    pick_sql,
    reset_peak,
    vacuum,
)

DISTRICT = "TH"  # the supervisor's district; its first account manager is the one timed
CARE_DAY = dt.date(2026, 9, 22)  # a Tuesday; 中秋节 (2026-09-25) falls in its week
# Description marking the requests this script raises, so the next run can take them away.
RAISE_MARK = "基准：提出一个服务请求"
REQUESTS_PER_CUSTOMER_YEAR = 0.1

# Cumulative shares; the rest goes to the last value (bench_visits.pick_sql).
_TYPES = (
    ("supply", 0.30),
    ("price", 0.45),
    ("delivery", 0.70),
    ("licence", 0.80),
    ("complaint", 0.88),
    ("other", 1.0),
)
_PRIORITIES = (("low", 0.20), ("normal", 0.75), ("high", 0.93), ("urgent", 1.0))
_STATUSES = (("closed", 0.85), ("open", 0.92), ("in_progress", 0.97), ("reopened", 1.0))
_DESCRIPTIONS = {
    "supply": "希望增加紧俏品牌货源",
    "price": "对批发价调整有疑问",
    "delivery": "配送时间不稳定，希望固定上午送货",
    "licence": "许可证延续手续咨询",
    "complaint": "反映送货员态度不好",
    "other": "希望提供新的陈列架",
}

# Care marks, owners' birthdays (1950-1995, any day of the year) and core customers.
_MARKS_SQL = f"""
UPDATE customers_customerdynamic d SET care_need = m.care_need, owner_birthday = m.birthday
FROM (
    SELECT customer_id,
           CASE WHEN {frac("customer_id", 101)} < 0.015 THEN 'elderly'
                WHEN {frac("customer_id", 101)} < 0.03 THEN 'special_need' ELSE '' END
               AS care_need,
           CASE WHEN {frac("customer_id", 102)} < 0.30
                THEN date '1950-01-01' + floor({frac("customer_id", 103)} * 16801)::int END
               AS birthday
    FROM customers_customerdynamic
) m
WHERE m.customer_id = d.customer_id
  AND (d.care_need, d.owner_birthday) IS DISTINCT FROM (m.care_need, m.birthday)
"""  # noqa: S608 (our own constants)

_CORE_SQL = f"""
UPDATE customers_customersystem SET is_core = {frac("customer_id", 104)} < 0.10
WHERE is_core IS DISTINCT FROM ({frac("customer_id", 104)} < 0.10)
"""  # noqa: S608 (our own constants)


def requests_sql(config: Any) -> str:
    """A year of requests before `now`, about `requests` of them, on random customers (raised
    by and assigned to their account manager). Closed ones (85%) raised 10-365 days ago,
    resolved after 0.2-1.3 times their service level (so 27% late), closed 0-3 days later,
    rated 1-5 (5: 50%, 4: 30%, 3: 11%, 2: 5%, 1: 4%; half the late ones one lower); the others
    raised in the last 30 days (most recently: age = 30 days × u³), due after their service
    level, unescalated."""
    from services.choices import RequestType

    sla = " ".join(f"WHEN '{t}' THEN {int(config.sla_hours(t))}" for t in RequestType.values)
    descriptions = " ".join(f"WHEN '{t}' THEN '{text}'" for t, text in _DESCRIPTIONS.items())
    return f"""
WITH k AS (
    SELECT %(now)s::timestamptz AS now, b.lo, b.hi
    FROM (SELECT min(id) AS lo, max(id) AS hi FROM customers_customer) b
),
g AS (
    SELECT k.now, c.id AS customer_id, c.account_manager_id AS manager_id,
           {pick_sql("g.i", 111, _TYPES)} AS request_type,
           {pick_sql("g.i", 112, _PRIORITIES)} AS priority,
           {pick_sql("g.i", 113, _STATUSES)} AS status,
           {frac("g.i", 114)} AS u_age, {frac("g.i", 115)} AS u_fix,
           {frac("g.i", 116)} AS u_close, {frac("g.i", 117)} AS u_score,
           {frac("g.i", 118)} AS u_late
    FROM k
    CROSS JOIN generate_series(1, %(requests)s::bigint) g(i)
    JOIN customers_customer c
      ON c.id = k.lo + floor({frac("g.i", 110)} * (k.hi - k.lo + 1))::bigint
    WHERE c.account_manager_id IS NOT NULL
),
h AS (
    SELECT g.*, CASE g.request_type {sla} END AS sla,
           CASE WHEN g.status = 'closed'
                THEN g.now - interval '10 days' - g.u_age * interval '355 days'
                ELSE g.now - power(g.u_age, 3) * interval '30 days' END AS raised_at
    FROM g
),
r AS (
    SELECT h.*, h.raised_at + h.sla * interval '1 hour' AS due_at,
           CASE WHEN h.status = 'closed'
                THEN h.raised_at + h.sla * (0.2 + 1.1 * h.u_fix) * interval '1 hour' END
               AS resolved_at
    FROM h
)
INSERT INTO services_servicerequest (customer_id, visit_id, request_type, priority, description,
    status, raised_by_id, raised_at, due_at, assignee_id, resolution_note, resolved_at,
    closed_at, satisfaction, escalated_at, escalated_to_id, source, updated_at)
SELECT r.customer_id, NULL, r.request_type, r.priority, CASE r.request_type {descriptions} END,
       r.status, r.manager_id, r.raised_at, r.due_at, r.manager_id,
       CASE WHEN r.status IN ('closed', 'reopened') THEN '已协调处理并回访' ELSE '' END,
       r.resolved_at, r.resolved_at + r.u_close * interval '3 days',
       CASE WHEN r.status = 'closed' THEN greatest(1,
           CASE WHEN r.u_score < 0.04 THEN 1 WHEN r.u_score < 0.09 THEN 2
                WHEN r.u_score < 0.20 THEN 3 WHEN r.u_score < 0.50 THEN 4 ELSE 5 END
           - CASE WHEN r.resolved_at > r.due_at AND r.u_late < 0.5 THEN 1 ELSE 0 END) END,
       NULL, NULL, 'page',
       coalesce(r.resolved_at + r.u_close * interval '3 days', r.raised_at)
FROM r
ORDER BY r.raised_at
"""  # noqa: S608 (our own constants)


# Family service for half of the marked customers, 1-60 days before the care day.
_FAMILY_SQL = f"""
WITH k AS (SELECT %(day)s::date AS day, %(tz)s::text AS tz)
INSERT INTO services_serviceactivity (customer_id, kind, performed_on, performed_by_id, note,
    occasion, visit_id, training_session_id, source, created_at)
SELECT c.id, 'family', a.day, c.account_manager_id, '上门慰问，帮助整理货架', '', NULL, NULL,
       'page', (a.day + time '17:00') AT TIME ZONE k.tz
FROM k
CROSS JOIN customers_customer c
JOIN customers_customerdynamic d ON d.customer_id = c.id
CROSS JOIN LATERAL (SELECT k.day - (1 + floor({frac("c.id", 121)} * 60))::int AS day) a
WHERE d.care_need <> '' AND c.account_manager_id IS NOT NULL AND {frac("c.id", 120)} < 0.5
ORDER BY a.day, c.id
"""  # noqa: S608 (our own constants)

# Greetings for one holiday, for 10% of its audience, logged in the two days up to the care day
# (or the holiday, when it comes first).
_GREETINGS_SQL = f"""
WITH k AS (SELECT %(day)s::date AS day, %(holiday)s::date AS holiday, %(occasion)s::text AS occ,
                  %(tz)s::text AS tz)
INSERT INTO services_serviceactivity (customer_id, kind, performed_on, performed_by_id, note,
    occasion, visit_id, training_session_id, source, created_at)
SELECT c.id, 'holiday_greeting', a.day, c.account_manager_id, '节日问候', k.occ, NULL, NULL,
       'page', (a.day + time '10:00') AT TIME ZONE k.tz
FROM k
CROSS JOIN customers_customer c
JOIN customers_customerdynamic d ON d.customer_id = c.id
JOIN customers_customersystem s ON s.customer_id = c.id
CROSS JOIN LATERAL (
    SELECT least(k.day, k.holiday) - floor({frac("c.id", 123)} * 2)::int AS day
) a
WHERE d.status = 'active' AND c.account_manager_id IS NOT NULL AND %(audience)s
  AND {frac("c.id * 16 + extract(doy FROM k.holiday)::bigint", 122)} < 0.10
"""  # noqa: S608 (our own constants)


def audience_sql(config: Any) -> str:
    """SQL for "in the greeting audience" (`d` the dynamic row, `s` the system row)."""
    from services.choices import GreetingAudience

    return {
        GreetingAudience.CARE: "d.care_need <> ''",
        GreetingAudience.CARE_AND_CORE: "(d.care_need <> '' OR s.is_core IS TRUE)",
    }.get(config.greeting_audience, "true")


def greeting_holidays(config: Any, day: dt.date) -> list[Any]:
    """The holidays `care_due` lists greetings for in the week holding `day`."""
    from services.models import Holiday
    from services.workflow import week_bounds

    start, end = week_bounds(day)
    return list(
        Holiday.objects.filter(
            date__gte=start, date__lte=end + dt.timedelta(days=config.greeting_lead_days)
        )
    )


# --- filling ------------------------------------------------------------------------------


def fill(url: str, *, customers: int, per_district: int, care_day: dt.date) -> None:
    """Customers with their dynamic and system rows, if missing; care marks, birthdays and
    core customers; the requests and activities (refilled when a kept database was filled on
    another day, for another care day or with more customers)."""
    import psycopg
    from django.conf import settings
    from django.utils import timezone

    from services.models import ServicesConfig

    config = ServicesConfig.current()
    now = timezone.now()
    with psycopg.connect(url) as conn:
        changed = fill_customers(conn, customers=customers, per_district=per_district)

        conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_services_fill "
            "(as_of date NOT NULL, care_day date NOT NULL, customers int NOT NULL)"
        )
        filled = conn.execute(
            "SELECT as_of, care_day, customers FROM bench_services_fill"
        ).fetchone()
        count = conn.execute("SELECT COUNT(*) FROM customers_customer").fetchone()[0]
        if changed or filled != (timezone.localdate(now), care_day, count):
            started = time.perf_counter()
            marked = conn.execute(_MARKS_SQL).rowcount
            core = conn.execute(_CORE_SQL).rowcount
            conn.execute(
                "TRUNCATE services_serviceactivity, services_trainingsession, "
                "services_servicerequest RESTART IDENTITY"
            )
            conn.execute("DELETE FROM bench_services_fill")
            requests = conn.execute(
                requests_sql(config),
                {"now": now, "requests": round(count * REQUESTS_PER_CUSTOMER_YEAR)},
            ).rowcount
            family = conn.execute(_FAMILY_SQL, {"day": care_day, "tz": settings.TIME_ZONE}).rowcount
            greetings = 0
            for holiday in greeting_holidays(config, care_day):
                greetings += conn.execute(
                    _GREETINGS_SQL.replace("%(audience)s", audience_sql(config)),
                    {
                        "day": care_day,
                        "holiday": holiday.date,
                        "occasion": holiday.occasion,
                        "tz": settings.TIME_ZONE,
                    },
                ).rowcount
            conn.execute(
                "INSERT INTO bench_services_fill (as_of, care_day, customers) VALUES (%s, %s, %s)",
                [timezone.localdate(now), care_day, count],
            )
            conn.commit()
            changed = True
            print(
                f"Filled services as of {now:%Y-%m-%d %H:%M} UTC in "
                f"{time.perf_counter() - started:.1f} s: {marked:,} dynamic rows and {core:,} "
                f"system rows changed, {requests:,} requests, {family:,} family services, "
                f"{greetings:,} holiday greetings",
                flush=True,
            )
        else:
            print(f"Services filled today for care day {care_day} already there.", flush=True)

        conn.commit()
        conn.autocommit = True
        if changed:
            started = time.perf_counter()
            conn.execute("VACUUM ANALYZE")
            conn.execute("CHECKPOINT")
            print(
                f"VACUUM ANALYZE + CHECKPOINT in {time.perf_counter() - started:.0f} s", flush=True
            )


def scalar(sql: str, params: Any = None) -> Any:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def describe() -> dict[str, Any]:
    """What the database holds: customers and marks, requests by status, activities; and the
    server's settings."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*), COUNT(DISTINCT c.account_manager_id), "
            "COUNT(*) FILTER (WHERE d.status = 'active'), "
            "COUNT(*) FILTER (WHERE d.care_need = 'elderly'), "
            "COUNT(*) FILTER (WHERE d.care_need = 'special_need'), "
            "COUNT(*) FILTER (WHERE d.owner_birthday IS NOT NULL), "
            "COUNT(*) FILTER (WHERE s.is_core) "
            "FROM customers_customer c "
            "JOIN customers_customerdynamic d ON d.customer_id = c.id "
            "JOIN customers_customersystem s ON s.customer_id = c.id"
        )
        keys = ("customers", "managers", "active", "elderly", "special_need", "birthdays", "core")
        facts = dict(zip(keys, cursor.fetchone(), strict=True))
        cursor.execute(
            "SELECT status, COUNT(*) FROM services_servicerequest GROUP BY 1 ORDER BY 2 DESC"
        )
        facts["statuses"] = dict(cursor.fetchall())
        cursor.execute(
            "SELECT request_type, COUNT(*) FROM services_servicerequest GROUP BY 1 ORDER BY 2 DESC"
        )
        facts["types"] = dict(cursor.fetchall())
        cursor.execute(
            "SELECT satisfaction, COUNT(*) FROM services_servicerequest "
            "WHERE satisfaction IS NOT NULL GROUP BY 1 ORDER BY 1"
        )
        facts["scores"] = dict(cursor.fetchall())
        cursor.execute("SELECT kind, COUNT(*) FROM services_serviceactivity GROUP BY 1 ORDER BY 1")
        facts["activities"] = dict(cursor.fetchall())
        cursor.execute(
            "SELECT pg_size_pretty(pg_total_relation_size('services_servicerequest')), "
            "current_setting('work_mem'), current_setting('shared_buffers'), "
            "current_setting('autovacuum'), current_setting('server_version')"
        )
        facts.update(
            zip(
                ("requests_size", "work_mem", "shared_buffers", "autovacuum", "version"),
                cursor.fetchone(),
                strict=True,
            )
        )
    return facts


def overdue_pending(now: dt.datetime, config: Any) -> int:
    """Requests the escalation job would escalate at `now` (counted in SQL)."""
    return scalar(
        "SELECT COUNT(*) FROM services_servicerequest WHERE status IN "
        "('open', 'in_progress', 'reopened') AND escalated_at IS NULL AND due_at < %s",
        [now - dt.timedelta(hours=config.escalate_after_hours)],
    )


def expected_care(
    config: Any, day: dt.date, *, area_id: int | None = None, manager_id: int | None = None
) -> dict[str, int]:
    """The care due in the week holding `day`, per kind, for every active customer (of one
    area, of one account manager), counted in SQL apart from the selector."""
    from services.workflow import week_bounds

    start, end = week_bounds(day)
    where = "d.status = 'active'"
    if area_id:
        where += " AND c.area_id = %(area)s"
    if manager_id:
        where += " AND c.account_manager_id = %(manager)s"
    base = (
        "FROM customers_customer c JOIN customers_customerdynamic d ON d.customer_id = c.id "
        "JOIN customers_customersystem s ON s.customer_id = c.id "
    )
    params: dict[str, Any] = {
        "area": area_id,
        "manager": manager_id,
        "end": end,
        "interval": config.family_interval_days,
    }
    family = scalar(
        f"SELECT COUNT(*) {base}"  # noqa: S608 (our own constants)
        "LEFT JOIN LATERAL (SELECT max(a.performed_on) AS last FROM services_serviceactivity a "
        "WHERE a.customer_id = c.id AND a.kind = 'family') f ON true "
        f"WHERE {where} AND d.care_need <> '' "
        "AND (f.last IS NULL OR f.last + %(interval)s <= %(end)s)",
        params,
    )
    days = [start + dt.timedelta(days=n) for n in range(7)]
    keys = [f"{d:%m-%d}" for d in days]
    if "02-28" in keys and "02-29" not in keys:
        keys.append("02-29")
    params["days"] = keys
    params["occasions"] = [f"birthday:{y}" for y in {start.year, end.year}]
    birthdays = scalar(
        f"SELECT COUNT(*) {base}"  # noqa: S608 (our own constants)
        f"WHERE {where} AND to_char(d.owner_birthday, 'MM-DD') = ANY(%(days)s) "
        "AND NOT EXISTS (SELECT 1 FROM services_serviceactivity a WHERE a.customer_id = c.id "
        "AND a.kind = 'birthday_greeting' AND a.occasion = ANY(%(occasions)s))",
        params,
    )
    holidays = 0
    for holiday in greeting_holidays(config, day):
        holidays += scalar(
            f"SELECT COUNT(*) {base}"  # noqa: S608 (our own constants)
            f"WHERE {where} AND {audience_sql(config)} "
            "AND NOT EXISTS (SELECT 1 FROM services_serviceactivity a WHERE a.customer_id = c.id "
            "AND a.kind = 'holiday_greeting' AND a.occasion = %(occasion)s)",
            params | {"occasion": holiday.occasion},
        )
    return {"family": family, "birthday_greeting": birthdays, "holiday_greeting": holidays}


def care_counts(items: list[Any]) -> dict[str, int]:
    counts = Counter(str(item.kind) for item in items)
    return {
        kind: counts.get(kind, 0) for kind in ("family", "birthday_greeting", "holiday_greeting")
    }


def care_text(items: list[Any], day: dt.date) -> str:
    counts = care_counts(items)
    overdue = sum(item.is_overdue(day) for item in items)
    customers = len({item.customer.pk for item in items})
    return (
        f"{len(items):,} due ({customers:,} customers): family {counts['family']:,}, birthday "
        f"{counts['birthday_greeting']:,}, holiday {counts['holiday_greeting']:,}; "
        f"{overdue:,} before {day:%a}"
    )


def summary_text(summary: Any) -> str:
    total = summary.total.overall
    return (
        f"{len(summary.rows)} areas × {len(summary.months)} months, {total.count:,} rated, "
        f"mean {total.average}; scores "
        + " ".join(f"{score}:{n:,}" for score, n in summary.distribution.items())
    )


def rated_in(months: int, area_id: int | None = None) -> int:
    """Closed, rated requests closed in the `months` months up to this one (SQL)."""
    from django.utils import timezone

    from crm.dates import add_months, month_start

    last = month_start(timezone.localdate())
    start = timezone.make_aware(dt.datetime.combine(add_months(last, -(months - 1)), dt.time.min))
    end = timezone.make_aware(dt.datetime.combine(add_months(last, 1), dt.time.min))
    area = " AND c.area_id = %s" if area_id else ""
    return scalar(
        "SELECT COUNT(*) FROM services_servicerequest r "  # noqa: S608 (our own constants)
        "JOIN customers_customer c ON c.id = r.customer_id "
        "WHERE r.status = 'closed' AND r.satisfaction IS NOT NULL "
        f"AND r.closed_at >= %s AND r.closed_at < %s{area}",
        [start, end, *([area_id] if area_id else [])],
    )


# --- main ---------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--log-runs",
        type=int,
        default=20,
        help="Requests raised through service_request_raise (timed each).",
    )
    parser.add_argument(
        "--managers-per-district",
        type=int,
        default=4,
        help="Account managers per district (4: bench_import's; more gives smaller portfolios).",
    )
    parser.add_argument(
        "--care-day",
        type=dt.date.fromisoformat,
        default=CARE_DAY,
        help="The day care_due and care_due_notify draw the week's list for (a week with a "
        "holiday lists greetings).",
    )
    parser.add_argument(
        "--fill-only", action="store_true", help="Fill the database and stop (with --keep)."
    )
    add_database_arguments(parser)
    args = parser.parse_args()
    url = require_postgres()
    care_day: dt.date = args.care_day

    with bench_database(keep=args.keep, reuse=args.reuse) as database:
        from django.db import connection
        from django.urls import reverse
        from django.utils import timezone

        from crm.choices import AuditSource, Role
        from crm.models import Area, Notification, User
        from crm.services import Actor
        from customers.models import Customer
        from services import selectors, services
        from services.choices import Queue, RequestType
        from services.models import ServiceRequest, ServicesConfig

        migrate_if_needed()
        config = ServicesConfig.current()
        today = timezone.localdate()
        print(
            f"{today}; {database}; CPUs: {os.cpu_count()}; {args.customers:,} customers; care "
            f"day {care_day:%a %Y-%m-%d}; {code_version()}; load average "
            f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}",
            flush=True,
        )
        fill(
            url,
            customers=args.customers,
            per_district=args.managers_per_district,
            care_day=care_day,
        )
        if args.fill_only:
            return
        with connection.cursor() as cursor:  # what an earlier run on a kept database raised
            cursor.execute(
                "DELETE FROM services_servicerequest WHERE description = %s", [RAISE_MARK]
            )
        vacuum("services_servicerequest")
        facts = describe()
        holidays = greeting_holidays(config, care_day)
        print(
            f"{facts['customers']:,} customers ({facts['active']:,} active) over "
            f"{facts['managers']} account managers (about "
            f"{facts['customers'] // max(1, facts['managers']):,} each); care marks: elderly "
            f"{facts['elderly']:,}, special need {facts['special_need']:,}; owner's birthday "
            f"{facts['birthdays']:,}; core {facts['core']:,}",
            flush=True,
        )
        for name in ("statuses", "types", "scores", "activities"):
            total = sum(facts[name].values())
            print(
                f"  {name} ({total:,}): "
                + ", ".join(f"{value} {n:,} ({n / total:.0%})" for value, n in facts[name].items()),
                flush=True,
            )
        print(
            f"  requests table {facts['requests_size']} with indexes; holidays in the care week's "
            f"greeting window: {', '.join(str(h) for h in holidays) or 'NONE'}",
            flush=True,
        )
        print(
            f"PostgreSQL {facts['version']}: work_mem {facts['work_mem']}, shared_buffers "
            f"{facts['shared_buffers']}, autovacuum {facts['autovacuum']}; ServicesConfig: "
            f"family every {config.family_interval_days} days, greetings from "
            f"{config.greeting_lead_days} days before for {config.greeting_audience}, escalate "
            f"{config.escalate_after_hours} h after due",
            flush=True,
        )
        if not reset_peak():
            print("  (/proc/self/clear_refs not writable: peaks are the process's so far)")

        results: dict[str, list[dict[str, Any]]] = {}
        notes: dict[str, str] = {}
        failures: list[str] = []

        def record(label: str, figures: dict[str, Any], note: str, *, echo: bool = True) -> None:
            # Without the result: a kept result (28,000 care items) would stay in memory and
            # raise the next calls' starting RSS.
            results.setdefault(label, []).append(
                {key: value for key, value in figures.items() if key != "result"}
            )
            notes[label] = note
            if echo:
                print(
                    f"  {label}: {figures['wall']:.3f} s, {figures['queries']} queries, peak "
                    f"{figures['peak_mb']:.0f} MB (+{figures['growth_mb']:.0f}); CPU s ours "
                    f"{figures['cpu_own']:.1f}, others {figures['cpu_others']:.1f} of "
                    f"{figures['cpu_available']:.1f}; {note}",
                    flush=True,
                )

        def check(label: str, ok: bool, detail: str) -> None:
            if not ok:
                failures.append(f"{label}: {detail}")
                print(f"  CHECK FAILED: {detail}", flush=True)

        admin = ensure_user("bench_admin", Role.ADMINISTRATOR)
        supervisor = ensure_user(f"bench_sup_{DISTRICT.lower()}", Role.SUPERVISOR, (DISTRICT,))
        manager = User.objects.get(username=f"am_{DISTRICT.lower()}1")
        district = Area.objects.get(code=DISTRICT)

        def fresh(user: User) -> User:
            """The user as a new page request loads it (no cached scope)."""
            return User.objects.get(pk=user.pk)

        # 1. Care due this week.
        print(f"care due, week of {care_day:%a %Y-%m-%d}:", flush=True)
        expected_all = expected_care(config, care_day)
        expected_th = expected_care(config, care_day, area_id=district.pk)
        expected_am = expected_care(config, care_day, manager_id=manager.pk)
        print(
            f"  expected (SQL): all {expected_all}; {DISTRICT} {expected_th}; "
            f"{manager.username} {expected_am}",
            flush=True,
        )
        care_reads = (
            (
                f"care_due() of {manager.username}",
                lambda: selectors.care_due(
                    user=fresh(manager), account_manager=manager, today=care_day
                ),
                lambda items: (
                    care_counts(items) == expected_am
                    and all(i.customer.account_manager_id == manager.pk for i in items)
                ),
            ),
            (
                f"care_due(), supervisor of {DISTRICT}",
                lambda: selectors.care_due(user=fresh(supervisor), today=care_day),
                lambda items: care_counts(items) == expected_th,
            ),
            (
                "care_due(), administrator (all customers)",
                lambda: selectors.care_due(user=fresh(admin), today=care_day),
                lambda items: care_counts(items) == expected_all,
            ),
        )
        for label, call, ok in care_reads:
            for _ in range(args.runs):
                figures = measure(call)
                record(label, figures, care_text(figures["result"], care_day))
                check(label, ok(figures["result"]), f"{care_counts(figures['result'])}")
                del figures
        # What the care page's overview and the daily notice read: counts per manager and kind.
        label = "care_due_counts(), administrator (all customers)"
        for _ in range(args.runs):
            figures = measure(
                lambda: selectors.care_due_counts(
                    customers=Customer.objects.visible_to(fresh(admin)), today=care_day
                )
            )
            summed = sum(figures["result"].values(), Counter())
            summed = {kind: summed.get(kind, 0) for kind in expected_all}
            record(label, figures, f"{sum(summed.values())} due, {len(figures['result'])} managers")
            check(label, summed == expected_all, f"{summed}")
            del figures
        check(
            "holiday greetings",
            bool(holidays) and expected_all["holiday_greeting"] > 0,
            f"no holiday greetings due in the week of {care_day}",
        )

        # The daily notice: every account manager's list; once, as on the first run of a day.
        link = reverse("services:care")
        Notification.objects.filter(link=link).delete()
        label = "care_due_notify(), every account manager"
        managers = User.objects.filter(role=Role.ACCOUNT_MANAGER, is_active=True).count()
        figures = measure(lambda: services.care_due_notify(today=care_day))
        told = figures["result"]
        record(label, figures, f"{told} of {managers} account managers told")
        check(label, told == managers, f"{told} told, {managers} account managers")

        # 2. The request queue.
        print("requests:", flush=True)
        open_th = scalar(
            "SELECT COUNT(*) FROM services_servicerequest r JOIN customers_customer c "
            "ON c.id = r.customer_id WHERE c.area_id = %s AND r.status <> 'closed'",
            [district.pk],
        )
        label = f"request_queue(area)[:50], supervisor of {DISTRICT}"
        for _ in range(args.runs):
            figures = measure(
                lambda: list(selectors.request_queue(user=fresh(supervisor), queue=Queue.AREA)[:50])
            )
            rows = figures["result"]
            now = timezone.now()
            record(
                label,
                figures,
                f"{len(rows)} rows, {sum(r.is_overdue(now) for r in rows)} overdue, due "
                f"{rows[0].due_at:%Y-%m-%d} … {rows[-1].due_at:%Y-%m-%d}"
                if rows
                else "no rows",
            )
            check(label, len(rows) == min(50, open_th), f"{len(rows)} rows of {open_th}")
        label = f"request_counts(), supervisor of {DISTRICT}"
        for _ in range(args.runs):
            figures = measure(lambda: selectors.request_counts(user=fresh(supervisor)))
            counts = figures["result"]
            record(label, figures, ", ".join(f"{k} {v:,}" for k, v in counts.items()))
            check(label, counts["area"] == open_th, f"area {counts['area']}, SQL {open_th}")

        # 3. Satisfaction.
        print("satisfaction:", flush=True)
        for label, user, area_id in (
            ("satisfaction_summary(12), administrator", admin, None),
            (f"satisfaction_summary(12), supervisor of {DISTRICT}", supervisor, district.pk),
        ):
            rated = rated_in(12, area_id)
            for _ in range(args.runs):
                figures = measure(
                    lambda user=user: selectors.satisfaction_summary(user=fresh(user), months=12)
                )
                summary = figures["result"]
                record(label, figures, summary_text(summary))
                check(
                    label,
                    summary.total.overall.count == rated,
                    f"{summary.total.overall.count} rated, SQL {rated}",
                )

        # 4. Escalation of the backlog, then the same again with nothing to do.
        print("escalation:", flush=True)
        first_label = "service_requests_escalate(), the backlog"
        again_label = "service_requests_escalate() again (nothing to do)"
        for _ in range(args.runs):
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE services_servicerequest SET escalated_at = NULL, "
                    "escalated_to_id = NULL WHERE escalated_at IS NOT NULL"
                )
                # The notices the last run left (a kept database would grow run after run).
                cursor.execute(
                    "DELETE FROM crm_notification WHERE link LIKE %s",
                    [reverse("services:request_detail", args=[1]).removesuffix("1/") + "%"],
                )
            vacuum("services_servicerequest", "crm_notification")
            now = timezone.now()
            pending = overdue_pending(now, config)
            figures = measure(lambda now=now: services.service_requests_escalate(now=now))
            escalated = figures["result"]
            record(
                first_label,
                figures,
                f"{escalated:,} escalated of {pending:,} overdue "
                f"({figures['wall'] * 1000 / max(1, escalated):.1f} ms each)",
            )
            check(first_label, escalated == pending > 0, f"{escalated} escalated, {pending} due")
            vacuum("services_servicerequest", "crm_notification", "crm_auditentry")
            figures = measure(lambda: services.service_requests_escalate())
            record(again_label, figures, f"{figures['result']} escalated")
            check(again_label, figures["result"] == 0, f"{figures['result']} escalated")

        # 5. Raising requests, each on one of the manager's customers.
        print("service_request_raise:", flush=True)
        label = "service_request_raise(), one request"
        actor = Actor.of(manager, AuditSource.PAGE)
        shops = list(
            Customer.objects.filter(account_manager=manager, dynamic__status="active").order_by(
                "pk"
            )[: args.log_runs]
        )
        types = RequestType.values
        for n, customer in enumerate(shops):
            figures = measure(
                lambda customer=customer, n=n: services.service_request_raise(
                    customer=customer,
                    request_type=types[n % len(types)],
                    priority="normal",
                    description=RAISE_MARK,
                    actor=actor,
                )
            )
            record(label, figures, "", echo=False)
        stored = ServiceRequest.objects.filter(description=RAISE_MARK).count()
        notes[label] = f"{stored} stored (of {len(shops)})"
        check(label, bool(shops) and stored == len(shops), notes[label])
        if shops:
            seconds = [f["wall"] for f in results[label]]
            print(
                f"  {len(shops)} requests: median {statistics.median(seconds) * 1000:.1f} ms, "
                f"best {min(seconds) * 1000:.1f} ms, worst {max(seconds) * 1000:.1f} ms; "
                f"{results[label][0]['queries']} queries each; {notes[label]}",
                flush=True,
            )

        # The table.
        print(
            f"\n{facts['customers']:,} customers, {facts['managers']} account managers, "
            f"{sum(facts['statuses'].values()):,} requests, "
            f"{sum(facts['activities'].values()):,} activities; care day {care_day}; seconds; "
            "queries sent (the most of any run); peak RSS of the call (+ above its start) in MB"
        )
        print(f"{'what':<52} {'runs':>4} {'best':>7} {'median':>7} {'queries':>7} {'peak MB':>12}")
        for label, runs in results.items():
            seconds = [f["wall"] for f in runs]
            peak = max(runs, key=lambda f: f["peak_mb"])
            print(
                f"{label:<52} {len(runs):>4} {min(seconds):>7.3f} "
                f"{statistics.median(seconds):>7.3f} "
                f"{max(f['queries'] for f in runs):>7} "
                f"{peak['peak_mb']:>6.0f} (+{peak['growth_mb']:.0f})"
            )
            print(f"    {notes[label]}")
        others = sum(f["cpu_others"] for runs in results.values() for f in runs)
        available = sum(f["cpu_available"] for runs in results.values() for f in runs)
        print(
            f"CPU seconds other processes used during the timed calls: {others:.1f} of "
            f"{available:.1f} available (0 on a quiet machine)"
        )
        print(
            f"environment: {os.cpu_count()} CPUs, PostgreSQL {facts['version']} (work_mem "
            f"{facts['work_mem']}, shared_buffers {facts['shared_buffers']}, autovacuum "
            f"{facts['autovacuum']}), {code_version()}"
        )
        if failures:
            for failure in failures:
                print(f"CHECK FAILED: {failure}")
            sys.exit(1)
        print(
            "checks: care due per kind as counted in SQL (supervisor, administrator) and only "
            "the manager's own customers; every account manager told; queue page and counts, "
            "rated requests as in SQL; every overdue request escalated, none the second time; "
            "every raised request stored"
        )


if __name__ == "__main__":
    main()
