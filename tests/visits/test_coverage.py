"""Coverage figures for supervisors, on a hand-made case.

Visits are logged through the service at chosen past times, and the selectors are asked
"as of" today (the server's local date), so T below is today.

am_cov (area TH) has four open customers and one closed one:
- weekly, visited T-3                      → in cycle (3 < 7)
- weekly, visited T-40 and T-8             → out (8 ≥ 7)
- monthly but potential value, so planned fortnightly, visited T-20
                                           → out (20 ≥ 14; it would be in on a 30-day cycle)
- no cycle (monthly), never visited, a planned visit open since T-2
                                           → out, and overdue
- closed since its visit on T-2 (and overdue since T-1): not one of his customers any more,
  but the visit was made, so it counts among his visits
So 1 of 4 in cycle (25 %), 1 overdue, 4 visits in the last 30 days (T-3, T-8, T-20, T-2;
T-40 is older), and 1 overdue follow-up of his own (the T-8 visit left four: due T-5 (his,
overdue), due T (his, not overdue yet), due T-5 owned by the supervisor, due T-6 but done).
"""

from __future__ import annotations

import datetime as dt

import pytest

from crm.choices import Role
from customers.choices import CustomerStatus, ValueTier
from customers.models import CustomerDynamic, CustomerSystem
from tests.customers.factories import make_customer
from tests.visits.factories import actor, at, log_visit, make_plan, today
from visits import selectors, services


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


def weekdays_in_last_30_days(t: dt.date) -> int:
    """Mon–Fri days from t-29 to t, counted the way a person would with a calendar: t-29 to
    t-2 are 28 days, four whole weeks, so 20 working days; then add t-1 and t if they fall on
    Monday to Friday. (Always 20, 21 or 22.)"""
    return 20 + sum(1 for day in (t - days(1), t) if day.isoweekday() <= 5)


@pytest.fixture
def world(areas, make_user):
    people = {
        "am": make_user(Role.ACCOUNT_MANAGER, [areas["TH"]], username="am_cov"),
        "am_idle": make_user(Role.ACCOUNT_MANAGER, [areas["TH"]], username="am_idle"),
        "am_gone": make_user(
            Role.ACCOUNT_MANAGER, [areas["TH"]], username="am_gone", is_active=False
        ),
        "am_yx": make_user(Role.ACCOUNT_MANAGER, [areas["YX"]], username="am_yx"),
        "sup_th": make_user(Role.SUPERVISOR, [areas["TH"]], username="sup_th"),
        "sup_yx": make_user(Role.SUPERVISOR, [areas["YX"]], username="sup_yx"),
        "sup_gz": make_user(Role.SUPERVISOR, [areas["GZ"]], username="sup_gz"),
        "sup_none": make_user(Role.SUPERVISOR, [], username="sup_none"),
        "lo_th": make_user(Role.LICENSE_OFFICER, [areas["TH"]], username="lo_th"),
        "admin": make_user(Role.ADMINISTRATOR, username="admin_cov"),
        "erp": make_user(Role.INTEGRATION_CLIENT, username="erp"),
    }
    am, th = people["am"], areas["TH"]
    customers = {
        "weekly_in": make_customer(th, am, visit_cycle="weekly"),
        "weekly_out": make_customer(th, am, visit_cycle="weekly"),
        "boosted": make_customer(th, am, visit_cycle="monthly"),
        "never": make_customer(th, am),
        "closed": make_customer(th, am, visit_cycle="weekly"),
        "yx": make_customer(areas["YX"], people["am_yx"], visit_cycle="weekly"),
    }
    CustomerSystem.objects.filter(pk=customers["boosted"].pk).update(value_tier=ValueTier.POTENTIAL)
    log_visit(customers["weekly_in"], am, visited_at=at(3))
    log_visit(customers["weekly_out"], am, visited_at=at(40))
    log_visit(
        customers["weekly_out"],
        am,
        visited_at=at(8),
        follow_ups=[
            {"action": "Overdue, his", "due_date": today() - days(5)},
            {"action": "Due today, his", "due_date": today()},
            {
                "action": "Overdue, supervisor's",
                "due_date": today() - days(5),
                "owner": people["sup_th"],
            },
            {"action": "Overdue but done", "due_date": today() - days(6)},
        ],
    )
    done = customers["weekly_out"].follow_ups.get(action="Overdue but done")
    services.follow_up_complete(follow_up=done, note="Done", actor=actor(am))
    log_visit(customers["boosted"], am, visited_at=at(20))
    make_plan(customers["never"], today() - days(2), cycle_days=30)
    # the closed shop was visited and is overdue: none of it counts
    log_visit(customers["closed"], am, visited_at=at(2))
    make_plan(customers["closed"], today() - days(1))
    CustomerDynamic.objects.filter(pk=customers["closed"].pk).update(status=CustomerStatus.CLOSED)
    log_visit(customers["yx"], people["am_yx"], visited_at=at(1))
    return {**people, **customers}


def line_of(lines, user):
    [line] = [line for line in lines if line.manager == user]
    return line


def test_the_figures_of_one_account_manager(world):
    t = today()

    lines = selectors.coverage(user=world["sup_th"], today=t)

    assert [line.manager.username for line in lines] == ["am_cov", "am_idle"]
    line = line_of(lines, world["am"])
    assert (line.customers, line.in_cycle, line.share) == (4, 1, 25.0)
    assert line.overdue == 1
    # T-3, T-8, T-20 and T-2 (the closed shop's: the visit happened, it counts); not T-40
    assert line.visits == 4
    assert line.visits_per_day == pytest.approx(4 / weekdays_in_last_30_days(t))
    assert line.follow_ups_overdue == 1
    idle = line_of(lines, world["am_idle"])
    assert (idle.customers, idle.in_cycle, idle.share, idle.visits, idle.visits_per_day) == (
        0,
        0,
        None,
        0,
        0.0,
    )


def test_the_drill_down_per_customer(world):
    t = today()

    rows = selectors.coverage_customers(user=world["sup_th"], today=t, account_manager=world["am"])

    assert [
        (r.customer_id, r.cycle, r.cycle_days, r.boosted, r.last_visit, r.in_cycle, r.next_due)
        for r in rows
    ] == [
        (world["weekly_in"].pk, "weekly", 7, False, t - days(3), True, t + days(4)),
        (world["weekly_out"].pk, "weekly", 7, False, t - days(8), False, t),
        (world["boosted"].pk, "fortnightly", 14, True, t - days(20), False, t),
        (world["never"].pk, "monthly", 30, False, None, False, t),
    ]
    assert [r.overdue_since for r in rows] == [None, None, None, t - days(2)]
    assert {r.account_manager_id for r in rows} == {world["am"].pk}
    # the account manager sees the same list of his own
    assert selectors.coverage_customers(user=world["am"], today=t) == rows


def test_without_the_boost_the_potential_value_customer_is_in_cycle(world):
    services.visits_config_update(data={"potential_shift": 0}, actor=actor(world["admin"]))

    line = line_of(selectors.coverage(user=world["sup_th"], today=today()), world["am"])

    # T-20 is inside a 30-day cycle
    assert (line.customers, line.in_cycle, line.share) == (4, 2, 50.0)


def test_the_period_of_visits_per_day(world):
    t = today()

    line = line_of(selectors.coverage(user=world["sup_th"], today=t, period_days=7), world["am"])

    # T-6 to T: the T-3 and T-2 visits; any 7 days in a row hold exactly 5 of Monday to Friday
    assert line.visits == 2
    assert line.visits_per_day == pytest.approx(2 / 5)


def test_the_figures_are_as_of_the_day_asked(world):
    # three days ago the T-3 visit was that day's, and T-8 was 5 days old: both in cycle
    line = line_of(selectors.coverage(user=world["sup_th"], today=today() - days(3)), world["am"])
    assert (line.customers, line.in_cycle) == (4, 2)
    # the plan open since T-2 was not overdue yet
    assert line.overdue == 0


def test_other_areas_see_none_of_it(world):
    t = today()

    lines = selectors.coverage(user=world["sup_yx"], today=t)

    assert [line.manager for line in lines] == [world["am_yx"]]
    assert (lines[0].customers, lines[0].in_cycle, lines[0].visits) == (1, 1, 1)
    rows = selectors.coverage_customers(user=world["sup_yx"], today=t)
    assert [r.customer_id for r in rows] == [world["yx"].pk]
    assert selectors.coverage(user=world["sup_none"], today=t) == []
    assert selectors.coverage_customers(user=world["sup_none"], today=t) == []


def test_the_city_supervisor_sees_both_districts_with_the_same_figures(world):
    t = today()

    lines = selectors.coverage(user=world["sup_gz"], today=t)

    assert [line.manager.username for line in lines] == ["am_cov", "am_idle", "am_yx"]
    mine = line_of(lines, world["am"])
    theirs = line_of(selectors.coverage(user=world["sup_th"], today=t), world["am"])
    assert (mine.customers, mine.in_cycle, mine.overdue, mine.visits) == (
        theirs.customers,
        theirs.in_cycle,
        theirs.overdue,
        theirs.visits,
    )
    assert mine.follow_ups_overdue == theirs.follow_ups_overdue == 1


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("admin", ["am_cov", "am_idle", "am_yx"]),
        ("erp", ["am_cov", "am_idle", "am_yx"]),
        ("sup_gz", ["am_cov", "am_idle", "am_yx"]),
        ("sup_th", ["am_cov", "am_idle"]),
        ("lo_th", ["am_cov", "am_idle"]),
        ("sup_yx", ["am_yx"]),
        ("sup_none", []),
        ("am", ["am_cov"]),
        ("am_yx", ["am_yx"]),
    ],
)
def test_account_managers_in_scope_per_role(world, who, expected):
    managers = selectors.account_managers_in_scope(user=world[who])
    assert sorted(m.username for m in managers) == expected


def test_work_days_between_counted_by_hand():
    # Monday 26 October to Tuesday 24 November 2026: four whole weeks (20) and Mon 23, Tue 24
    start, end = dt.date(2026, 10, 26), dt.date(2026, 11, 24)
    assert selectors.work_days_between(start, end, frozenset({1, 2, 3, 4, 5})) == 22
    # Mondays, Wednesdays, Fridays: three a week for four weeks, and Monday 23 November
    assert selectors.work_days_between(start, end, frozenset({1, 3, 5})) == 13
    assert selectors.work_days_between(end, end, frozenset({2})) == 1
    assert selectors.work_days_between(end, start, frozenset({1, 2, 3, 4, 5})) == 0


def test_coverage_of_an_area_has_its_account_managers_only(world, areas):
    # given: the city supervisor sees the managers of TH (am_cov, am_idle) and YX (am_yx)
    sup = world["sup_gz"]

    # when: the figures are asked for one district, and for the city
    yx = selectors.coverage(user=sup, area=areas["YX"])
    city = selectors.coverage(user=sup, area=areas["GZ"])

    # then: a district keeps its own managers; the city keeps the districts below it
    assert [line.manager.username for line in yx] == ["am_yx"]
    assert [line.manager.username for line in city] == ["am_cov", "am_idle", "am_yx"]


def test_coverage_total_adds_the_lines_up():
    a = selectors.ManagerCoverage(
        manager=None,
        customers=4,
        in_cycle=1,
        overdue=1,
        visits=6,
        visits_per_day=0.3,
        follow_ups_overdue=1,
    )
    b = selectors.ManagerCoverage(
        manager=None,
        customers=6,
        in_cycle=4,
        overdue=0,
        visits=4,
        visits_per_day=0.2,
        follow_ups_overdue=2,
    )

    total = selectors.coverage_total([a, b])

    # 5 of 10 customers within their cycle: 50 %
    assert (total.customers, total.in_cycle, total.share) == (10, 5, 50.0)
    assert (total.overdue, total.visits, total.follow_ups_overdue) == (1, 10, 3)
    assert total.visits_per_day == pytest.approx(0.5)
    assert selectors.coverage_total([]).share is None
