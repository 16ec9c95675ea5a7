"""Writes of the grading app: schemes, peak months, assessments, overrides and the monthly
recompute. Each service is atomic and writes its audit rows itself.

The recompute reads the monthly sales facts (never the order lines) into pandas, runs the
pure rules of `grading.computations` and replaces the month's results in one transaction:
a crash half way leaves the month as it was, and running a month twice stores the same
results (approved overrides are applied again each time).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, F
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm import jobs, monthly, monthly_runs, versioning
from crm.chain import ChainContext, shared_read
from crm.choices import AuditAction, AuditSource, RunStatus
from crm.dates import add_months, month_start
from crm.exceptions import DomainError
from crm.frames import query_frame
from crm.models import User
from crm.services import Actor, audit_record
from crm.stored_text import columns, text
from customers.choices import CustomerStatus
from customers.models import Customer, CustomerSystem
from customers.selectors import customer_in_scope, customer_monthly_frame
from customers.services import system_fields_copy
from grading import computations, policies
from grading.choices import OverrideStatus, PublicationStatus, RunTrigger, SchemeKind
from grading.models import (
    GradeAssessment,
    GradeOverride,
    GradePublication,
    GradeResult,
    GradingRun,
    GradingRunPart,
    GradingScheme,
    PeakMonth,
)
from orders.selectors import (
    facts_wanted,
    first_order_frame,
    first_order_want,
    sales_facts_frame,
    sales_facts_want,
)

logger = logging.getLogger(__name__)

# Serialises the write phase of runs (PostgreSQL advisory lock key): two months written at
# once could leave the customers' system fields showing the older month.
_WRITE_LOCK_KEY = 0x6772_6164  # "grad"
# How long the chord's body waits for the month (a redelivered part may still hold it).
_PARTS_FINISH_WAIT_SECONDS = 60.0


# --- schemes ------------------------------------------------------------------------------


def validate_parameters(scheme: GradingScheme, parameters: dict[str, Any]) -> dict[str, Any]:
    """The rules' verdict on `parameters` for `scheme` (its kind picks the rules): the
    clean parameters, or a DomainError naming the fields."""
    return computations.validate_parameters(scheme.kind, parameters)


def _default_scheme() -> dict[str, Any]:
    """The brief's default: the 8 grades by monthly average cartons."""
    kind = SchemeKind.THRESHOLDS
    return {
        "name": text("grading.scheme.default_name"),
        "kind": kind,
        "parameters": computations.validate_parameters(kind, computations.default_parameters(kind)),
        "note": text("crm.scheme.default_note"),
    }


SCHEMES = versioning.SchemeServices(
    model=GradingScheme,
    validate=validate_parameters,
    defaults=lambda *, kind: computations.default_parameters(kind),
    default_active=_default_scheme,
    refusal=gettext_lazy("No grading scheme is active. An administrator must activate one."),
    copied_fields=("kind",),
)
# The scheme new runs use (the brief's default until one has ever been activated), and the
# changes of a draft: crm.versioning's, with the grading rules.
scheme_active = SCHEMES.active
scheme_copy = SCHEMES.copy
scheme_update_draft = SCHEMES.update_draft
scheme_activate = SCHEMES.activate
scheme_delete_draft = SCHEMES.delete_draft


def scheme_create_draft(
    *,
    kind: str,
    name: str,
    actor: Actor,
    parameters: dict[str, Any] | None = None,
    note: str = "",
) -> GradingScheme:
    """A new draft of `kind`, with the brief's defaults unless `parameters` are given."""
    if kind not in SchemeKind.values:
        raise DomainError(_("Choose a scheme kind."), field="kind")
    return SCHEMES.create_draft(kind=kind, name=name, actor=actor, parameters=parameters, note=note)


# --- the draft preview ----------------------------------------------------------------


def scheme_preview(*, scheme: GradingScheme, parameters: dict[str, Any]) -> dict[str, Any]:
    """What `scheme` with `parameters` (already validated) would give for the latest graded
    month up to this one (this month when nothing is graded yet), beside the stored grades of
    that month: customers per grade now and with the scheme, and how many would move up, down
    or stay. Nothing is saved. For the whole company: the scheme pages are for administrators."""
    started = time.perf_counter()
    month = jobs.results_current_month(GradeResult)
    graded = month is not None
    month = month or month_start(timezone.localdate())
    candidate = GradingScheme(
        version=scheme.version, name=scheme.label, kind=scheme.kind, parameters=parameters
    )
    outcome = grading_compute(month=month, scheme=candidate)
    rows = GradeResult.objects.filter(month=month).values_list("customer_id", "grade", "scheme")
    stored_rows = pd.DataFrame.from_records(
        list(rows) if graded else [], columns=["customer_id", "grade", "scheme_id"]
    ).set_index("customer_id")
    stored = stored_rows["grade"].astype(float)
    proposed = outcome.results.set_index("customer_id")["grade"]
    # A grade is a position on its scheme's scale: the draft's grades compare with stored
    # ones only when both scales are the same (same kind and number of grades, e.g. moved
    # thresholds); against another scale every customer is "not comparable".
    same_scale = {
        s.pk: s.kind == candidate.kind and s.grade_count == candidate.grade_count
        for s in GradingScheme.objects.filter(pk__in=set(stored_rows["scheme_id"]))
    }
    now = computations.distribution(stored) if len(stored) else {}
    draft = outcome.distribution
    grades = range(1, max([*now, *draft, candidate.grade_count]) + 1)
    rows = [
        {
            "grade": g,
            "now": now.get(g, 0),
            "draft": draft.get(g, 0),
            "difference": draft.get(g, 0) - now.get(g, 0),
        }
        for g in grades
    ]
    return {
        "month": month,
        "graded": graded,
        "window": outcome.window,
        "rows": rows,
        "totals": {"now": len(stored), "draft": outcome.customers},
        "movements": computations.movements(
            stored, proposed, comparable=stored_rows["scheme_id"].map(same_scale)
        ),
        "chart": {
            "labels": [str(g) for g in grades],
            "now": [row["now"] for row in rows],
            "draft": [row["draft"] for row in rows],
        },
        "seconds": round(time.perf_counter() - started, 2),
    }


# --- peak months --------------------------------------------------------------------------


@transaction.atomic
def peak_month_flag(*, month: dt.date, label: str, actor: Actor) -> PeakMonth:
    """Flags a calendar month as peak season (schemes that exclude peaks skip it)."""
    month = month_start(month)
    if not label.strip():
        raise DomainError(_("Say why the month is a peak (e.g. Spring Festival)."), field="label")
    if PeakMonth.objects.filter(month=month).exists():
        raise DomainError(_("%(m)s is already flagged.") % {"m": f"{month:%Y-%m}"}, field="month")
    peak = PeakMonth.objects.create(month=month, label=label.strip()[:100], created_by=actor.user)
    audit_record(actor=actor, obj=peak, action=AuditAction.CREATE, snapshot={"label": peak.label})
    return peak


@transaction.atomic
def peak_month_unflag(*, peak: PeakMonth, actor: Actor) -> None:
    audit_record(
        actor=actor,
        obj=peak,
        action=AuditAction.DELETE,
        snapshot={"month": f"{peak.month:%Y-%m}", "label": peak.label},
    )
    peak.delete()


# --- account-manager assessments ----------------------------------------------------------


@transaction.atomic
def assessment_record(
    *, customer: Customer, month: dt.date, score: int, note: str, actor: Actor
) -> GradeAssessment:
    """Records (or changes) the assessment of `customer` for grade month `month`, used by
    score schemes that give the assessment a weight. By the customer's account manager, a
    supervisor of its area or an administrator."""
    user = actor.user
    if (
        user is None
        or not policies.may_assess(user)
        or not customer_in_scope(user=user, customer=customer)
    ):
        raise DomainError(_("Only the customer's account manager or supervisor may assess it."))
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 100:
        raise DomainError(_("Enter a whole number from 0 to 100."), field="score")
    month = month_start(month)
    existing = GradeAssessment.objects.select_for_update().filter(customer=customer, month=month)
    before = existing.first()
    if before is None:
        assessment = GradeAssessment.objects.create(
            customer=customer, month=month, score=score, note=note, assessed_by=actor.user
        )
        audit_record(
            actor=actor,
            obj=assessment,
            action=AuditAction.CREATE,
            snapshot={"score": score, "note": note},
        )
        return assessment
    changes = {
        key: (getattr(before, key), value)
        for key, value in (("score", score), ("note", note))
        if getattr(before, key) != value
    }
    if changes:
        before.score, before.note = score, note
        before.assessed_by, before.assessed_at = actor.user, timezone.now()
        before.save()
        audit_record(actor=actor, obj=before, action=AuditAction.UPDATE, changes=changes)
    return before


# --- overrides ----------------------------------------------------------------------------


def _can_decide(user: User, customer: Customer) -> bool:
    """Supervisors of the customer's area and administrators decide on overrides."""
    return policies.may_decide_overrides(user) and customer_in_scope(user=user, customer=customer)


@transaction.atomic
def override_propose(
    *, customer: Customer, month: dt.date, grade: int, reason: str, actor: Actor
) -> GradeOverride:
    """A supervisor (or administrator) proposes another grade for one customer and month; it
    takes effect once a second person approves it."""
    user = actor.user
    if user is None or not _can_decide(user, customer):
        raise DomainError(_("Only a supervisor of the customer's area may propose an override."))
    month = month_start(month)
    _refuse_published(month, _override_refusal)
    result = GradeResult.objects.select_related("scheme").filter(customer=customer, month=month)
    result = result.first()
    if result is None:
        raise DomainError(
            _("%(m)s has not been graded for this customer yet.") % {"m": f"{month:%Y-%m}"},
            field="month",
        )
    count = result.scheme.grade_count
    if isinstance(grade, bool) or not isinstance(grade, int) or not 1 <= grade <= count:
        raise DomainError(_("Enter a grade from 1 to %(n)d.") % {"n": count}, field="grade")
    if grade == result.computed_grade:
        raise DomainError(_("That is the computed grade already."), field="grade")
    if not reason.strip():
        raise DomainError(_("Give the reason for the override."), field="reason")
    try:
        with transaction.atomic():
            override = GradeOverride.objects.create(
                customer=customer,
                month=month,
                computed_grade=result.computed_grade,
                grade=grade,
                reason=reason.strip(),
                proposed_by=user,
            )
    except IntegrityError:
        raise DomainError(
            _("This customer already has an override for %(m)s waiting or in force.")
            % {"m": f"{month:%Y-%m}"}
        ) from None
    audit_record(
        actor=actor,
        obj=override,
        action=AuditAction.CREATE,
        reason=override.reason,
        snapshot={"month": f"{month:%Y-%m}", "computed": result.computed_grade, "grade": grade},
    )
    return override


def _locked_override(override: GradeOverride, *expected: str) -> GradeOverride:
    locked = (
        GradeOverride.objects.select_for_update().select_related("customer").get(pk=override.pk)
    )
    if locked.status not in expected:
        raise DomainError(
            _("This override is %(status)s; it cannot be changed that way.")
            % {"status": locked.get_status_display().lower()}
        )
    return locked


def _decide(override: GradeOverride, status: str, note: str, actor: Actor) -> GradeOverride:
    before = override.status
    override.status = status
    override.decided_by = actor.user
    override.decided_at = timezone.now()
    override.decision_note = note.strip()
    override.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    audit_record(
        actor=actor,
        obj=override,
        action=AuditAction.UPDATE,
        changes={"status": (before, status)},
        reason=override.decision_note,
    )
    return override


@transaction.atomic
def override_approve(*, override: GradeOverride, note: str = "", actor: Actor) -> GradeOverride:
    """A second person (another supervisor of the area or an administrator) approves: the
    month's effective grade becomes the proposed one, now and after every recompute."""
    locked = _locked_override(override, OverrideStatus.PROPOSED)
    user = actor.user
    if user is None or not _can_decide(user, locked.customer):
        raise DomainError(_("Only a supervisor of the customer's area may approve."))
    if user.pk == locked.proposed_by_id:
        raise DomainError(_("A second person must approve an override you proposed."))
    _refuse_published(locked.month, _override_refusal)
    _decide(locked, OverrideStatus.APPROVED, note, actor)
    _apply_effective_grade(locked.customer_id, locked.month, grade=locked.grade, override=locked)
    return locked


@transaction.atomic
def override_reject(*, override: GradeOverride, note: str, actor: Actor) -> GradeOverride:
    locked = _locked_override(override, OverrideStatus.PROPOSED)
    user = actor.user
    if user is None or not _can_decide(user, locked.customer):
        raise DomainError(_("Only a supervisor of the customer's area may reject."))
    if user.pk == locked.proposed_by_id:
        raise DomainError(_("Withdraw your own proposal instead of rejecting it."))
    if not note.strip():
        raise DomainError(_("Say why the override is rejected."), field="note")
    return _decide(locked, OverrideStatus.REJECTED, note, actor)


@transaction.atomic
def override_withdraw(*, override: GradeOverride, actor: Actor) -> GradeOverride:
    locked = _locked_override(override, OverrideStatus.PROPOSED)
    if actor.user is None or actor.user.pk != locked.proposed_by_id:
        raise DomainError(_("Only the person who proposed it may withdraw it."))
    return _decide(locked, OverrideStatus.WITHDRAWN, "", actor)


@transaction.atomic
def override_revoke(*, override: GradeOverride, note: str, actor: Actor) -> GradeOverride:
    """Ends an approved override: the computed grade is effective again."""
    locked = _locked_override(override, OverrideStatus.APPROVED)
    user = actor.user
    if user is None or not _can_decide(user, locked.customer):
        raise DomainError(_("Only a supervisor of the customer's area may revoke."))
    if not note.strip():
        raise DomainError(_("Say why the override is revoked."), field="note")
    _refuse_published(locked.month, _override_refusal)
    _decide(locked, OverrideStatus.REVOKED, note, actor)
    _apply_effective_grade(locked.customer_id, locked.month, grade=None, override=None)
    return locked


def _apply_effective_grade(
    customer_id: int, month: dt.date, *, grade: int | None, override: GradeOverride | None
) -> None:
    """Sets the stored result's effective grade (`grade`, or the computed one when None) and,
    when `month` is the latest graded month up to this one, the customer's system field. The
    row's digest no longer describes it: NULL, so the next run of the month rewrites it."""
    result = GradeResult.objects.filter(customer_id=customer_id, month=month)
    result.update(
        grade=grade if grade is not None else F("computed_grade"), override=override, digest=None
    )
    if jobs.results_month_is_current(GradeResult, month):
        effective = result.values_list("grade", flat=True).first()
        CustomerSystem.objects.filter(customer_id=customer_id).update(grade=effective)


# --- publication (a month's grades locked after review) ------------------------------------


def _month_text(month: dt.date) -> str:
    return f"{month:%Y-%m}"


def _published(month: dt.date) -> bool:
    return (
        GradePublication.objects.filter(month=month)
        .exclude(status=PublicationStatus.UNLOCKED)
        .exists()
    )


def _override_refusal(month: dt.date) -> str:
    return _(
        "The grades of %(m)s are published (locked): an override would change them. Ask for "
        "the month to be unlocked first (grading overview)."
    ) % {"m": _month_text(month)}


def _run_refusal_text(month: dt.date) -> str:
    return _(
        "The grades of %(m)s are published (locked) and are not recomputed. To grade the month "
        "again, an administrator or supervisor asks to unlock it with a reason (on the grading "
        "overview, or publish_grades --month %(m)s --unpublish --reason …) and another one "
        "approves."
    ) % {"m": _month_text(month)}


def _refuse_published(month: dt.date, refusal: Callable[[dt.date], str]) -> None:
    """Raises `refusal(month)` as a DomainError when grade `month` is published (locked)."""
    if _published(month):
        raise DomainError(refusal(month))


def grading_run_refusal(month: dt.date) -> str | None:
    """Why grade `month` may not be computed again (the engine's `run_refusal`): its grades
    are published. None when it may."""
    month = month_start(month)
    return _run_refusal_text(month) if _published(month) else None


def _publisher(actor: Actor) -> User | None:
    """Administrators and supervisors publish; an integration client (or a job) only through
    the command. The person who publishes (None for a client or a job)."""
    user = actor.user
    if user is None or user.is_integration_client:
        if actor.source == AuditSource.COMMAND:
            return None
        raise DomainError(_("Integration clients publish grades with the publish_grades command."))
    if not policies.may_publish_grades(user):
        raise DomainError(_("Only administrators and supervisors may publish grades."))
    return user


def _unlock_person(actor: Actor) -> User:
    """Unlocking is asked for and decided by people: administrators and supervisors."""
    user = actor.user
    if user is None or not policies.may_publish_grades(user):
        raise DomainError(_("Only administrators and supervisors may unlock published grades."))
    return user


def _live_publication(month: dt.date, status: str) -> GradePublication:
    """The live publication of `month` in `status`, locked for the change; refused with what
    the month's publication is otherwise."""
    month = month_start(month)
    publication = (
        GradePublication.objects.select_for_update()
        .filter(month=month)
        .exclude(status=PublicationStatus.UNLOCKED)
        .first()
    )
    if publication is None:
        raise DomainError(_("The grades of %(m)s are not published.") % {"m": _month_text(month)})
    if publication.status != status:
        if publication.status == PublicationStatus.UNLOCK_REQUESTED:
            message = _("An unlock of %(m)s has been asked for already; it waits for a decision.")
        else:
            message = _("No unlock of %(m)s is waiting for a decision.")
        raise DomainError(message % {"m": _month_text(month)})
    return publication


def _publication_change(
    publication: GradePublication, actor: Actor, reason: str, **fields: Any
) -> GradePublication:
    """Saves `fields` on `publication` and audits its status change (with `reason`)."""
    before = publication.status
    for name, value in fields.items():
        setattr(publication, name, value)
    publication.save(update_fields=list(fields))
    audit_record(
        actor=actor,
        obj=publication,
        action=AuditAction.UPDATE,
        changes={"status": (before, publication.status)},
        reason=reason,
    )
    return publication


@transaction.atomic
def grades_publish(*, month: dt.date, actor: Actor, note: str = "") -> GradePublication:
    """Publishes (locks) the grades of `month` after review: supply allocation reads them, and
    the month is not recomputed (nor overridden) until it is unlocked. Refused for a month
    without grades, a month published already and while a run of the month is queued or
    running."""
    person = _publisher(actor)
    month = month_start(month)
    shown = _month_text(month)
    if not GradeResult.objects.filter(month=month).exists():
        raise DomainError(_("%(m)s has no grades to publish.") % {"m": shown}, field="month")
    jobs.runs_abandon_dead(GradingRun, month=month)
    if GradingRun.objects.filter(month=month, status__in=RunStatus.live()).exists():
        raise DomainError(
            _("A grading run of %(m)s is queued or running; publish once it has finished.")
            % {"m": shown}
        )
    try:
        with transaction.atomic():
            publication = GradePublication.objects.create(
                month=month, note=note.strip(), published_by=person
            )
    except IntegrityError:
        raise DomainError(
            _("The grades of %(m)s are published already.") % {"m": shown}, field="month"
        ) from None
    audit_record(
        actor=actor,
        obj=publication,
        action=AuditAction.CREATE,
        reason=publication.note,
        snapshot={"month": shown, "status": publication.status},
    )
    return publication


@transaction.atomic
def grades_unlock_request(*, month: dt.date, reason: str, actor: Actor) -> GradePublication:
    """Asks to unlock the published grades of `month`, saying why; another administrator or
    supervisor approves or rejects."""
    user = _unlock_person(actor)
    if not reason.strip():
        raise DomainError(_("Say why the month must be unlocked."), field="reason")
    publication = _live_publication(month, PublicationStatus.PUBLISHED)
    return _publication_change(
        publication,
        actor,
        reason.strip(),
        status=PublicationStatus.UNLOCK_REQUESTED,
        unlock_reason=reason.strip(),
        unlock_requested_by=user,
        unlock_requested_at=timezone.now(),
    )


@transaction.atomic
def grades_unlock_approve(*, month: dt.date, actor: Actor, note: str = "") -> GradePublication:
    """A second person approves the unlock: the month may be recomputed and overridden again,
    and allocation no longer reads it until it is published again (a new publication)."""
    user = _unlock_person(actor)
    publication = _live_publication(month, PublicationStatus.UNLOCK_REQUESTED)
    if publication.unlock_requested_by_id == user.pk:
        raise DomainError(_("A second person must approve an unlock you asked for."))
    return _publication_change(
        publication,
        actor,
        note.strip(),
        status=PublicationStatus.UNLOCKED,
        unlocked_by=user,
        unlocked_at=timezone.now(),
    )


def _unlock_dropped(publication: GradePublication, actor: Actor, note: str) -> GradePublication:
    """The month stays published; the request lives on in the audit rows only, so that
    another one can be made."""
    return _publication_change(
        publication,
        actor,
        note,
        status=PublicationStatus.PUBLISHED,
        unlock_reason="",
        unlock_requested_by=None,
        unlock_requested_at=None,
    )


@transaction.atomic
def grades_unlock_reject(*, month: dt.date, actor: Actor, note: str) -> GradePublication:
    """Another administrator or supervisor refuses the unlock, saying why: the month stays
    published."""
    user = _unlock_person(actor)
    publication = _live_publication(month, PublicationStatus.UNLOCK_REQUESTED)
    if publication.unlock_requested_by_id == user.pk:
        raise DomainError(_("Withdraw your own request instead of rejecting it."))
    if not note.strip():
        raise DomainError(_("Say why the unlock is rejected."), field="note")
    return _unlock_dropped(publication, actor, note.strip())


@transaction.atomic
def grades_unlock_withdraw(*, month: dt.date, actor: Actor) -> GradePublication:
    """The person who asked for the unlock withdraws the request: the month stays published."""
    publication = _live_publication(month, PublicationStatus.UNLOCK_REQUESTED)
    if actor.user is None or actor.user.pk != publication.unlock_requested_by_id:
        raise DomainError(_("Only the person who asked for the unlock may withdraw it."))
    return _unlock_dropped(publication, actor, "")


# --- the monthly recompute ----------------------------------------------------------------


@dataclass
class RecomputeOutcome:
    """What a recompute found: the results frame and its summaries (saved or, dry, not)."""

    month: dt.date
    scheme: GradingScheme
    window: list[dt.date]
    results: pd.DataFrame
    distribution: dict[int, int] = field(default_factory=dict)
    movements: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    written: int | None = None  # result rows written (new or changed), once saved

    @property
    def customers(self) -> int:
        return len(self.results)


def grading_window(*, month: dt.date, scheme: GradingScheme) -> list[dt.date]:
    """The reference window `scheme` uses to grade `month`, with today's peak-month flags."""
    window = scheme.parameters["window"]
    return computations.reference_window(
        month_start(month),
        months=window["months"],
        peak_months=PeakMonth.objects.values_list("month", flat=True),
        exclude_peaks=window["exclude_peak_months"],
    )


def grading_chain_prepare(*, context: ChainContext) -> None:
    """Declares what a grading of `context.month` with the active scheme reads (its facts,
    first order dates, customers and last month's grades), so that the chain reads them
    once with the other steps' and at once (`crm.chain`)."""
    scheme = scheme_active()
    window = grading_window(month=context.month, scheme=scheme)
    columns = computations.fact_columns(scheme.parameters["grades"].get("structure_metric"))
    context.want_facts(facts_wanted(months=window, columns=columns))
    sales_facts_want(context=context)
    first_order_want(before=month_start(context.month), context=context)
    context.want("customers", customer_monthly_frame)
    before = add_months(month_start(context.month), -1)
    context.want(("grades", before), lambda: _month_grades(before))


def grading_inputs(
    *,
    month: dt.date,
    scheme: GradingScheme,
    area_ids: Sequence[int] | None = None,
    context: ChainContext | None = None,
) -> pd.DataFrame:
    """The window figures of every customer (or those of `area_ids`) for grading `month`:
    three bulk reads (customers, first order dates, the window's facts) and one pure step.
    With a chain `context` the reads are shared with the chain's other steps."""
    month = month_start(month)
    window = grading_window(month=month, scheme=scheme)
    if area_ids is not None:  # a part of a split run: its areas only, nothing shared
        context = None
        customers = customer_monthly_frame(area_ids=area_ids)
    else:
        customers = shared_read(context, "customers", customer_monthly_frame)
    first = first_order_frame(before=month, area_ids=area_ids, context=context)
    customers = customers.merge(first, on="customer_id", how="left")
    assessments = pd.DataFrame.from_records(
        GradeAssessment.objects.filter(month=month).values_list("customer_id", "score"),
        columns=["customer_id", "assessment"],
    )
    customers = customers.merge(assessments, on="customer_id", how="left")
    customers["assessment"] = customers["assessment"].astype(float)
    metric = scheme.parameters["grades"].get("structure_metric")
    facts = sales_facts_frame(
        months=window,
        columns=computations.fact_columns(metric),
        area_ids=area_ids,
        context=context,
    )
    return computations.window_inputs(facts, customers, window=window, structure_metric=metric)


def grading_compute(
    *,
    month: dt.date,
    scheme: GradingScheme,
    inputs: pd.DataFrame | None = None,
    context: ChainContext | None = None,
) -> RecomputeOutcome:
    """Grades every customer for `month` with `scheme` without saving anything (the dry run,
    the draft preview and the first half of a real run). Movements compare the effective
    grades against the stored ones of the month before, when the same scheme version gave
    them (otherwise the customer is "not comparable")."""
    month = month_start(month)
    started = time.perf_counter()
    if inputs is None:
        inputs = grading_inputs(month=month, scheme=scheme, context=context)
    read = time.perf_counter()
    results = computations.grade_frame(inputs, kind=scheme.kind, parameters=scheme.parameters)
    computed = time.perf_counter()
    approved = pd.DataFrame.from_records(
        GradeOverride.objects.filter(month=month, status=OverrideStatus.APPROVED).values_list(
            "customer_id", "id", "grade"
        ),
        columns=["customer_id", "override_id", "grade"],
    ).set_index("customer_id")
    results["override_id"] = results["customer_id"].map(approved["override_id"]).astype("Int64")
    results["grade"] = (
        results["customer_id"].map(approved["grade"]).fillna(results["computed_grade"]).astype(int)
    )
    before = add_months(month, -1)
    previous = shared_read(context, ("grades", before), lambda: _month_grades(before)).set_index(
        "customer_id"
    )
    current = results.set_index("customer_id")["grade"]
    return RecomputeOutcome(
        month=month,
        scheme=scheme,
        window=grading_window(month=month, scheme=scheme),
        results=results,
        distribution=computations.distribution(results["grade"]),
        movements=computations.movements(
            previous["grade"].astype(float),
            current,
            comparable=previous["scheme_id"] == scheme.pk,
        ),
        seconds={"read": read - started, "compute": computed - read},
    )


def _month_grades(month: dt.date) -> pd.DataFrame:
    """The stored grades of `month` (customer_id, grade, scheme_id)."""
    qs = GradeResult.objects.filter(month=month).order_by()
    return query_frame(
        *qs.values_list("customer_id", "grade", "scheme_id").query.sql_with_params(),
        columns=("customer_id", "grade", "scheme_id"),
        dtypes={"customer_id": "int64", "grade": "float64", "scheme_id": "int64"},
    )


def grading_results_stored(*, outcome: RecomputeOutcome) -> pd.DataFrame:
    """The customers and digests of the stored results of `outcome.month`, what the
    write compares with (`crm.monthly_runs`)."""
    return monthly_runs.month_results_stored(GradeResult, outcome)


def grading_results_write(
    *, outcome: RecomputeOutcome, run: GradingRun | None, stored: pd.DataFrame | None = None
) -> None:
    """Brings the stored results of `outcome.month` to `outcome.results` in one transaction:
    deletes the rows of customers no longer graded or whose result changed and writes the
    new and changed ones (COPY on PostgreSQL; elsewhere every row is replaced), so a month
    run again with the same outcome writes nothing; then, if it is the latest graded month
    not after this one, the customers' system fields (results of a later month, stored
    before future months were refused, never block them). `stored`: the stored rows' digests read
    beforehand (`grading_results_stored`). Refused for a published month (a run made before
    it was published). Call inside `transaction.atomic`."""
    _refuse_published(outcome.month, _run_refusal_text)
    monthly_runs.month_results_write(
        GradeResult,
        outcome,
        run=run,
        stored=stored,
        lock_key=_WRITE_LOCK_KEY,
        system_update=_system_fields_update,
    )


_SYSTEM_FIELDS = ("grade", "business_scale", "category_code", "structure_class")


def _system_fields_update(month: dt.date) -> None:
    system_fields_copy(results=GradeResult, month=month, fields=_SYSTEM_FIELDS)


# --- runs (`crm.monthly_runs`, with grading's declaration in grading/monthly.py) ---------


def _rules() -> monthly.MonthlyRules:
    return monthly.rules_for("grading")


def grading_run_start(*, month: dt.date, trigger: str, actor: Actor | None = None) -> GradingRun:
    """Queues a run of `month` with the active scheme and enqueues `grading_run_task` after
    commit. Refused for a month that has not begun, and while a run of that month is queued
    or running (a run whose process died is marked failed first, see `crm.jobs`)."""
    return monthly_runs.run_start(_rules(), month=month, trigger=trigger, actor=actor)


def grading_run_scheduled(*, month: dt.date) -> GradingRun:
    """The monthly schedule's run of `month`: queued like `grading_run_start`, except for a
    published month, which is left as it is: the run is recorded as not run, saying why
    (nothing is computed and nothing of the chain follows; a run refused for another reason
    — one already live — raises as before)."""
    month = month_start(month)
    if grading_run_refusal(month) is None:
        return grading_run_start(month=month, trigger=RunTrigger.SCHEDULE)
    logger.warning("grades of %s are published; the scheduled run was skipped", month)
    now = timezone.now()
    return GradingRun.objects.create(
        month=month,
        trigger=RunTrigger.SCHEDULE,
        scheme=scheme_active(),
        status=RunStatus.FAILED,
        started_at=now,
        finished_at=now,
        **columns(text("grading.run.month_published"), "error", params=False),
    )


def grading_run_execute(*, run_id: int) -> GradingRun:
    """Runs a queued run in this process: compute, then write atomically, then enqueue the
    rest of the monthly chain. Any error leaves the month's previous results untouched and is
    recorded on the run."""
    return monthly_runs.run_execute(_rules(), run_id=run_id)


def grading_after_write(
    *, outcome: RecomputeOutcome, run: GradingRun, context: ChainContext | None
) -> None:
    """Enqueues the jobs of `GRADING_FOLLOW_UP_TASKS` (the rest of the monthly chain, e.g.
    valuation) with the id of the run once it is committed. Grading names them in settings
    rather than importing them: the apps that build on grading depend on it, not the other
    way round."""
    transaction.on_commit(lambda: _follow_up(run.pk))


def _follow_up(run_id: int) -> None:
    for path in settings.GRADING_FOLLOW_UP_TASKS:
        import_string(path).delay(run_id)


def grading_recompute(
    *,
    month: dt.date,
    dry_run: bool = False,
    actor: Actor | None = None,
    context: ChainContext | None = None,
) -> RecomputeOutcome:
    """The in-process recompute (`manage.py recompute`): with `dry_run`, computes and reports
    without saving or recording a run; otherwise records a run and writes like the task. The
    follow-up jobs are not enqueued: the command runs them itself, in this process, with the
    same chain `context`."""
    return monthly_runs.recompute(
        _rules(), month=month, dry_run=dry_run, actor=actor, context=context, follow_up=False
    )


# --- the run split by area (Celery chord) -------------------------------------------------


def grading_run_parts(*, run_id: int) -> list[list[int]]:
    """How a run is shared between workers: lists of area ids, balanced by customer count
    (largest areas first into the emptiest part). One part below
    `GRADING_SPLIT_MIN_CUSTOMERS` customers: splitting a small company only adds overhead."""
    counts = (
        Customer.objects.exclude(dynamic__status=CustomerStatus.CLOSED)
        .order_by()
        .values_list("area_id")
        .annotate(n=Count("id"))
        .values_list("area_id", "n")
    )
    sizes = sorted(((n, area) for area, n in counts if area is not None), reverse=True)
    total = sum(n for n, _area in sizes)
    wanted = min(settings.GRADING_MAX_PARTS, len(sizes))
    if total < settings.GRADING_SPLIT_MIN_CUSTOMERS or wanted < 2:
        return []
    parts: list[list[int]] = [[] for _i in range(wanted)]
    loads = [0] * wanted
    for n, area in sizes:
        emptiest = int(np.argmin(loads))
        parts[emptiest].append(area)
        loads[emptiest] += n
    return parts


def grading_part_compute(*, run_id: int, area_ids: list[int]) -> dict[str, int]:
    """One part of a split run: the window figures of the customers of `area_ids`, stored for
    the chord's body in a `GradingRunPart` row (through the database, not the result
    backend: 200,000 customers' figures as JSON columns made the chord about 3× slower than
    one process); returns only its row count, nothing once the run has finished or failed.
    Holds the month (shared with the other parts) and reports a heartbeat as it starts and
    ends. Marks the run failed on error."""
    with jobs.run_held(GradingRun, run_id, related=("scheme",), claim=False, shared=True) as run:
        if run is None:
            return {}
        jobs.run_beat(GradingRun, run_id)
        inputs = grading_inputs(month=run.month, scheme=run.scheme, area_ids=area_ids)
        with transaction.atomic():
            # A redelivered part replaces what its first delivery stored.
            GradingRunPart.objects.filter(run_id=run_id, first_area_id=min(area_ids)).delete()
            GradingRunPart.objects.create(
                run_id=run_id,
                first_area_id=min(area_ids),
                rows=len(inputs),
                inputs=_frame_bytes(inputs),
            )
            jobs.run_beat(GradingRun, run_id, parts_done=F("parts_done") + 1)
    return {"rows": len(inputs)}


def grading_parts_finish(*, run_id: int, parts: list[dict[str, int]]) -> GradingRun:
    """The chord's body: grades all customers from the figures the parts stored (scales and
    scores rank across areas, so this step sees everyone) and writes the month atomically,
    holding it; the parts' rows go in the same transaction."""
    # Waits longer than a claim: a redelivered copy of a part may still hold the month.
    with jobs.run_held(
        GradingRun, run_id, related=("scheme",), claim=False, wait=_PARTS_FINISH_WAIT_SECONDS
    ) as run:
        if run is None:
            return GradingRun.objects.get(pk=run_id)
        stored = list(
            GradingRunPart.objects.filter(run_id=run_id)
            .order_by("first_area_id")
            .values_list("inputs", flat=True)
        )
        if len(stored) != run.parts_total:
            raise DomainError(
                _("%(n)d of %(total)d parts of the run stored their figures.")
                % {"n": len(stored), "total": run.parts_total}
            )
        frames = [_frame_from_bytes(payload) for payload in stored]
        frames = [frame for frame in frames if len(frame)]
        inputs = (
            pd.concat(frames, ignore_index=True)
            if frames
            else pd.DataFrame(columns=list(computations.INPUT_COLUMNS))
        )
        del frames, stored
        outcome = grading_compute(month=run.month, scheme=run.scheme, inputs=inputs)
        monthly_runs.run_write(
            _rules(),
            run,
            outcome,
            also=GradingRunPart.objects.filter(run=run).delete,
        )
    grading_after_write(outcome=outcome, run=run, context=None)
    run.refresh_from_db()
    return run


def _frame_bytes(frame: pd.DataFrame) -> bytes:
    """`frame` as an Arrow IPC stream (column types kept, nullable integers included)."""
    import pyarrow as pa

    table = pa.Table.from_pandas(frame, preserve_index=False)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def _frame_from_bytes(payload: bytes | memoryview) -> pd.DataFrame:
    import pyarrow as pa

    return pa.ipc.open_stream(bytes(payload)).read_all().to_pandas()


def grading_run_claim(*, run_id: int, parts: int) -> GradingRun | None:
    """Marks a queued run running as `parts` parts, with a first heartbeat (its parts, run
    by other workers, report theirs); None for a redelivered task."""
    with jobs.run_held(GradingRun, run_id, related=("scheme",)) as run:
        if run is not None:
            jobs.run_beat(GradingRun, run_id, parts_total=parts, parts_done=0)
    return run
