"""The paginators of every list page (and the REST API's pages): counts that do not scan.

A list page used to ask `SELECT COUNT(*)` of its whole filtered queryset on every request: at
200,000 shops that count was most of the page's time (a supervisor of all areas searching a
common term: 230 ms to count, 2-5 ms to fetch the 50 rows shown).

`CappedPaginator` counts at most `COUNT_CAP` rows — or, deeper in the list, up to the end of
the page asked for — plus one: `SELECT COUNT(*) FROM (SELECT 1 … LIMIT n + 1)`. Below the cap
the count is exact and the page says "Page 3 of 12"; above it the page says "more than 10,000"
and "Page 3 of more than 200", which is true, and Next/Previous still work to the very end.

Why a capped count rather than the other two ways of not scanning:
- a planner estimate (EXPLAIN's row count, or pg_class.reltuples) is cheap but can be wrong by
  orders of magnitude for a scoped, searched or filtered list (a trigram search, a join to the
  dynamic and system rows): the page would show a number that is not true;
- "more than 10,000" with no count at all below it would hide the exact figure people use
  ("12 customers match") on the small lists they mostly look at.
A capped count is exact where people read the figure and costs at most `COUNT_CAP` index or
heap rows (a few milliseconds) where nobody reads it digit by digit.

Deeper pages: the count reaches to the end of the page asked for (page 300 of 50 rows counts
15,001 rows). Fetching that page's rows with OFFSET already walks as many, so the count at most
doubles the page's own cost, and it keeps every answer true: there is a Next page exactly when
a row after this page exists, and a page number past the end falls back to the true last page.
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.formats import number_format
from django.utils.functional import cached_property
from django.utils.translation import gettext as _

# Rows counted exactly before a list says "more than …": 200 pages of 50, farther than anyone
# pages by hand, and a count of 10,001 rows stays within a few milliseconds at 200,000 shops.
COUNT_CAP = 10_000

# The farthest a count reaches, whatever page is asked for: its LIMIT must fit a signed 64-bit
# integer on SQLite and PostgreSQL (page 288230376151711743 of 200 rows asked a LIMIT that did
# not, and the API answered 500). No list comes near it; a page past the end is still refused.
MAX_REACH = 2**62


class CappedPaginator(Paginator):
    """A paginator whose count is exact up to `cap` rows (or the end of the page asked for,
    when that is farther) and "more than that" beyond. Lists (rows built in Python) are
    counted exactly: their length costs nothing."""

    def __init__(
        self, object_list, per_page, *args: Any, cap: int | None = None, **kwargs: Any
    ) -> None:
        super().__init__(object_list, per_page, *args, **kwargs)
        self.cap = COUNT_CAP if cap is None else cap
        # How many rows the count reaches to: the cap, or the end of the page asked for.
        self.reach = self.cap

    def validate_number(self, number):
        if "count" not in self.__dict__:
            # The first page number asked for decides how far the count reaches.
            try:
                wanted = int(number)
            except (TypeError, ValueError):
                wanted = 1
            self.reach = max(self.cap, min(wanted * self.per_page, MAX_REACH))
        return super().validate_number(number)

    @cached_property
    def count(self) -> int:
        """The rows, exactly when there are at most `reach` of them; `reach + 1` otherwise."""
        if not isinstance(self.object_list, QuerySet):
            return len(self.object_list)
        # Without ORDER BY: which rows are counted does not matter, only how many.
        return self.object_list.order_by()[: self.reach + 1].count()

    @property
    def capped(self) -> bool:
        """Whether there are more rows than were counted (the count is a lower bound)."""
        return self.count > self.reach

    @property
    def total_label(self) -> str:
        """The number of rows as a list page shows it: exact, or "more than 10,000"."""
        if self.capped:
            return _("more than %(count)s") % {
                "count": number_format(self.reach, force_grouping=True)
            }
        return str(self.count)

    @property
    def pages_counted(self) -> int:
        """The full pages the count reached: a capped list has more pages than these."""
        return self.reach // self.per_page


class CountedPaginator(CappedPaginator):
    """A paginator told its count: for a list whose page has counted its rows already (the
    value overview's summary counts the core and problem customers), so it skips a COUNT."""

    def __init__(self, object_list, per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self.reach = max(count, self.cap)
        self.__dict__["count"] = count  # fills the cached_property

    def validate_number(self, number):
        return Paginator.validate_number(self, number)


class DeepPagePaginator(CappedPaginator):
    """A CappedPaginator that fetches a page after the first by a deferred join: the page's
    primary keys in a subquery (ORDER BY … LIMIT 50 OFFSET n, which reads only the sort
    columns and the key, so an index can answer it alone), then those rows, with everything
    the list joins, for those keys only. One query, as before.

    With OFFSET alone, PostgreSQL fetched and joined every whole row it skipped: page 50 of an
    account manager's orders hashed all 400,000 orders against his shops and sorted 11,000
    wide rows (130 ms); through orders_order_cust_date_id_idx the keys take 30-40 ms.
    For lists whose OFFSET reads an index: their rows keep the list's order and scope (the
    outer query is the list itself, filtered by the keys). `first_page_too`: the first page as
    well, for a list whose keys an index gives in order but whose rows are scattered (an
    account manager's visits: the sort read every one of his visits' heap rows)."""

    first_page_too = False

    def page(self, number):
        page = super().page(number)
        rows = page.object_list
        if (
            isinstance(rows, QuerySet)
            and (rows.query.low_mark > 0 or self.first_page_too)
            and rows.query.combinator is None
            and rows.query.group_by is None
        ):
            low, high = rows.query.low_mark, rows.query.high_mark
            keys = self.object_list.values("pk")[low:high]
            page.object_list = self.object_list.filter(pk__in=keys)
        return page
