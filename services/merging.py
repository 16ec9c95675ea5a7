"""The services app's part of a customer merge (crm.merging): service requests and service
activities move to the survivor. An activity of the merged shop for an occasion the survivor
already had it for (one birthday greeting a year…) is dropped: the survivor's is kept."""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.merging import MergeStep, move_rows, register
from services.models import ServiceActivity, ServiceRequest


def _count(merged_id: int) -> dict[str, int]:
    return {
        "service_requests": ServiceRequest.objects.filter(customer_id=merged_id).count(),
        "service_activities": ServiceActivity.objects.filter(customer_id=merged_id).count(),
    }


def _move(*, survivor_id: int, merged_id: int, actor) -> dict[str, int]:
    ids = {"survivor_id": survivor_id, "merged_id": merged_id}
    return {
        "service_requests": move_rows(ServiceRequest, **ids),
        "service_activities": move_rows(
            ServiceActivity, **ids, unique_on=("kind", "occasion"), within=~Q(occasion="")
        ),
    }


def register_all() -> None:
    register(
        MergeStep(
            key="services",
            kinds={
                "service_requests": _("Service requests"),
                "service_activities": _("Service activities"),
            },
            count=_count,
            move=_move,
            order=30,
        )
    )
