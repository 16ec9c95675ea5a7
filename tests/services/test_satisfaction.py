"""The satisfaction summary (selectors.satisfaction_summary) on a hand-made case.

In October 2026 two TH requests were closed with 4 and 5 (c_th, c_th2); in September one YX
request with 2 (c_yx); in April one TH request with 1 (outside a six-month window ending in
October) and in November one with 3 (after it). Open, resolved and reopened requests carry no
rating and are ignored.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from services.selectors import satisfaction_summary
from services.workflow import MonthScore
from tests.services.factories import act, closed_request, raise_request

UNTIL = dt.date(2026, 10, 15)
MONTHS = [dt.date(2026, m, 1) for m in range(5, 11)]
NONE = MonthScore(0, 0)


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=timezone.get_current_timezone())


@pytest.fixture
def world(customer_world):
    w = customer_world
    closed_request(w["c_th"], w["am_th"], 4, closed_at=local(2026, 10, 5, 10, 0))
    closed_request(w["c_th2"], w["am_th2"], 5, closed_at=local(2026, 10, 20, 16, 0))
    closed_request(w["c_yx"], w["am_yx"], 2, closed_at=local(2026, 9, 12, 9, 0))
    closed_request(w["c_th"], w["am_th"], 1, closed_at=local(2026, 4, 30, 18, 0))
    closed_request(w["c_th"], w["am_th"], 3, closed_at=local(2026, 11, 2, 9, 0))
    # Requests without a rating.
    raise_request(w["c_th"], w["am_th"])
    resolved = raise_request(w["c_yx"], w["am_yx"])
    act(resolved, w["am_yx"], "resolve", note="Done.")
    reopened = closed_request(w["c_th2"], w["am_th2"], 1)
    act(reopened, w["am_th2"], "reopen", note="Not done after all.")
    return w


def by_area(summary) -> dict[str, list[MonthScore]]:
    return {row.area.code: row.months for row in summary.rows}


def test_the_hand_made_case(world, areas):
    summary = satisfaction_summary(user=world["admin"], until=UNTIL)

    assert summary.months == MONTHS
    assert [row.area for row in summary.rows] == [areas["TH"], areas["YX"]]
    th, yx = summary.rows
    assert th.months == [NONE] * 5 + [MonthScore(2, 9)]
    assert th.months[-1].average == 4.5
    assert (th.overall.count, th.overall.average) == (2, 4.5)
    assert yx.months == [NONE] * 4 + [MonthScore(1, 2), NONE]
    assert (yx.overall.count, yx.overall.average) == (1, 2.0)


def test_the_total_row_adds_the_areas_up(world):
    total = satisfaction_summary(user=world["admin"], until=UNTIL).total
    assert total.area is None
    assert total.months == [NONE] * 4 + [MonthScore(1, 2), MonthScore(2, 9)]
    assert total.overall == MonthScore(3, 11)
    assert total.overall.average == 3.67


def test_the_distribution_counts_each_score_in_the_period(world):
    summary = satisfaction_summary(user=world["admin"], until=UNTIL)
    assert summary.distribution == {1: 0, 2: 1, 3: 0, 4: 1, 5: 1}


def test_a_longer_window_takes_in_earlier_months(world):
    summary = satisfaction_summary(user=world["admin"], months=7, until=UNTIL)
    assert summary.months == [dt.date(2026, 4, 1), *MONTHS]
    assert by_area(summary)["TH"][0] == MonthScore(1, 1)
    assert summary.total.overall == MonthScore(4, 12)
    assert summary.distribution == {1: 1, 2: 1, 3: 0, 4: 1, 5: 1}


def test_a_one_month_window(world):
    summary = satisfaction_summary(user=world["admin"], months=1, until=UNTIL)
    assert summary.months == [dt.date(2026, 10, 1)]
    assert list(by_area(summary)) == ["TH"]
    assert summary.total.overall == MonthScore(2, 9)


def test_the_window_ends_with_the_month_holding_until(world):
    summary = satisfaction_summary(user=world["admin"], until=dt.date(2026, 11, 30))
    assert summary.months[-1] == dt.date(2026, 11, 1)
    assert by_area(summary)["TH"][-1] == MonthScore(1, 3)
    assert summary.total.overall == MonthScore(4, 14)


def test_a_month_with_no_closing_has_no_average(world):
    summary = satisfaction_summary(user=world["admin"], until=UNTIL)
    assert summary.total.months[0].average is None


@pytest.mark.parametrize(
    ("code", "rows", "overall"),
    [
        ("TH", ["TH"], MonthScore(2, 9)),
        ("YX", ["YX"], MonthScore(1, 2)),
        ("GZ", ["TH", "YX"], MonthScore(3, 11)),  # the city takes its districts in
        ("SZ", [], MonthScore(0, 0)),
    ],
)
def test_the_area_filter(world, areas, code, rows, overall):
    summary = satisfaction_summary(user=world["admin"], until=UNTIL, area=areas[code])
    assert list(by_area(summary)) == rows
    assert summary.total.overall == overall


def test_the_area_filter_narrows_the_distribution(world, areas):
    summary = satisfaction_summary(user=world["admin"], until=UNTIL, area=areas["TH"])
    assert summary.distribution == {1: 0, 2: 0, 3: 0, 4: 1, 5: 1}


@pytest.mark.parametrize(
    ("who", "rows", "overall"),
    [
        ("sup_yx", {"YX": [NONE] * 4 + [MonthScore(1, 2), NONE]}, MonthScore(1, 2)),
        ("sup_th", {"TH": [NONE] * 5 + [MonthScore(2, 9)]}, MonthScore(2, 9)),
        ("am_th", {"TH": [NONE] * 5 + [MonthScore(1, 4)]}, MonthScore(1, 4)),
        ("sup_gz", None, MonthScore(3, 11)),
    ],
)
def test_each_person_sees_the_ratings_in_their_scope(world, who, rows, overall):
    summary = satisfaction_summary(user=world[who], until=UNTIL)
    if rows is not None:
        assert by_area(summary) == rows
    else:
        assert list(by_area(summary)) == ["TH", "YX"]
    assert summary.total.overall == overall


def test_a_supervisor_filtering_another_area_sees_nothing(world, areas):
    summary = satisfaction_summary(user=world["sup_yx"], until=UNTIL, area=areas["TH"])
    assert summary.rows == []
    assert summary.distribution == dict.fromkeys(range(1, 6), 0)


def test_a_closing_just_after_local_midnight_counts_in_the_new_month(customer_world):
    w = customer_world
    # 00:30 on 1 October in Shanghai is still 30 September in UTC.
    closed_request(w["c_th"], w["am_th"], 5, closed_at=local(2026, 10, 1, 0, 30))
    closed_request(w["c_th"], w["am_th"], 3, closed_at=local(2026, 9, 30, 23, 30))
    th = by_area(satisfaction_summary(user=w["admin"], until=UNTIL))["TH"]
    assert th[-1] == MonthScore(1, 5)
    assert th[-2] == MonthScore(1, 3)


def test_the_last_days_of_a_window_count_and_the_next_months_first_hour_does_not(
    customer_world,
):
    w = customer_world
    closed_request(w["c_th"], w["am_th"], 4, closed_at=local(2026, 10, 31, 23, 59))
    closed_request(w["c_th"], w["am_th"], 2, closed_at=local(2026, 11, 1, 0, 1))
    closed_request(w["c_th"], w["am_th"], 5, closed_at=local(2026, 5, 1, 0, 1))
    closed_request(w["c_th"], w["am_th"], 1, closed_at=local(2026, 4, 30, 23, 59))
    summary = satisfaction_summary(user=w["admin"], until=UNTIL)
    assert summary.total.overall == MonthScore(2, 9)
    assert summary.distribution == {1: 0, 2: 0, 3: 0, 4: 1, 5: 1}


def test_this_month_by_default(customer_world):
    w = customer_world
    closed_request(w["c_th"], w["am_th"], 5)
    summary = satisfaction_summary(user=w["sup_th"])
    assert summary.months[-1] == timezone.localdate().replace(day=1)
    assert len(summary.months) == 6
    assert summary.total.months[-1] == MonthScore(1, 5)
