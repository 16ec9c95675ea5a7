"""The pure rules of services: the request workflow, due dates, and when care is due.

No database here; the services and selectors feed these functions plain values, and the tests
check them on hand-made dates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from services.choices import RequestAction, RequestStatus

S = RequestStatus
UNFINISHED = (S.OPEN, S.IN_PROGRESS, S.REOPENED)
# action → (statuses it may start from, status it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    RequestAction.START: (frozenset({S.OPEN, S.REOPENED}), S.IN_PROGRESS),
    RequestAction.RESOLVE: (frozenset({S.OPEN, S.IN_PROGRESS, S.REOPENED}), S.RESOLVED),
    RequestAction.CLOSE: (frozenset({S.RESOLVED}), S.CLOSED),
    RequestAction.REOPEN: (frozenset({S.RESOLVED, S.CLOSED}), S.REOPENED),
}


def next_status(status: str, action: str) -> str | None:
    """The status `action` leads to from `status`, or None when the workflow forbids it."""
    sources, target = TRANSITIONS.get(action, (frozenset(), ""))
    return target if status in sources else None


def allowed_actions(status: str) -> list[str]:
    """The actions the workflow allows from `status`, in the order pages show them."""
    return [action for action in TRANSITIONS if next_status(status, action)]


def due_at(raised_at: dt.datetime, hours: int) -> dt.datetime:
    """The service level: a request is due `hours` after it was raised (calendar hours)."""
    return raised_at + dt.timedelta(hours=hours)


def is_overdue(status: str, due: dt.datetime | None, now: dt.datetime) -> bool:
    return due is not None and due < now and status in (S.OPEN, S.IN_PROGRESS, S.REOPENED)


def week_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    """Monday and Sunday of the ISO week holding `day`."""
    monday = day - dt.timedelta(days=day.weekday())
    return monday, monday + dt.timedelta(days=6)


def birthday_in(year: int, birthday: dt.date) -> dt.date:
    """The birthday's date in `year`; 29 February falls on the 28th in other years."""
    try:
        return birthday.replace(year=year)
    except ValueError:
        return dt.date(year, 2, 28)


def birthdays_between(birthday: dt.date, start: dt.date, end: dt.date) -> dt.date | None:
    """The birthday falling between `start` and `end` (inclusive; a week may span New Year)."""
    for year in range(start.year, end.year + 1):
        day = birthday_in(year, birthday)
        if start <= day <= end:
            return day
    return None


def nearest_birthday(birthday: dt.date, day: dt.date) -> dt.date:
    """The birthday closest to `day` (a greeting on 31 December for a 1 January birthday is for
    the coming year's)."""
    dates = [birthday_in(year, birthday) for year in (day.year - 1, day.year, day.year + 1)]
    return min(dates, key=lambda candidate: abs((candidate - day).days))


def family_due_on(last_done: dt.date | None, interval_days: int, marked_on: dt.date) -> dt.date:
    """When family service is next due: `interval_days` after the last one; at once for a
    customer never served (from the day the list is drawn, `marked_on`)."""
    if last_done is None:
        return marked_on
    return last_done + dt.timedelta(days=interval_days)


def greeting_window(holiday: dt.date, lead_days: int) -> tuple[dt.date, dt.date]:
    """Days a holiday greeting is due on: from `lead_days` before the holiday to the day."""
    return holiday - dt.timedelta(days=lead_days), holiday


def windows_overlap(a: tuple[dt.date, dt.date], b: tuple[dt.date, dt.date]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


@dataclass(frozen=True)
class MonthScore:
    """Satisfaction of one area in one month: how many closed requests were rated, and the
    mean of their ratings (None when none was)."""

    count: int
    total: int

    @property
    def average(self) -> float | None:
        return round(self.total / self.count, 2) if self.count else None


def mean_score(scores: Iterable[int]) -> float | None:
    values = list(scores)
    return round(sum(values) / len(values), 2) if values else None


# Overdue by less than this is told in hours, beyond it in days.
HOURS_UNTIL_DAYS = 48


def overdue_by(request, now: dt.datetime) -> str:
    """“Overdue by 5 h” / “Overdue by 3 days” for an unfinished request (a ServiceRequest)
    past its due time; empty otherwise. Read by the queue, a request's page and the home panel."""
    if not request.is_overdue(now):
        return ""
    hours = int((now - request.due_at).total_seconds() // 3600)
    if hours < HOURS_UNTIL_DAYS:
        return _("Overdue by %(n)d h") % {"n": max(hours, 1)}
    days = hours // 24
    return ngettext("Overdue by %(n)d day", "Overdue by %(n)d days", days) % {"n": days}
