"""Grade overrides and assessments through the services: who may propose, approve, reject,
withdraw and revoke; what each step does to the stored grade; that every step is audited;
and that an approved override survives a recompute of its month."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.utils import timezone

from crm.choices import AuditSource
from crm.dates import add_months, month_start
from crm.exceptions import DomainError
from crm.models import AuditEntry
from crm.services import Actor
from grading import services
from grading.choices import OverrideStatus
from grading.models import GradeAssessment, GradeOverride, GradeResult
from tests.grading.factories import make_fact

MONTH = month_start(timezone.localdate())


def actor(user) -> Actor:
    return Actor.of(user, AuditSource.PAGE)


def add_facts(customer, cartons: int, price: int = 200, *, months: int = 3, month=MONTH) -> None:
    """`cartons` a month at `price` CNY a carton in the `months` months before `month`; the
    first order well before them, so every month counts."""
    first = add_months(month, -months - 1)
    for k in range(1, months + 1):
        make_fact(customer, add_months(month, -k), cartons, price, first_order_date=first)


@pytest.fixture
def graded(customer_world, system_actor):
    """c_th buys 600 cartons a month (grade 3 of the default thresholds), c_th2 120 (grade 6);
    the month is graded."""
    add_facts(customer_world["c_th"], 600)
    add_facts(customer_world["c_th2"], 120)
    services.grading_recompute(month=MONTH, actor=system_actor)
    return customer_world


def result_of(customer) -> GradeResult:
    return GradeResult.objects.get(customer=customer, month=MONTH)


def propose(world, *, by="sup_th", grade=2, reason="Opens a second shop next month"):
    return services.override_propose(
        customer=world["c_th"], month=MONTH, grade=grade, reason=reason, actor=actor(world[by])
    )


def audit_rows(obj) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk)
        ).order_by("id")
    )


# --- propose and approve --------------------------------------------------------------------


def test_the_fixture_grades_by_the_default_thresholds(graded):
    result = result_of(graded["c_th"])
    assert (result.basis, result.computed_grade, result.grade) == ("window", 3, 3)
    graded["c_th"].system.refresh_from_db()
    assert graded["c_th"].system.grade == 3


def test_approved_override_changes_the_effective_grade_not_the_computed_one(graded):
    # given
    override = propose(graded)
    assert result_of(graded["c_th"]).grade == 3  # a proposal alone changes nothing
    # when
    services.override_approve(override=override, note="Agreed", actor=actor(graded["sup_th2"]))
    # then
    result = result_of(graded["c_th"])
    assert (result.computed_grade, result.grade, result.override_id) == (3, 2, override.pk)
    graded["c_th"].system.refresh_from_db()
    assert graded["c_th"].system.grade == 2
    override.refresh_from_db()
    assert override.status == OverrideStatus.APPROVED
    assert override.decided_by == graded["sup_th2"]
    assert override.computed_grade == 3


def test_an_administrator_may_propose_and_a_supervisor_above_may_approve(graded):
    override = propose(graded, by="admin")
    services.override_approve(override=override, actor=actor(graded["sup_gz"]))
    assert result_of(graded["c_th"]).grade == 2


def test_the_proposer_cannot_approve_their_own(graded):
    override = propose(graded)
    with pytest.raises(DomainError, match="second person"):
        services.override_approve(override=override, actor=actor(graded["sup_th"]))
    assert result_of(graded["c_th"]).grade == 3


@pytest.mark.parametrize("who", ["am_th", "lo_th"])
def test_account_managers_and_licence_officers_cannot_propose(graded, who):
    with pytest.raises(DomainError):
        propose(graded, by=who)
    assert not GradeOverride.objects.exists()


def test_a_supervisor_of_another_area_can_neither_propose_nor_approve(graded):
    with pytest.raises(DomainError):
        propose(graded, by="sup_yx")
    override = propose(graded)
    with pytest.raises(DomainError):
        services.override_approve(override=override, actor=actor(graded["sup_yx"]))
    override.refresh_from_db()
    assert override.status == OverrideStatus.PROPOSED


def test_an_account_manager_cannot_approve(graded):
    override = propose(graded)
    with pytest.raises(DomainError):
        services.override_approve(override=override, actor=actor(graded["am_th"]))


# --- refusals on the proposal -------------------------------------------------------------


def test_a_second_open_override_for_the_same_customer_and_month_is_refused(graded):
    propose(graded)
    with pytest.raises(DomainError, match="already has an override"):
        propose(graded, by="sup_th2", grade=4)
    assert GradeOverride.objects.count() == 1


def test_after_a_rejection_a_new_proposal_is_accepted(graded):
    first = propose(graded)
    services.override_reject(override=first, note="No", actor=actor(graded["sup_th2"]))
    second = propose(graded, grade=4)
    assert second.status == OverrideStatus.PROPOSED


@pytest.mark.parametrize("grade", [0, 9, 3])
def test_a_grade_out_of_range_or_equal_to_the_computed_one_is_refused(graded, grade):
    # The default scheme has 8 grades; 3 is the computed grade.
    with pytest.raises(DomainError) as exc:
        propose(graded, grade=grade)
    assert exc.value.field == "grade"


def test_a_reason_is_needed(graded):
    with pytest.raises(DomainError) as exc:
        propose(graded, reason="  ")
    assert exc.value.field == "reason"


def test_a_month_not_graded_cannot_be_overridden(graded):
    with pytest.raises(DomainError) as exc:
        services.override_propose(
            customer=graded["c_th"],
            month=add_months(MONTH, -1),
            grade=2,
            reason="r",
            actor=actor(graded["sup_th"]),
        )
    assert exc.value.field == "month"


# --- reject, withdraw, revoke ---------------------------------------------------------------


def test_reject_needs_a_note_and_leaves_the_grade(graded):
    override = propose(graded)
    with pytest.raises(DomainError) as exc:
        services.override_reject(override=override, note=" ", actor=actor(graded["sup_th2"]))
    assert exc.value.field == "note"
    services.override_reject(
        override=override, note="Sales do not support it", actor=actor(graded["sup_th2"])
    )
    override.refresh_from_db()
    assert (override.status, override.decision_note) == (
        OverrideStatus.REJECTED,
        "Sales do not support it",
    )
    assert result_of(graded["c_th"]).grade == 3


def test_a_supervisor_of_another_area_cannot_reject(graded):
    override = propose(graded)
    with pytest.raises(DomainError):
        services.override_reject(override=override, note="no", actor=actor(graded["sup_yx"]))


def test_only_the_proposer_may_withdraw(graded):
    override = propose(graded)
    for other in ("sup_th2", "admin"):
        with pytest.raises(DomainError, match="proposed it"):
            services.override_withdraw(override=override, actor=actor(graded[other]))
    services.override_withdraw(override=override, actor=actor(graded["sup_th"]))
    override.refresh_from_db()
    assert override.status == OverrideStatus.WITHDRAWN


def test_a_decided_override_cannot_be_decided_again(graded):
    override = propose(graded)
    services.override_approve(override=override, actor=actor(graded["sup_th2"]))
    with pytest.raises(DomainError):
        services.override_reject(override=override, note="late", actor=actor(graded["admin"]))
    with pytest.raises(DomainError):
        services.override_withdraw(override=override, actor=actor(graded["sup_th"]))


def test_revoke_restores_the_computed_grade(graded):
    override = propose(graded)
    services.override_approve(override=override, actor=actor(graded["sup_th2"]))
    with pytest.raises(DomainError) as exc:
        services.override_revoke(override=override, note="", actor=actor(graded["sup_th"]))
    assert exc.value.field == "note"
    services.override_revoke(override=override, note="Shop closed", actor=actor(graded["sup_th"]))
    result = result_of(graded["c_th"])
    assert (result.grade, result.override_id) == (3, None)
    graded["c_th"].system.refresh_from_db()
    assert graded["c_th"].system.grade == 3
    override.refresh_from_db()
    assert override.status == OverrideStatus.REVOKED


def test_only_approved_overrides_can_be_revoked(graded):
    override = propose(graded)
    with pytest.raises(DomainError):
        services.override_revoke(override=override, note="x", actor=actor(graded["sup_th2"]))


def test_a_revoked_month_can_be_overridden_again(graded):
    override = propose(graded)
    services.override_approve(override=override, actor=actor(graded["sup_th2"]))
    services.override_revoke(override=override, note="x", actor=actor(graded["sup_th2"]))
    again = propose(graded, grade=5)
    assert again.status == OverrideStatus.PROPOSED


# --- audit --------------------------------------------------------------------------------


def test_every_step_writes_an_audit_entry(graded):
    override = propose(graded)
    services.override_approve(override=override, note="ok", actor=actor(graded["sup_th2"]))
    services.override_revoke(override=override, note="undo", actor=actor(graded["admin"]))
    rows = audit_rows(override)
    assert [r.action for r in rows] == ["create", "update", "update"]
    assert [r.actor for r in rows] == [graded["sup_th"], graded["sup_th2"], graded["admin"]]
    assert rows[0].reason == "Opens a second shop next month"
    assert (rows[1].field, rows[1].old_value, rows[1].new_value) == (
        "status",
        "proposed",
        "approved",
    )
    assert (rows[2].new_value, rows[2].reason) == ("revoked", "undo")
    assert {r.source for r in rows} == {AuditSource.PAGE}

    rejected = propose(graded, grade=4)
    services.override_reject(override=rejected, note="no", actor=actor(graded["sup_th2"]))
    withdrawn = propose(graded, grade=5)
    services.override_withdraw(override=withdrawn, actor=actor(graded["sup_th"]))
    assert [r.new_value for r in audit_rows(rejected)][-1] == "rejected"
    assert [r.new_value for r in audit_rows(withdrawn)][-1] == "withdrawn"


def test_a_refused_step_writes_nothing(graded):
    override = propose(graded)
    before = AuditEntry.objects.count()
    with pytest.raises(DomainError):
        services.override_approve(override=override, actor=actor(graded["sup_th"]))
    assert AuditEntry.objects.count() == before


# --- recompute ------------------------------------------------------------------------------


def test_an_approved_override_survives_a_recompute_of_the_month(graded, system_actor):
    # given
    override = propose(graded)
    services.override_approve(override=override, actor=actor(graded["sup_th2"]))
    # the changed row no longer matches its digest
    assert result_of(graded["c_th"]).digest is None
    # when the month is graded again
    outcome = services.grading_recompute(month=MONTH, actor=system_actor)
    # then (on PostgreSQL, which compares digests) only that row is written again
    assert outcome.written == (1 if connection.vendor == "postgresql" else 3)
    result = result_of(graded["c_th"])
    assert (result.computed_grade, result.grade, result.override_id) == (3, 2, override.pk)
    graded["c_th"].system.refresh_from_db()
    assert graded["c_th"].system.grade == 2
    assert result_of(graded["c_th2"]).override_id is None


def test_a_waiting_or_revoked_override_does_not_apply_on_recompute(graded, system_actor):
    revoked = propose(graded)
    services.override_approve(override=revoked, actor=actor(graded["sup_th2"]))
    services.override_revoke(override=revoked, note="x", actor=actor(graded["sup_th2"]))
    propose(graded, grade=6)
    services.grading_recompute(month=MONTH, actor=system_actor)
    result = result_of(graded["c_th"])
    assert (result.grade, result.override_id) == (3, None)


def test_an_override_approved_on_an_older_month_leaves_the_current_grade(graded, system_actor):
    # The customer's system grade follows the latest graded month only.
    older = add_months(MONTH, -1)  # graded from fewer months of the same facts: not grade 1
    services.grading_recompute(month=older, actor=system_actor)
    override = services.override_propose(
        customer=graded["c_th"], month=older, grade=1, reason="r", actor=actor(graded["sup_th"])
    )
    services.override_approve(override=override, actor=actor(graded["sup_th2"]))
    assert GradeResult.objects.get(customer=graded["c_th"], month=older).grade == 1
    graded["c_th"].system.refresh_from_db()
    assert graded["c_th"].system.grade == 3


# --- assessments ----------------------------------------------------------------------------


def test_an_assessment_is_created_then_updated_with_audit(graded):
    customer = graded["c_th"]
    first = services.assessment_record(
        customer=customer, month=MONTH, score=80, note="Good display", actor=actor(graded["am_th"])
    )
    assert (first.score, first.note, first.assessed_by) == (80, "Good display", graded["am_th"])
    second = services.assessment_record(
        customer=customer,
        month=MONTH + dt.timedelta(days=9),  # any day of the month is that month
        score=65,
        note="Good display",
        actor=actor(graded["sup_th"]),
    )
    assert second.pk == first.pk
    assert GradeAssessment.objects.get().score == 65
    assert GradeAssessment.objects.get().assessed_by == graded["sup_th"]
    rows = audit_rows(first)
    assert [(r.action, r.field) for r in rows] == [("create", ""), ("update", "score")]
    assert (rows[1].old_value, rows[1].new_value) == (80, 65)


def test_an_unchanged_assessment_writes_no_audit(graded):
    kwargs = {"customer": graded["c_th"], "month": MONTH, "score": 70, "note": ""}
    services.assessment_record(**kwargs, actor=actor(graded["am_th"]))
    before = AuditEntry.objects.count()
    services.assessment_record(**kwargs, actor=actor(graded["am_th"]))
    assert AuditEntry.objects.count() == before


@pytest.mark.parametrize("who", ["am_th2", "am_yx", "sup_yx"])
def test_only_people_who_see_the_customer_may_assess(graded, who):
    with pytest.raises(DomainError):
        services.assessment_record(
            customer=graded["c_th"], month=MONTH, score=50, note="", actor=actor(graded[who])
        )
    assert not GradeAssessment.objects.exists()


@pytest.mark.parametrize("score", [-1, 101, 50.5, True, "50"])
def test_an_assessment_must_be_a_whole_number_from_0_to_100(graded, score):
    with pytest.raises(DomainError) as exc:
        services.assessment_record(
            customer=graded["c_th"], month=MONTH, score=score, note="", actor=actor(graded["am_th"])
        )
    assert exc.value.field == "score"


@pytest.mark.parametrize("score", [0, 100])
def test_the_assessment_range_is_inclusive(graded, score):
    services.assessment_record(
        customer=graded["c_th"], month=MONTH, score=score, note="", actor=actor(graded["admin"])
    )
    assert GradeAssessment.objects.get().score == score


def test_a_license_officer_sees_the_customer_but_may_not_assess_it(graded):
    with pytest.raises(DomainError):
        services.assessment_record(
            customer=graded["c_th"], month=MONTH, score=50, note="", actor=actor(graded["lo_th"])
        )
    assert not GradeAssessment.objects.exists()


def test_the_proposer_withdraws_rather_than_rejects(graded):
    override = services.override_propose(
        customer=graded["c_th"],
        month=MONTH,
        grade=2,
        reason="Busy shop",
        actor=actor(graded["sup_th"]),
    )
    with pytest.raises(DomainError, match="Withdraw"):
        services.override_reject(
            override=override, note="Changed my mind", actor=actor(graded["sup_th"])
        )
    override.refresh_from_db()
    assert override.status == "proposed"
