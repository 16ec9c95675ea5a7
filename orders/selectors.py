"""Reads on products, orders and the monthly sales facts; orders always through the scope rule."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from django.db.models import Count, Max, Min, QuerySet
from django.http import Http404
from django.utils import timezone

from crm.chain import FactsPart, read_at_once
from crm.dates import add_months, month_start
from crm.frames import query_frame
from orders.choices import OrderStatus, PriceClass
from orders.filtersets import OrderFilterSet, ProductFilterSet
from orders.models import FACT_CLASS_FIELDS, MonthlySalesFact, Order, OrderLine, Product

if TYPE_CHECKING:
    from crm.chain import ChainContext
    from crm.models import User
    from customers.models import Customer

RECENT_ORDERS = 10
_CENT = Decimal("0.01")
_TENTH = Decimal("0.1")


def product_list(*, filters: Mapping[str, Any] | None = None) -> QuerySet[Product]:
    """Every product, filtered and sorted by ProductFilterSet. Products are not scoped: the
    catalogue is the same for everyone (the pages decide who may see it)."""
    qs = Product.objects.all()
    filterset = ProductFilterSet(filters or {}, queryset=qs)
    # An invalid filter value filters nothing rather than failing the page.
    qs = filterset.qs if filterset.is_valid() else qs
    # code last, so rows with equal sort values keep their page.
    return qs.order_by(*qs.query.order_by, "code")


def products_by_ids(ids: Iterable[int]) -> dict[int, Product]:
    """The products with these ids, by id (one query; none when `ids` is empty)."""
    ids = set(ids)
    return {p.pk: p for p in Product.objects.filter(pk__in=ids)} if ids else {}


def product_by_code(code: str) -> Product | None:
    """The product with this code, or None."""
    return Product.objects.filter(code=code).first()


def order_list(*, user: User, filters: Mapping[str, Any] | None = None) -> QuerySet[Order]:
    """Orders of the customers `user` may see, filtered by OrderFilterSet, newest first."""
    qs = Order.objects.visible_to(user).select_related("customer")
    filterset = OrderFilterSet(filters or {}, queryset=qs)
    qs = filterset.qs if filterset.is_valid() else qs
    return qs.order_by("-order_date", "-id")


def order_get(*, user: User, pk: int) -> Order:
    """One order with its customer; 404 when it does not exist or lies outside the scope."""
    order = Order.objects.visible_to(user).select_related("customer").filter(pk=pk).first()
    if order is None:
        raise Http404
    return order


def order_lines(*, order: Order) -> QuerySet[OrderLine]:
    """The lines of `order` with their products, by product code."""
    return (
        OrderLine.objects.filter(order=order)
        .select_related("product")
        .order_by("product__code", "id")
    )


def _percent(part: int | Decimal, whole: int | Decimal) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(_TENTH)


def customer_latest_order(*, customer: Customer) -> Order | None:
    """The customer's latest order, any status (the customer page's summary header: the first
    of `customer_sales_summary`'s recent orders, read alone). The caller has checked the scope."""
    return Order.objects.filter(customer=customer).order_by("-order_date", "-id").first()


def customer_sales_summary(
    *, customer: Customer, months: int = 12, today: date | None = None
) -> dict[str, Any]:
    """The customer page's sales figures, from the monthly facts and the latest orders.

    The caller has reached `customer` through the scope rule (`customers.selectors.
    customer_get`), so its orders and facts are the user's to see. Two queries.

    Returns::

        {
          "months": 12, "start": date, "end": date,      # first days of the first/last month
          "monthly": [{"month": date, "cartons": int, "amount": Decimal, "orders": int}, ...],
                     # exactly `months` entries, oldest first, ending with today's month;
                     # zeros for months without a fact
          "class_mix": [{"price_class": 1, "label": "Class 1", "cartons": int,
                         "share": Decimal | None}, ...],   # classes 1..5, share in percent
          "totals": {"cartons": int, "amount": Decimal, "orders": int,
                     "average_price": Decimal | None,       # amount / cartons
                     "e_settlement_share": Decimal | None}, # percent of the amount
          "recent_orders": [Order, ...],   # the last 10, any status (`line_count` on each)
          "latest_order": Order | None,    # the first of them
          "has_orders": bool,              # the customer has any order at all
          "has_sales": bool,               # some cartons were bought in the window
          "chart": {"labels": ["2025-01", ...], "cartons": [int], "amount": [float],
                    "class_labels": [str], "class_cartons": [int]},   # for json_script
        }
    """
    end = month_start(today or timezone.localdate())
    start = add_months(end, -(months - 1))
    facts = {
        fact.month: fact
        for fact in MonthlySalesFact.objects.filter(
            customer=customer, month__gte=start, month__lte=end
        )
    }
    recent_orders = list(
        Order.objects.filter(customer=customer).order_by("-order_date", "-id")[:RECENT_ORDERS]
    )

    monthly = []
    for n in range(months - 1, -1, -1):
        month = add_months(end, -n)
        fact = facts.get(month)
        monthly.append(
            {
                "month": month,
                "cartons": fact.cartons if fact else 0,
                "amount": fact.amount if fact else Decimal("0.00"),
                "orders": fact.orders if fact else 0,
            }
        )

    cartons = sum(row["cartons"] for row in monthly)
    amount = sum((row["amount"] for row in monthly), Decimal("0.00"))
    electronic = sum((f.electronic_amount for f in facts.values()), Decimal("0.00"))
    class_cartons = [sum(getattr(f, field) for f in facts.values()) for field in FACT_CLASS_FIELDS]
    class_total = sum(class_cartons)
    class_mix = [
        {
            "price_class": price_class.value,
            "label": price_class.label,
            "cartons": n,
            "share": _percent(n, class_total),
        }
        for price_class, n in zip(PriceClass, class_cartons, strict=True)
    ]
    return {
        "months": months,
        "start": start,
        "end": end,
        "monthly": monthly,
        "class_mix": class_mix,
        "totals": {
            "cartons": cartons,
            "amount": amount,
            "orders": sum(row["orders"] for row in monthly),
            "average_price": (amount / cartons).quantize(_CENT) if cartons else None,
            "e_settlement_share": _percent(electronic, amount),
        },
        "recent_orders": recent_orders,
        "latest_order": recent_orders[0] if recent_orders else None,
        "has_orders": bool(recent_orders),
        "has_sales": cartons > 0,
        "chart": {
            "labels": [f"{row['month']:%Y-%m}" for row in monthly],
            "cartons": [row["cartons"] for row in monthly],
            "amount": [float(row["amount"]) for row in monthly],
            "class_labels": [str(row["label"]) for row in class_mix],
            "class_cartons": class_cartons,
        },
    }


# --- frames for the monthly computations ---------------------------------------------------


def sales_facts_frame(
    *,
    months: Sequence[date],
    columns: Sequence[str],
    only_in: Mapping[str, Sequence[date]] | None = None,
    area_ids: Sequence[int] | None = None,
    context: ChainContext | None = None,
) -> pd.DataFrame:
    """The `columns` of the monthly facts of `months` (first days), for every customer or those
    of `area_ids`, as a DataFrame (`month` as datetime64, amounts as floats, counts as int32:
    the frame feeds computations, not stored money). Not scoped: jobs read the whole company.

    `only_in` names columns needed in fewer months (e.g. valuation's counts, in its window
    only): they are read only there and are 0 in the other months' rows. Read in parts, the
    months that need the same columns together (`sales_facts_parts`).

    With a chain `context` whose declared facts cover the request, the facts of all its
    declarations are read once for the chain and this is a slice of them."""
    frames = []
    for frame in sales_facts_parts(
        months=months, columns=columns, only_in=only_in, area_ids=area_ids, context=context
    ):
        missing = {
            c: np.zeros(len(frame), dtype=_FACT_DTYPES.get(c, "int32"))
            for c in columns
            if c not in frame.columns
        }
        frames.append(frame.assign(**missing)[list(columns)] if missing else frame)
    if not frames:
        return pd.DataFrame(
            {
                c: pd.Series(dtype="datetime64[us]" if kind == "date" else kind)
                for c in columns
                for kind in [_FACT_DTYPES.get(c, "int32")]
            }
        )
    if len(frames) == 1:
        return frames[0].reset_index(drop=True)
    return pd.concat(frames, ignore_index=True)


def sales_facts_parts(
    *,
    months: Sequence[date],
    columns: Sequence[str],
    only_in: Mapping[str, Sequence[date]] | None = None,
    area_ids: Sequence[int] | None = None,
    context: ChainContext | None = None,
) -> list[pd.DataFrame]:
    """What `sales_facts_frame` gives, as the parts it was read in: each part the rows of some
    of `months` with the `columns` wanted in those months (`customer_id` and `month` always),
    so a column `only_in` leaves out of a part's months is absent from that part rather than
    filled with 0 (twelve months of amounts and six of every column are 2.25 M × 3 + 1.1 M ×
    7 values instead of 2.25 M × 9 at 200,000 customers, not copied into one frame)."""
    wanted = facts_wanted(months=months, columns=columns, only_in=only_in)
    if context is not None and area_ids is None and context.covers(wanted):
        parts = context.shared("facts", lambda: _chain_facts_read(context))
    else:
        parts = _facts_parts_read(wanted, area_ids=area_ids, at_once=False)
    out = []
    for part in parts:
        inside = part.months & set(months)
        names = [
            c for c in columns if c in _FACT_KEYS or (c in part.columns and inside & set(wanted[c]))
        ]
        if not inside or all(c in _FACT_KEYS for c in names):
            continue
        frame = part.frame
        if inside != part.months:
            frame = frame[frame["month"].isin(pd.to_datetime(sorted(inside)))]
        out.append(frame[names].reset_index(drop=True))
    return out


def facts_wanted(
    *,
    months: Sequence[date],
    columns: Sequence[str],
    only_in: Mapping[str, Sequence[date]] | None = None,
) -> dict[str, list[date]]:
    """`{column: months}` of a facts request (`sales_facts_frame`'s arguments), as a chain
    context's `want_facts` takes it; the key columns `customer_id` and `month` are implied."""
    only_in = only_in or {}
    return {
        c: sorted(set(only_in.get(c, months)) & set(months)) for c in columns if c not in _FACT_KEYS
    }


def sales_facts_want(*, context: ChainContext) -> None:
    """Declares the chain's facts read: every declaration's months and columns, read in
    parts at once when `ChainContext.start` begins the reads."""
    context.want("facts", lambda: _chain_facts_read(context))


_FACT_KEYS = ("customer_id", "month")


def _chain_facts_read(context: ChainContext) -> list[FactsPart]:
    return _facts_parts_read(context.facts_wanted, area_ids=None, at_once=True)


def _facts_parts_read(
    wanted: Mapping[str, Sequence[date] | set[date]],
    *,
    area_ids: Sequence[int] | None,
    at_once: bool,
) -> list[FactsPart]:
    """The facts of `wanted` in parts: the months that want the same set of columns are one
    read of those columns (read at once in threads with `at_once`, where possible)."""
    by_month: dict[date, set[str]] = {}
    for column, months in wanted.items():
        for month in months:
            by_month.setdefault(month, set()).add(column)
    groups: dict[tuple[str, ...], list[date]] = {}
    for month, columns in sorted(by_month.items()):
        groups.setdefault(tuple(sorted(columns)), []).append(month)
    reads = [
        lambda months=months, columns=columns: FactsPart(
            frozenset(months),
            columns,
            _facts_read(months=months, columns=[*_FACT_KEYS, *columns], area_ids=area_ids),
        )
        for columns, months in groups.items()
    ]
    return read_at_once(reads) if at_once else [read() for read in reads]


# Counts (cartons, orders) are int4 columns and stay int32: 12 months of 200,000 shops are
# 2.25 M rows, 9 such columns 81 MB less than as int64. The computations sum them with
# `numpy.bincount` / pandas into float64 or int64 figures, so the results are the same.
_FACT_DTYPES: dict[str, Any] = {
    "customer_id": "int64",
    "month": "date",
    "amount": "float64",
    "electronic_amount": "float64",
    "first_order_date": "date",
}


def _facts_read(
    *, months: Sequence[date], columns: Sequence[str], area_ids: Sequence[int] | None = None
) -> pd.DataFrame:
    qs = MonthlySalesFact.objects.filter(month__in=list(months))
    if area_ids is not None:
        qs = qs.filter(customer__area_id__in=list(area_ids))
    qs = qs.order_by().values_list(*columns)
    dtypes: dict[str, Any] = {name: _FACT_DTYPES.get(name, "int32") for name in columns}
    return query_frame(*qs.query.sql_with_params(), columns=columns, dtypes=dtypes)


def first_order_frame(
    *,
    before: date,
    area_ids: Sequence[int] | None = None,
    context: ChainContext | None = None,
) -> pd.DataFrame:
    """Each customer's first order date among the facts of the months before `before`
    (columns customer_id, first_order_date); customers without such facts are absent. Read
    once per chain with a `context` (`first_order_want` declares it): the `MIN` of the facts
    the chain reads anyway (their `first_order_date`) and of those of the older months."""
    if context is not None and area_ids is None:
        return context.shared(
            ("first_order", before), lambda: _chain_first_order(context, before=before)
        )
    return _first_order_read(before=before, area_ids=area_ids)


def _first_order_read(
    *, before: date, since: date | None = None, area_ids: Sequence[int] | None = None
) -> pd.DataFrame:
    qs = MonthlySalesFact.objects.filter(month__lt=before)
    if since is not None:
        qs = qs.filter(month__gte=since)
    if area_ids is not None:
        qs = qs.filter(customer__area_id__in=list(area_ids))
    qs = (
        qs.order_by()
        .values("customer_id")
        .annotate(first=Min("first_order_date"))
        .values_list("customer_id", "first")
    )
    return query_frame(
        *qs.query.sql_with_params(),
        columns=("customer_id", "first_order_date"),
        dtypes={"customer_id": "int64", "first_order_date": "date"},
    )


def first_order_want(*, before: date, context: ChainContext) -> None:
    """Declares the chain's read of the first order dates before `before`: the facts' own
    `first_order_date` in the months the chain reads up to `before` (call after the step's
    `want_facts`), and a `MIN` of the older months, begun with the chain's other reads."""
    context.want_facts({"first_order_date": _months_up_to(context, before)})
    context.want(("first_order_older", before), lambda: _older_first_orders(context, before))


def _months_up_to(context: ChainContext, before: date) -> list[date]:
    """The months the chain reads facts of that run without a gap up to the month before
    `before` (oldest first; at least that month, read or not)."""
    wanted = set().union(*context.facts_wanted.values())
    months = [add_months(before, -1)]
    while add_months(months[0], -1) in wanted:
        months.insert(0, add_months(months[0], -1))
    return months


def _older_first_orders(context: ChainContext, before: date) -> tuple[date, pd.DataFrame]:
    """The first order dates among the facts before the months the chain reads up to
    `before`, with the first of those months (where the read stopped)."""
    since = _months_up_to(context, before)[0]
    return since, _first_order_read(before=since)


def _chain_first_order(context: ChainContext, *, before: date) -> pd.DataFrame:
    since, older = context.shared(
        ("first_order_older", before), lambda: _older_first_orders(context, before)
    )
    # The months from where the older read stopped, so that no month is missed or counted
    # twice whatever the declarations became since.
    months = [since]
    while add_months(months[-1], 1) < before:
        months.append(add_months(months[-1], 1))
    if not context.covers({"first_order_date": months}):
        # Facts the chain did not read (or no longer holds): those months read apart.
        recent = _first_order_read(before=before, since=since)
        return _first_order_min([older, recent])
    facts = sales_facts_parts(
        months=months, columns=("customer_id", "first_order_date"), context=context
    )
    return _first_order_min([older, *facts])


def _first_order_min(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    firsts = [f for f in frames if len(f)]
    if not firsts:
        return frames[0].loc[:, ["customer_id", "first_order_date"]]
    joined = pd.concat([f[["customer_id", "first_order_date"]] for f in firsts], ignore_index=True)
    first = joined.groupby("customer_id", sort=False)["first_order_date"].min()
    return first.reset_index()


def customer_first_order_date(*, customer_id: int, before: date) -> date | None:
    """One customer's first order date among the facts of the months before `before` (None
    without such facts): what `first_order_frame` gives for one row, for explaining a grade."""
    facts = MonthlySalesFact.objects.filter(customer_id=customer_id, month__lt=before)
    return facts.aggregate(first=Min("first_order_date"))["first"]


def order_sync_by_source(*, days: int = 7, today: date | None = None) -> dict[str, dict[str, Any]]:
    """Per source (the integration client that sent them), the orders dated in the last
    `days` days and when the latest of them was received or changed — the administrators'
    view of whether the ordering system still syncs. Read through the order-date index, so
    it stays cheap however many years of orders are kept. One grouped query."""
    since = (today or timezone.localdate()) - timedelta(days=days - 1)
    rows = (
        Order.objects.filter(order_date__gte=since)
        .order_by()
        .values_list("source")
        .annotate(orders=Count("id"), last_received=Max("updated_at"))
    )
    return {source: {"orders": n, "last_received": last} for source, n, last in rows}


def product_sync_summary() -> dict[str, Any]:
    """How many products the catalogue holds and when one last changed (products come from
    the ordering system's sync). One query."""
    return Product.objects.aggregate(products=Count("id"), last_changed=Max("updated_at"))


def customers_shared_order_months(*, survivor_id: int, merged_id: int) -> list[date]:
    """The months in which both customers have orders that count in sales (placed or
    delivered): what a merge of the two asks to be confirmed when their account managers
    differ. One query."""
    counted = OrderStatus.counted()
    theirs = Order.objects.filter(customer_id=survivor_id, status__in=counted).values("month")
    return sorted(
        set(
            Order.objects.filter(customer_id=merged_id, status__in=counted, month__in=theirs)
            .order_by()
            .values_list("month", flat=True)
            .distinct()
        )
    )
