"""The monthly recompute as a job: command, service, Celery task and chord.

The hand-made company (customer_world: three urban grocery shops) graded for 2026-11 from
the window 2026-08 … 2026-10:
- c_th buys 600 cartons a month at 260 CNY → grade 3 (≥ 500), top of its group of three
  → large (CZ1), price band ≥ 250 → structure class 1;
- c_th2 buys 120 cartons at 150 CNY → grade 6 (≥ 100), second of three (33% above it,
  past the 20% cut) → medium (CZ2), band 130-180 → class 5;
- c_yx never ordered → a new customer: urban, floor area unknown → initial grade 6, last of
  its group → small (CZ3), no price → band < 90 → class 10.
"""

import datetime as dt
import time
from copy import copy
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from crm import jobs
from crm.celery import app as celery_app
from crm.dates import add_months, month_start
from crm.exceptions import DomainError
from customers.models import CustomerSystem
from grading import selectors as grading_selectors
from grading import services
from grading.choices import RunStatus, RunTrigger, SchemeKind
from grading.models import GradeResult, GradingRun, GradingRunPart
from grading.tasks import grading_monthly_task, grading_run_task
from orders.models import MonthlySalesFact
from tests.grading.factories import buy_monthly

NOV = dt.date(2026, 11, 1)
WINDOW = ["2026-08", "2026-09", "2026-10"]
# Buying since June: every window month is a full month of trade.
HISTORY = ["2026-06", "2026-07", *WINDOW]
EXPECTED = {
    "c_th": (3, "large", "CZ1", 1),
    "c_th2": (6, "medium", "CZ2", 5),
    "c_yx": (6, "small", "CZ3", 10),
}


@pytest.fixture
def world(customer_world):
    buy_monthly(customer_world["c_th"], HISTORY, 600, "260.00")
    buy_monthly(customer_world["c_th2"], HISTORY, 120, "150.00")
    return customer_world


def stored(month=NOV) -> dict[int, tuple]:
    """What a run stored for `month`, without ids, timestamps and the run link."""
    skip = {"id", "run", "computed_at"}
    names = [f.attname for f in GradeResult._meta.concrete_fields if f.name not in skip]
    return {
        row[0]: row[1:]
        for row in GradeResult.objects.filter(month=month).values_list(*names).order_by("customer")
    }


def moved(result: GradeResult, month: dt.date) -> GradeResult:
    """A copy of `result` for `month`, graded 1 (not saved)."""
    clone = copy(result)
    clone.pk = None
    clone.month, clone.grade, clone.computed_grade = month, 1, 1
    return clone


def results_by_customer(world, month=NOV):
    rows = GradeResult.objects.filter(month=month)
    by_id = {r.customer_id: r for r in rows}
    return {
        key: (
            by_id[world[key].pk].grade,
            by_id[world[key].pk].business_scale,
            by_id[world[key].pk].category_code,
            by_id[world[key].pk].structure_class,
        )
        for key in EXPECTED
    }


def test_recompute_command_stores_the_months_results(world):
    out = StringIO()
    call_command("recompute", "--month", "2026-11", stdout=out)
    assert results_by_customer(world) == EXPECTED
    assert "graded 3 customers for 2026-11" in out.getvalue()
    run = GradingRun.objects.get()
    assert (run.status, run.trigger, run.customers) == (RunStatus.SUCCEEDED, "command", 3)
    assert run.counts == {"3": 1, "6": 2}
    assert run.scheme == services.scheme_active()


def test_results_carry_their_inputs(world):
    call_command("recompute", "--month", "2026-11", stdout=StringIO())
    th = GradeResult.objects.get(customer=world["c_th"], month=NOV)
    assert th.basis == "window"
    assert th.window == "2026-08 2026-09 2026-10"
    assert th.months_used == 3
    assert float(th.avg_cartons) == 600
    assert float(th.avg_price) == 260
    assert (th.quantity_pct, th.amount_pct, th.group_size) == (100, 100, 3)
    yx = GradeResult.objects.get(customer=world["c_yx"], month=NOV)
    assert (yx.basis, yx.months_used, yx.avg_price) == ("initial", 0, None)


def test_after_recompute_the_customer_api_shows_the_system_block(world):
    call_command("recompute", "--month", "2026-11", stdout=StringIO())
    api = APIClient()
    api.force_login(world["admin"])
    for key, (grade, scale, code, structure) in EXPECTED.items():
        body = api.get(f"/api/v1/customers/{world[key].customer_code}/").json()
        system = body["system"]
        assert system["grade"] == grade
        assert system["business_scale"] == scale
        assert system["category_code"] == code
        assert system["structure_class"] == structure


def test_running_a_month_twice_stores_the_same_results(world):
    call_command("recompute", "--month", "2026-11", stdout=StringIO())
    first = stored()
    call_command("recompute", "--month", "2026-11", stdout=StringIO())
    assert stored() == first
    assert GradeResult.objects.filter(month=NOV).count() == 3
    assert GradingRun.objects.filter(status=RunStatus.SUCCEEDED).count() == 2


def test_a_crash_while_writing_leaves_the_months_previous_results(world, monkeypatch):
    # given a stored month
    call_command("recompute", "--month", "2026-11", stdout=StringIO())
    before = stored()
    # when the shops buy differently and the next run fails after replacing the rows
    buy_monthly(world["c_yx"], WINDOW, 2000, "300.00")

    def crash(month):
        assert GradeResult.objects.filter(month=month, customer=world["c_yx"], grade=1).exists()
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "_system_fields_update", crash)
    with pytest.raises(RuntimeError):
        call_command("recompute", "--month", "2026-11", stdout=StringIO())
    # then the month is as it was and the run says what happened
    assert stored() == before
    failed = GradingRun.objects.get(status=RunStatus.FAILED)
    assert "disk full" in failed.error
    assert failed.finished_at is not None
    world["c_yx"].system.refresh_from_db()
    assert world["c_yx"].system.grade == 6


def test_dry_run_saves_nothing_and_reports_the_movements(world):
    call_command("recompute", "--month", "2026-10", stdout=StringIO())
    out = StringIO()
    call_command("recompute", "--month", "2026-11", "--dry-run", stdout=out)
    assert not GradeResult.objects.filter(month=NOV).exists()
    assert GradingRun.objects.count() == 1
    text = out.getvalue()
    assert text.startswith("Dry run: graded 3 customers for 2026-11")
    # October is graded on July-September: 600 and 120 cartons as in November, so nobody
    # moves.
    assert "0 up, 0 down, 3 unchanged" in text


def test_an_older_month_does_not_overwrite_the_customers_current_values(world):
    call_command("recompute", "--month", "2026-11", stdout=StringIO())
    MonthlySalesFact.objects.filter(customer=world["c_th2"], month=dt.date(2026, 7, 1)).update(
        cartons=5000
    )
    call_command("recompute", "--month", "2026-10", stdout=StringIO())
    october = GradeResult.objects.get(customer=world["c_th2"], month=dt.date(2026, 10, 1))
    assert october.grade == 1  # (5000 + 120 + 120) / 3 = 1746.67 ≥ 1500
    world["c_th2"].system.refresh_from_db()
    assert world["c_th2"].system.grade == 6  # still November's


def test_a_new_scheme_never_rewrites_a_past_month(world, system_actor):
    call_command("recompute", "--month", "2026-10", stdout=StringIO())
    october = stored(dt.date(2026, 10, 1))
    old = services.scheme_active()
    draft = services.scheme_create_draft(
        kind=SchemeKind.MATRIX, name="30 grades", actor=system_actor
    )
    services.scheme_activate(scheme=draft, actor=system_actor)
    call_command("recompute", "--month", "2026-11", stdout=StringIO())
    assert stored(dt.date(2026, 10, 1)) == october
    assert set(
        GradeResult.objects.filter(month=dt.date(2026, 10, 1)).values_list("scheme", flat=True)
    ) == {old.pk}
    assert set(GradeResult.objects.filter(month=NOV).values_list("scheme", flat=True)) == {draft.pk}


def test_the_run_summary_counts_a_change_of_scheme_as_not_comparable(world, system_actor):
    # given: October graded by the 8 grades (c_th 3, c_th2 6, c_yx initial 6)
    call_command("recompute", "--month", "2026-10", stdout=StringIO())
    draft = services.scheme_create_draft(
        kind=SchemeKind.MATRIX, name="30 grades", actor=system_actor
    )
    services.scheme_activate(scheme=draft, actor=system_actor)
    # when: November graded by the 30-grade matrix (c_th 600 cartons at 260 CNY → 10, …)
    outcome = services.grading_recompute(month=NOV, actor=system_actor)
    # then: no customer moved up or down: their October grades are on another scale
    assert outcome.movements == {"up": 0, "down": 0, "same": 0, "new": 0, "not_comparable": 3}
    # and the command's summary says so
    out = StringIO()
    call_command("recompute", "--month", "2026-11", stdout=out)
    assert "0 up, 0 down, 0 unchanged, 0 without a previous grade, 3 graded by another" in (
        out.getvalue()
    )


def test_a_second_live_run_of_a_month_is_refused(world):
    # a run waiting in the broker for a worker
    GradingRun.objects.create(month=NOV, trigger=RunTrigger.PAGE, status=RunStatus.QUEUED)
    with pytest.raises(CommandError, match="already queued or running"):
        call_command("recompute", "--month", "2026-11", stdout=StringIO())
    # another month is fine
    call_command("recompute", "--month", "2026-10", stdout=StringIO())


def test_a_run_whose_process_is_alive_keeps_its_month(world, hold_month, monkeypatch):
    monkeypatch.setattr(jobs, "LEASE_WAIT_SECONDS", 0.2)
    # given a run of November running in another process, which holds the month
    running = GradingRun.objects.create(
        month=NOV, trigger=RunTrigger.PAGE, status=RunStatus.RUNNING
    )
    with hold_month(GradingRun, NOV):
        # when the month is started again, from the command or the page
        with pytest.raises(CommandError, match="already running in another process"):
            call_command("recompute", "--month", "2026-11", stdout=StringIO())
        with pytest.raises(DomainError, match="already queued or running"):
            services.grading_run_start(month=NOV, trigger=RunTrigger.PAGE)
    # then the live run is left alone
    running.refresh_from_db()
    assert running.status == RunStatus.RUNNING
    assert GradingRun.objects.count() == 1


def test_a_queued_run_whose_month_another_process_holds_fails_with_the_reason(
    world, hold_month, monkeypatch, django_capture_on_commit_callbacks
):
    # given a run queued from the page while a process holds November
    monkeypatch.setattr(jobs, "LEASE_WAIT_SECONDS", 0.2)
    with django_capture_on_commit_callbacks(execute=False):
        run = services.grading_run_start(month=NOV, trigger=RunTrigger.PAGE)
    # when its task arrives
    with hold_month(GradingRun, NOV), pytest.raises(DomainError, match="another process"):
        grading_run_task.delay(run.pk).get()
    # then it is failed with the reason rather than left queued for two hours
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert "already running in another process" in run.error


def test_a_task_delivered_again_while_its_run_runs_elsewhere_leaves_the_run_to_it(
    world, hold_month, monkeypatch, django_capture_on_commit_callbacks
):
    # given a run a worker claimed and is running: its process holds November
    monkeypatch.setattr(jobs, "LEASE_WAIT_SECONDS", 0.2)
    with django_capture_on_commit_callbacks(execute=False):
        run = services.grading_run_start(month=NOV, trigger=RunTrigger.PAGE)
    GradingRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, started_at=timezone.now())
    # when the broker delivers its task again (unacknowledged after the visibility timeout,
    # an hour, while a run may take up to the task time limit), or a part of it meets the
    # chord's body holding the month to finish it
    with hold_month(GradingRun, NOV):
        with pytest.raises(DomainError, match="another process"):
            grading_run_task.delay(run.pk).get()
        with pytest.raises(DomainError, match="another process"):
            services.grading_part_compute(run_id=run.pk, area_ids=[world["c_th"].area_id])
    # then neither fails the run: it is left to the worker running it
    run.refresh_from_db()
    assert (run.status, run.error, run.finished_at) == (RunStatus.RUNNING, "", None)


def test_a_run_whose_process_died_is_marked_failed_and_the_month_starts_at_once(world):
    # given a run left "running" a minute ago by a process that was killed (nothing holds
    # its month any more)
    dead = GradingRun.objects.create(
        month=NOV,
        trigger=RunTrigger.COMMAND,
        status=RunStatus.RUNNING,
        started_at=timezone.now() - dt.timedelta(minutes=1),
    )
    # when the month is recomputed
    call_command("recompute", "--month", "2026-11", stdout=StringIO())
    # then the rerun ran at once and the dead run says why it stopped
    dead.refresh_from_db()
    assert dead.status == RunStatus.FAILED
    assert "the process running it stopped before it finished" in dead.error
    assert dead.finished_at is not None
    assert GradingRun.objects.filter(status=RunStatus.SUCCEEDED, month=NOV).count() == 1
    assert results_by_customer(world) == EXPECTED


def test_a_run_queued_longer_than_the_task_time_limit_is_taken_as_abandoned(world, settings):
    stale = GradingRun.objects.create(
        month=NOV,
        trigger=RunTrigger.PAGE,
        status=RunStatus.QUEUED,
        created_at=timezone.now() - dt.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60),
    )
    call_command("recompute", "--month", "2026-11", stdout=StringIO())
    stale.refresh_from_db()
    assert stale.status == RunStatus.FAILED
    assert "no worker started it" in stale.error


def test_a_split_run_between_parts_is_alive_until_its_heartbeat_is_old(world, settings):
    # given a split run whose parts wait for workers: nobody holds the month
    split = GradingRun.objects.create(
        month=NOV,
        trigger=RunTrigger.PAGE,
        status=RunStatus.RUNNING,
        parts_total=2,
        heartbeat_at=timezone.now() - dt.timedelta(seconds=settings.JOB_HEARTBEAT_TIMEOUT - 60),
    )
    # when its last heartbeat is recent, then it keeps the month
    with pytest.raises(DomainError, match="already queued or running"):
        services.grading_run_start(month=NOV, trigger=RunTrigger.PAGE)
    # when its parts have not reported for longer than the timeout, then it is abandoned
    GradingRun.objects.filter(pk=split.pk).update(
        heartbeat_at=timezone.now() - dt.timedelta(seconds=settings.JOB_HEARTBEAT_TIMEOUT + 60)
    )
    call_command("recompute", "--month", "2026-11", stdout=StringIO())
    split.refresh_from_db()
    assert split.status == RunStatus.FAILED
    assert "its parts stopped reporting" in split.error
    assert results_by_customer(world) == EXPECTED


def test_a_month_that_has_not_begun_is_refused(world):
    later = add_months(month_start(timezone.localdate()), 1)
    for month in (later, dt.date(9999, 11, 1)):
        with pytest.raises(CommandError, match="has not begun yet"):
            call_command("recompute", "--month", f"{month:%Y-%m}", stdout=StringIO())
        with pytest.raises(CommandError, match="has not begun yet"):
            call_command("recompute", "--month", f"{month:%Y-%m}", "--dry-run", stdout=StringIO())
        with pytest.raises(DomainError, match="has not begun yet"):
            services.grading_run_start(month=month, trigger=RunTrigger.PAGE)
    assert not GradingRun.objects.exists()
    assert not GradeResult.objects.exists()


def test_stored_results_of_a_future_month_do_not_block_the_current_values(world):
    # given November graded, then results of 9999-11 stored (as a run of it did before such
    # months were refused) and copied onto the customers
    call_command("recompute", "--month", "2026-11", stdout=StringIO())
    future = dt.date(9999, 11, 1)
    GradeResult.objects.bulk_create(
        moved(result, future) for result in GradeResult.objects.filter(month=NOV)
    )
    CustomerSystem.objects.update(grade=1)
    # when November is graded again
    call_command("recompute", "--month", "2026-11", stdout=StringIO())
    # then the customers carry November's grades again
    for key, (grade, *_rest) in EXPECTED.items():
        world[key].system.refresh_from_db()
        assert world[key].system.grade == grade, key
    # and the pages and the preview read November, not the stray month
    assert grading_selectors.latest_result_month() == NOV


def test_a_bad_month_argument_is_refused():
    with pytest.raises(CommandError, match="2026-11"):
        call_command("recompute", "--month", "November")


# --- Celery --------------------------------------------------------------------------------


def test_a_run_started_from_the_page_runs_as_a_task(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = services.grading_run_start(month=NOV, trigger=RunTrigger.PAGE)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert (run.parts_total, run.parts_done) == (1, 1)
    assert results_by_customer(world) == EXPECTED


def test_a_redelivered_task_does_not_run_again(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = services.grading_run_start(month=NOV, trigger=RunTrigger.PAGE)
    first = stored()
    finished = GradingRun.objects.get(pk=run.pk).finished_at
    assert grading_run_task.delay(run.pk).get() == RunStatus.SUCCEEDED
    assert stored() == first
    assert GradingRun.objects.get(pk=run.pk).finished_at == finished


def test_a_large_company_is_split_by_area_into_a_chord(
    world, settings, django_capture_on_commit_callbacks
):
    # given the single-process results
    call_command("recompute", "--month", "2026-11", stdout=StringIO())
    single = stored()
    # when the split threshold is low enough for the two areas (TH, YX) to become two parts
    settings.GRADING_SPLIT_MIN_CUSTOMERS = 1
    with django_capture_on_commit_callbacks(execute=True):
        run = services.grading_run_start(month=NOV, trigger=RunTrigger.PAGE)
    # then the chord graded everyone together: the same results (scales rank across areas)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert (run.parts_total, run.parts_done) == (2, 2)
    assert stored() == single
    # and the parts handed their figures over in the database, cleared with the write
    assert not GradingRunPart.objects.exists()


def test_a_part_stores_its_figures_for_the_chords_body(world, settings):
    # given a run claimed as two parts
    settings.GRADING_SPLIT_MIN_CUSTOMERS = 1
    run = services.grading_run_start(month=NOV, trigger=RunTrigger.PAGE)
    parts = services.grading_run_parts(run_id=run.pk)
    services.grading_run_claim(run_id=run.pk, parts=len(parts))
    # when each part computes (one twice: the broker delivered it again)
    returned = [services.grading_part_compute(run_id=run.pk, area_ids=p) for p in parts]
    services.grading_part_compute(run_id=run.pk, area_ids=parts[0])
    # then the broker carries only counts; the figures are one row per part in the database
    assert sorted(r["rows"] for r in returned) == [1, 2]
    assert GradingRunPart.objects.filter(run=run).count() == 2
    # and the body grades everyone from them
    finished = services.grading_parts_finish(run_id=run.pk, parts=returned)
    assert finished.status == RunStatus.SUCCEEDED
    assert results_by_customer(world) == EXPECTED
    assert not GradingRunPart.objects.exists()


def test_the_monthly_schedule_grades_the_month_that_has_begun(world, monkeypatch):
    monkeypatch.setattr("grading.tasks.timezone.localdate", lambda: dt.date(2026, 11, 1))
    run_id = grading_monthly_task.delay().get()
    run = GradingRun.objects.get(pk=run_id)
    assert (run.month, run.trigger) == (NOV, RunTrigger.SCHEDULE)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_split_run_goes_through_real_workers_and_redis(real_broker, customer_world, settings):
    from celery.contrib.testing.worker import start_worker

    buy_monthly(customer_world["c_th"], HISTORY, 600, "260.00")
    buy_monthly(customer_world["c_th2"], HISTORY, 120, "150.00")
    settings.GRADING_SPLIT_MIN_CUSTOMERS = 1
    with start_worker(celery_app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
        run = services.grading_run_start(month=NOV, trigger=RunTrigger.PAGE)
        for _ in range(600):
            run.refresh_from_db()
            if not run.is_live:
                break
            time.sleep(0.1)
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert (run.parts_total, run.parts_done) == (2, 2)
    assert results_by_customer(customer_world) == EXPECTED
