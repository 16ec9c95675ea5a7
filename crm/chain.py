"""The reads one monthly chain shares between its steps when they run in one process.

Grading, valuation and the early warnings of a month read the same things: the customers,
their first order dates (a `MIN` over every fact before the month), and overlapping months of
the monthly facts (grading's window lies inside valuation's twelve months, the warnings' six
months too when the month is this one). Read apart, the chain read the twelve months' facts
and the first order dates twice and the customers three times (about 5 s of a 25 s chain on
200,000 customers, see bench/README.md).

A `ChainContext` is made by whoever runs the steps in one process (`manage.py recompute`)
and handed to each step; a worker's run of one step makes one of its own
(`crm.monthly_runs`), so that its reads too run at once. Every step still works without one
(then it reads for itself, one read after the other). Before the
first step, each step's app declares the facts it will read (`want_facts`: each column with
the months it needs it for — valuation needs the amounts of twelve months but its other
columns only in its window), and the facts are read once for the union, in parts
read at once (`FactsPart`: the months that want the same columns); each step gets its slice.

Nothing here is stored: a context lives as long as the chain and holds frames only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from django.db import connections

from crm import frames

# Which months of the monthly facts each column is read for: {column: months} (the keys
# `customer_id` and `month` come with every read).
FactsWanted = Mapping[str, Iterable[dt.date]]


@dataclass(frozen=True)
class FactsPart:
    """One read of the chain's shared facts: `columns` (with `customer_id` and `month`) of
    `months`, the months whose declarations want the same columns (`orders.selectors`)."""

    months: frozenset[dt.date]
    columns: tuple[str, ...]
    frame: pd.DataFrame

    def narrowed(self, columns: Sequence[str]) -> FactsPart:
        return FactsPart(
            self.months, tuple(columns), self.frame[["customer_id", "month", *columns]]
        )


@dataclass
class ChainContext:
    """Shared reads of one chain run of `month` (see the module's docstring)."""

    month: dt.date
    facts_wanted: dict[str, set[dt.date]] = field(default_factory=dict)
    _memo: dict[Any, Any] = field(default_factory=dict, repr=False)
    _wanted: dict[Any, Callable[[], Any]] = field(default_factory=dict, repr=False)
    _running: dict[Any, Future] = field(default_factory=dict, repr=False)

    def want_facts(self, wanted: FactsWanted) -> None:
        """Declares facts a step will read (each column with the months it is read for);
        call before the first read."""
        for column, months in wanted.items():
            self.facts_wanted.setdefault(column, set()).update(months)

    def covers(self, wanted: FactsWanted) -> bool:
        return all(set(months) <= self.facts_wanted.get(c, set()) for c, months in wanted.items())

    def want(self, key: Any, read: Callable[[], Any]) -> None:
        """Declares a read a step will make through `shared(key, …)`; `start` begins it
        before the step asks."""
        self._wanted.setdefault(key, read)

    def start(self) -> None:
        """Begins every declared read at once, each in a thread with database connections of
        its own, where the reads are Arrow reads (PostgreSQL, outside a transaction): the
        server then scans the facts, groups the first order dates and reads the customers
        on both cores instead of one after the other. Elsewhere the reads stay lazy, made
        when a step asks."""
        if not frames.concurrent_reads_possible():
            return
        wanted = {k: r for k, r in self._wanted.items() if k not in self._memo}
        if not wanted:
            return
        pool = ThreadPoolExecutor(max_workers=len(wanted), thread_name_prefix="chain-read")
        for key, read in wanted.items():
            self._running[key] = pool.submit(_in_own_connections, read)
        pool.shutdown(wait=False)

    def shared(self, key: Any, read: Callable[[], Any] | None = None) -> Any:
        """The value of `read()` (by default the read declared under `key`), read once per
        chain under `key` (or the result of the read `start` began). A DataFrame is handed
        out as a shallow copy, so a step adding columns to its frame leaves the shared one
        as it was (with pandas' copy-on-write no data is copied until a step writes)."""
        if key in self._running:
            self._memo[key] = self._running.pop(key).result()
        if key not in self._memo:
            self._memo[key] = (read or self._wanted[key])()
        value = self._memo[key]
        return value.copy(deep=False) if isinstance(value, pd.DataFrame) else value

    def narrow_facts(self, wanted: FactsWanted) -> None:
        """Keeps of the shared facts only what `wanted` still needs (the steps still to
        come): the declarations shrink to it and the shared facts read drops every part
        (`FactsPart`) none of its months or columns are wanted from (the rest of a 2.25 M-row
        read is freed); a later read outside them reads for itself (`covers`)."""
        self.facts_wanted = {
            c: self.facts_wanted.get(c, set()) & set(months) for c, months in wanted.items()
        }
        parts = self._memo.get("facts")
        if parts is None:
            return
        kept = []
        for part in parts:
            columns = [c for c in part.columns if self.facts_wanted.get(c, set()) & part.months]
            if columns:
                kept.append(part.narrowed(columns))
        self._memo["facts"] = kept


def _in_own_connections(read: Callable[[], Any]) -> Any:
    """Runs `read` in a worker thread, then closes the Django connection it opened there
    (Django's connections are per thread)."""
    try:
        return read()
    finally:
        connections.close_all()


def read_at_once(reads: Sequence[Callable[[], Any]]) -> list[Any]:
    """The values of `reads`, read at once in threads (each on connections of its own) where
    `crm.frames.concurrent_reads_possible`, else one after the other."""
    if len(reads) < 2 or not frames.concurrent_reads_possible():
        return [read() for read in reads]
    with ThreadPoolExecutor(max_workers=len(reads), thread_name_prefix="chain-part") as pool:
        return list(pool.map(_in_own_connections, reads))


def shared_read(context: ChainContext | None, key: Any, read: Callable[[], Any]) -> Any:
    """`read()`, once per chain when there is a `context`."""
    return read() if context is None else context.shared(key, read)
