"""Demo grading: the Spring Festival month of each year in the demo period flagged as a peak
month, every month of the period graded (so the customer page has a history and the overview
a transition matrix), a draft score scheme to preview, two overrides (one approved, one
waiting for approval), and the latest month published by the administrator (after the
overrides: a published month takes none), so supply allocation has grades to read.

Seeded once: a later run grades only the months some open shop has no grade for (a new
month, new shops), and flags a peak month, makes the draft and proposes the overrides only the
first time — a month unflagged, a draft deleted or an override decided stays so. The latest
month is published once; a published month is never graded again (shops added to the demo
since have no grade that month until someone unlocks and grades it).
"""

from __future__ import annotations

import datetime as dt
import time

from django.utils import timezone

from crm.dates import month_start
from crm.demo import (
    SeedReport,
    demo_first_day,
    demo_months,
    seed_once,
    spring_festival_months,
)
from crm.models import User
from crm.services import Actor
from customers.demo import months_missing
from grading import selectors, services
from grading.choices import SchemeKind
from grading.models import (
    GradeOverride,
    GradePublication,
    GradeResult,
    GradingScheme,
    PeakMonth,
)

SCORE_DRAFT = "Score ranking (20% quantity, 70% amount, 10% low-tar share)"


def seed_grading(report: SeedReport, *, actor: Actor) -> None:
    admin = User.objects.get(username="admin")
    today = timezone.localdate()
    months = report.options.months
    for month in spring_festival_months(demo_first_day(months, today), today):
        flagged = PeakMonth.objects.filter(month=month).exists
        if seed_once(f"grading.peak_month.{month:%Y-%m}", made=flagged):
            services.peak_month_flag(month=month, label="春节 Spring Festival", actor=actor)
    if seed_once("grading.score_draft", made=GradingScheme.objects.filter(name=SCORE_DRAFT).exists):
        services.scheme_create_draft(
            kind=SchemeKind.SCORE, name=SCORE_DRAFT, actor=Actor.of(admin, actor.source)
        )

    this_month = month_start(today)
    missing = months_missing(GradeResult, demo_months(months, today))
    locked = selectors.published_months(months=missing)
    missing = [month for month in missing if month not in locked]
    for month in missing:
        started = time.perf_counter()
        services.grading_recompute(month=month, actor=actor)
        if report.options.customers > 10_000:
            report.step(f"  graded {month:%Y-%m} in {time.perf_counter() - started:.1f} s")
    report.lines.append(
        f"Grading: {months} months up to {this_month:%Y-%m}, {len(missing)} graded now, "
        f"{months - len(missing)} graded before left as they are "
        f"({GradeResult.objects.filter(month=this_month).count()} customers this month)."
    )
    for month in sorted(locked):
        report.lines.append(
            f"Grading: {month:%Y-%m} is published: shops added since have no grade that month "
            f"until it is unlocked (publish_grades --unpublish) and graded again."
        )
    if seed_once("grading.overrides", made=GradeOverride.objects.exists):
        _seed_overrides(this_month, actor)
    published = GradePublication.objects.filter(month=this_month).exists
    if seed_once(f"grading.publication.{this_month:%Y-%m}", made=published):
        services.grades_publish(
            month=this_month,
            actor=Actor.of(admin, actor.source),
            note="演示数据：已审核 / Reviewed (demo data)",
        )
        report.lines.append(
            f"Grading: {this_month:%Y-%m} published by {admin.username} (supply allocation "
            "reads it)."
        )


def _seed_overrides(month: dt.date, actor: Actor) -> None:
    """sup_tianhe proposes two overrides in 天河; sup_city approves the first."""
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
