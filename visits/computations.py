"""The planning and location rules, pure: dates and numbers in, dates and numbers out, no ORM.

- `effective_cycle`: the customer's visit cycle, shortened for potential-value customers;
- `plan_dates`: the days a customer should be visited within the planning horizon;
- `distance_m`: how far a logged position is from the shop's recorded one;
- `in_cycle`: whether a customer's last visit still covers today.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection, Iterable

CYCLES = ("weekly", "fortnightly", "monthly")  # shortest first

# Names a visit batch may use for its weekday (ISO: 1 = Monday). A batch that names no weekday
# (e.g. "A", "batch 3") only orders the agenda.
_WEEKDAYS = {
    1: ("周一", "星期一", "礼拜一", "mon", "monday", "월", "월요일"),
    2: ("周二", "星期二", "礼拜二", "tue", "tues", "tuesday", "화", "화요일"),
    3: ("周三", "星期三", "礼拜三", "wed", "wednesday", "수", "수요일"),
    4: ("周四", "星期四", "礼拜四", "thu", "thur", "thurs", "thursday", "목", "목요일"),
    5: ("周五", "星期五", "礼拜五", "fri", "friday", "금", "금요일"),
    6: ("周六", "星期六", "礼拜六", "sat", "saturday", "토", "토요일"),
    7: ("周日", "周天", "星期日", "星期天", "礼拜天", "sun", "sunday", "일", "일요일"),
}
_WEEKDAY_BY_NAME = {name: day for day, names in _WEEKDAYS.items() for name in names}

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG)


def batch_weekday(batch: str | None) -> int | None:
    """The ISO weekday a visit batch names ("周二", "Tue", "Tuesday" → 2), or None."""
    if not batch:
        return None
    return _WEEKDAY_BY_NAME.get(batch.strip().lower().rstrip("."))


def effective_cycle(
    cycle: str | None, *, potential: bool, shift: int, default: str = "monthly"
) -> tuple[str, bool]:
    """The cycle a customer is planned on, and whether it was shortened: a blank cycle is
    `default`; a potential-value customer's is `shift` steps shorter (never below weekly)."""
    name = cycle if cycle in CYCLES else default
    if not potential or shift <= 0:
        return name, False
    shorter = CYCLES[max(0, CYCLES.index(name) - shift)]
    return shorter, shorter != name


def next_plan_day(day: dt.date, *, weekday: int | None, work_weekdays: Collection[int]) -> dt.date:
    """The first day on or after `day` a visit can be planned: the batch's weekday when it
    names one, otherwise a working day (any day when no working day is set)."""
    allowed = {weekday} if weekday else set(work_weekdays) or set(range(1, 8))
    for offset in range(7):
        candidate = day + dt.timedelta(days=offset)
        if candidate.isoweekday() in allowed:
            return candidate
    return day  # pragma: no cover - `allowed` always holds a weekday 1..7


def plan_dates(
    *,
    today: dt.date,
    horizon_days: int,
    cycle_days: int,
    last_visit: dt.date | None,
    kept: Iterable[dt.date] = (),
    skipped: Iterable[dt.date] = (),
    weekday: int | None = None,
    work_weekdays: Collection[int] = (1, 2, 3, 4, 5),
) -> list[dt.date]:
    """The days from `today` to `today + horizon_days - 1` one customer should be visited on.

    - The first visit falls one cycle after the last one (today when never visited or when
      that day has passed): a customer visited inside its cycle is not planned again.
    - Each next visit falls one cycle after the one before.
    - `kept` are the customer's open planned visits the job does not move (moved by a person,
      or overdue — those count as due today): no new visit is planned within a cycle of one.
    - `skipped` are the days a person skipped a visit on: that visit was dropped, so none is
      planned within a cycle of it either (and not again on that day).
    - Every day is moved forward to the batch's weekday, or to a working day.
    """
    if cycle_days < 1 or horizon_days < 1:
        return []
    end = today + dt.timedelta(days=horizon_days - 1)
    step = dt.timedelta(days=cycle_days)
    fixed = sorted({max(day, today) for day in kept} | set(skipped))
    start = today if last_visit is None else max(today, last_visit + step)

    def snap(day: dt.date) -> dt.date:
        return next_plan_day(day, weekday=weekday, work_weekdays=work_weekdays)

    days: list[dt.date] = []
    candidate = snap(start)
    while candidate <= end:
        near = [day for day in fixed if abs((day - candidate).days) < cycle_days]
        if near:
            candidate = snap(max(near) + step)
            continue
        days.append(candidate)
        candidate = snap(candidate + step)
    return days


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two WGS-84 positions (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def in_cycle(last_visit: dt.date | None, *, cycle_days: int, today: dt.date) -> bool:
    """Whether a visit on `last_visit` still covers `today`: fewer than `cycle_days` days ago
    (a weekly customer visited 6 days ago is covered; 7 days ago it is due again)."""
    return last_visit is not None and 0 <= (today - last_visit).days < cycle_days
