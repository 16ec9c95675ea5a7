"""Calendar months, as the monthly figures (sales facts, grades, tiers) count them."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

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


def trade_shares(first_orders: pd.Series, months: Sequence[dt.date]) -> np.ndarray:
    """How much of each of `months` (first days) each customer traded in, from the date of its
    first order (`first_orders`, datetime64; NaT for a customer who never ordered): a matrix
    of one row per customer and one column per month, with

    - 1 for a month that starts on or after the first order;
    - (days from the first order to the month's end, both included) / days in the month for
      the month of the first order: an order on 15 August counts 17/31 of August;
    - 0 for the months before (and for every month of a customer who never ordered).

    The brief counts the month of the first order "prorated by trading days at most, never
    dropped". The product keeps no calendar of trading days (the holidays of the services
    app are for greetings), so every calendar day counts as one.
    """
    starts = np.asarray([np.datetime64(m, "D") for m in months], dtype="datetime64[D]")
    ends = np.asarray([np.datetime64(add_months(m, 1), "D") for m in months], dtype="datetime64[D]")
    days = (ends - starts).astype(float)
    first = pd.to_datetime(first_orders).to_numpy(dtype="datetime64[D]")
    known = ~np.isnat(first)
    # Days of each month from the first order on (the month's days when it came before).
    left = (ends[None, :] - np.where(known, first, starts[0])[:, None]).astype(float)
    shares = np.clip(left / days[None, :], 0.0, 1.0)
    shares[~known] = 0.0
    return shares
