"""Grade publication through the services and the commands: who may publish, unlock and
decide; that a published month is neither recomputed (run, recompute, the chain, the monthly
schedule) nor overridden until a second person approves its unlock; that every step is
audited."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command
from django.utils import timezone

from crm.choices import AuditSource, RunStatus
from crm.dates import add_months, month_start
from crm.exceptions import DomainError
from crm.models import AuditEntry
from crm.services import Actor
from grading import selectors, services
from grading.choices import OverrideStatus, PublicationStatus, RunTrigger
from grading.models import GradeOverride, GradePublication, GradeResult, GradingRun
from grading.tasks import grading_monthly_task
from tests.grading.factories import make_fact
from valuation.models import ValuationRun

MONTH = month_start(timezone.localdate())


def actor(user) -> Actor:
    return Actor.of(user, AuditSource.PAGE)


@pytest.fixture
def graded(customer_world, system_actor):
    """c_th buys 600 cartons a month for three months (grade 3 of the default thresholds),
    c_th2 120 (grade 6), c_yx nothing (grade 6); this month is graded."""
    first = add_months(MONTH, -4)
    for customer, cartons in (("c_th", 600), ("c_th2", 120)):
        for k in (1, 2, 3):
            make_fact(
                customer_world[customer], add_months(MONTH, -k), cartons, first_order_date=first
            )
    services.grading_recompute(month=MONTH, actor=system_actor)
    return customer_world


def publish(world, by="sup_th", **kwargs) -> GradePublication:
    return services.grades_publish(month=MONTH, actor=actor(world[by]), **kwargs)


def unlock(world, *, asked_by="sup_th", approved_by="admin") -> GradePublication:
    services.grades_unlock_request(
        month=MONTH, reason="Orders of the 30th came in late", actor=actor(world[asked_by])
    )
    return services.grades_unlock_approve(month=MONTH, actor=actor(world[approved_by]))


def audit_of(publication) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(publication),
            object_id=str(publication.pk),
        ).order_by("id")
    )


# --- publishing ---------------------------------------------------------------------------


def test_a_supervisor_publishes_a_graded_month(graded):
    publication = publish(graded, note="Reviewed with the city office")
    assert publication.status == PublicationStatus.PUBLISHED
    assert publication.published_by == graded["sup_th"]
    assert selectors.published_months() == {MONTH}
    frame = selectors.published_grades_frame(month=MONTH)
    assert sorted(frame["grade"]) == [3, 6, 6]  # c_yx buys nothing: the lowest grade
    (row,) = audit_of(publication)
    assert (row.action, row.actor, row.source) == ("create", graded["sup_th"], "page")
    assert row.reason == "Reviewed with the city office"


def test_publishing_twice_is_refused(graded):
    publish(graded)
    with pytest.raises(DomainError, match="published already"):
        publish(graded, by="admin")
    assert GradePublication.objects.count() == 1


def test_a_month_without_grades_cannot_be_published(graded):
    with pytest.raises(DomainError, match="no grades to publish"):
        services.grades_publish(month=add_months(MONTH, -1), actor=actor(graded["admin"]))


def test_a_month_with_a_live_run_cannot_be_published(graded):
    GradingRun.objects.create(month=MONTH, trigger=RunTrigger.PAGE, status=RunStatus.QUEUED)
    with pytest.raises(DomainError, match="queued or running"):
        publish(graded)
    assert not GradePublication.objects.exists()


@pytest.mark.parametrize("who", ["am_th", "lo_th"])
def test_account_managers_and_licence_officers_cannot_publish(graded, who):
    with pytest.raises(DomainError, match="administrators and supervisors"):
        publish(graded, by=who)
    assert not GradePublication.objects.exists()


def test_an_integration_client_publishes_through_the_command_only(graded):
    client = Actor.system("erp", AuditSource.API)
    with pytest.raises(DomainError, match="publish_grades command"):
        services.grades_publish(month=MONTH, actor=client)
    publication = services.grades_publish(
        month=MONTH, actor=Actor.system("publish_grades", AuditSource.COMMAND)
    )
    assert publication.published_by is None
    assert audit_of(publication)[0].actor_label == "publish_grades"


# --- the lock -----------------------------------------------------------------------------


def test_a_published_month_is_not_recomputed(graded, system_actor):
    publish(graded)
    runs = GradingRun.objects.count()
    with pytest.raises(DomainError, match="published"):
        services.grading_recompute(month=MONTH, actor=system_actor)
    with pytest.raises(DomainError, match="--unpublish"):
        services.grading_run_start(month=MONTH, trigger=RunTrigger.PAGE, actor=system_actor)
    assert GradingRun.objects.count() == runs
    # the dry run saves nothing: it stays possible
    outcome = services.grading_recompute(month=MONTH, dry_run=True)
    assert outcome.customers == 3


def test_a_run_made_before_the_month_was_published_does_not_write_it(graded):
    run = GradingRun.objects.create(
        month=MONTH,
        trigger=RunTrigger.PAGE,
        status=RunStatus.QUEUED,
        scheme=services.scheme_active(),
    )
    GradePublication.objects.create(month=MONTH)  # published while the run waited
    with pytest.raises(DomainError, match="published"):
        services.grading_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert "published" in run.error


def test_the_monthly_schedule_skips_a_published_month_and_says_why(graded):
    publish(graded)
    computed_at = set(GradeResult.objects.values_list("computed_at", flat=True))
    run = GradingRun.objects.get(pk=grading_monthly_task())
    assert (run.status, run.trigger) == (RunStatus.FAILED, RunTrigger.SCHEDULE)
    assert "published" in run.error_text
    assert set(GradeResult.objects.values_list("computed_at", flat=True)) == computed_at


def test_the_recompute_command_skips_grading_of_a_published_month_and_values_it(graded):
    publish(graded)
    runs = GradingRun.objects.count()
    out = StringIO()
    call_command("recompute", "--month", f"{MONTH:%Y-%m}", stdout=out)
    assert "Grading skipped" in out.getvalue()
    assert GradingRun.objects.count() == runs
    assert ValuationRun.objects.filter(month=MONTH, status=RunStatus.SUCCEEDED).exists()


def test_unlock_asked_by_one_approved_by_another_allows_a_recompute(graded, system_actor):
    publication = publish(graded)
    services.grades_unlock_request(month=MONTH, reason="Late orders", actor=actor(graded["sup_th"]))
    assert selectors.publication_of(month=MONTH).status == PublicationStatus.UNLOCK_REQUESTED
    with pytest.raises(DomainError):  # still locked while the request waits
        services.grading_recompute(month=MONTH, actor=system_actor)
    services.grades_unlock_approve(month=MONTH, actor=actor(graded["admin"]), note="OK")
    publication.refresh_from_db()
    assert publication.status == PublicationStatus.UNLOCKED
    assert (publication.unlocked_by, publication.unlock_requested_by) == (
        graded["admin"],
        graded["sup_th"],
    )
    assert selectors.publication_of(month=MONTH) is None
    assert selectors.published_grades_frame(month=MONTH) is None
    outcome = services.grading_recompute(month=MONTH, actor=system_actor)
    assert outcome.customers == 3
    # published again: a new row, the unlocked one kept as history
    publish(graded, by="sup_th2")
    assert GradePublication.objects.count() == 2
    changes = [
        (row.field, row.old_value, row.new_value, row.reason) for row in audit_of(publication)
    ]
    assert changes[1:] == [
        ("status", "published", "unlock_req", "Late orders"),
        ("status", "unlock_req", "unlocked", "OK"),
    ]


def test_the_person_who_asked_cannot_approve_the_unlock(graded):
    publish(graded)
    with pytest.raises(DomainError, match="second person"):
        unlock(graded, asked_by="sup_th", approved_by="sup_th")
    assert selectors.publication_of(month=MONTH).status == PublicationStatus.UNLOCK_REQUESTED


def test_an_unlock_needs_a_reason(graded):
    publish(graded)
    with pytest.raises(DomainError, match="Say why"):
        services.grades_unlock_request(month=MONTH, reason="  ", actor=actor(graded["admin"]))


@pytest.mark.parametrize("who", ["am_th", "lo_th"])
def test_account_managers_and_licence_officers_cannot_unlock(graded, who):
    publish(graded)
    with pytest.raises(DomainError, match="administrators and supervisors"):
        services.grades_unlock_request(month=MONTH, reason="x", actor=actor(graded[who]))
    services.grades_unlock_request(month=MONTH, reason="x", actor=actor(graded["admin"]))
    with pytest.raises(DomainError, match="administrators and supervisors"):
        services.grades_unlock_approve(month=MONTH, actor=actor(graded[who]))


def test_a_rejected_unlock_keeps_the_month_published(graded, system_actor):
    publication = publish(graded)
    services.grades_unlock_request(month=MONTH, reason="Late orders", actor=actor(graded["admin"]))
    with pytest.raises(DomainError, match="Say why"):
        services.grades_unlock_reject(month=MONTH, actor=actor(graded["sup_th"]), note="")
    services.grades_unlock_reject(month=MONTH, actor=actor(graded["sup_th"]), note="Too late")
    publication.refresh_from_db()
    assert publication.status == PublicationStatus.PUBLISHED
    assert publication.unlock_requested_by is None
    with pytest.raises(DomainError, match="published"):
        services.grading_recompute(month=MONTH, actor=system_actor)
    assert audit_of(publication)[-1].reason == "Too late"


def test_the_asker_withdraws_an_unlock_and_may_ask_again(graded):
    publish(graded)
    services.grades_unlock_request(month=MONTH, reason="Late orders", actor=actor(graded["admin"]))
    with pytest.raises(DomainError, match="Only the person"):
        services.grades_unlock_withdraw(month=MONTH, actor=actor(graded["sup_th"]))
    services.grades_unlock_withdraw(month=MONTH, actor=actor(graded["admin"]))
    assert selectors.publication_of(month=MONTH).status == PublicationStatus.PUBLISHED
    services.grades_unlock_request(month=MONTH, reason="Again", actor=actor(graded["sup_th"]))


# --- overrides of a published month ---------------------------------------------------------


def test_overrides_of_a_published_month_are_refused(graded):
    override = services.override_propose(
        customer=graded["c_th"],
        month=MONTH,
        grade=2,
        reason="New shop",
        actor=actor(graded["sup_th"]),
    )
    publish(graded)
    with pytest.raises(DomainError, match="published"):
        services.override_approve(override=override, actor=actor(graded["sup_th2"]))
    with pytest.raises(DomainError, match="published"):
        services.override_propose(
            customer=graded["c_th2"],
            month=MONTH,
            grade=5,
            reason="x",
            actor=actor(graded["sup_th"]),
        )
    override.refresh_from_db()
    assert override.status == OverrideStatus.PROPOSED
    assert GradeResult.objects.get(customer=graded["c_th"], month=MONTH).grade == 3
    # rejecting changes no grade: still possible
    services.override_reject(override=override, note="Published", actor=actor(graded["sup_th2"]))
    assert GradeOverride.objects.get().status == OverrideStatus.REJECTED


# --- the command ----------------------------------------------------------------------------


def command(*args: str) -> str:
    out = StringIO()
    call_command("publish_grades", "--month", f"{MONTH:%Y-%m}", *args, stdout=out)
    return out.getvalue()


def test_the_command_publishes_and_unlocks_with_two_people(graded):
    assert "published (by sup_th)" in command("--user", "sup_th", "--note", "Reviewed")
    with pytest.raises(CommandError, match="published already"):
        command("--user", "admin_x")
    with pytest.raises(CommandError, match="Say why"):
        command("--user", "sup_th", "--unpublish")
    command("--user", "sup_th", "--unpublish", "--reason", "Late orders")
    with pytest.raises(CommandError, match="second person"):
        command("--user", "sup_th", "--approve-unlock")
    assert "unlocked" in command("--user", "admin_x", "--approve-unlock")
    assert selectors.publication_of(month=MONTH) is None
    assert "published (by publish_grades)" in command()


def test_the_command_refuses_an_account_manager_and_an_unknown_user(graded):
    with pytest.raises(CommandError, match="administrators and supervisors"):
        command("--user", "am_th")
    with pytest.raises(CommandError, match="no active user"):
        command("--user", "nobody")
    with pytest.raises(CommandError, match="2026-13"):
        call_command("publish_grades", "--month", "2026-13", stdout=StringIO())
