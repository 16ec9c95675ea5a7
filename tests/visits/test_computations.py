"""The pure planning and location rules, on small cases checkable with a calendar.

November 2026: Monday 23, Tuesday 24, Wednesday 25, ... Saturday 28, Sunday 29, Monday 30;
December: Monday 7, Sunday 13, Monday 14.
"""

from __future__ import annotations

import datetime as dt

import pytest

from visits.computations import (
    batch_weekday,
    distance_m,
    effective_cycle,
    in_cycle,
    next_plan_day,
    plan_dates,
)

MON = dt.date(2026, 11, 23)
TUE = dt.date(2026, 11, 24)
WED = dt.date(2026, 11, 25)
FRI = dt.date(2026, 11, 27)
SAT = dt.date(2026, 11, 28)
WORK = (1, 2, 3, 4, 5)


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


def test_the_calendar_of_these_tests():
    assert [d.isoweekday() for d in (MON, TUE, WED, FRI, SAT)] == [1, 2, 3, 5, 6]


# --- batch_weekday ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "batch",
    ["周二", "星期二", "礼拜二", "Tue", "tue.", "Tuesday", " TUESDAY ", "화", "화요일"],
)
def test_a_batch_naming_tuesday_is_weekday_2(batch):
    assert batch_weekday(batch) == 2


@pytest.mark.parametrize(
    ("batch", "weekday"), [("周一", 1), ("Fri", 5), ("周六", 6), ("周日", 7), ("星期天", 7)]
)
def test_other_weekday_names(batch, weekday):
    assert batch_weekday(batch) == weekday


@pytest.mark.parametrize("batch", ["A", "batch 3", "二", "", None])
def test_a_batch_naming_no_weekday_gives_none(batch):
    assert batch_weekday(batch) is None


# --- effective_cycle -------------------------------------------------------------------------


@pytest.mark.parametrize("cycle", ["", None, "yearly"])
def test_a_blank_or_unknown_cycle_is_the_default(cycle):
    assert effective_cycle(cycle, potential=False, shift=1) == ("monthly", False)
    assert effective_cycle(cycle, potential=False, shift=1, default="weekly") == (
        "weekly",
        False,
    )


@pytest.mark.parametrize(
    ("cycle", "expected"),
    [
        ("monthly", ("fortnightly", True)),
        ("fortnightly", ("weekly", True)),
        # nothing is shorter than weekly: not shortened, so not "boosted"
        ("weekly", ("weekly", False)),
        # blank is the default (monthly), then shortened
        ("", ("fortnightly", True)),
    ],
)
def test_potential_value_customers_are_one_step_shorter(cycle, expected):
    assert effective_cycle(cycle, potential=True, shift=1) == expected


@pytest.mark.parametrize(
    ("cycle", "expected"),
    [
        ("monthly", ("weekly", True)),
        ("fortnightly", ("weekly", True)),
        ("weekly", ("weekly", False)),
    ],
)
def test_a_shift_of_two_steps_stops_at_weekly(cycle, expected):
    assert effective_cycle(cycle, potential=True, shift=2) == expected


@pytest.mark.parametrize("cycle", ["weekly", "fortnightly", "monthly"])
def test_no_shift_or_no_potential_leaves_the_cycle(cycle):
    assert effective_cycle(cycle, potential=True, shift=0) == (cycle, False)
    assert effective_cycle(cycle, potential=False, shift=2) == (cycle, False)


# --- next_plan_day ---------------------------------------------------------------------------


def test_next_plan_day_goes_to_the_batch_weekday():
    assert next_plan_day(MON, weekday=2, work_weekdays=WORK) == TUE
    assert next_plan_day(TUE, weekday=2, work_weekdays=WORK) == TUE
    # from Wednesday 25th the next Tuesday is 1 December
    assert next_plan_day(WED, weekday=2, work_weekdays=WORK) == dt.date(2026, 12, 1)
    # the batch's weekday wins over the working days
    assert next_plan_day(MON, weekday=6, work_weekdays=WORK) == SAT


def test_next_plan_day_skips_the_weekend():
    assert next_plan_day(FRI, weekday=None, work_weekdays=WORK) == FRI
    assert next_plan_day(SAT, weekday=None, work_weekdays=WORK) == dt.date(2026, 11, 30)
    assert next_plan_day(SAT + days(1), weekday=None, work_weekdays=WORK) == dt.date(2026, 11, 30)
    # working days Monday, Wednesday, Friday: Tuesday moves to Wednesday
    assert next_plan_day(TUE, weekday=None, work_weekdays=(1, 3, 5)) == WED


def test_without_working_days_any_day_will_do():
    assert next_plan_day(SAT, weekday=None, work_weekdays=()) == SAT


# --- plan_dates ------------------------------------------------------------------------------


def test_a_weekly_customer_never_visited_is_planned_today_and_a_week_later():
    # horizon 14 days: Monday 23 November to Sunday 6 December
    assert plan_dates(today=MON, horizon_days=14, cycle_days=7, last_visit=None) == [
        MON,
        MON + days(7),
    ]


def test_the_horizon_ends_the_day_before_today_plus_horizon():
    # horizon 8: the last day is MON + 7, so the second weekly visit fits
    assert plan_dates(today=MON, horizon_days=8, cycle_days=7, last_visit=None) == [
        MON,
        MON + days(7),
    ]
    # horizon 7: MON + 7 is one day too far
    assert plan_dates(today=MON, horizon_days=7, cycle_days=7, last_visit=None) == [MON]
    assert plan_dates(today=MON, horizon_days=1, cycle_days=7, last_visit=None) == [MON]


def test_nothing_is_planned_without_a_horizon_or_a_cycle():
    assert plan_dates(today=MON, horizon_days=0, cycle_days=7, last_visit=None) == []
    assert plan_dates(today=MON, horizon_days=14, cycle_days=0, last_visit=None) == []


def test_a_customer_visited_inside_its_cycle_is_not_planned_again():
    # monthly, visited 10 days ago (Friday 13 Nov): due again on 13 Dec, after the horizon
    last = MON - days(10)
    assert plan_dates(today=MON, horizon_days=14, cycle_days=30, last_visit=last) == []
    # a 30-day horizon (to 22 Dec) reaches 13 Dec, a Sunday, planned on Monday 14 Dec
    assert plan_dates(today=MON, horizon_days=30, cycle_days=30, last_visit=last) == [
        dt.date(2026, 12, 14)
    ]
    # visited 12 days ago (Wednesday 11 Nov): due Friday 11 Dec
    assert plan_dates(today=MON, horizon_days=30, cycle_days=30, last_visit=MON - days(12)) == [
        dt.date(2026, 12, 11)
    ]


def test_a_customer_whose_cycle_has_passed_is_planned_today():
    # weekly, visited 9 days ago: was due two days ago, so today
    assert plan_dates(today=MON, horizon_days=14, cycle_days=7, last_visit=MON - days(9)) == [
        MON,
        MON + days(7),
    ]
    # weekly, visited 3 days ago (Friday): due Friday 27th, then Friday 4 Dec
    assert plan_dates(today=MON, horizon_days=14, cycle_days=7, last_visit=MON - days(3)) == [
        FRI,
        FRI + days(7),
    ]


def test_days_are_moved_to_the_batch_weekday():
    # weekly batch "周三" from Monday: Wednesdays 25 Nov and 2 Dec
    assert plan_dates(today=MON, horizon_days=14, cycle_days=7, last_visit=None, weekday=3) == [
        WED,
        WED + days(7),
    ]


def test_days_are_moved_to_working_days():
    # today Saturday 28 Nov, horizon to Friday 11 Dec: Mondays 30 Nov and 7 Dec
    assert plan_dates(today=SAT, horizon_days=14, cycle_days=7, last_visit=None) == [
        dt.date(2026, 11, 30),
        dt.date(2026, 12, 7),
    ]
    # every day a working day: Saturdays
    assert plan_dates(
        today=SAT,
        horizon_days=14,
        cycle_days=7,
        last_visit=None,
        work_weekdays=(1, 2, 3, 4, 5, 6, 7),
    ) == [SAT, SAT + days(7)]


def test_a_kept_visit_blocks_planning_within_a_cycle_of_it():
    # moved by a person to Wednesday 25th: that one stands for this week, the next a week later
    assert plan_dates(today=MON, horizon_days=14, cycle_days=7, last_visit=None, kept=[WED]) == [
        WED + days(7)
    ]


def test_an_overdue_kept_visit_counts_as_due_today():
    # planned for yesterday and not done: nothing new before next Monday
    assert plan_dates(
        today=MON, horizon_days=14, cycle_days=7, last_visit=None, kept=[MON - days(1)]
    ) == [MON + days(7)]


def test_a_kept_visit_more_than_a_cycle_away_does_not_block_today():
    # kept on Thursday 3 Dec (10 days ahead): today is planned; the 30th is too close to the 3rd
    assert plan_dates(
        today=MON, horizon_days=14, cycle_days=7, last_visit=None, kept=[MON + days(10)]
    ) == [MON]


# --- distance_m ------------------------------------------------------------------------------


def test_a_thousandth_of_a_degree_of_latitude_is_about_111_metres():
    assert distance_m(23.130, 113.320, 23.131, 113.320) == pytest.approx(111.2, abs=0.1)
    assert distance_m(23.130, 113.320, 23.130, 113.320) == 0


def test_beijing_to_shanghai_is_about_1067_km():
    beijing, shanghai = (39.9042, 116.4074), (31.2304, 121.4737)
    assert distance_m(*beijing, *shanghai) == pytest.approx(1_067_000, rel=0.01)
    assert distance_m(*beijing, *shanghai) == pytest.approx(distance_m(*shanghai, *beijing))


# --- in_cycle --------------------------------------------------------------------------------


def test_in_cycle_means_fewer_than_cycle_days_ago():
    assert in_cycle(MON, cycle_days=7, today=MON)
    assert in_cycle(MON - days(6), cycle_days=7, today=MON)
    assert not in_cycle(MON - days(7), cycle_days=7, today=MON)
    assert in_cycle(MON - days(29), cycle_days=30, today=MON)
    assert not in_cycle(MON - days(30), cycle_days=30, today=MON)


def test_never_visited_or_a_future_visit_is_not_in_cycle():
    assert not in_cycle(None, cycle_days=7, today=MON)
    assert not in_cycle(MON + days(1), cycle_days=7, today=MON)
