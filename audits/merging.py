"""The audits app's part of a customer merge (crm.merging): retail audits move to the
survivor; a product observation of the merged shop for a product and month the survivor has
one for is dropped (the survivor's is kept)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from audits.models import Audit, ProductObservation
from crm.merging import MergeStep, move_rows, register


def _count(merged_id: int) -> dict[str, int]:
    return {
        "audits": Audit.objects.filter(customer_id=merged_id).count(),
        "product_observations": ProductObservation.objects.filter(customer_id=merged_id).count(),
    }


def _move(*, survivor_id: int, merged_id: int, actor) -> dict[str, int]:
    ids = {"survivor_id": survivor_id, "merged_id": merged_id}
    return {
        "audits": move_rows(Audit, **ids),
        "product_observations": move_rows(
            ProductObservation, **ids, unique_on=("product", "month")
        ),
    }


def register_all() -> None:
    register(
        MergeStep(
            key="audits",
            kinds={
                "audits": _("Retail audits"),
                "product_observations": _("Product observations"),
            },
            count=_count,
            move=_move,
            order=60,
        )
    )
