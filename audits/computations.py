"""Pure maths of the audit reports (no queries): a price tally is {price per carton: shops}."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

CENT = Decimal("0.01")


def tally_count(tally: Mapping[Decimal, int]) -> int:
    """Shops counted in the tally (buckets at zero or below count nothing)."""
    return sum(n for n in tally.values() if n > 0)


def tally_median(tally: Mapping[Decimal, int]) -> Decimal | None:
    """The median price of the shops counted: the middle shop's price, or the mean of the two
    middle shops' prices for an even count (rounded to the cent); None for an empty tally."""
    total = tally_count(tally)
    if not total:
        return None
    # 0-based ranks of the middle shop(s): (total - 1) // 2 and total // 2.
    low_rank, high_rank = (total - 1) // 2, total // 2
    low = high = None
    seen = 0
    for price in sorted(p for p, n in tally.items() if n > 0):
        seen += tally[price]
        if low is None and seen > low_rank:
            low = price
        if seen > high_rank:
            high = price
            break
    return ((Decimal(low) + Decimal(high)) / 2).quantize(CENT)


def tally_range(tally: Mapping[Decimal, int]) -> tuple[Decimal | None, Decimal | None]:
    """The lowest and highest prices seen (None, None for an empty tally)."""
    prices = [p for p, n in tally.items() if n > 0]
    return (min(prices), max(prices)) if prices else (None, None)


def share(part: int, whole: int) -> float | None:
    """part / whole, rounded to 4 places; None when nothing was counted."""
    return round(part / whole, 4) if whole else None


def share_above(tally: Mapping[Decimal, int], limit: Decimal | None) -> float | None:
    """The share of the shops counted whose price is above `limit` (the suggested retail
    price); None when there is no limit or nothing counted."""
    if limit is None:
        return None
    above = sum(n for p, n in tally.items() if n > 0 and p > limit)
    return share(above, tally_count(tally))


def price_summary(tally: Mapping[Decimal, int], srp: Decimal | None) -> dict:
    """observations, median, min, max, share_above of one tally."""
    low, high = tally_range(tally)
    return {
        "observations": tally_count(tally),
        "median": tally_median(tally),
        "min": low,
        "max": high,
        "share_above": share_above(tally, srp),
    }
