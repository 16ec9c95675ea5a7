"""How orders use the quotas of supply allocation: what a shop has ordered of a plan's
product in its period (`usage_frame`), recounted when the order sync stores orders
(`orders_recorded`, called in the sync's transaction), and the orders that took a shop past
its quota, reported and kept as exceptions for the supervisors. The order sync reaches
allocation through this module only."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from django.db import connection
from django.db.models import Q, Sum
from django.utils.translation import gettext as _

from allocation.choices import PlanStatus
from allocation.models import AllocationException, AllocationPlan, AllocationQuota
from crm.dates import add_months, month_start
from crm.frames import query_frame
from orders.choices import OrderStatus
from orders.models import Order, OrderLine


def usage_frame(*, plans: Sequence[AllocationPlan], customer_ids: Sequence[int] | None = None):
    """Per plan and shop: the cartons of the plan's product ordered in its period, orders
    cancelled or returned left out (columns plan_id, customer_id, ordered)."""
    frames = []
    for plan in plans:
        qs = OrderLine.objects.filter(
            product_id=plan.product_id,
            order__order_date__gte=plan.starts_on,
            order__order_date__lte=plan.ends_on,
            order__status__in=OrderStatus.counted(),
            # The lines are partitioned by month on PostgreSQL at scale: name the months.
            month__gte=month_start(plan.starts_on),
            month__lte=month_start(plan.ends_on),
        )
        if customer_ids is not None:
            qs = qs.filter(order__customer_id__in=list(customer_ids))
        qs = qs.order_by().values("order__customer_id").annotate(n=Sum("cartons"))
        sql, params = qs.values_list("order__customer_id", "n").query.sql_with_params()
        frame = query_frame(
            sql,
            params,
            columns=("customer_id", "ordered"),
            dtypes={"customer_id": "int64", "ordered": "int64"},
        )
        frame["plan_id"] = plan.pk
        frames.append(frame)
    if not frames:
        return pd.DataFrame({"plan_id": [], "customer_id": [], "ordered": []}, dtype="int64")
    return pd.concat(frames, ignore_index=True)


@dataclass(frozen=True)
class RecordedOrder:
    """An order the order sync stored (new or replaced), as the quota check reads it: its
    place in the request, its key, and its lines (product id, cartons) in the order sent."""

    index: int
    order_id: int
    external_id: str
    customer_id: int
    order_date: dt.date
    lines: Sequence[tuple[int, int]]


def _plans_touching(months: set[dt.date]) -> list[AllocationPlan]:
    """The plan versions with quotas (published or closed) whose period meets `months`."""
    if not months:
        return []
    first, last = min(months), max(months)
    return list(
        AllocationPlan.objects.filter(
            status__in=[PlanStatus.PUBLISHED, PlanStatus.CLOSED],
            starts_on__lte=add_months(last, 1) - dt.timedelta(days=1),
            ends_on__gte=first,
        ).select_related("product")
    )


def quota_usage_refresh(*, keys: Iterable[tuple[int, dt.date]]) -> int:
    """Recounts `ordered` of the quotas of the shops and months in `keys` ((customer id,
    month) pairs an order sync touched, before and after a replaced order's change) from the
    order lines: orders cancelled or returned give their cartons back. Returns the quotas
    recounted."""
    keys = set(keys)
    return len(_recount(keys, _plans_touching({month_start(m) for _c, m in keys})))


@dataclass
class _Quota:
    """A quota row as the recount and the over-allocation check read it."""

    pk: int
    plan_id: int
    customer_id: int
    quota: int
    ordered: int


def _recount(
    keys: set[tuple[int, dt.date]], plans: Sequence[AllocationPlan]
) -> dict[tuple[int, int], _Quota]:
    """`quota_usage_refresh` for the plans touching `keys`' months: the touched quotas locked
    (one query), what their shops ordered counted for every plan at once (one query, a sum
    per plan), the changed ones written (one statement). Returns the quotas recounted by
    (plan id, customer id), with their new `ordered`."""
    by_month: dict[dt.date, set[int]] = defaultdict(set)
    for customer_id, month in keys:
        by_month[month_start(month)].add(customer_id)
    wanted: dict[int, set[int]] = {}  # plan id -> the customers it recounts
    for plan in plans:
        first = month_start(plan.starts_on)
        customers = {
            c for month, ids in by_month.items() if first <= month <= plan.ends_on for c in ids
        }
        if customers:
            wanted[plan.pk] = customers
    if not wanted:
        return {}
    every = sorted(set().union(*wanted.values()))
    # Locked before counting, so a concurrent sync of the same shop counts after this one.
    quotas = {
        (row.plan_id, row.customer_id): row
        for row in (
            _Quota(*values)
            for values in AllocationQuota.objects.select_for_update()
            .filter(plan_id__in=sorted(wanted), customer_id__in=every)
            .order_by("pk")
            .values_list("pk", "plan_id", "customer_id", "quota", "ordered")
        )
        if row.customer_id in wanted[row.plan_id]
    }
    if not quotas:
        return {}
    counted = _ordered([p for p in plans if p.pk in wanted], sorted({c for _p, c in quotas}))
    changed = []
    for key, row in quotas.items():
        value = counted.get(key, 0)
        if row.ordered != value:
            row.ordered = value
            changed.append(row)
    _ordered_write(changed)
    return quotas


def _ordered(plans: Sequence[AllocationPlan], customers: list[int]) -> dict[tuple[int, int], int]:
    """What each of `customers` ordered of each plan's product in its period, cancelled and
    returned orders left out: {(plan id, customer id): cartons}, 0s left out. One grouped
    query over the lines of the plans' products, a filtered sum per plan."""
    first = min(plan.starts_on for plan in plans)
    last = max(plan.ends_on for plan in plans)
    sums = {
        f"p{plan.pk}": Sum(
            "cartons",
            filter=Q(
                product_id=plan.product_id,
                order__order_date__gte=plan.starts_on,
                order__order_date__lte=plan.ends_on,
            ),
        )
        for plan in plans
    }
    rows = (
        OrderLine.objects.filter(
            product_id__in={plan.product_id for plan in plans},
            order__customer_id__in=customers,
            order__order_date__gte=first,
            order__order_date__lte=last,
            order__status__in=OrderStatus.counted(),
            # The lines are partitioned by month on PostgreSQL at scale: name the months.
            month__gte=month_start(first),
            month__lte=month_start(last),
        )
        .order_by()
        .values("order__customer_id")
        .annotate(**sums)
    )
    out = {}
    for row in rows:
        for plan in plans:
            cartons = row[f"p{plan.pk}"]
            if cartons:
                out[(plan.pk, row["order__customer_id"])] = int(cartons)
    return out


def _ordered_write(rows: list[_Quota]) -> None:
    """The new `ordered` of these quotas: one UPDATE … FROM unnest on PostgreSQL."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        AllocationQuota.objects.bulk_update(
            [AllocationQuota(pk=row.pk, ordered=row.ordered) for row in rows],
            ["ordered"],
            batch_size=500,
        )
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {AllocationQuota._meta.db_table} q SET ordered = c.ordered "  # noqa: S608
            "FROM unnest(%s::bigint[], %s::int[]) AS c(id, ordered) WHERE q.id = c.id",
            [[row.pk for row in rows], [row.ordered for row in rows]],
        )


def orders_recorded(
    *, orders: Sequence[RecordedOrder], keys: Iterable[tuple[int, dt.date]]
) -> list[dict[str, Any]]:
    """What the order sync calls in its transaction once it has stored `orders`: the touched
    quotas recounted (`quota_usage_refresh`), and a warning — kept as an exception for the
    supervisors — for each order line that took its shop past its quota: the shop's cartons
    of the product in the period, counted up to and including this order (orders of the
    request counted in the request's order), exceed the quota. The order is stored all the
    same: it already happened upstream."""
    keys = set(keys)
    if not keys:
        return []
    plans = _plans_touching({month_start(month) for _c, month in keys})
    if not plans:
        return []
    quotas = _recount(keys, plans)
    # In force for an order: a published or closed version whose period holds its date.
    by_product: dict[int, list[AllocationPlan]] = defaultdict(list)
    for plan in plans:
        by_product[plan.product_id].append(plan)
    hits: list[tuple[RecordedOrder, int, int, AllocationPlan]] = []  # order, line no, cartons
    for order in orders:
        for number, (product_id, cartons) in enumerate(order.lines):
            for plan in by_product.get(product_id, ()):
                if plan.starts_on <= order.order_date <= plan.ends_on:
                    hits.append((order, number, cartons, plan))
    if not hits:
        return []
    counted = {order.order_id for order in orders}
    cancelled = set(
        Order.objects.filter(pk__in=counted)
        .exclude(status__in=OrderStatus.counted())
        .values_list("pk", flat=True)
    )
    # Walk each quota's orders of this request backwards from its recounted total.
    later: dict[int, int] = defaultdict(int)
    warnings: list[dict[str, Any]] = []
    exceptions: list[AllocationException] = []
    for order, number, cartons, plan in sorted(hits, key=lambda h: (-h[0].index, -h[1])):
        quota = quotas.get((plan.pk, order.customer_id))
        if quota is None or order.order_id in cancelled:
            continue
        upto = quota.ordered - later[quota.pk]
        later[quota.pk] += cartons
        if upto <= quota.quota:
            continue
        warnings.append(
            {
                "index": order.index,
                "external_id": order.external_id,
                "code": "over_allocation",
                "field": f"lines.{number}.quantity",
                "message": _(
                    "Over the allocation of plan %(plan)s: %(ordered)d cartons of %(product)s "
                    "ordered in %(start)s – %(end)s with this order, the quota is %(quota)d."
                )
                % {
                    "plan": plan.code,
                    "ordered": upto,
                    "product": plan.product.code,
                    "start": plan.starts_on,
                    "end": plan.ends_on,
                    "quota": quota.quota,
                },
            }
        )
        exceptions.append(
            AllocationException(
                quota_id=quota.pk,
                order_id=order.order_id,
                cartons=cartons,
                ordered=upto,
                quota_cartons=quota.quota,
            )
        )
    _exceptions_store(exceptions)
    return sorted(warnings, key=lambda w: (w["index"], w["field"]))


def _exceptions_store(rows: list[AllocationException]) -> None:
    """Keeps each (quota, order) once: a replaced order's exception is brought up to date
    and opened again."""
    if not rows:
        return
    AllocationException.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["quota", "order"],
        update_fields=["cartons", "ordered", "quota_cartons", "status", "created_at"],
    )
