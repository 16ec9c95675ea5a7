"""Calendar months, as the monthly figures (sales facts, grades, tiers) count them."""

from __future__ import annotations

import datetime as dt
import re

_MONTH = re.compile(r"(\d{4})-(\d{2})")


def month_start(day: dt.date) -> dt.date:
    """The first day of `day`'s month."""
    return day.replace(day=1)


def add_months(month: dt.date, delta: int) -> dt.date:
    """The first day of the month `delta` months after (or, when negative, before) `month`."""
    index = month.year * 12 + month.month - 1 + delta
    return dt.date(index // 12, index % 12 + 1, 1)


def parse_month(text: str | None) -> dt.date | None:
    """`YYYY-MM` → the first day of that month; None when it is not such a month."""
    match = _MONTH.fullmatch((text or "").strip())
    if not match:
        return None
    try:
        return dt.date(int(match[1]), int(match[2]), 1)
    except ValueError:
        return None
