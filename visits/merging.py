"""The visits app's part of a customer merge (crm.merging): visits, planned visits and
follow-ups move to the survivor. A planned visit of the merged shop on a day the survivor
already has one planned is dropped (a shop is planned once a day); the planning job plans
the survivor again on its next run."""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.merging import MergeStep, move_rows, register
from visits.models import FollowUp, PlannedVisit, Visit


def _count(merged_id: int) -> dict[str, int]:
    return {
        "visits": Visit.objects.filter(customer_id=merged_id).count(),
        "planned_visits": PlannedVisit.objects.filter(customer_id=merged_id).count(),
        "follow_ups": FollowUp.objects.filter(customer_id=merged_id).count(),
    }


def _move(*, survivor_id: int, merged_id: int, actor) -> dict[str, int]:
    ids = {"survivor_id": survivor_id, "merged_id": merged_id}
    return {
        "visits": move_rows(Visit, **ids),
        "planned_visits": move_rows(
            PlannedVisit, **ids, unique_on=("planned_for",), within=Q(status="planned")
        ),
        "follow_ups": move_rows(FollowUp, **ids),
    }


def register_all() -> None:
    register(
        MergeStep(
            key="visits",
            kinds={
                "visits": _("Visits"),
                "planned_visits": _("Planned visits"),
                "follow_ups": _("Follow-ups"),
            },
            count=_count,
            move=_move,
            order=20,
        )
    )
