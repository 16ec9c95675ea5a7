"""The planning job (plan_refresh) and what people do with planned visits (reschedule, skip).

The job runs "as of" a fixed day where it can: Monday 23 November 2026 (MON). The default
settings plan 14 days ahead (MON to Sunday 6 December), Monday to Friday, with cycles of
7 / 14 / 30 days. Where a service checks against the real date (logging a visit, moving a
plan), the test works from today and makes every day a working day, so the weekday the suite
runs on does not matter.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction

from crm.choices import AuditAction, Role
from crm.exceptions import DomainError
from crm.models import AuditEntry
from customers.choices import CustomerStatus, ValueTier
from customers.models import Customer, CustomerDynamic, CustomerSystem
from tests.customers.factories import make_customer
from tests.visits.factories import actor, log_visit, make_plan, today
from visits import selectors, services
from visits.choices import PlanStatus
from visits.models import PlannedVisit, PlanRefresh, VisitsConfig

MON = dt.date(2026, 11, 23)


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


def open_days(customer) -> list[dt.date]:
    return list(
        PlannedVisit.objects.filter(customer=customer, status=PlanStatus.PLANNED)
        .order_by("planned_for")
        .values_list("planned_for", flat=True)
    )


def plans_of(customer) -> list[PlannedVisit]:
    return list(PlannedVisit.objects.filter(customer=customer).order_by("planned_for", "id"))


def counts(record: PlanRefresh) -> tuple[int, int, int, int]:
    return (record.customers, record.planned, record.withdrawn, record.missed)


def make_potential(customer) -> None:
    CustomerSystem.objects.filter(pk=customer.pk).update(value_tier=ValueTier.POTENTIAL)


@pytest.fixture
def am(areas, make_user):
    return make_user(Role.ACCOUNT_MANAGER, [areas["TH"]], username="am_plan")


@pytest.fixture
def admin(make_user):
    return make_user(Role.ADMINISTRATOR, username="admin_plan")


@pytest.fixture
def configure(admin):
    """Changes the visit settings through the service, as an administrator would."""

    def change(**data):
        return services.visits_config_update(data=data, actor=actor(admin))

    return change


@pytest.fixture
def every_day(configure):
    """Every weekday a working day: plans fall on the day the rules say, whatever today is."""
    configure(work_days="1234567")


# --- plans per cycle -------------------------------------------------------------------------


def test_plans_follow_each_customers_cycle_for_two_weeks(areas, am):
    # given
    weekly = make_customer(areas["TH"], am, visit_cycle="weekly")
    fortnightly = make_customer(areas["TH"], am, visit_cycle="fortnightly")
    monthly = make_customer(areas["TH"], am, visit_cycle="monthly")
    blank = make_customer(areas["TH"], am)
    wednesdays = make_customer(areas["TH"], am, visit_cycle="weekly", visit_batch="周三")
    tuesdays = make_customer(areas["TH"], am, visit_cycle="fortnightly", visit_batch="Tue")

    # when
    record = services.plan_refresh(today=MON)

    # then: never visited, so due today (or on the batch's day); then one cycle later
    assert open_days(weekly) == [MON, MON + days(7)]
    assert open_days(fortnightly) == [MON]  # MON + 14 is 7 Dec, after the horizon
    assert open_days(monthly) == [MON]
    assert open_days(blank) == [MON]  # no cycle: the default, monthly
    assert open_days(wednesdays) == [dt.date(2026, 11, 25), dt.date(2026, 12, 2)]
    assert open_days(tuesdays) == [dt.date(2026, 11, 24)]
    cycles = {
        customer.pk: {(p.cycle_days, p.boosted) for p in plans_of(customer)}
        for customer in (weekly, fortnightly, monthly, blank, wednesdays, tuesdays)
    }
    assert cycles == {
        weekly.pk: {(7, False)},
        fortnightly.pk: {(14, False)},
        monthly.pk: {(30, False)},
        blank.pk: {(30, False)},
        wednesdays.pk: {(7, False)},
        tuesdays.pk: {(14, False)},
    }
    assert record.as_of == MON
    assert counts(record) == (6, 8, 0, 0)
    assert record.finished_at is not None
    assert record.error == ""
    assert PlanRefresh.objects.get() == record


def test_the_horizon_is_configurable(areas, am, configure):
    weekly = make_customer(areas["TH"], am, visit_cycle="weekly")
    fortnightly = make_customer(areas["TH"], am, visit_cycle="fortnightly")
    monthly = make_customer(areas["TH"], am, visit_cycle="monthly")

    configure(horizon_days=28)  # MON to Sunday 20 December
    services.plan_refresh(today=MON)

    assert open_days(weekly) == [MON + days(n) for n in (0, 7, 14, 21)]
    assert open_days(fortnightly) == [MON, MON + days(14)]
    assert open_days(monthly) == [MON]  # MON + 30 is 23 December


def test_the_working_days_are_configurable(areas, am, configure):
    weekly = make_customer(areas["TH"], am, visit_cycle="weekly")
    saturday = MON + days(5)

    services.plan_refresh(today=saturday)
    # Saturday 28 Nov: the weekend is skipped, Mondays 30 Nov and 7 Dec
    assert open_days(weekly) == [saturday + days(2), saturday + days(9)]

    configure(work_days="6")
    services.plan_refresh(today=saturday)
    assert open_days(weekly) == [saturday, saturday + days(7)]


# --- potential-value boost -------------------------------------------------------------------


def test_potential_value_customers_are_planned_one_cycle_shorter(areas, am, configure):
    # given: 28 days ahead, so fortnightly spacing shows
    configure(horizon_days=28)
    boosted = make_customer(areas["TH"], am, visit_cycle="monthly")
    plain = make_customer(areas["TH"], am, visit_cycle="monthly")
    weekly = make_customer(areas["TH"], am, visit_cycle="weekly")
    make_potential(boosted)
    make_potential(weekly)

    services.plan_refresh(today=MON)

    # the potential-value monthly customer is planned fortnightly
    assert open_days(boosted) == [MON, MON + days(14)]
    assert {(p.cycle_days, p.boosted) for p in plans_of(boosted)} == {(14, True)}
    assert open_days(plain) == [MON]
    assert {(p.cycle_days, p.boosted) for p in plans_of(plain)} == {(30, False)}
    # nothing is shorter than weekly: planned weekly and not marked boosted
    assert open_days(weekly) == [MON + days(n) for n in (0, 7, 14, 21)]
    assert {(p.cycle_days, p.boosted) for p in plans_of(weekly)} == {(7, False)}


def test_the_boost_is_configurable(areas, am, configure):
    configure(horizon_days=28, potential_shift=0)
    customer = make_customer(areas["TH"], am, visit_cycle="monthly")
    make_potential(customer)

    services.plan_refresh(today=MON)
    assert open_days(customer) == [MON]
    assert {(p.cycle_days, p.boosted) for p in plans_of(customer)} == {(30, False)}

    # two steps: monthly becomes weekly; the monthly plan gives way to weekly ones
    configure(potential_shift=2)
    record = services.plan_refresh(today=MON)
    assert open_days(customer) == [MON + days(n) for n in (0, 7, 14, 21)]
    assert counts(record) == (1, 3, 0, 0)
    new = PlannedVisit.objects.filter(customer=customer, planned_for__gt=MON)
    assert {(p.cycle_days, p.boosted) for p in new} == {(7, True)}


# --- running again ---------------------------------------------------------------------------


def _snapshot():
    return sorted(PlannedVisit.objects.values_list("pk", "customer_id", "planned_for", "status"))


def test_a_second_run_on_the_same_day_changes_nothing(areas, am):
    for cycle in ("weekly", "fortnightly", "monthly", ""):
        make_customer(areas["TH"], am, visit_cycle=cycle, visit_batch="周五")
    first = services.plan_refresh(today=MON)
    before = _snapshot()

    second = services.plan_refresh(today=MON)

    assert counts(first) == (4, 5, 0, 0)
    assert counts(second) == (4, 0, 0, 0)
    assert _snapshot() == before
    assert PlanRefresh.objects.count() == 2


def test_an_untouched_plan_stays_open_as_overdue_and_stands_for_today(areas, am):
    weekly = make_customer(areas["TH"], am, visit_cycle="weekly")
    monthly = make_customer(areas["TH"], am, visit_cycle="monthly")
    services.plan_refresh(today=MON)
    monday_plan = PlannedVisit.objects.get(customer=weekly, planned_for=MON)

    # when: the job runs on Tuesday; Monday's visits were not made
    record = services.plan_refresh(today=MON + days(1))

    # then: Monday's plans stay open (overdue) and count as due today: nothing new on Tuesday;
    # the weekly customer's next visit moves from Monday 30th to a week after today
    monday_plan.refresh_from_db()
    assert monday_plan.status == PlanStatus.PLANNED
    assert open_days(weekly) == [MON, MON + days(8)]
    assert open_days(monthly) == [MON]
    assert counts(record) == (2, 1, 1, 0)


def test_of_two_overdue_plans_the_older_is_marked_missed(areas, am):
    weekly = make_customer(areas["TH"], am, visit_cycle="weekly")
    services.plan_refresh(today=MON)  # MON and MON + 7

    # a week and a day later neither was visited
    record = services.plan_refresh(today=MON + days(8))

    assert [(p.planned_for, p.status) for p in plans_of(weekly)] == [
        (MON, PlanStatus.MISSED),
        (MON + days(7), PlanStatus.PLANNED),  # overdue: stands for today
        (MON + days(15), PlanStatus.PLANNED),  # a cycle after today
    ]
    assert counts(record) == (1, 1, 0, 1)
    # and the next run marks nothing again
    assert counts(services.plan_refresh(today=MON + days(8))) == (1, 0, 0, 0)


def test_a_rescheduled_plan_stays_where_the_person_put_it(areas, am, every_day):
    t = today()
    weekly = make_customer(areas["TH"], am, visit_cycle="weekly")
    services.plan_refresh(today=t)  # t and t + 7
    first = PlannedVisit.objects.get(customer=weekly, planned_for=t)

    services.planned_visit_reschedule(
        plan=first, new_date=t + days(2), reason="Owner away today", actor=actor(am)
    )
    record = services.plan_refresh(today=t)

    # the moved one stays; the next visit comes a cycle after it, not on t + 7
    first.refresh_from_db()
    assert (first.planned_for, first.rescheduled_from, first.status) == (
        t + days(2),
        t,
        PlanStatus.PLANNED,
    )
    assert open_days(weekly) == [t + days(2), t + days(9)]
    # the rest of the plan moved with it at once (the reschedule replans the customer), so the
    # daily run finds nothing to change
    assert counts(record) == (1, 0, 0, 0)


def test_plans_of_closed_customers_and_customers_without_manager_are_withdrawn(areas, am):
    closing = make_customer(areas["TH"], am, visit_cycle="weekly")
    orphan = make_customer(areas["TH"], am, visit_cycle="weekly")
    staying = make_customer(areas["TH"], am, visit_cycle="monthly")
    services.plan_refresh(today=MON)
    assert len(open_days(closing)) == len(open_days(orphan)) == 2

    CustomerDynamic.objects.filter(pk=closing.pk).update(status=CustomerStatus.CLOSED)
    Customer.objects.filter(pk=orphan.pk).update(account_manager=None)
    record = services.plan_refresh(today=MON)

    assert open_days(closing) == open_days(orphan) == []
    assert open_days(staying) == [MON]
    assert counts(record) == (1, 0, 4, 0)


def test_a_longer_cycle_withdraws_the_plans_it_no_longer_asks_for(areas, am):
    customer = make_customer(areas["TH"], am, visit_cycle="weekly")
    services.plan_refresh(today=MON)
    assert open_days(customer) == [MON, MON + days(7)]

    CustomerDynamic.objects.filter(pk=customer.pk).update(visit_cycle="monthly")
    record = services.plan_refresh(today=MON)

    assert open_days(customer) == [MON]
    assert counts(record) == (1, 0, 1, 0)

    # and back to weekly: the second visit is planned again
    CustomerDynamic.objects.filter(pk=customer.pk).update(visit_cycle="weekly")
    record = services.plan_refresh(today=MON)
    assert open_days(customer) == [MON, MON + days(7)]
    assert counts(record) == (1, 1, 0, 0)


# --- visits and the plan ---------------------------------------------------------------------


def test_a_visit_logged_today_completes_its_plan_and_the_next_comes_a_cycle_later(
    areas, am, every_day
):
    # given: a weekly customer due two days ago (not visited), and again in five days
    t = today()
    customer = make_customer(areas["TH"], am, visit_cycle="weekly")
    services.plan_refresh(today=t - days(2))
    assert open_days(customer) == [t - days(2), t + days(5)]

    # when: the account manager visits today
    visit = log_visit(customer, am)

    # then: the overdue plan is done by this visit; the one in five days falls inside the
    # cycle and is withdrawn; the next is a week after today
    done = PlannedVisit.objects.get(customer=customer, planned_for=t - days(2))
    assert (done.status, done.visit) == (PlanStatus.DONE, visit)
    assert open_days(customer) == [t + days(7)]
    assert counts(services.plan_refresh(today=t)) == (1, 0, 0, 0)


def test_a_customer_visited_inside_its_cycle_is_not_planned_again(areas, am, every_day):
    t = today()
    customer = make_customer(areas["TH"], am, visit_cycle="monthly")
    services.plan_refresh(today=t)
    plan = PlannedVisit.objects.get(customer=customer)

    visit = log_visit(customer, am, plan=plan)

    plan.refresh_from_db()
    assert (plan.status, plan.visit, plan.updated_by) == (PlanStatus.DONE, visit, am)
    record = services.plan_refresh(today=t)
    assert open_days(customer) == []
    assert counts(record) == (1, 0, 0, 0)
    # a week later still nothing: the visit covers 30 days
    assert counts(services.plan_refresh(today=t + days(7))) == (1, 0, 0, 0)


# --- the database's own guard ----------------------------------------------------------------


def test_the_database_refuses_two_open_plans_for_one_customer_on_one_day(areas, am):
    customer = make_customer(areas["TH"], am)
    make_plan(customer, MON)

    with pytest.raises(IntegrityError), transaction.atomic():
        make_plan(customer, MON)

    # a closed plan on that day does not count
    make_plan(customer, MON + days(1), status=PlanStatus.SKIPPED)
    make_plan(customer, MON + days(1))
    assert PlannedVisit.objects.filter(customer=customer).count() == 3


# --- settings --------------------------------------------------------------------------------


def test_only_administrators_change_the_settings_and_changes_are_audited(am, admin, configure):
    with pytest.raises(DomainError):
        services.visits_config_update(data={"horizon_days": 21}, actor=actor(am))
    assert VisitsConfig.current().horizon_days == 14

    config = configure(horizon_days=21, work_days="531")

    assert (config.horizon_days, config.work_days, config.updated_by) == (21, "135", admin)
    rows = AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(VisitsConfig), object_id=str(config.pk)
    )
    assert {(r.field, r.old_value, r.new_value) for r in rows} == {
        ("horizon_days", "14", "21"),
        ("work_days", "12345", "135"),
    }


def test_the_cycles_must_get_longer_and_values_stay_in_range(configure):
    with pytest.raises(DomainError) as error:
        configure(fortnightly_days=40)
    assert "fortnightly_days" in error.value.errors
    with pytest.raises(DomainError) as error:
        configure(potential_shift=3, work_days="89")
    assert {"potential_shift", "work_days"} <= set(error.value.errors)
    config = VisitsConfig.current()
    assert (config.fortnightly_days, config.potential_shift, config.work_days) == (14, 1, "12345")


# --- reschedule and skip ---------------------------------------------------------------------


def plan_audit(plan) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(PlannedVisit), object_id=str(plan.pk)
        ).order_by("id")
    )


def test_reschedule_moves_the_plan_with_its_reason_and_audits_it(customer_world):
    w = customer_world
    t = today()
    plan = make_plan(w["c_th"], t + days(1))

    moved = services.planned_visit_reschedule(
        plan=plan,
        new_date=t + days(3),
        reason="  Shop closed for a holiday  ",
        actor=actor(w["am_th"]),
    )

    assert (moved.planned_for, moved.rescheduled_from, moved.reason, moved.updated_by) == (
        t + days(3),
        t + days(1),
        "Shop closed for a holiday",
        w["am_th"],
    )
    assert moved.status == PlanStatus.PLANNED
    [row] = plan_audit(plan)
    assert (row.actor, row.action, row.field, row.reason) == (
        w["am_th"],
        AuditAction.UPDATE,
        "planned_for",
        "Shop closed for a holiday",
    )
    assert (row.old_value, row.new_value) == ((t + days(1)).isoformat(), (t + days(3)).isoformat())

    # a supervisor moves it again (to today): it still remembers the first day
    again = services.planned_visit_reschedule(
        plan=plan, new_date=t, reason="Closer to my route", actor=actor(w["sup_th"])
    )
    assert (again.planned_for, again.rescheduled_from, again.updated_by) == (
        t,
        t + days(1),
        w["sup_th"],
    )
    assert len(plan_audit(plan)) == 2


@pytest.mark.parametrize(
    ("shift", "reason", "field"),
    [
        (3, "", "reason"),
        (3, "   ", "reason"),
        (-1, "Moving back", "new_date"),  # the past
        (1, "Same day", "new_date"),  # the day it is planned for already
        (5, "Onto another plan", "new_date"),  # another open plan of this customer that day
    ],
)
def test_reschedule_refusals_name_the_field_and_change_nothing(
    customer_world, shift, reason, field
):
    w = customer_world
    t = today()
    plan = make_plan(w["c_th"], t + days(1))
    make_plan(w["c_th"], t + days(5))

    with pytest.raises(DomainError) as error:
        services.planned_visit_reschedule(
            plan=plan, new_date=t + days(shift), reason=reason, actor=actor(w["am_th"])
        )

    assert field in error.value.errors
    plan.refresh_from_db()
    assert (plan.planned_for, plan.rescheduled_from, plan.reason) == (t + days(1), None, "")
    assert plan_audit(plan) == []


def test_reschedule_without_a_new_day_is_refused(customer_world):
    plan = make_plan(customer_world["c_th"], today() + days(1))
    with pytest.raises(DomainError) as error:
        services.planned_visit_reschedule(
            plan=plan, new_date=None, reason="", actor=actor(customer_world["am_th"])
        )
    assert {"new_date", "reason"} <= set(error.value.errors)


@pytest.mark.parametrize(
    "who",
    [
        "am_yx",  # another area
        "am_th2",  # another account manager of the same area: not his customer
        "sup_yx",  # a supervisor of another area
        "lo_th",  # sees the customer, but licence officers do not manage plans
    ],
)
def test_only_the_account_manager_or_a_supervisor_reschedules_or_skips(customer_world, who):
    w = customer_world
    plan = make_plan(w["c_th"], today() + days(1))

    with pytest.raises(DomainError):
        services.planned_visit_reschedule(
            plan=plan, new_date=today() + days(2), reason="Busy", actor=actor(w[who])
        )
    with pytest.raises(DomainError):
        services.planned_visit_skip(plan=plan, reason="Busy", actor=actor(w[who]))

    plan.refresh_from_db()
    assert (plan.planned_for, plan.status) == (today() + days(1), PlanStatus.PLANNED)
    assert plan_audit(plan) == []


@pytest.mark.parametrize("who", ["am_th", "sup_th", "sup_gz", "admin"])
def test_the_account_manager_and_supervisors_above_may_skip(customer_world, who):
    w = customer_world
    plan = make_plan(w["c_th"], today())

    skipped = services.planned_visit_skip(plan=plan, reason=" Shop closed ", actor=actor(w[who]))

    assert (skipped.status, skipped.reason, skipped.updated_by) == (
        PlanStatus.SKIPPED,
        "Shop closed",
        w[who],
    )
    [row] = plan_audit(plan)
    assert (row.actor, row.field, row.old_value, row.new_value, row.reason) == (
        w[who],
        "status",
        "planned",
        "skipped",
        "Shop closed",
    )


def test_skip_needs_a_reason(customer_world):
    plan = make_plan(customer_world["c_th"], today())
    with pytest.raises(DomainError) as error:
        services.planned_visit_skip(plan=plan, reason="  ", actor=actor(customer_world["am_th"]))
    assert "reason" in error.value.errors
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PLANNED


@pytest.mark.parametrize("status", [PlanStatus.SKIPPED, PlanStatus.DONE, PlanStatus.MISSED])
def test_a_plan_that_is_no_longer_open_cannot_be_changed(customer_world, status):
    w = customer_world
    plan = make_plan(w["c_th"], today(), status=status)

    with pytest.raises(DomainError):
        services.planned_visit_skip(plan=plan, reason="Again", actor=actor(w["am_th"]))
    with pytest.raises(DomainError):
        services.planned_visit_reschedule(
            plan=plan, new_date=today() + days(1), reason="Later", actor=actor(w["am_th"])
        )
    plan.refresh_from_db()
    assert (plan.status, plan.planned_for) == (status, today())


def test_a_run_after_a_skip_does_not_plan_the_skipped_day_again(areas, am, every_day):
    t = today()
    customer = make_customer(areas["TH"], am, visit_cycle="weekly")
    services.plan_refresh(today=t)
    plan = PlannedVisit.objects.get(customer=customer, planned_for=t)
    services.planned_visit_skip(plan=plan, reason="Shop closed today", actor=actor(am))

    # the job runs again the same day (a redelivered task, or a second beat)
    record = services.plan_refresh(today=t)

    assert open_days(customer) == [t + days(7)]
    assert counts(record) == (1, 0, 0, 0)


def test_a_late_visit_closes_the_overdue_plan(areas, am, every_day):
    # given: a weekly customer due 20 days ago; the job ran every day since, nobody went
    t = today()
    customer = make_customer(areas["TH"], am, visit_cycle="weekly")
    for n in range(20, -1, -1):
        services.plan_refresh(today=t - days(n))
    assert open_days(customer) == [t - days(20), t + days(7)]

    # when: the account manager finally goes today
    log_visit(customer, am)

    # then: nothing is overdue for this customer any more
    assert [day for day in open_days(customer) if day < t] == []
    rows = selectors.coverage_customers(user=am, today=t)
    assert [(r.in_cycle, r.overdue_since) for r in rows] == [(True, None)]
