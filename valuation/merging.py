"""The valuation app's part of a customer merge (crm.merging). Value results are monthly
results of the valuation run: for a month both shops have one, the survivor's is kept and the
merged shop's dropped; its other months move. Compliance records move. An early warning of the
merged shop for an episode (kind and key) the survivor already has is dropped."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from crm.merging import MergeStep, move_rows, register
from valuation.models import ComplianceRecord, EarlyWarning, ValueResult


def _count(merged_id: int) -> dict[str, int]:
    return {
        "value_results": ValueResult.objects.filter(customer_id=merged_id).count(),
        "compliance_records": ComplianceRecord.objects.filter(customer_id=merged_id).count(),
        "early_warnings": EarlyWarning.objects.filter(customer_id=merged_id).count(),
    }


def _move(*, survivor_id: int, merged_id: int, actor) -> dict[str, int]:
    ids = {"survivor_id": survivor_id, "merged_id": merged_id}
    return {
        "value_results": move_rows(ValueResult, **ids, unique_on=("month",)),
        "compliance_records": move_rows(ComplianceRecord, **ids),
        "early_warnings": move_rows(EarlyWarning, **ids, unique_on=("kind", "key")),
    }


def register_all() -> None:
    register(
        MergeStep(
            key="valuation",
            kinds={
                "value_results": _("Value results"),
                "compliance_records": _("Compliance records"),
                "early_warnings": _("Early warnings"),
            },
            count=_count,
            move=_move,
            order=50,
        )
    )
