"""Demo grading: the Spring Festival flagged as a peak month, twelve months graded (so the
customer page has a history and the overview a transition matrix), a draft score scheme to
preview, and two overrides (one approved, one waiting for approval).

Idempotent: recomputing a month stores the same results, and the peak month, the draft and
the overrides are only created when missing.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from crm.dates import add_months, month_start
from crm.demo import SeedReport
from crm.models import User
from crm.services import Actor
from grading import services
from grading.choices import SchemeKind, SchemeStatus
from grading.models import GradeOverride, GradeResult, GradingScheme, PeakMonth

MONTHS = 12
# The Spring Festival of 2026 fell on 17 February: its month is the year's sales peak.
SPRING_FESTIVAL = dt.date(2026, 2, 1)
SCORE_DRAFT = "Score ranking (20% quantity, 70% amount, 10% low-tar share)"


def seed_grading(report: SeedReport, *, actor: Actor) -> None:
    admin = User.objects.get(username="admin")
    if not PeakMonth.objects.filter(month=SPRING_FESTIVAL).exists():
        services.peak_month_flag(month=SPRING_FESTIVAL, label="春节 Spring Festival", actor=actor)
    if not GradingScheme.objects.filter(name=SCORE_DRAFT, status=SchemeStatus.DRAFT).exists():
        services.scheme_create_draft(
            kind=SchemeKind.SCORE, name=SCORE_DRAFT, actor=Actor.of(admin, actor.source)
        )

    this_month = month_start(timezone.localdate())
    for back in range(MONTHS - 1, -1, -1):
        services.grading_recompute(month=add_months(this_month, -back), actor=actor)
    report.lines.append(
        f"Grading: {MONTHS} months graded up to {this_month:%Y-%m} "
        f"({GradeResult.objects.filter(month=this_month).count()} customers this month)."
    )
    _seed_overrides(this_month, actor)


def _seed_overrides(month: dt.date, actor: Actor) -> None:
    """sup_tianhe proposes two overrides in 天河; sup_city approves the first."""
    if GradeOverride.objects.exists():
        return
    proposer = User.objects.get(username="sup_tianhe")
    approver = User.objects.get(username="sup_city")
    candidates = (
        GradeResult.objects.filter(month=month, customer__area__code="GZ-TH", grade__gt=1)
        .select_related("customer")
        .order_by("customer__customer_code")[:2]
    )
    reasons = [
        "新开商圈店，周边写字楼入驻，预计销量上升 / New office towers nearby; sales will rise.",
        "店面装修扩大陈列 / Shop renovated with a larger display.",
    ]
    for index, (result, reason) in enumerate(zip(candidates, reasons, strict=False)):
        override = services.override_propose(
            customer=result.customer,
            month=month,
            grade=result.computed_grade - 1,
            reason=reason,
            actor=Actor.of(proposer, actor.source),
        )
        if index == 0:
            services.override_approve(
                override=override, note="同意 / Agreed", actor=Actor.of(approver, actor.source)
            )
