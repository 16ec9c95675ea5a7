"""The reads one monthly chain shares between its steps when they run in one process.

Grading, valuation and the early warnings of a month read the same things: the customers,
their first order dates (a `MIN` over every fact before the month), and overlapping months of
the monthly facts (grading's window lies inside valuation's twelve months, the warnings' six
months too when the month is this one). Read apart, the chain read the twelve months' facts
and the first order dates twice and the customers three times (about 5 s of a 25 s chain on
200,000 customers, see bench/README.md).

A `ChainContext` is made by whoever runs the steps in one process (`manage.py recompute`,
the grading task when it runs the chain's follow-ups itself) and handed to each step; every
step still works without one (then it reads for itself, as a run of one app does). Before the
first step, each step's app declares the facts it will read (`want_facts`), so the first read
of the facts takes the union once and each step gets its slice.

Nothing here is stored: a context lives as long as the chain and holds frames only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from django.db import connections

from crm import frames


@dataclass
class ChainContext:
    """Shared reads of one chain run of `month` (see the module's docstring)."""

    month: dt.date
    fact_months: set[dt.date] = field(default_factory=set)
    fact_columns: set[str] = field(default_factory=set)
    _memo: dict[Any, Any] = field(default_factory=dict, repr=False)
    _wanted: dict[Any, Callable[[], Any]] = field(default_factory=dict, repr=False)
    _running: dict[Any, Future] = field(default_factory=dict, repr=False)

    def want_facts(self, months: Iterable[dt.date], columns: Iterable[str]) -> None:
        """Declares facts a step will read; call before the first read."""
        self.fact_months.update(months)
        self.fact_columns.update(columns)

    def covers(self, months: Sequence[dt.date], columns: Sequence[str]) -> bool:
        return set(months) <= self.fact_months and set(columns) <= self.fact_columns

    def want(self, key: Any, read: Callable[[], Any], *, early: bool = True) -> None:
        """Declares a read a step will make through `shared(key, …)`; with `early`, `start`
        begins it before the step asks (the large facts read is not early: it is made by
        the first step in the main thread, while the early ones run beside it)."""
        if early:
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

    def shared(self, key: Any, read: Callable[[], Any]) -> Any:
        """The value of `read()`, read once per chain under `key` (or the result of the read
        `start` began). A DataFrame is handed out as a shallow copy, so a step adding
        columns to its frame leaves the shared one as it was (with pandas' copy-on-write no
        data is copied until a step writes)."""
        if key in self._running:
            self._memo[key] = self._running.pop(key).result()
        if key not in self._memo:
            self._memo[key] = read()
        value = self._memo[key]
        return value.copy(deep=False) if isinstance(value, pd.DataFrame) else value

    def narrow_facts(self, months: Iterable[dt.date], columns: Iterable[str]) -> None:
        """Keeps of the shared facts only `months` × `columns`, what the steps still to come
        read (the rest of a 2.25 M-row frame is freed); a later read outside them reads for
        itself (`covers`)."""
        self.fact_months &= set(months)
        self.fact_columns &= {"customer_id", "month", *columns}
        facts = self._memo.get("facts")
        if facts is None:
            return
        kept = [c for c in facts.columns if c in self.fact_columns]
        rows = facts["month"].isin(pd.to_datetime(sorted(self.fact_months)))
        self._memo["facts"] = facts.loc[rows, kept].reset_index(drop=True)

    def forget(self, key: Any) -> None:
        """Drops a shared read no later step needs (its memory)."""
        self._memo.pop(key, None)


def _in_own_connections(read: Callable[[], Any]) -> Any:
    """Runs `read` in a worker thread, then closes the Django connection it opened there
    (Django's connections are per thread)."""
    try:
        return read()
    finally:
        connections.close_all()


def shared_read(context: ChainContext | None, key: Any, read: Callable[[], Any]) -> Any:
    """`read()`, once per chain when there is a `context`."""
    return read() if context is None else context.shared(key, read)
