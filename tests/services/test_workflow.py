"""The pure rules of services (services.workflow) on hand-made values: the request workflow,
due dates, overdue, ISO weeks, birthdays and family-service intervals, monthly scores."""

import datetime as dt

import pytest

from services import workflow
from services.choices import RequestAction, RequestStatus

S, A = RequestStatus, RequestAction

# The whole workflow, written out by hand: (status, action) → the status it leads to.
ALLOWED = {
    (S.OPEN, A.START): S.IN_PROGRESS,
    (S.REOPENED, A.START): S.IN_PROGRESS,
    (S.OPEN, A.RESOLVE): S.RESOLVED,
    (S.IN_PROGRESS, A.RESOLVE): S.RESOLVED,
    (S.REOPENED, A.RESOLVE): S.RESOLVED,
    (S.RESOLVED, A.CLOSE): S.CLOSED,
    (S.RESOLVED, A.REOPEN): S.REOPENED,
    (S.CLOSED, A.REOPEN): S.REOPENED,
}
REFUSED = [(s, a) for s in S for a in A if (s, a) not in ALLOWED]


def test_the_table_has_every_pair_once():
    assert len(ALLOWED) + len(REFUSED) == len(S) * len(A) == 20
    assert len(REFUSED) == 12


@pytest.mark.parametrize(("status", "action"), list(ALLOWED))
def test_an_allowed_action_leads_to_its_status(status, action):
    assert workflow.next_status(status, action) == ALLOWED[(status, action)]


@pytest.mark.parametrize(("status", "action"), REFUSED)
def test_every_other_action_is_refused(status, action):
    assert workflow.next_status(status, action) is None


@pytest.mark.parametrize("status", list(S))
def test_an_unknown_action_is_refused_from_every_status(status):
    assert workflow.next_status(status, "archive") is None


def test_an_unknown_status_allows_nothing():
    assert all(workflow.next_status("lost", action) is None for action in A)


@pytest.mark.parametrize(
    ("status", "actions"),
    [
        (S.OPEN, ["start", "resolve"]),
        (S.IN_PROGRESS, ["resolve"]),
        (S.RESOLVED, ["close", "reopen"]),
        (S.CLOSED, ["reopen"]),
        (S.REOPENED, ["start", "resolve"]),
    ],
)
def test_allowed_actions_in_page_order(status, actions):
    assert workflow.allowed_actions(status) == actions


def test_only_resolved_and_closed_requests_are_finished():
    finished = {s for s in S if workflow.next_status(s, A.RESOLVE) is None}
    assert finished == {S.RESOLVED, S.CLOSED}
    assert set(workflow.UNFINISHED) == {S.OPEN, S.IN_PROGRESS, S.REOPENED}


# --- due dates and overdue -----------------------------------------------------------------


RAISED = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("hours", "due"),
    [
        (24, dt.datetime(2026, 3, 3, 9, 30, tzinfo=dt.UTC)),
        (48, dt.datetime(2026, 3, 4, 9, 30, tzinfo=dt.UTC)),
        (120, dt.datetime(2026, 3, 7, 9, 30, tzinfo=dt.UTC)),  # calendar hours, weekend too
        (1, dt.datetime(2026, 3, 2, 10, 30, tzinfo=dt.UTC)),
    ],
)
def test_due_is_the_raising_time_plus_the_hours(hours, due):
    assert workflow.due_at(RAISED, hours) == due


DUE = dt.datetime(2026, 3, 3, 9, 30, tzinfo=dt.UTC)
AFTER = DUE + dt.timedelta(seconds=1)


@pytest.mark.parametrize("status", [S.OPEN, S.IN_PROGRESS, S.REOPENED])
def test_an_unfinished_request_past_its_due_time_is_overdue(status):
    assert workflow.is_overdue(status, DUE, AFTER)


@pytest.mark.parametrize("status", [S.RESOLVED, S.CLOSED])
def test_a_finished_request_is_never_overdue(status):
    assert not workflow.is_overdue(status, DUE, AFTER + dt.timedelta(days=30))


def test_not_overdue_at_the_due_time_itself_nor_without_a_due_time():
    assert not workflow.is_overdue(S.OPEN, DUE, DUE)
    assert not workflow.is_overdue(S.OPEN, None, AFTER)


# --- weeks, birthdays, family service ------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "monday", "sunday"),
    [
        (dt.date(2026, 6, 10), dt.date(2026, 6, 8), dt.date(2026, 6, 14)),  # Wednesday
        (dt.date(2026, 6, 8), dt.date(2026, 6, 8), dt.date(2026, 6, 14)),  # Monday
        (dt.date(2026, 6, 14), dt.date(2026, 6, 8), dt.date(2026, 6, 14)),  # Sunday
        (dt.date(2026, 12, 30), dt.date(2026, 12, 28), dt.date(2027, 1, 3)),  # New Year
    ],
)
def test_week_bounds_are_the_iso_week(day, monday, sunday):
    assert workflow.week_bounds(day) == (monday, sunday)


@pytest.mark.parametrize(
    ("year", "birthday", "expected"),
    [
        (2026, dt.date(1960, 5, 17), dt.date(2026, 5, 17)),
        (2027, dt.date(1960, 2, 29), dt.date(2027, 2, 28)),  # not a leap year
        (2028, dt.date(1960, 2, 29), dt.date(2028, 2, 29)),  # a leap year
    ],
)
def test_birthday_in_a_year(year, birthday, expected):
    assert workflow.birthday_in(year, birthday) == expected


@pytest.mark.parametrize(
    ("birthday", "start", "end", "expected"),
    [
        (dt.date(1960, 6, 10), dt.date(2026, 6, 8), dt.date(2026, 6, 14), dt.date(2026, 6, 10)),
        (dt.date(1960, 6, 15), dt.date(2026, 6, 8), dt.date(2026, 6, 14), None),
        (dt.date(1960, 6, 8), dt.date(2026, 6, 8), dt.date(2026, 6, 14), dt.date(2026, 6, 8)),
        (dt.date(1960, 6, 14), dt.date(2026, 6, 8), dt.date(2026, 6, 14), dt.date(2026, 6, 14)),
        # a week across New Year finds 1 January in the next year, 28 December in this one
        (dt.date(1955, 1, 1), dt.date(2026, 12, 28), dt.date(2027, 1, 3), dt.date(2027, 1, 1)),
        (dt.date(1955, 12, 28), dt.date(2026, 12, 28), dt.date(2027, 1, 3), dt.date(2026, 12, 28)),
        # 29 February on the 28th of a common year
        (dt.date(1960, 2, 29), dt.date(2027, 2, 22), dt.date(2027, 2, 28), dt.date(2027, 2, 28)),
        (dt.date(1960, 2, 29), dt.date(2027, 3, 1), dt.date(2027, 3, 7), None),
    ],
)
def test_birthdays_between(birthday, start, end, expected):
    assert workflow.birthdays_between(birthday, start, end) == expected


def test_family_service_never_done_is_due_on_the_day_the_list_is_drawn():
    assert workflow.family_due_on(None, 30, dt.date(2026, 6, 10)) == dt.date(2026, 6, 10)


def test_family_service_is_due_the_interval_after_the_last_one():
    last = dt.date(2026, 5, 15)
    assert workflow.family_due_on(last, 30, dt.date(2026, 6, 10)) == dt.date(2026, 6, 14)
    assert workflow.family_due_on(last, 7, dt.date(2026, 6, 10)) == dt.date(2026, 5, 22)


def test_greeting_window_runs_from_the_lead_days_before_to_the_holiday():
    assert workflow.greeting_window(dt.date(2026, 10, 1), 3) == (
        dt.date(2026, 9, 28),
        dt.date(2026, 10, 1),
    )
    assert workflow.greeting_window(dt.date(2026, 10, 1), 0) == (
        dt.date(2026, 10, 1),
        dt.date(2026, 10, 1),
    )


@pytest.mark.parametrize(
    ("a", "b", "overlap"),
    [
        ((1, 5), (5, 9), True),  # touching on one day
        ((1, 5), (6, 9), False),
        ((3, 4), (1, 9), True),  # inside
        ((6, 9), (1, 5), False),
    ],
)
def test_windows_overlap(a, b, overlap):
    def days(pair):
        return (dt.date(2026, 6, pair[0]), dt.date(2026, 6, pair[1]))

    assert workflow.windows_overlap(days(a), days(b)) is overlap


# --- scores --------------------------------------------------------------------------------


def test_month_score_average():
    assert workflow.MonthScore(2, 9).average == 4.5
    assert workflow.MonthScore(3, 11).average == 3.67
    assert workflow.MonthScore(0, 0).average is None


def test_mean_score():
    assert workflow.mean_score([4, 5]) == 4.5
    assert workflow.mean_score(iter([1, 2, 2])) == 1.67
    assert workflow.mean_score([]) is None
