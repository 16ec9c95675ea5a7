"""The grading app's part of a customer merge (crm.merging). Assessments and grade results
are monthly results of the grading run: for a month both shops have one, the survivor's is
kept and the merged shop's dropped; the merged shop's other months move to the survivor. The
next monthly run grades the survivor on its merged orders. An open grade override (proposed
or approved) of the merged shop for a month the survivor has one for is dropped likewise."""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.merging import MergeStep, move_rows, register
from grading.models import GradeAssessment, GradeOverride, GradeResult


def _count(merged_id: int) -> dict[str, int]:
    return {
        "grade_results": GradeResult.objects.filter(customer_id=merged_id).count(),
        "grade_assessments": GradeAssessment.objects.filter(customer_id=merged_id).count(),
        "grade_overrides": GradeOverride.objects.filter(customer_id=merged_id).count(),
    }


def _move(*, survivor_id: int, merged_id: int, actor) -> dict[str, int]:
    ids = {"survivor_id": survivor_id, "merged_id": merged_id}
    return {
        "grade_results": move_rows(GradeResult, **ids, unique_on=("month",)),
        "grade_assessments": move_rows(GradeAssessment, **ids, unique_on=("month",)),
        "grade_overrides": move_rows(
            GradeOverride,
            **ids,
            unique_on=("month",),
            within=Q(status__in=["proposed", "approved"]),
        ),
    }


def register_all() -> None:
    register(
        MergeStep(
            key="grading",
            kinds={
                "grade_results": _("Grade results"),
                "grade_assessments": _("Grade assessments"),
                "grade_overrides": _("Grade overrides"),
            },
            count=_count,
            move=_move,
            order=40,
        )
    )
