"""The reads of the quota take-up overview (allocation's monthly result), scoped to the user
(`AllocationTakeUp.objects.visible_to`, `crm.scope`): the statuses against the month before,
and take-up by grade and by area."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Sum

from allocation.choices import TakeUpStatus
from allocation.models import AllocationTakeUp
from crm.dates import add_months, month_start

if TYPE_CHECKING:
    from crm.models import User

STATUSES = [status.value for status in TakeUpStatus]


def takeup_transitions(*, user: User, month: dt.date) -> dict[str, Any]:
    """The take-up statuses of the shops `user` sees in `month` against the month before, in
    the shape `crm.monthly.transition_matrix` reads:

        {"month", "previous_month", "customers", "transitions": {(before or None, now): n},
         "by_status": {status: n}}

    One grouped query (`customers.selectors.month_pair_counts`)."""
    from customers.selectors import month_pair_counts

    month = month_start(month)
    previous_month = add_months(month, -1)
    transitions = month_pair_counts(
        user=user,
        relation="allocation_takeups",
        field="status",
        month=month,
        previous_month=previous_month,
    )
    by_status = dict.fromkeys(STATUSES, 0)
    for (_before, after), n in transitions.items():
        by_status[after] = by_status.get(after, 0) + n
    return {
        "month": month,
        "previous_month": previous_month,
        "customers": sum(by_status.values()),
        "transitions": transitions,
        "by_status": by_status,
    }


def month_takeup_by(*, user: User, month: dt.date, by: str = "grade") -> list[dict[str, Any]]:
    """Take-up of `month` of the shops `user` sees, per grade or per area (`by`): shops,
    quota, used, unused, ordered over the quota and the share of the quota used (%). One
    grouped query; grade 1 (the highest) first, areas by code."""
    keys = ("grade",) if by == "grade" else ("area_id", "area__code", "area__name")
    rows = (
        AllocationTakeUp.objects.visible_to(user)
        .filter(month=month)
        .order_by()
        .values(*keys)
        .annotate(
            shops=Count("pk"),
            quota_total=Sum("quota"),
            used_total=Sum("used"),
            over_total=Sum("over_quota"),
        )
        .order_by("grade" if by == "grade" else "area__code")
    )
    out = []
    for row in rows:
        quota, used = row["quota_total"], row["used_total"]
        if by == "grade":
            key, label = row["grade"], str(row["grade"])
        else:
            key, label = row["area_id"], row["area__name"] or "—"
        out.append(
            {
                "key": key,
                "code": row.get("area__code") or "",
                "label": label,
                "shops": row["shops"],
                "quota": quota,
                "used": used,
                "unused": quota - used,
                "over": row["over_total"],
                "share": round(100 * used / quota, 1) if quota else None,
            }
        )
    return out
