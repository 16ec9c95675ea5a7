"""The allocation app's part of a customer merge (crm.merging).

Quotas: a plan version in which only the merged shop has a quota gives it to the survivor;
one in which both have a quota keeps the survivor's, adds to it what the merged shop ordered
against its own (its orders are the survivor's now, so the sum is what the survivor ordered)
and moves the merged quota's exceptions to it. Take-ups are monthly results of the take-up
run: for a month both have one, the survivor's is kept (the next run counts the merged
orders); the merged shop's other months move."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from allocation.models import AllocationException, AllocationQuota, AllocationTakeUp
from crm.merging import MergeStep, move_rows, register


def _count(merged_id: int) -> dict[str, int]:
    return {
        "allocation_quotas": AllocationQuota.objects.filter(customer_id=merged_id).count(),
        "allocation_takeups": AllocationTakeUp.objects.filter(customer_id=merged_id).count(),
    }


def _move(*, survivor_id: int, merged_id: int, actor) -> dict[str, int]:
    survivors = {
        quota.plan_id: quota
        for quota in AllocationQuota.objects.filter(
            customer_id=survivor_id,
            plan_id__in=AllocationQuota.objects.filter(customer_id=merged_id).values("plan_id"),
        ).select_for_update()
    }
    shared = list(AllocationQuota.objects.filter(customer_id=merged_id, plan_id__in=survivors))
    for quota in shared:  # one per plan version both shops have a quota in: a handful
        kept = survivors[quota.plan_id]
        kept.ordered += quota.ordered
        AllocationException.objects.filter(quota=quota).update(quota=kept)
    AllocationQuota.objects.bulk_update(list(survivors.values()), ["ordered"])
    AllocationQuota.objects.filter(pk__in=[quota.pk for quota in shared]).delete()
    ids = {"survivor_id": survivor_id, "merged_id": merged_id}
    return {
        "allocation_quotas": move_rows(AllocationQuota, **ids) + len(shared),
        "allocation_takeups": move_rows(AllocationTakeUp, **ids, unique_on=("month",)),
    }


def register_all() -> None:
    register(
        MergeStep(
            key="allocation",
            kinds={
                "allocation_quotas": _("Allocation quotas"),
                "allocation_takeups": _("Quota take-ups"),
            },
            count=_count,
            move=_move,
            order=70,
        )
    )
