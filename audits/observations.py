"""The one writer of `ProductObservation` and `PriceTally` (the derived tables the reports read).

`observations_record` is called by `audits.recording.audits_record` in the visit's transaction,
with the audits it has just stored. Set-based: a fixed handful of queries per call whatever the
number of audits and answers (read the answers, lock and read the current observations, one
upsert of the observations, one upsert of the tally increments, one of the decrements).

Rules:
- one observation per (shop, product, month of `audited_at` in the site time zone): the latest
  audit wins (later `audited_at`, then the higher audit id); an older audit sent late (an
  offline visit) does not overwrite a newer one;
- a field the winning audit did not ask about (a form asking only the price) keeps the value
  seen earlier in the month, so two forms on one visit (shelf, price) make one observation;
- `PriceTally` counts each shop once per (month, product, area, price): when a shop's price
  (or area) changes, its old bucket loses one shop and its new bucket gains one.

The SQL (INSERT … ON CONFLICT … DO UPDATE … WHERE … RETURNING) runs on PostgreSQL and on
SQLite ≥ 3.35 (the quick start) alike.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from audits.choices import QuestionKind
from audits.models import Audit, AuditAnswer, PriceTally, ProductObservation

_KINDS = (QuestionKind.PRODUCT_SHELF, QuestionKind.PRODUCT_PRICE, QuestionKind.PRODUCT_FACINGS)
# Rows per INSERT statement: 9 parameters a row stays under SQLite's 32,766 variables; one
# visit's audits are a few dozen rows, the bench's batch of 1,000 audits a few statements.
_BATCH = 2000


@dataclass
class _Seen:
    """What one (shop, product, month) gets from this batch: the latest audit's findings."""

    area_id: int
    audit_id: int
    observed_at: dt.datetime
    on_shelf: bool | None = None
    price: Decimal | None = None
    facings: int | None = None


def _rows_sql(rows: list[list], types: Sequence[str]) -> tuple[str, list]:
    """The rows to insert, as SQL and parameters: on PostgreSQL one array per column through
    `unnest` (a handful of parameters whatever the number of rows: binding thousands of
    scalars costs more client time than the statement takes in the server); elsewhere a
    VALUES list."""
    if connection.vendor == "postgresql":
        columns = ", ".join(f"%s::{t}[]" for t in types)
        return f"SELECT * FROM unnest({columns})", [list(col) for col in zip(*rows, strict=True)]  # noqa: S608 (our types)
    values = ", ".join(["(" + ", ".join(["%s"] * len(types)) + ")"] * len(rows))
    return f"VALUES {values}", [value for row in rows for value in row]


def month_of(moment: dt.datetime) -> dt.date:
    """The first day of the month of `moment` in the site time zone."""
    return timezone.localtime(moment).date().replace(day=1)


def observations_record(*, audits: Sequence[Audit]) -> None:
    """Brings ProductObservation and PriceTally up to date with these newly stored audits
    (called by `audits.recording.audits_record` in the visit's transaction; atomic of its own
    too, for the rows it locks and the tallies it moves together, whoever calls it)."""
    seen = _seen_in(audits)
    if not seen:
        return
    with transaction.atomic():
        old = _current(seen)
        written = _upsert(seen)
        deltas: dict[tuple[dt.date, int, int, Decimal], int] = defaultdict(int)
        for key in written:
            customer_id, product_id, month = key
            new, before = seen[key], old.get(key)
            old_price = before[1] if before else None
            new_price = new.price if new.price is not None else old_price
            if before and old_price is not None:
                deltas[(month, product_id, before[0], old_price)] -= 1
            if new_price is not None:
                deltas[(month, product_id, new.area_id, new_price)] += 1
        _tally_apply(deltas)


def _seen_in(audits: Sequence[Audit]) -> dict[tuple[int, int, dt.date], _Seen]:
    """The per-product answers of `audits` (one query), merged per (shop, product, month):
    audits in time order, so the latest one's answers are kept."""
    by_id = {audit.pk: audit for audit in audits}
    if not by_id:
        return {}
    answers = AuditAnswer.objects.filter(
        audit_id__in=by_id, product__isnull=False, question__kind__in=_KINDS
    ).values_list(
        "audit_id", "product_id", "question__kind", "value", "number", "audit__customer__area_id"
    )
    rows = sorted(answers, key=lambda r: (by_id[r[0]].audited_at, r[0]))
    seen: dict[tuple[int, int, dt.date], _Seen] = {}
    for audit_id, product_id, kind, value, number, area_id in rows:
        audit = by_id[audit_id]
        key = (audit.customer_id, product_id, month_of(audit.audited_at))
        entry = seen.get(key)
        if entry is None or entry.audit_id != audit_id:
            # A later audit of the same month takes over; what it does not ask stays.
            entry = seen[key] = _Seen(
                area_id=area_id,
                audit_id=audit_id,
                observed_at=audit.audited_at,
                on_shelf=entry.on_shelf if entry else None,
                price=entry.price if entry else None,
                facings=entry.facings if entry else None,
            )
        if kind == QuestionKind.PRODUCT_SHELF:
            entry.on_shelf = bool(value) if value is not None else None
        elif kind == QuestionKind.PRODUCT_PRICE and number is not None:
            entry.price = Decimal(number).quantize(Decimal("0.01"))
        elif kind == QuestionKind.PRODUCT_FACINGS and number is not None:
            entry.facings = int(number)
    return seen


def _current(seen: dict) -> dict[tuple[int, int, dt.date], tuple[int, Decimal | None]]:
    """The observations already stored for these keys: (area id, price) by key, read in one
    query (a superset by shop, product and month, narrowed here) and locked on PostgreSQL, so
    two visits of one shop sent at once apply their deltas one after the other."""
    rows = ProductObservation.objects.filter(
        customer_id__in={k[0] for k in seen},
        product_id__in={k[1] for k in seen},
        month__in={k[2] for k in seen},
    ).order_by("pk")
    if connection.features.has_select_for_update:
        rows = rows.select_for_update()
    return {
        key: (area_id, price)
        for *key_parts, area_id, price in rows.values_list(
            "customer_id", "product_id", "month", "area_id", "price"
        )
        if (key := tuple(key_parts)) in seen
    }


def _upsert(seen: dict[tuple[int, int, dt.date], _Seen]) -> list[tuple[int, int, dt.date]]:
    """Inserts or updates the observations, skipping those a newer audit already wrote; the
    keys actually written (RETURNING)."""
    table = ProductObservation._meta.db_table
    ops = connection.ops
    written: list[tuple[int, int, dt.date]] = []
    items = sorted(seen.items())  # key order: concurrent writers lock rows in the same order
    for start in range(0, len(items), _BATCH):
        chunk = items[start : start + _BATCH]
        rows = [
            [
                customer_id,
                product_id,
                ops.adapt_datefield_value(month),
                s.area_id,
                s.audit_id,
                ops.adapt_datetimefield_value(s.observed_at),
                s.on_shelf,
                ops.adapt_decimalfield_value(s.price, 10, 2),
                s.facings,
            ]
            for (customer_id, product_id, month), s in chunk
        ]
        source, params = _rows_sql(
            rows,
            ("bigint", "bigint", "date", "bigint", "bigint", "timestamptz", "boolean")
            + ("numeric", "smallint"),
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} AS o "  # noqa: S608 - table name is ours
                "(customer_id, product_id, month, area_id, audit_id, observed_at, on_shelf,"
                " price, facings) "
                f"{source} "
                "ON CONFLICT (customer_id, product_id, month) DO UPDATE SET "
                "area_id = excluded.area_id, audit_id = excluded.audit_id, "
                "observed_at = excluded.observed_at, "
                "on_shelf = COALESCE(excluded.on_shelf, o.on_shelf), "
                "price = COALESCE(excluded.price, o.price), "
                "facings = COALESCE(excluded.facings, o.facings) "
                "WHERE o.observed_at < excluded.observed_at "
                "OR (o.observed_at = excluded.observed_at AND o.audit_id < excluded.audit_id) "
                "RETURNING customer_id, product_id, month",
                params,
            )
            returned = cursor.fetchall()
        written += [(c, p, _as_date(m)) for c, p, m in returned]
    return written


def _as_date(value: dt.date | str) -> dt.date:
    """RETURNING on SQLite gives the stored text back."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def _tally_apply(deltas: dict[tuple[dt.date, int, int, Decimal], int]) -> None:
    """Adds the net deltas to the tallies: increments inserted or added (one statement),
    decrements subtracted from buckets that exist because the old observation counted there
    (one statement; the insert branch is never taken). Relative updates, so concurrent
    visits to different shops of one bucket don't lose a count."""
    table = PriceTally._meta.db_table
    ops = connection.ops
    for sign, op in ((1, "+"), (-1, "-")):
        rows = sorted((k, d * sign) for k, d in deltas.items() if d * sign > 0)
        for start in range(0, len(rows), _BATCH):
            chunk = rows[start : start + _BATCH]
            source, params = _rows_sql(
                [
                    [
                        ops.adapt_datefield_value(month),
                        product_id,
                        area_id,
                        ops.adapt_decimalfield_value(price, 10, 2),
                        shops,
                    ]
                    for (month, product_id, area_id, price), shops in chunk
                ],
                ("date", "bigint", "bigint", "numeric", "integer"),
            )
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {table} AS t "  # noqa: S608 - table name is ours
                    f"(month, product_id, area_id, price, shops) {source} "
                    "ON CONFLICT (month, product_id, area_id, price) DO UPDATE SET "
                    f"shops = t.shops {op} excluded.shops",
                    params,
                )
