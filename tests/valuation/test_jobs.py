"""The monthly valuation as a job: the in-process recompute, the run started from a page and
its Celery task, the chain after grading and `manage.py recompute`.

The hand-made company (customer_world plus one closed shop) buys in the ten months before
this month:
- c_th: 600 cartons a month at 260 CNY, half of them key brands, all e-settled and paid on
  time; a large shop in a commercial street;
- c_th2: 120 cartons at 150 CNY, no key brands, half e-settled, half of the orders paid late;
  a small shop among houses;
- c_yx: never ordered (every purchase input missing);
- closed: bought like c_th2 but has closed (never valued).
"""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command
from django.utils import timezone

from crm import jobs, monthly_runs
from crm.celery import app as celery_app
from crm.choices import AuditSource, RunStatus, RunTrigger
from crm.dates import add_months, month_start
from crm.exceptions import DomainError
from crm.models import AuditEntry
from crm.schedules import BEAT_SCHEDULE
from crm.services import Actor
from customers.choices import ValueTier
from customers.models import CustomerDynamic, CustomerSystem
from grading import services as grading_services
from grading.models import GradeResult, GradingRun
from orders.models import MonthlySalesFact
from tests.customers.factories import make_customer
from tests.grading.factories import make_fact
from valuation import services
from valuation.choices import RecordType
from valuation.models import ValuationRun, ValueResult, WarningRefresh
from valuation.selectors import overview as overview_selectors
from valuation.tasks import valuation_after_grading_task, valuation_run_task

MONTH = month_start(timezone.localdate())
PREVIOUS = add_months(MONTH, -1)
HISTORY = [add_months(MONTH, -k) for k in range(10, 0, -1)]
SYSTEM_FIELDS = (
    "value_tier",
    "contribution_score",
    "support_score",
    "credit_score",
    "growth_score",
    "influence_score",
    "current_value",
    "potential_value",
    "is_core",
    "is_problem",
)


def buy(customer, cartons: int, price: int, **fields) -> None:
    for month in HISTORY:
        make_fact(customer, month, cartons, price, first_order_date=HISTORY[0], **fields)


@pytest.fixture
def world(customer_world, areas):
    w = customer_world
    buy(
        w["c_th"],
        600,
        260,
        key_brand_cartons=300,
        electronic_amount=600 * 260,
        on_time_orders=4,
        late_orders=0,
    )
    buy(w["c_th2"], 120, 150, electronic_amount=60 * 150, on_time_orders=2, late_orders=2)
    closed = make_customer(areas["TH"], w["am_th"], store_name="已关闭店")
    buy(closed, 120, 150)
    CustomerDynamic.objects.filter(customer=closed).update(status="closed")
    CustomerDynamic.objects.filter(customer=w["c_th"]).update(
        outlet_size="large", trade_area="commercial"
    )
    CustomerDynamic.objects.filter(customer=w["c_th2"]).update(
        outlet_size="small", trade_area="residential"
    )
    return {**w, "closed": closed}


def stored(month=MONTH) -> dict[int, tuple]:
    """What a run stored for `month`, without ids, timestamps and the run link."""
    skip = {"id", "run", "computed_at"}
    names = [f.attname for f in ValueResult._meta.concrete_fields if f.name not in skip]
    return {
        row[0]: row[1:]
        for row in ValueResult.objects.filter(month=month).values_list(*names).order_by("customer")
    }


def system_values(customer) -> tuple:
    return tuple(CustomerSystem.objects.filter(customer=customer).values_list(*SYSTEM_FIELDS).get())


def result_values(customer, month=MONTH) -> tuple:
    return tuple(
        ValueResult.objects.filter(customer=customer, month=month).values_list(*SYSTEM_FIELDS).get()
    )


def recompute(month=MONTH, **kwargs):
    return services.valuation_recompute(
        month=month, actor=Actor.system("tests", AuditSource.COMMAND), **kwargs
    )


# --- the in-process recompute -------------------------------------------------------------


def test_a_recompute_values_every_customer_that_is_not_closed(world):
    # when
    outcome = recompute()
    # then one result per open customer, and the customers carry it
    results = {r.customer_id: r for r in ValueResult.objects.filter(month=MONTH)}
    assert set(results) == {world[k].pk for k in ("c_th", "c_th2", "c_yx")}
    run = ValuationRun.objects.get()
    assert (run.status, run.trigger, run.month, run.customers) == (
        RunStatus.SUCCEEDED,
        RunTrigger.COMMAND,
        MONTH,
        3,
    )
    assert run.finished_at is not None
    assert run.scheme == services.scheme_active()
    assert set(run.counts) == set(ValueTier.values)
    assert sum(run.counts.values()) == 3
    assert (run.core, run.problem) == (outcome.core, outcome.problem)
    assert run.core == sum(r.is_core for r in results.values())
    assert run.problem == sum(r.is_problem for r in results.values())
    for result in results.values():
        assert (result.run_id, result.scheme_id) == (run.pk, run.scheme_id)
    for key in ("c_th", "c_th2", "c_yx"):
        assert system_values(world[key]) == result_values(world[key])
    assert system_values(world["closed"])[0] == ""
    # the rich shop is worth more than the small one; the one that never ordered has no
    # purchase inputs
    th, th2, yx = (results[world[k].pk] for k in ("c_th", "c_th2", "c_yx"))
    assert th.current_value > th2.current_value
    assert th.credit_score > th2.credit_score
    assert th.influence_score > th2.influence_score
    assert "avg_amount" in yx.missing_inputs
    assert yx.months_counted == 0


def test_the_run_refreshes_the_compliance_flags_and_the_warnings(world):
    recompute()
    assert WarningRefresh.objects.filter(finished_at__isnull=False).exists()
    assert set(
        CustomerSystem.objects.filter(
            customer__in=[world[k] for k in ("c_th", "c_th2", "c_yx")]
        ).values_list("compliance_flag", flat=True)
    ) == {True}


def test_a_violation_lowers_the_credit_and_puts_the_customer_on_the_problem_list(world):
    # given a month valued without violations
    recompute()
    before = ValueResult.objects.get(customer=world["c_th"], month=MONTH)
    assert not before.is_problem
    # when the licence officer records a violation last month and the month is valued again
    services.compliance_record_add(
        customer=world["c_th"],
        date=PREVIOUS + dt.timedelta(days=9),
        record_type=RecordType.MINORS,
        note="Sold to a pupil",
        actor=Actor.of(world["lo_th"], AuditSource.PAGE),
    )
    recompute()
    # then
    after = ValueResult.objects.get(customer=world["c_th"], month=MONTH)
    assert (after.violations, after.recent_violations) == (1, 1)
    assert after.credit_score == before.credit_score - 25
    assert after.is_problem
    world["c_th"].system.refresh_from_db()
    assert world["c_th"].system.is_problem is True
    assert world["c_th"].system.compliance_flag is False


def test_valuing_a_month_twice_stores_the_same_results(world):
    recompute()
    first = stored()
    recompute()
    assert stored() == first
    assert len(first) == 3
    assert ValuationRun.objects.filter(status=RunStatus.SUCCEEDED).count() == 2


def test_a_dry_run_saves_nothing(world):
    outcome = recompute(dry_run=True)
    assert outcome.customers == 3
    assert sum(outcome.counts.values()) == 3
    assert not ValueResult.objects.exists()
    assert not ValuationRun.objects.exists()
    assert system_values(world["c_th"])[0] == ""


def test_a_crash_while_writing_leaves_the_months_previous_results(world, monkeypatch):
    # given a valued month
    recompute()
    before = stored()
    system_before = [system_values(world[k]) for k in ("c_th", "c_th2", "c_yx")]
    # when c_yx starts buying and the next run fails after deleting the month's rows
    for month in HISTORY[-6:]:
        make_fact(world["c_yx"], month, 3000, 300)

    def crash(model, frame, **kwargs):
        # the rows about to be written (new or changed) are deleted by then
        assert len(frame)
        assert not ValueResult.objects.filter(
            month=MONTH, customer_id__in=list(frame["customer_id"])
        ).exists()
        raise RuntimeError("disk full")

    monkeypatch.setattr(monthly_runs, "write_frame", crash)
    with pytest.raises(RuntimeError, match="disk full"):
        recompute()
    # then the month is as it was and the run says what happened
    assert stored() == before
    assert [system_values(world[k]) for k in ("c_th", "c_th2", "c_yx")] == system_before
    failed = ValuationRun.objects.get(status=RunStatus.FAILED)
    assert "RuntimeError: disk full" in failed.error
    assert failed.finished_at is not None


def test_a_second_live_run_of_a_month_is_refused(world, hold_month, monkeypatch):
    monkeypatch.setattr(jobs, "LEASE_WAIT_SECONDS", 0.2)
    # a run queued for a worker, then a run running in a process that holds the month
    queued = ValuationRun.objects.create(
        month=MONTH, trigger=RunTrigger.PAGE, status=RunStatus.QUEUED
    )
    with pytest.raises(DomainError, match="already queued or running"):
        recompute()
    ValuationRun.objects.filter(pk=queued.pk).update(status=RunStatus.RUNNING)
    with hold_month(ValuationRun, MONTH):
        with pytest.raises(DomainError, match="already running in another process"):
            recompute()
        with pytest.raises(DomainError, match="already queued or running"):
            services.valuation_run_start(month=MONTH, trigger=RunTrigger.PAGE)
    assert ValuationRun.objects.count() == 1
    assert not ValueResult.objects.exists()
    # another month is fine
    recompute(PREVIOUS)
    assert ValueResult.objects.filter(month=PREVIOUS).count() == 3


def test_a_run_whose_process_died_is_marked_failed_and_the_month_starts_at_once(world):
    # given a valuation left "running" by a process that was killed a moment ago
    dead = ValuationRun.objects.create(
        month=MONTH, trigger=RunTrigger.CHAIN, status=RunStatus.RUNNING, started_at=timezone.now()
    )
    # when the month is valued again
    recompute()
    # then it ran at once, and the dead run says why it stopped
    dead.refresh_from_db()
    assert dead.status == RunStatus.FAILED
    assert "the process running it stopped before it finished" in dead.error
    assert len(stored()) == 3


def test_a_run_queued_longer_than_the_task_time_limit_is_taken_as_abandoned(world, settings):
    stale = ValuationRun.objects.create(
        month=MONTH,
        trigger=RunTrigger.PAGE,
        status=RunStatus.QUEUED,
        created_at=timezone.now() - dt.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60),
    )
    recompute()
    stale.refresh_from_db()
    assert stale.status == RunStatus.FAILED
    assert "Abandoned" in stale.error
    assert ValuationRun.objects.filter(status=RunStatus.SUCCEEDED).count() == 1


def test_a_month_that_has_not_begun_is_refused(world):
    for month in (add_months(jobs.this_month(), 1), dt.date(2099, 1, 1), dt.date(9999, 11, 1)):
        with pytest.raises(DomainError, match="has not begun yet"):
            recompute(month)
        with pytest.raises(DomainError, match="has not begun yet"):
            recompute(month, dry_run=True)
        with pytest.raises(DomainError, match="has not begun yet"):
            services.valuation_run_start(month=month, trigger=RunTrigger.PAGE)
    assert not ValuationRun.objects.exists()
    assert not ValueResult.objects.exists()


def test_stored_results_of_a_future_month_do_not_block_the_current_values(world):
    # given this month valued, then results of 9999-11 stored (as a run of it did before such
    # months were refused) and copied onto the customers
    recompute()
    now = {k: system_values(world[k]) for k in ("c_th", "c_th2", "c_yx")}
    future = []
    for result in ValueResult.objects.filter(month=MONTH):
        result.pk, result.month, result.value_tier = None, dt.date(9999, 11, 1), "low"
        future.append(result)
    ValueResult.objects.bulk_create(future)
    CustomerSystem.objects.update(value_tier="low", is_core=False)
    # when this month is valued again
    recompute()
    # then the customers carry this month's values again, and the pages read this month
    assert {k: system_values(world[k]) for k in now} == now
    assert overview_selectors.latest_result_month() == MONTH


def test_only_the_latest_valued_month_sets_the_customers_values(world):
    # given this month valued
    recompute()
    now = {k: system_values(world[k]) for k in ("c_th", "c_th2", "c_yx")}
    # when an earlier month, whose figures differ (c_th2 the larger buyer 8 months ago, in
    # that month's window only), is valued afterwards
    MonthlySalesFact.objects.filter(customer=world["c_th2"], month=add_months(MONTH, -8)).update(
        amount=10_000_000
    )
    recompute(add_months(MONTH, -6))
    earlier = {k: result_values(world[k], add_months(MONTH, -6)) for k in now}
    assert earlier != now
    # then the customers keep this month's values
    assert {k: system_values(world[k]) for k in now} == now


def test_a_new_scheme_never_rewrites_a_past_month(world, system_actor):
    recompute(PREVIOUS)
    previous = stored(PREVIOUS)
    old = services.scheme_active()
    draft = services.scheme_copy(scheme=old, actor=system_actor)
    parameters = dict(draft.parameters, tiers={"current_from": 90, "potential_from": 90})
    services.scheme_update_draft(
        scheme=draft, name="Strict", parameters=parameters, note="", actor=system_actor
    )
    services.scheme_activate(scheme=draft, actor=system_actor)
    recompute()
    assert stored(PREVIOUS) == previous
    assert set(ValueResult.objects.filter(month=PREVIOUS).values_list("scheme", flat=True)) == {
        old.pk
    }
    assert set(ValueResult.objects.filter(month=MONTH).values_list("scheme", flat=True)) == {
        draft.pk
    }
    # this month's tiers follow the new cut-offs
    cells = {
        (True, True): "value",
        (True, False): "secondary",
        (False, True): "potential",
        (False, False): "low",
    }
    for r in ValueResult.objects.filter(month=MONTH):
        assert r.value_tier == cells[(r.current_value >= 90, r.potential_value >= 90)]


# --- the run from a page, its task and the chain --------------------------------------------


def test_a_run_started_from_the_page_runs_as_a_task(world, django_capture_on_commit_callbacks):
    admin = Actor.of(world["admin"], AuditSource.PAGE)
    with django_capture_on_commit_callbacks(execute=True):
        run = services.valuation_run_start(month=MONTH, trigger=RunTrigger.PAGE, actor=admin)
        assert run.status == RunStatus.QUEUED
    run.refresh_from_db()
    assert (run.status, run.trigger, run.started_by, run.customers) == (
        RunStatus.SUCCEEDED,
        RunTrigger.PAGE,
        world["admin"],
        3,
    )
    assert len(stored()) == 3
    assert system_values(world["c_th"]) == result_values(world["c_th"])
    [row] = AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(ValuationRun), object_id=str(run.pk)
    )
    assert row.actor == world["admin"]
    assert row.new_value["month"] == f"{MONTH:%Y-%m}"


def test_a_redelivered_task_does_nothing(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = services.valuation_run_start(month=MONTH, trigger=RunTrigger.PAGE)
    first = stored()
    finished = ValuationRun.objects.get(pk=run.pk).finished_at
    ids = set(ValueResult.objects.values_list("id", flat=True))
    assert valuation_run_task.delay(run.pk).get() == RunStatus.SUCCEEDED
    assert stored() == first
    assert set(ValueResult.objects.values_list("id", flat=True)) == ids
    assert ValuationRun.objects.get(pk=run.pk).finished_at == finished


def test_a_grading_run_is_followed_by_the_valuation_of_its_month(
    world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        grading_run = grading_services.grading_run_start(month=MONTH, trigger=RunTrigger.PAGE)
    grading_run.refresh_from_db()
    assert grading_run.status == RunStatus.SUCCEEDED
    run = ValuationRun.objects.get()
    assert (run.status, run.trigger, run.month, run.grading_run) == (
        RunStatus.SUCCEEDED,
        RunTrigger.CHAIN,
        MONTH,
        grading_run,
    )
    assert len(stored()) == 3


def test_the_chain_step_is_skipped_while_the_month_is_being_valued(world):
    grading_services.grading_recompute(month=MONTH)
    grading_run = GradingRun.objects.get()
    ValuationRun.objects.create(month=MONTH, trigger=RunTrigger.PAGE, status=RunStatus.QUEUED)
    assert valuation_after_grading_task.delay(grading_run.pk).get() == "skipped"
    assert ValuationRun.objects.count() == 1
    assert not ValueResult.objects.exists()


# --- manage.py recompute --------------------------------------------------------------------


def test_the_recompute_command_grades_then_values_the_month(world):
    out = StringIO()
    call_command("recompute", "--month", f"{MONTH:%Y-%m}", stdout=out)
    text = out.getvalue()
    assert f"graded 3 customers for {MONTH:%Y-%m}" in text
    assert f"valued 3 customers for {MONTH:%Y-%m}" in text
    assert text.index("graded") < text.index("valued")
    for tier in ValueTier.values:
        assert tier in text
    assert GradeResult.objects.filter(month=MONTH).count() == 3
    assert len(stored()) == 3
    run = ValuationRun.objects.get()
    assert (run.status, run.trigger) == (RunStatus.SUCCEEDED, RunTrigger.COMMAND)
    assert system_values(world["c_th"]) == result_values(world["c_th"])
    assert WarningRefresh.objects.exists()


def test_the_recompute_command_dry_run_stores_nothing(world):
    out = StringIO()
    call_command("recompute", "--month", f"{MONTH:%Y-%m}", "--dry-run", stdout=out)
    text = out.getvalue()
    assert text.startswith(f"Dry run: graded 3 customers for {MONTH:%Y-%m}")
    assert f"Dry run: valued 3 customers for {MONTH:%Y-%m}" in text
    assert not GradeResult.objects.exists()
    assert not ValueResult.objects.exists()
    assert not GradingRun.objects.exists()
    assert not ValuationRun.objects.exists()


def test_the_recompute_command_reports_a_live_valuation(world):
    ValuationRun.objects.create(month=MONTH, trigger=RunTrigger.PAGE, status=RunStatus.QUEUED)
    with pytest.raises(CommandError, match="already queued or running"):
        call_command("recompute", "--month", f"{MONTH:%Y-%m}", stdout=StringIO())


# --- the daily warnings refresh -------------------------------------------------------------


def test_the_warnings_are_refreshed_daily_by_a_registered_task(world):
    [entry] = [e for e in BEAT_SCHEDULE.values() if e["task"].startswith("valuation.")]
    assert entry["task"] in celery_app.tasks
    refresh_id = celery_app.tasks[entry["task"]].delay().get()
    refresh = WarningRefresh.objects.get(pk=refresh_id)
    assert (refresh.as_of, refresh.error) == (timezone.localdate(), "")
    assert refresh.finished_at is not None


def test_a_model_outlet_flag_nobody_entered_is_stored_as_missing(world):
    # given: nobody entered c_th's flag; c_th2 is recorded as not a model outlet
    Customer = world["c_th2"].__class__
    Customer.objects.filter(pk=world["c_th2"].pk).update(is_model_outlet=False)
    # when
    recompute()
    # then: c_th's flag is missing (left out of influence), c_th2's a measured "no" (0 points)
    th = ValueResult.objects.get(customer=world["c_th"], month=MONTH)
    th2 = ValueResult.objects.get(customer=world["c_th2"], month=MONTH)
    assert th.model_outlet is None
    assert th.model_outlet_score is None
    assert "model_outlet" in th.missing_inputs
    assert th2.model_outlet is False
    assert th2.model_outlet_score == 0
    assert "model_outlet" not in th2.missing_inputs


def test_the_run_reads_the_display_answers_of_the_window(world):
    # c_th: audited mid-month before (3 of 4 display answers yes, in the window) and this
    # month (0 of 2, after the window: not read); c_th2 never audited
    from audits.models import Audit
    from tests.audits.factories import make_form
    from visits.models import Visit

    form = make_form("display", [{"kind": "yes_no", "is_display": True}])
    for month, yes, answered in ((PREVIOUS, 3, 4), (MONTH, 0, 2)):
        at = timezone.make_aware(dt.datetime.combine(month.replace(day=2), dt.time(10)))
        visit = Visit.objects.create(
            customer=world["c_th"], visited_by=world["am_th"], visited_at=at, purpose="Check"
        )
        Audit.objects.create(
            visit=visit,
            form=form,
            customer=world["c_th"],
            audited_by=world["am_th"],
            audited_at=at,
            display_yes=yes,
            display_answered=answered,
        )

    recompute()

    audited = ValueResult.objects.get(customer=world["c_th"], month=MONTH)
    assert audited.display_compliance == 0.75
    assert audited.display_compliance_score == 75.0
    assert "display_compliance" not in audited.missing_inputs
    never = ValueResult.objects.get(customer=world["c_th2"], month=MONTH)
    assert never.display_compliance is None and never.display_compliance_score is None
    assert "display_compliance" in never.missing_inputs
