"""Benchmark: the visits app at scale — the daily planning job, the coverage and agenda reads,
and logging one visit — by hand.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench_visits \
        .venv/bin/python bench/bench_visits.py [--customers 200000] [--runs 3]
        [--managers-per-district 4] [--log-runs 20] [--fill-only] [--keep | --reuse]

Fills a throwaway PostgreSQL database (same handling as bench_import.py) straight in SQL
(`INSERT … SELECT generate_series`): `--customers` customers (bench_grading.py's customer rows)
over the nine bench districts and their account managers, with dynamic rows carrying a visit
cycle (weekly 30%, fortnightly 40%, monthly 25%, blank 5%), a visit batch (周一…周五 80%, "A" or
"B" 12%, blank 8%), a delivery route (30 per district), a position (3% without) and a status
(0.5% closed, 1% suspended), and system rows with a value tier (potential 25%, value 20%,
secondary 35%, low 15%, blank 5%). Then 8 weeks of past visits before the planning day: one per
customer per effective cycle (the cycle the planning job uses: blank = the default, potential
customers one step shorter), 85% of them made, by the customer's account manager, on working
days, with a visit type, purpose, findings and a position near the shop; a follow-up on 5% of the
visits, due 2-14 days later, 80% of those already due done, the rest open (overdue or not yet
due). VACUUM ANALYZE and CHECKPOINT (autovacuum may be off).

The planning day is the working day before today; "the next day" is today. Then, each --runs
times (best and median), with the queries sent and the peak resident memory of each call
(VmHWM, reset before the call through /proc/self/clear_refs):

- `visits.services.plan_refresh(today=planning day)` on an empty plan (the first plan: about
  two weeks for every customer), again the same day (idempotent: must plan, withdraw and mark
  missed nothing), then — after 85% of the planning day's visits were made (visits stored and
  their plans marked done in SQL, untimed) — `plan_refresh(today=today)`, a day's shift;
- before those, the first plan once in a fresh child process, for its peak memory;
- on the plan as it stands today: `visits.selectors.coverage` as an administrator (every
  customer) and as the supervisor of one district (TH), `coverage_customers` of one account
  manager (as that supervisor), and `agenda` of that account manager (as themself) for the
  next working day (today on a working day);
- `visits.services.visit_log` of one visit with a follow-up, started from one of that account
  manager's open planned visits (includes the single-customer replan), --log-runs times.

Rows (planned, withdrawn, missed, customers, in cycle, overdue…) are printed with the times,
so the results can be checked. See bench/README.md.

With `--pages N` (issue 23) only the pages are timed, on the plan as it stands today (made once
and kept): the agenda of am_th1 today and tomorrow, the home page of am_th1, of the supervisor
of TH and of a supervisor of every city, and the coverage page as the latter, N requests each
through the Django test client (p50/p95/best wall, queries, size, median CPU per request). Use
`--managers-per-district 75` for the load database's portfolios (about 300 shops each).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_grading import (  # noqa: E402
    _CUSTOMERS_SQL,
    CUSTOMER_CHUNK,
    frac,
    migrate_if_needed,
    vm_kib,
)
from bench_import import (  # noqa: E402
    add_database_arguments,
    bench_database,
    ensure_areas_and_managers,
    ensure_user,
)
from bench_order_sync import (  # noqa: E402
    code_version,
    cpu_seconds,
    machine_cpu,
    require_postgres,
)

WEEKS = 8  # of visit history before the planning day
DISTRICT = "TH"  # the supervisor's district; its first account manager is the one timed
# Purposes marking the visits this script adds while it runs (the planning day's work and
# the visits it logs), so the next run can take them away again.
DAY_PURPOSE = "基准：计划日拜访"
LOG_PURPOSE = "基准：记录一次拜访"

# Cumulative shares; the rest goes to the last value.
_CYCLES = (("weekly", 0.30), ("fortnightly", 0.70), ("monthly", 0.95), ("", 1.0))
_TIERS = (("potential", 0.25), ("value", 0.45), ("secondary", 0.80), ("low", 0.95), ("", 1.0))


def pick_sql(key: str, seed: int, choices: tuple[tuple[str, float], ...]) -> str:
    """SQL choosing one of `choices` (value, cumulative share) by a hash of `key`."""
    u = frac(key, seed)
    whens = " ".join(f"WHEN {u} < {upto} THEN '{value}'" for value, upto in choices[:-1])
    return f"CASE {whens} ELSE '{choices[-1][0]}' END"


_WEEKDAY_BATCHES = "ARRAY['周一','周二','周三','周四','周五']"
# Rows a shop has already are skipped by the primary key (ON CONFLICT), not by an anti-join: a
# NOT EXISTS over the table being filled was planned, even after ANALYZE, as a nested loop over
# the rows it was inserting (quadratic: 13 minutes for 200,000 shops).
_DYNAMIC_SQL = f"""
INSERT INTO customers_customerdynamic (customer_id, status, phone, contact_person,
    payment_method, bank_account, order_cycle, visit_cycle, visit_batch, order_batch,
    order_frequency, delivery_route, delivery_segment, delivery_person, order_taker,
    outlet_size, operating_status, cooperation, business_characteristics, trade_area,
    credit_rating, home_address, mailing_address, latitude, longitude, care_need)
SELECT c.id,
       CASE WHEN {frac("c.id", 50)} < 0.005 THEN 'closed'
            WHEN {frac("c.id", 50)} < 0.015 THEN 'suspended' ELSE 'active' END,
       '139' || lpad((c.id % 100000000)::text, 8, '0'), '', 'electronic', '', 'weekly',
       {pick_sql("c.id", 51, _CYCLES)},
       CASE WHEN {frac("c.id", 52)} < 0.80
                 THEN ({_WEEKDAY_BATCHES})[1 + floor({frac("c.id", 53)} * 5)::int]
            WHEN {frac("c.id", 52)} < 0.86 THEN 'A'
            WHEN {frac("c.id", 52)} < 0.92 THEN 'B' ELSE '' END,
       '', 2, '线路' || lpad((1 + floor({frac("c.id", 54)} * 30))::int::text, 2, '0'),
       '', '', '', '', '', '', '', '', '', '', '',
       CASE WHEN {frac("c.id", 55)} >= 0.03
            THEN round((22.5 + {frac("c.id", 56)})::numeric, 6) END,
       CASE WHEN {frac("c.id", 55)} >= 0.03
            THEN round((113.0 + 1.5 * {frac("c.id", 57)})::numeric, 6) END,
       ''
FROM customers_customer c
ON CONFLICT (customer_id) DO NOTHING
"""  # noqa: S608 (our own constants)

_SYSTEM_SQL = f"""
INSERT INTO customers_customersystem (customer_id, business_scale, category_code, value_tier)
SELECT c.id, '', '', {pick_sql("c.id", 58, _TIERS)} FROM customers_customer c
ON CONFLICT (customer_id) DO NOTHING
"""  # noqa: S608 (our own constants)


def cycle_days_sql(config: Any) -> str:
    """SQL for a customer's effective cycle in days (`d` its dynamic row, `s` its system row),
    as `visits.computations.effective_cycle` gives it: blank = the default cycle, potential
    customers `potential_shift` steps shorter."""
    names = ("weekly", "fortnightly", "monthly")
    days = ", ".join(str(config.cycle_days[name]) for name in names)
    base = (
        "CASE d.visit_cycle WHEN 'weekly' THEN 0 WHEN 'fortnightly' THEN 1 "
        f"WHEN 'monthly' THEN 2 ELSE {names.index(config.default_cycle)} END"
    )
    shift = f"CASE WHEN s.value_tier = 'potential' THEN {int(config.potential_shift)} ELSE 0 END"
    return f"(ARRAY[{days}])[1 + greatest(0, {base} - {shift})]"


def visits_sql(config: Any) -> str:
    """Past visits: for each customer with an account manager, one slot per effective cycle
    in the `days` before `as_of` (the latest 1 to cycle days before it), each made with a
    chance of 85%, on a working day (a weekend slot moves back to Friday), between 08:30 and
    17:30 local time, lasting 10-45 minutes."""
    key = "(c.id * 64 + n.slot)"
    return f"""
WITH k AS (SELECT %(as_of)s::date AS as_of, %(days)s::int AS days, %(tz)s::text AS tz)
INSERT INTO visits_visit (customer_id, visited_by_id, visited_at, ended_at, visit_type,
    purpose, stock_level, stock_notes, price_display, competitor_notes, customer_requests,
    photo, photo_thumbnail, latitude, longitude, location_accuracy_m, distance_m,
    location_flagged, client_id, source, created_at)
SELECT v.customer_id, v.manager_id, v.at, v.at + v.minutes * interval '1 minute',
       CASE WHEN v.u1 < 0.70 THEN 'routine' WHEN v.u1 < 0.85 THEN 'order'
            WHEN v.u1 < 0.93 THEN 'service' WHEN v.u1 < 0.97 THEN 'complaint'
            ELSE 'inspection' END,
       CASE WHEN v.u1 < 0.70 THEN '例行拜访' WHEN v.u1 < 0.85 THEN '订单采集'
            WHEN v.u1 < 0.93 THEN '服务回访' WHEN v.u1 < 0.97 THEN '投诉跟进'
            ELSE '陈列与明码标价检查' END,
       CASE WHEN v.u3 < 0.60 THEN 'sufficient' WHEN v.u3 < 0.75 THEN 'low'
            WHEN v.u3 < 0.80 THEN 'out' ELSE '' END,
       CASE WHEN v.u3 >= 0.60 AND v.u3 < 0.80 THEN '重点品牌库存偏少' ELSE '' END,
       CASE WHEN v.u4 < 0.70 THEN 'compliant' WHEN v.u4 < 0.80 THEN 'partial'
            WHEN v.u4 < 0.85 THEN 'non_compliant' ELSE '' END,
       CASE WHEN v.u5 < 0.10 THEN '附近新开便利店，竞品有促销' ELSE '' END,
       CASE WHEN v.u5 > 0.95 THEN '希望增加紧俏品牌货源' ELSE '' END,
       '', '', p.latitude, p.longitude, p.accuracy,
       round((111320 * sqrt(power(p.latitude - v.shop_lat, 2)
                            + power((p.longitude - v.shop_lon)
                                    * cos(radians(v.shop_lat)), 2)))::numeric, 1),
       coalesce(111320 * sqrt(power(p.latitude - v.shop_lat, 2)
                              + power((p.longitude - v.shop_lon)
                                      * cos(radians(v.shop_lat)), 2))
                > %(radius)s, false),
       NULL, 'page', v.at + v.minutes * interval '1 minute'
FROM (
    SELECT c.id AS customer_id, c.account_manager_id AS manager_id,
           d.latitude AS shop_lat, d.longitude AS shop_lon,
           ((w.day + time '08:30') + floor({frac(key, 61)} * 540) * interval '1 minute')
               AT TIME ZONE k.tz AS at,
           10 + floor({frac(key, 62)} * 36)::int AS minutes,
           {frac(key, 63)} AS u1, {frac(key, 64)} AS u3, {frac(key, 65)} AS u4,
           {frac(key, 66)} AS u5, {frac(key, 67)} AS u6, {frac(key, 68)} AS u7,
           {frac(key, 69)} AS u8
    FROM k
    CROSS JOIN customers_customer c
    JOIN customers_customerdynamic d ON d.customer_id = c.id
    JOIN customers_customersystem s ON s.customer_id = c.id
    CROSS JOIN LATERAL (SELECT {cycle_days_sql(config)} AS days) e
    CROSS JOIN LATERAL generate_series(0, (k.days - 1) / e.days) AS n(slot)
    CROSS JOIN LATERAL (
        SELECT k.as_of - (1 + floor({frac("c.id", 60)} * e.days)::int + n.slot * e.days) AS day
    ) r
    CROSS JOIN LATERAL (
        SELECT r.day - greatest(0, extract(isodow FROM r.day)::int - 5) AS day
    ) w
    WHERE c.account_manager_id IS NOT NULL AND r.day >= k.as_of - k.days
      AND {frac(key, 59)} < 0.85
) v
-- Four visits in five send a position: most within about 200 m of the shop, one in 20 far off.
CROSS JOIN LATERAL (
    SELECT q.latitude, q.longitude,
           CASE WHEN q.latitude IS NOT NULL THEN round((5 + 45 * v.u6)::numeric, 1) END
               AS accuracy
    FROM (
        SELECT CASE WHEN v.u6 < 0.80 AND v.shop_lat IS NOT NULL
                    THEN round((v.shop_lat + (v.u7 - 0.5) * 0.004
                                * CASE WHEN v.u8 < 0.05 THEN 20 ELSE 1 END)::numeric, 6) END
                   AS latitude,
               CASE WHEN v.u6 < 0.80 AND v.shop_lat IS NOT NULL
                    THEN round((v.shop_lon + (v.u8 - 0.5) * 0.004)::numeric, 6) END
                   AS longitude
    ) q
) p
ORDER BY v.at, v.customer_id
"""  # noqa: S608 (our own constants)


_FOLLOW_UPS_SQL = f"""
WITH k AS (SELECT %(as_of)s::date AS as_of, %(tz)s::text AS tz)
INSERT INTO visits_followup (visit_id, customer_id, action, due_date, owner_id, status, done_at,
    done_by_id, done_note, created_at)
SELECT v.id, v.customer_id,
       CASE WHEN {frac("v.id", 73)} < 0.5 THEN '补充重点品牌货源'
            WHEN {frac("v.id", 73)} < 0.8 THEN '整改价签，明码标价'
            ELSE '回复客户关于配送时间的诉求' END,
       f.due, v.visited_by_id,
       CASE WHEN f.done THEN 'done' ELSE 'open' END,
       CASE WHEN f.done THEN greatest(v.ended_at,
                                      (least(f.due, k.as_of - 1) + time '17:00') AT TIME ZONE k.tz)
       END,
       CASE WHEN f.done THEN v.visited_by_id END,
       CASE WHEN f.done THEN '已处理' ELSE '' END,
       v.created_at
FROM k
CROSS JOIN visits_visit v
CROSS JOIN LATERAL (
    SELECT (v.visited_at AT TIME ZONE k.tz)::date + 2 + floor({frac("v.id", 71)} * 13)::int AS due
) d
CROSS JOIN LATERAL (
    SELECT d.due, d.due < k.as_of AND {frac("v.id", 72)} < 0.80 AS done
) f
WHERE {frac("v.id", 70)} < 0.05
ORDER BY v.id
"""  # noqa: S608 (our own constants)

# The planning day's work, done after its plan: 85% of the day's planned visits made (a visit
# stored, its plan marked done), as visit_log leaves them; the rest stay open (overdue the next
# day).
_DAY_WORK_SQL = f"""
WITH k AS (SELECT %(day)s::date AS day, %(tz)s::text AS tz),
todo AS (
    SELECT p.customer_id, c.account_manager_id AS manager_id,
           ((k.day + time '08:30') + floor({frac("p.customer_id", 81)} * 540)
               * interval '1 minute') AT TIME ZONE k.tz AS at
    FROM k
    JOIN visits_plannedvisit p ON p.planned_for = k.day AND p.status = 'planned'
    JOIN customers_customer c ON c.id = p.customer_id
    WHERE c.account_manager_id IS NOT NULL AND {frac("p.customer_id * 8 + 1", 80)} < 0.85
),
made AS (
    INSERT INTO visits_visit (customer_id, visited_by_id, visited_at, ended_at, visit_type,
        purpose, stock_level, stock_notes, price_display, competitor_notes, customer_requests,
        photo, photo_thumbnail, latitude, longitude, location_accuracy_m, distance_m,
        location_flagged, client_id, source, created_at)
    SELECT customer_id, manager_id, at, at + interval '20 minutes', 'routine',
           %(purpose)s, 'sufficient', '', 'compliant', '', '', '', '', NULL, NULL, NULL, NULL,
           false, NULL, 'page', at + interval '20 minutes'
    FROM todo ORDER BY at
    RETURNING id, customer_id, visited_by_id
)
UPDATE visits_plannedvisit p SET status = 'done', visit_id = made.id, updated_at = now(),
       updated_by_id = made.visited_by_id
FROM made
WHERE p.customer_id = made.customer_id AND p.planned_for = %(day)s AND p.status = 'planned'
"""  # noqa: S608 (our own constants)


# --- filling ------------------------------------------------------------------------------


def ensure_managers(per_district: int) -> dict[str, list[str]]:
    """The bench areas and account managers (bench_import's four per district), plus more
    per district up to `per_district`; {district code: [usernames]}."""
    from crm.choices import Role

    managers = ensure_areas_and_managers()
    for code, usernames in managers.items():
        for n in range(len(usernames) + 1, per_district + 1):
            username = f"am_{code.lower()}{n}"
            ensure_user(username, Role.ACCOUNT_MANAGER, (code,))
            usernames.append(username)
        del usernames[max(per_district, 1) :]
    return managers


def fill_customers(conn: Any, *, customers: int, per_district: int) -> bool:
    """Customers with their dynamic and system rows up to `customers`, over the bench districts
    and their account managers (`per_district` each); True when any were added."""
    from crm.models import Area, User

    managers = ensure_managers(per_district)
    districts = sorted(managers)
    area_ids = dict(Area.objects.filter(code__in=districts).values_list("code", "id"))
    user_ids = dict(
        User.objects.filter(username__in=[u for d in districts for u in managers[d]]).values_list(
            "username", "id"
        )
    )
    changed = False
    have = conn.execute("SELECT COUNT(*) FROM customers_customer").fetchone()[0]
    if have < customers:
        started = time.perf_counter()
        params = {
            "areas": [area_ids[d] for d in districts],
            "managers": [user_ids[u] for d in districts for u in managers[d]],
            "per_area": per_district,
        }
        for start in range(have + 1, customers + 1, CUSTOMER_CHUNK):
            stop = min(start + CUSTOMER_CHUNK - 1, customers)
            conn.execute(_CUSTOMERS_SQL, {**params, "start": start, "stop": stop})
            conn.commit()
            print(f"  filled {stop:,} customers", flush=True)
        conn.execute(_DYNAMIC_SQL)
        conn.execute(_SYSTEM_SQL)
        conn.commit()
        changed = True
        print(
            f"Filled {customers - have:,} customers (+ dynamic, system rows) in "
            f"{time.perf_counter() - started:.0f} s",
            flush=True,
        )
    else:
        print(f"{have:,} customers already there.", flush=True)
    return changed


def fill(url: str, *, customers: int, per_district: int, as_of: dt.date) -> None:
    """Customers with their dynamic and system rows, if missing; the visit history and its
    follow-ups as of `as_of` (refilled when a kept database was filled as of another day)."""
    import psycopg
    from django.conf import settings

    from visits.models import VisitsConfig

    config = VisitsConfig.current()
    with psycopg.connect(url) as conn:
        changed = fill_customers(conn, customers=customers, per_district=per_district)

        # The history is relative to the planning day: a database kept from another day is
        # refilled, so every run sees the same picture.
        conn.execute("CREATE TABLE IF NOT EXISTS bench_visits_fill (as_of date NOT NULL)")
        filled = conn.execute("SELECT max(as_of) FROM bench_visits_fill").fetchone()[0]
        if filled != as_of or changed:
            started = time.perf_counter()
            conn.execute(
                "TRUNCATE visits_followup, visits_plannedvisit, visits_visit"
                " RESTART IDENTITY CASCADE"
            )
            conn.execute("DELETE FROM bench_visits_fill")
            visits = conn.execute(
                visits_sql(config),
                {
                    "as_of": as_of,
                    "days": WEEKS * 7,
                    "tz": settings.TIME_ZONE,
                    "radius": config.location_radius_m,
                },
            ).rowcount
            follow_ups = conn.execute(
                _FOLLOW_UPS_SQL, {"as_of": as_of, "tz": settings.TIME_ZONE}
            ).rowcount
            conn.execute("INSERT INTO bench_visits_fill (as_of) VALUES (%s)", [as_of])
            conn.commit()
            changed = True
            print(
                f"Filled {visits:,} visits of the {WEEKS} weeks before {as_of} and "
                f"{follow_ups:,} follow-ups in {time.perf_counter() - started:.0f} s",
                flush=True,
            )
        else:
            print(f"Visit history as of {as_of} already there.", flush=True)

        conn.commit()
        conn.autocommit = True
        if changed:
            started = time.perf_counter()
            conn.execute("VACUUM ANALYZE")
            conn.execute("CHECKPOINT")
            print(
                f"VACUUM ANALYZE + CHECKPOINT in {time.perf_counter() - started:.0f} s", flush=True
            )


def describe(as_of: dt.date, today: dt.date) -> dict[str, Any]:
    """What the database holds: customers, shares of cycles, batches and tiers, visits,
    follow-ups; and the server's settings."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT COUNT(*) FROM customers_customer), "
            "(SELECT COUNT(DISTINCT account_manager_id) FROM customers_customer), "
            "(SELECT COUNT(*) FROM visits_visit), "
            "(SELECT COUNT(*) FROM visits_followup WHERE status = 'open'), "
            "(SELECT COUNT(*) FROM visits_followup WHERE status = 'open' AND due_date < %s), "
            "(SELECT COUNT(*) FROM visits_followup), "
            "(SELECT COUNT(*) FROM customers_customerdynamic WHERE status = 'closed'), "
            "pg_size_pretty(pg_total_relation_size('visits_visit')), "
            "current_setting('work_mem'), current_setting('shared_buffers'), "
            "current_setting('autovacuum'), current_setting('server_version')",
            [today],
        )
        row = cursor.fetchone()
        shares = {}
        for column, table in (
            ("visit_cycle", "customers_customerdynamic"),
            ("value_tier", "customers_customersystem"),
        ):
            cursor.execute(
                f"SELECT {column}, COUNT(*) FROM {table} GROUP BY 1 ORDER BY 2 DESC"  # noqa: S608 (our names)
            )
            shares[column] = {value or "(blank)": n for value, n in cursor.fetchall()}
        cursor.execute(
            "SELECT CASE WHEN left(visit_batch, 1) = '周' THEN 'weekday' WHEN visit_batch = '' "
            "THEN '(blank)' ELSE 'other' END, COUNT(*) FROM customers_customerdynamic "
            "GROUP BY 1 ORDER BY 2 DESC"
        )
        shares["visit_batch"] = dict(cursor.fetchall())
    keys = (
        "customers",
        "managers",
        "visits",
        "open_follow_ups",
        "overdue_follow_ups",
        "follow_ups",
        "closed",
        "visits_size",
        "work_mem",
        "shared_buffers",
        "autovacuum",
        "version",
    )
    return dict(zip(keys, row, strict=True)) | {"shares": shares}


# --- measuring ----------------------------------------------------------------------------


def reset_peak() -> bool:
    """Resets this process's VmHWM to its current RSS (Linux ≥ 4.0), so VmHWM after a call is
    that call's peak; False where the kernel does not allow it (then it is the process's)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def measure(call: Callable[[], Any]) -> dict[str, Any]:
    """Runs `call` once: its wall time, the queries it sent, its peak RSS and how much that
    is above the RSS before it, and the CPU seconds this process + its database backend and
    everything else on the machine used meanwhile."""
    from django.db import connection

    connection.ensure_connection()
    backend = connection.connection.info.backend_pid
    queries = [0]

    def count(execute, sql, params, many, context):
        queries[0] += 1
        return execute(sql, params, many, context)

    reset_peak()
    rss = vm_kib("VmRSS")
    own_before = sum(os.times()[:2]) + cpu_seconds([backend]).get(backend, 0.0)
    busy_before, total_before = machine_cpu()
    with connection.execute_wrapper(count):
        started = time.perf_counter()
        result = call()
        wall = time.perf_counter() - started
    busy, total = machine_cpu()
    own = sum(os.times()[:2]) + cpu_seconds([backend]).get(backend, 0.0) - own_before
    peak = vm_kib("VmHWM")
    return {
        "wall": wall,
        "result": result,
        "queries": queries[0],
        "peak_mb": peak / 1024,
        "growth_mb": max(0, peak - rss) / 1024,
        "cpu_own": own,
        "cpu_others": busy - busy_before - own,
        "cpu_available": total - total_before,
    }


def vacuum(*tables: str) -> None:
    """What autovacuum would have done by then (not timed; it may be off)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {', '.join(tables)}")


def reset_plan() -> None:
    """Back to the filled state: no planned visits, none of the visits this script added."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE visits_plannedvisit")
        cursor.execute(
            "DELETE FROM visits_followup WHERE visit_id IN "
            "(SELECT id FROM visits_visit WHERE purpose IN (%s, %s))",
            [DAY_PURPOSE, LOG_PURPOSE],
        )
        cursor.execute(
            "DELETE FROM visits_visit WHERE purpose IN (%s, %s)", [DAY_PURPOSE, LOG_PURPOSE]
        )
    vacuum("visits_plannedvisit", "visits_visit", "visits_followup")


def day_work(day: dt.date) -> int:
    """85% of `day`'s planned visits made (SQL, untimed); returns how many."""
    from django.conf import settings
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            _DAY_WORK_SQL, {"day": day, "tz": settings.TIME_ZONE, "purpose": DAY_PURPOSE}
        )
        done = cursor.rowcount
    vacuum("visits_plannedvisit", "visits_visit")
    return done


def plan_counts(run: Any) -> dict[str, int]:
    return {
        "customers": run.customers,
        "planned": run.planned,
        "withdrawn": run.withdrawn,
        "missed": run.missed,
    }


def plan_text(counts: dict[str, int]) -> str:
    return (
        f"{counts['customers']:,} customers: planned {counts['planned']:,}, withdrawn "
        f"{counts['withdrawn']:,}, missed {counts['missed']:,}"
    )


def plan_state() -> str:
    """Open planned visits now, and how the plan's statuses stand."""
    from django.db.models import Count

    from visits.models import PlannedVisit

    statuses = dict(PlannedVisit.objects.order_by().values_list("status").annotate(n=Count("id")))
    return ", ".join(f"{status} {n:,}" for status, n in sorted(statuses.items()))


def child_first_plan(day: dt.date) -> None:
    """The first plan (empty plan) in this fresh process; prints a JSON line with its time,
    counts and memory."""
    with bench_database(keep=True, reuse=True):
        from visits.services import plan_refresh

        rss_before = vm_kib("VmRSS")
        started = time.perf_counter()
        run = plan_refresh(today=day)
        wall = time.perf_counter() - started
        figures = {
            "wall": wall,
            "counts": plan_counts(run),
            "vmhwm_kib": vm_kib("VmHWM"),
            "rss_before_kib": rss_before,
        }
        print("CHILD " + json.dumps(figures), flush=True)


def run_child(day: dt.date) -> dict[str, Any]:
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603 (this script, our arguments)
        [sys.executable, __file__, "--child-first-plan", day.isoformat()],
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    lines = [line for line in done.stdout.splitlines() if line.startswith("CHILD ")]
    if done.returncode or not lines:
        print(done.stdout[-2000:], done.stderr[-4000:])
        sys.exit("The child's first plan failed.")
    return json.loads(lines[-1][len("CHILD ") :]) | {"process_seconds": elapsed}


def previous_work_day(day: dt.date, weekdays: frozenset[int]) -> dt.date:
    for back in range(1, 8):
        candidate = day - dt.timedelta(days=back)
        if candidate.isoweekday() in weekdays:
            return candidate
    return day - dt.timedelta(days=1)


# --- the pages (issue 23) -------------------------------------------------------------------

# A supervisor of every city: the whole company is their team.
COMPANY_SUPERVISOR = "bench_sup_all"
PAGE_SECONDS = 20  # a page's timed requests stop once they took this long (the slow ones)


def ensure_plan(day: dt.date, today: dt.date) -> str:
    """The plan as it stands today (the planning day's plan, its work, today's refresh), made
    once on a kept database; what was there, or what was made."""
    from visits import services
    from visits.models import PlannedVisit

    if PlannedVisit.objects.filter(planned_for=today).exists():
        return f"plan kept: {plan_state()}"
    reset_plan()
    services.plan_refresh(today=day)
    day_work(day)
    services.plan_refresh(today=today)
    vacuum("visits_plannedvisit", "visits_visit", "visits_followup")
    return f"plan made: {plan_state()}"


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile of `values` (0 < share <= 1)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def time_pages(*, requests: int, today: dt.date) -> None:
    """Each page `requests` times (fewer once they took PAGE_SECONDS) through the Django test
    client (in-process: the server's time without the network, gunicorn or the browser), after
    one untimed request that warms the session and the caches: wall time p50/p95/best, queries,
    size of the answer, and the median CPU time of a request (this process and its database
    backend: steadier than the wall time on a shared machine)."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from crm.choices import Role
    from crm.models import User

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    cities = tuple(sorted({city for city, _name in _cities()}))
    company = ensure_user(COMPANY_SUPERVISOR, Role.SUPERVISOR, cities)
    district = ensure_user(f"bench_sup_{DISTRICT.lower()}", Role.SUPERVISOR, (DISTRICT,))
    manager = User.objects.get(username=f"am_{DISTRICT.lower()}1")
    agenda = reverse("visits:agenda")
    tomorrow = (today + dt.timedelta(days=1)).isoformat()
    pages = [
        ("agenda, account manager (today)", manager, agenda),
        ("agenda, account manager (tomorrow)", manager, f"{agenda}?day={tomorrow}"),
        ("home, account manager", manager, "/"),
        (f"home, supervisor of {DISTRICT}", district, "/"),
        ("home, supervisor of every city", company, "/"),
        ("coverage page, supervisor of every city", company, reverse("visits:coverage")),
    ]
    print(
        f"pages through the test client, {requests} requests each after one warm-up; "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
        flush=True,
    )
    print(
        f"{'page':<44} {'p50 ms':>7} {'p95 ms':>7} {'best':>6} {'queries':>7} {'KB':>6} {'runs':>4}"
    )
    for label, user, url in pages:
        client = Client()
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200, (label, response.status_code)
        times = []
        queries = [0]

        def count(execute, sql, params, many, context, queries=queries):
            queries[0] += 1
            return execute(sql, params, many, context)

        backend = connection.connection.info.backend_pid
        cpu = []
        for _ in range(requests):
            if sum(times) > PAGE_SECONDS:  # enough of a page that takes seconds
                break
            queries[0] = 0
            cpu_before = sum(os.times()[:2]) + cpu_seconds([backend]).get(backend, 0.0)
            with connection.execute_wrapper(count):
                started = time.perf_counter()
                response = client.get(url)
                times.append(time.perf_counter() - started)
            cpu.append(sum(os.times()[:2]) + cpu_seconds([backend]).get(backend, 0.0) - cpu_before)
            assert response.status_code == 200, (label, response.status_code)
        print(
            f"{label:<44} {percentile(times, 0.5) * 1000:>7.1f} "
            f"{percentile(times, 0.95) * 1000:>7.1f} {min(times) * 1000:>6.1f} "
            f"{queries[0]:>7} {len(response.content) / 1024:>6.0f} {len(times):>4} "
            f"{statistics.median(cpu) * 1000:>7.0f}",
            flush=True,
        )
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)


def _cities() -> list[tuple[str, str]]:
    from bench_import import CITY_DISTRICTS

    return list(CITY_DISTRICTS)


# --- main ---------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--log-runs", type=int, default=20, help="Visits logged through visit_log (timed each)."
    )
    parser.add_argument(
        "--managers-per-district",
        type=int,
        default=4,
        help="Account managers per district (4: bench_import's; more gives smaller portfolios).",
    )
    parser.add_argument(
        "--fill-only", action="store_true", help="Fill the database and stop (with --keep)."
    )
    parser.add_argument(
        "--pages",
        type=int,
        default=0,
        metavar="N",
        help="Only time the agenda, home and coverage pages, N requests each (with --reuse).",
    )
    parser.add_argument("--child-first-plan", type=dt.date.fromisoformat, help=argparse.SUPPRESS)
    add_database_arguments(parser)
    args = parser.parse_args()
    url = require_postgres()
    if args.child_first_plan:
        child_first_plan(args.child_first_plan)
        return

    with bench_database(keep=args.keep, reuse=args.reuse) as database:
        from django.db import connection
        from django.utils import timezone

        from crm.choices import AuditSource, Role
        from crm.models import User
        from crm.services import Actor
        from customers.models import Customer
        from visits import selectors, services
        from visits.choices import PlanStatus, VisitType
        from visits.models import FollowUp, PlannedVisit, Visit, VisitsConfig

        migrate_if_needed()
        config = VisitsConfig.current()
        today = timezone.localdate()
        day = previous_work_day(today, config.work_weekdays)
        print(
            f"{today}; {database}; CPUs: {os.cpu_count()}; {args.customers:,} customers; "
            f"planning day {day:%a %Y-%m-%d}, next day {today:%a %Y-%m-%d}; {code_version()}; "
            f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
            flush=True,
        )
        fill(url, customers=args.customers, per_district=args.managers_per_district, as_of=day)
        if args.fill_only:
            return
        if args.pages:
            print(ensure_plan(day, today), flush=True)
            time_pages(requests=args.pages, today=today)
            return
        reset_plan()  # what an earlier run on a kept database added
        facts = describe(day, today)
        print(
            f"{facts['customers']:,} customers ({facts['closed']:,} closed) over "
            f"{facts['managers']} account managers (about "
            f"{facts['customers'] // max(1, facts['managers']):,} each); {facts['visits']:,} "
            f"visits ({facts['visits_size']} with indexes); {facts['follow_ups']:,} follow-ups, "
            f"{facts['open_follow_ups']:,} open, {facts['overdue_follow_ups']:,} overdue today",
            flush=True,
        )
        for name, counts in facts["shares"].items():
            total = sum(counts.values())
            print(
                f"  {name}: "
                + ", ".join(f"{value} {n / total:.0%}" for value, n in counts.items()),
                flush=True,
            )
        print(
            f"PostgreSQL {facts['version']}: work_mem {facts['work_mem']}, shared_buffers "
            f"{facts['shared_buffers']}, autovacuum {facts['autovacuum']}; VisitsConfig: cycles "
            f"{config.cycle_days}, default {config.default_cycle}, potential shift "
            f"{config.potential_shift}, horizon {config.horizon_days} days, work days "
            f"{config.work_days}",
            flush=True,
        )
        if not reset_peak():
            print("  (/proc/self/clear_refs not writable: peaks are the process's so far)")

        results: dict[str, list[dict[str, Any]]] = {}
        notes: dict[str, str] = {}
        failures: list[str] = []

        def record(label: str, figures: dict[str, Any], note: str) -> None:
            results.setdefault(label, []).append(figures)
            notes[label] = note
            print(
                f"  {label}: {figures['wall']:.2f} s, {figures['queries']} queries, peak "
                f"{figures['peak_mb']:.0f} MB (+{figures['growth_mb']:.0f}); CPU s ours "
                f"{figures['cpu_own']:.1f}, others {figures['cpu_others']:.1f} of "
                f"{figures['cpu_available']:.1f}; {note}",
                flush=True,
            )

        # 1. The first plan in a fresh process, for its peak memory.
        reset_plan()
        child = run_child(day)
        print(
            f"  first plan in a fresh child process: {child['wall']:.2f} s, "
            f"{plan_text(child['counts'])}; VmHWM {child['vmhwm_kib'] / 1024:.0f} MB (after "
            f"django.setup: {child['rss_before_kib'] / 1024:.0f} MB); process incl. start-up "
            f"{child['process_seconds']:.1f} s",
            flush=True,
        )

        # 2. The planning job: first plan, the same day again, the next day.
        first_label = f"plan_refresh({day:%a}), empty plan"
        again_label = f"plan_refresh({day:%a}) again (idempotent)"
        next_label = f"plan_refresh({today:%a}), the next day"
        day_done: list[int] = []
        for n in range(args.runs):
            print(f"run {n + 1}:", flush=True)
            reset_plan()
            figures = measure(lambda: services.plan_refresh(today=day))
            counts = plan_counts(figures["result"])
            record(first_label, figures, plan_text(counts))
            if counts["planned"] == 0 or counts["withdrawn"] or counts["missed"]:
                failures.append(f"{first_label}: {plan_text(counts)}")
            if counts != child["counts"]:
                failures.append(f"{first_label}: {counts} differs from the child's")
            vacuum("visits_plannedvisit")
            figures = measure(lambda: services.plan_refresh(today=day))
            counts = plan_counts(figures["result"])
            record(again_label, figures, plan_text(counts))
            if counts["planned"] or counts["withdrawn"] or counts["missed"]:
                failures.append(f"{again_label} NOT IDEMPOTENT: {plan_text(counts)}")
            day_done.append(day_work(day))
            print(
                f"  {day:%a}'s work (SQL, untimed): {day_done[-1]:,} planned visits made",
                flush=True,
            )
            figures = measure(lambda: services.plan_refresh(today=today))
            record(next_label, figures, plan_text(plan_counts(figures["result"])))
            vacuum("visits_plannedvisit")
            print(f"  plan now: {plan_state()}", flush=True)

        # 3. Reads on the plan as it stands today.
        admin = ensure_user("bench_admin", Role.ADMINISTRATOR)
        supervisor = ensure_user(f"bench_sup_{DISTRICT.lower()}", Role.SUPERVISOR, (DISTRICT,))
        manager = User.objects.get(username=f"am_{DISTRICT.lower()}1")
        # The agenda the account manager opens on the next working day (today on one).
        agenda_day = next(
            today + dt.timedelta(days=n)
            for n in range(7)
            if (today + dt.timedelta(days=n)).isoweekday() in config.work_weekdays
        )

        def coverage_text(lines: list[Any]) -> str:
            customers = sum(line.customers for line in lines)
            in_cycle = sum(line.in_cycle for line in lines)
            return (
                f"{len(lines)} managers, {customers:,} customers, {in_cycle:,} in cycle "
                f"({100 * in_cycle / max(1, customers):.1f}%), "
                f"{sum(line.overdue for line in lines):,} overdue, "
                f"{sum(line.visits for line in lines):,} visits in 30 days, "
                f"{sum(line.follow_ups_overdue for line in lines):,} follow-ups overdue"
            )

        def drill_text(rows: list[Any]) -> str:
            return (
                f"{len(rows):,} customers, {sum(r.in_cycle for r in rows):,} in cycle, "
                f"{sum(r.overdue_since is not None for r in rows):,} overdue"
            )

        def agenda_text(agenda: Any) -> str:
            upcoming = sum(len(plans) for _day, plans in agenda.upcoming)
            return (
                f"overdue {len(agenda.overdue):,}, today {len(agenda.planned):,}, done "
                f"{len(agenda.done):,}, skipped {len(agenda.skipped):,}, upcoming "
                f"{upcoming:,} over {len(agenda.upcoming)} days, follow-ups due "
                f"{len(agenda.follow_ups_due):,}"
            )

        reads = (
            (
                "coverage(), administrator (all customers)",
                lambda: selectors.coverage(user=admin, today=today),
                coverage_text,
            ),
            (
                f"coverage(), supervisor of {DISTRICT}",
                lambda: selectors.coverage(user=supervisor, today=today),
                coverage_text,
            ),
            (
                f"coverage_customers() of {manager.username}",
                lambda: selectors.coverage_customers(
                    user=supervisor, today=today, account_manager=manager
                ),
                drill_text,
            ),
            (
                f"agenda() of {manager.username}, {agenda_day:%a}",
                lambda: selectors.agenda(user=manager, account_manager=manager, day=agenda_day),
                agenda_text,
            ),
        )
        print("reads:", flush=True)
        for label, call, text in reads:
            for _ in range(args.runs):
                figures = measure(call)
                record(label, figures, text(figures["result"]))

        # 4. Logging visits, each started from one of the manager's open planned visits.
        print("visit_log:", flush=True)
        plans = list(
            PlannedVisit.objects.filter(
                customer__account_manager=manager, status=PlanStatus.PLANNED
            ).order_by("planned_for", "customer_id")[: args.log_runs]
        )
        actor = Actor.of(manager, AuditSource.PAGE)
        logged: list[int] = []
        log_label = "visit_log(), with a follow-up and the replan"
        visits_before = Visit.objects.count()
        for plan in plans:
            customer = Customer.objects.select_related("dynamic").get(pk=plan.customer_id)
            now = timezone.now()
            data = {
                "visited_at": now - dt.timedelta(minutes=25),
                "ended_at": now - dt.timedelta(minutes=5),
                "visit_type": VisitType.ROUTINE,
                "purpose": LOG_PURPOSE,
                "stock_level": "low",
                "stock_notes": "重点品牌库存偏少",
                "price_display": "compliant",
                "latitude": customer.dynamic.latitude,
                "longitude": customer.dynamic.longitude,
                "location_accuracy_m": 12,
            }
            follow_ups = [{"action": "补充重点品牌货源", "due_date": today + dt.timedelta(days=3)}]
            figures = measure(
                lambda customer=customer, data=data, follow_ups=follow_ups, plan=plan: (
                    services.visit_log(
                        customer=customer,
                        data=data,
                        actor=actor,
                        follow_ups=follow_ups,
                        plan=plan,
                        client_id=uuid.uuid4(),
                    )
                )
            )
            logged.append(figures["result"].pk)
            results.setdefault(log_label, []).append(figures)
        stored = Visit.objects.count() - visits_before
        done = PlannedVisit.objects.filter(visit_id__in=logged, status=PlanStatus.DONE).count()
        follow_ups_made = FollowUp.objects.filter(visit_id__in=logged).count()
        notes[log_label] = (
            f"{stored} visits stored, {done} plans done, {follow_ups_made} follow-ups "
            f"(of {len(plans)})"
        )
        if not plans or stored != len(plans) or done != len(plans):
            failures.append(f"{log_label}: {notes[log_label]}")
        if plans:
            seconds = [f["wall"] for f in results[log_label]]
            print(
                f"  {len(plans)} visits: median {statistics.median(seconds) * 1000:.0f} ms, "
                f"best {min(seconds) * 1000:.0f} ms, worst {max(seconds) * 1000:.0f} ms; "
                f"{results[log_label][0]['queries']} queries each; {notes[log_label]}",
                flush=True,
            )

        # The table.
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM visits_plannedvisit")
            plan_rows = cursor.fetchone()[0]
        print(
            f"\n{facts['customers']:,} customers, {facts['managers']} account managers, "
            f"{facts['visits']:,} visits filled, {plan_rows:,} planned visits now; seconds; "
            f"queries sent (the most of any run); peak RSS of the call (+ above its start) in MB"
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
        print(
            f"first plan in a fresh process: {child['wall']:.2f} s, peak memory VmHWM "
            f"{child['vmhwm_kib'] / 1024:.0f} MB ({child['rss_before_kib'] / 1024:.0f} MB "
            f"after django.setup); {plan_text(child['counts'])}"
        )
        print(
            f"{day:%a}'s work before each next-day run: "
            f"{', '.join(f'{n:,}' for n in day_done)} planned visits made"
        )
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
            "checks: first plan planned and withdrew nothing; the same day again changed "
            "nothing; every logged visit stored and its plan done"
        )


if __name__ == "__main__":
    main()
