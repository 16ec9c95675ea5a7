"""How orders use the quotas of supply allocation: what a shop has ordered of a plan's
product in its period — counted whole when a plan is published (`usage_frame`), then moved by
what each order sync adds and takes back (`orders_recorded`, called in the sync's
transaction) — and the orders that took a shop past its quota, reported and kept as
exceptions for the supervisors. The order sync reaches allocation through this module only."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from django.db import connection
from django.db.models import Sum
from django.utils.translation import gettext as _

from allocation.choices import PlanStatus
from allocation.models import AllocationException, AllocationPlan, AllocationQuota
from crm.dates import month_start
from crm.frames import query_frame
from orders.choices import OrderStatus
from orders.models import OrderLine


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
class OrderBefore:
    """What a replaced order was before the sync changed it: its shop, its date, whether it
    counted (not cancelled or returned) and its lines (product id, cartons)."""

    customer_id: int
    order_date: dt.date
    counted: bool
    lines: Sequence[tuple[int, int]]


@dataclass(frozen=True)
class RecordedOrder:
    """An order the order sync stored (new or replaced), as the quota check reads it: its
    place in the request, its key, its shop and date, whether it counts, its lines (product
    id, cartons) in the order sent, and — replaced — what it was before."""

    index: int
    order_id: int
    external_id: str
    customer_id: int
    order_date: dt.date
    lines: Sequence[tuple[int, int]]
    counted: bool = True
    before: OrderBefore | None = None


@dataclass
class _Quota:
    """A quota row as the over-allocation check reads it, after the orders' change."""

    pk: int
    plan_id: int
    customer_id: int
    quota: int
    ordered: int


def orders_recorded(*, orders: Sequence[RecordedOrder]) -> list[dict[str, Any]]:
    """What the order sync calls in its transaction once it has stored `orders`: what they
    add to (and, replaced, take from) the quotas of the plans in force on their dates, added
    to `ordered` in one statement that also locks and returns the quotas it changed (no
    recount: the quotas were counted whole when published); and a warning — kept as an
    exception for the supervisors — for each order line that took its shop past its quota:
    the shop's cartons of the product in the period, counted up to and including this order
    (orders of the request counted in the request's order), exceed the quota. The order is
    stored all the same: it already happened upstream."""
    if not orders:
        return []
    days = [o.order_date for o in orders] + [o.before.order_date for o in orders if o.before]
    plans = _plans_between(min(days), max(days))
    if not plans:
        return []
    by_product: dict[int, list[AllocationPlan]] = defaultdict(list)
    for plan in plans:
        by_product[plan.product_id].append(plan)

    def in_force(product_id: int, day: dt.date) -> list[AllocationPlan]:
        return [p for p in by_product.get(product_id, ()) if p.starts_on <= day <= p.ends_on]

    delta: dict[tuple[int, int], int] = defaultdict(int)  # (plan id, customer id) → cartons
    hits: list[tuple[RecordedOrder, int, int, AllocationPlan]] = []  # order, line no, cartons
    for order in orders:
        before = order.before
        if before is not None and before.counted:
            for product_id, cartons in before.lines:
                for plan in in_force(product_id, before.order_date):
                    delta[(plan.pk, before.customer_id)] -= cartons
        if not order.counted:
            continue
        for number, (product_id, cartons) in enumerate(order.lines):
            for plan in in_force(product_id, order.order_date):
                delta[(plan.pk, order.customer_id)] += cartons
                hits.append((order, number, cartons, plan))
    quotas = _ordered_add({key: d for key, d in delta.items() if d})
    # Walk each quota's orders of this request backwards from its new total.
    later: dict[int, int] = defaultdict(int)
    warnings: list[dict[str, Any]] = []
    exceptions: list[AllocationException] = []
    for order, number, cartons, plan in sorted(hits, key=lambda h: (-h[0].index, -h[1])):
        quota = quotas.get((plan.pk, order.customer_id))
        if quota is None:
            continue  # no quota for the shop in the plan, or the order changed nothing of it
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


def _plans_between(first: dt.date, last: dt.date) -> list[AllocationPlan]:
    """The plan versions with quotas (published or closed) whose period meets first – last."""
    return list(
        AllocationPlan.objects.filter(
            status__in=[PlanStatus.PUBLISHED, PlanStatus.CLOSED],
            starts_on__lte=last,
            ends_on__gte=first,
        ).select_related("product")
    )


def _ordered_add(changes: dict[tuple[int, int], int]) -> dict[tuple[int, int], _Quota]:
    """Adds each change to its quota's `ordered` ({(plan id, customer id): cartons, negative
    for cartons given back}); the quotas changed, as they are now, by (plan id, customer id).
    PostgreSQL: one UPDATE … FROM unnest … RETURNING, which locks the rows it changes, in key
    order (two syncs of the same shops wait for each other rather than lose a count)."""
    if not changes:
        return {}
    keys = sorted(changes)
    if connection.vendor != "postgresql":
        rows = list(
            AllocationQuota.objects.select_for_update().filter(
                plan_id__in={p for p, _c in keys}, customer_id__in={c for _p, c in keys}
            )
        )
        rows = [row for row in rows if (row.plan_id, row.customer_id) in changes]
        for row in rows:
            row.ordered = max(row.ordered + changes[(row.plan_id, row.customer_id)], 0)
        AllocationQuota.objects.bulk_update(rows, ["ordered"], batch_size=500)
        found = [(r.pk, r.plan_id, r.customer_id, r.quota, r.ordered) for r in rows]
    else:
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {AllocationQuota._meta.db_table} q "  # noqa: S608 - names are ours
                "SET ordered = GREATEST(q.ordered + c.delta, 0) "
                "FROM unnest(%s::bigint[], %s::bigint[], %s::int[]) "
                "AS c(plan_id, customer_id, delta) "
                "WHERE q.plan_id = c.plan_id AND q.customer_id = c.customer_id "
                "RETURNING q.id, q.plan_id, q.customer_id, q.quota, q.ordered",
                [[p for p, _c in keys], [c for _p, c in keys], [changes[k] for k in keys]],
            )
            found = cursor.fetchall()
    return {(row[1], row[2]): _Quota(*row) for row in found}


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
