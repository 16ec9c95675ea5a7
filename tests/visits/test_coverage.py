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


# --- the figures counted in SQL are the drill-down's, added up -------------------------------


def totals_of_rows(rows, manager_id):
    mine = [r for r in rows if r.account_manager_id == manager_id]
    return (
        len(mine),
        sum(r.in_cycle for r in mine),
        sum(r.overdue_since is not None for r in mine),
    )


def test_the_lines_add_up_the_drill_down_at_the_edges_of_the_cycles(areas, make_user):
    # given: one manager's shops on the edges of their cycles (local times, Asia/Shanghai)
    th = areas["TH"]
    am = make_user(Role.ACCOUNT_MANAGER, [th], username="am_edges")
    sup = make_user(Role.SUPERVISOR, [th], username="sup_edges")
    elsewhere = make_user(Role.ACCOUNT_MANAGER, [areas["YX"]], username="am_elsewhere")
    shops = {
        # weekly: the last day a visit covers is T-6 (from 00:00); T-7 at 23:59 is out
        "weekly_t6_midnight": ("weekly", None, at(6, 0, 0)),
        "weekly_t7_late": ("weekly", None, at(7, 23, 59)),
        # fortnightly: T-13 in, T-14 out
        "fortnightly_t13": ("fortnightly", None, at(13)),
        "fortnightly_t14": ("fortnightly", None, at(14)),
        # monthly (30 days): T-29 in, T-30 out
        "monthly_t29": ("monthly", None, at(29, 23, 0)),
        "monthly_t30": ("monthly", None, at(30, 1, 0)),
        # a cycle the settings do not know, or none: the default (monthly)
        "odd_t20": ("quarterly", None, at(20)),
        "blank_t31": ("", None, at(31)),
        # potential value: one step shorter, weekly stays weekly
        "potential_monthly_t13": ("monthly", ValueTier.POTENTIAL, at(13)),
        "potential_monthly_t14": ("monthly", ValueTier.POTENTIAL, at(14)),
        "potential_weekly_t6": ("weekly", ValueTier.POTENTIAL, at(6)),
        "potential_blank_t15": ("", ValueTier.POTENTIAL, at(15)),
        "never": ("weekly", None, None),
    }
    made = {}
    for name, (cycle, tier, visited_at) in shops.items():
        customer = make_customer(th, am, visit_cycle="" if cycle == "quarterly" else cycle)
        if cycle == "quarterly":  # a value of older data the choices no longer hold
            CustomerDynamic.objects.filter(pk=customer.pk).update(visit_cycle=cycle)
        if tier:
            CustomerSystem.objects.filter(pk=customer.pk).update(value_tier=tier)
        if visited_at:
            log_visit(customer, am, visited_at=visited_at)
        made[name] = customer
    # two overdue plans on one shop count once
    make_plan(made["never"], today() - days(3))
    make_plan(made["never"], today() - days(1))
    # a shop of TH now handled by a manager of another district: not in this team's figures
    reassigned = make_customer(th, elsewhere, visit_cycle="weekly")
    log_visit(reassigned, elsewhere, visited_at=at(1))
    make_plan(reassigned, today() - days(2))
    t = today()

    # when
    lines = selectors.coverage(user=sup, today=t)
    rows = selectors.coverage_customers(user=sup, today=t)

    # then: in cycle by hand, and the same as the drill-down's rows added up
    line = line_of(lines, am)
    in_cycle = {
        "weekly_t6_midnight",
        "fortnightly_t13",
        "monthly_t29",
        "odd_t20",
        "potential_monthly_t13",
        "potential_weekly_t6",
    }
    assert {
        name for name, c in made.items() for r in rows if r.customer_id == c.pk and r.in_cycle
    } == in_cycle
    assert (line.customers, line.in_cycle, line.overdue) == (13, len(in_cycle), 1)
    assert (line.customers, line.in_cycle, line.overdue) == totals_of_rows(rows, am.pk)
    assert [line.manager.username for line in lines] == ["am_edges"]


def test_the_lines_of_every_watcher_add_up_their_drill_down(world):
    t = today()
    for who in ("sup_th", "sup_yx", "sup_gz", "admin", "am"):
        rows = selectors.coverage_customers(user=world[who], today=t)
        lines = selectors.coverage(user=world[who], today=t)
        for line in lines:
            assert (line.customers, line.in_cycle, line.overdue) == totals_of_rows(
                rows, line.manager.pk
            ), (who, line.manager.username)
        # the home card's shares are the same lines without the visits and follow-ups
        shares = selectors.coverage_shares(user=world[who], today=t)
        assert [(s.manager, s.customers, s.in_cycle, s.overdue) for s in shares] == [
            (line.manager, line.customers, line.in_cycle, line.overdue) for line in lines
        ]
