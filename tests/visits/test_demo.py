"""The demo's visits (a history, follow-ups, plan changes with reasons and an agenda today
for every account manager; a second `seed_demo` run changes nothing) and the `plan_visits`
command."""

import datetime as dt
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from crm.choices import Role
from crm.models import AuditEntry, User
from visits import selectors
from visits.choices import FollowUpStatus, PlanStatus
from visits.models import FollowUp, PlannedVisit, Visit


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def snapshot() -> dict:
    return {
        "visits": Visit.objects.count(),
        "follow_ups": list(FollowUp.objects.order_by("id").values_list("id", "status")),
        "plans": list(
            PlannedVisit.objects.order_by("id").values_list(
                "id", "customer_id", "planned_for", "status", "reason"
            )
        ),
        "audit": AuditEntry.objects.count(),
    }


def test_seed_demo_logs_visits_plans_an_agenda_for_today_and_is_idempotent(db, settings):
    # One test, as seeding the whole demo takes a while.
    settings.DEBUG = True

    # when
    first = seed()

    # then: a history of visits by the shops' account managers, over about eight weeks
    today = timezone.localdate()
    visits = Visit.objects.select_related("customer")
    assert visits.count() > 200
    assert all(v.visited_by_id == v.customer.account_manager_id for v in visits)
    days = [timezone.localdate(v.visited_at) for v in visits]
    assert min(days) >= today - dt.timedelta(weeks=8)
    assert max(days) < today
    assert len({v.visit_type for v in visits}) == 5
    assert visits.filter(location_flagged=True, latitude__isnull=False).exists()
    # follow-ups: some done, some overdue, owners who look after the shop
    follow_ups = FollowUp.objects.select_related("customer", "owner")
    assert follow_ups.filter(status=FollowUpStatus.DONE).exists()
    assert follow_ups.filter(status=FollowUpStatus.OPEN, due_date__lt=today).exists()
    for follow_up in follow_ups:
        assert follow_up.owner in selectors.follow_up_owners(customer=follow_up.customer)
    # the plan: skipped and rescheduled visits with reasons, done ones linked to their visits
    assert PlannedVisit.objects.filter(status=PlanStatus.SKIPPED).exclude(reason="").exists()
    assert PlannedVisit.objects.filter(rescheduled_from__isnull=False).exclude(reason="").exists()
    done = PlannedVisit.objects.filter(status=PlanStatus.DONE)
    assert done.exists() and not done.filter(visit__isnull=True).exists()
    assert not done.filter(planned_for__gte=today).exists()  # no old visit "did" a later plan
    # every account manager has an agenda today, with overdue visits; am_zhang three or more
    for manager in User.objects.filter(role=Role.ACCOUNT_MANAGER):
        agenda = selectors.agenda(user=manager, account_manager=manager, day=today)
        assert agenda.overdue, manager.username
        assert agenda.planned or agenda.upcoming, manager.username
    zhang = User.objects.get(username="am_zhang")
    assert len(selectors.agenda(user=zhang, account_manager=zhang, day=today).planned) >= 3
    assert "Visits: " in first
    assert int(re.search(r"am_zhang (\d+) today", first).group(1)) >= 3
    # ... and visits tomorrow too (the offline route keeps both days on the phone)
    upcoming = selectors.agenda(user=zhang, account_manager=zhang, day=today).upcoming
    tomorrow = today + dt.timedelta(days=1)
    assert sum(len(c.plans) for c in upcoming if c.day == tomorrow) >= 2
    assert int(re.search(r"am_zhang \d+ today, (\d+) tomorrow", first).group(1)) >= 2

    # when: seeded again (the same day)
    before = snapshot()
    second = seed()

    # then: no visit, follow-up, plan or audit row changed
    assert snapshot() == before
    assert "not logged again" in second
    assert "0 planned, 0 withdrawn, 0 missed" in second


# --- plan_visits -----------------------------------------------------------------------------


def run_plan_visits(*args) -> str:
    out = StringIO()
    call_command("plan_visits", *args, stdout=out)
    return out.getvalue()


def test_plan_visits_plans_as_of_a_date_and_prints_the_counts(customer_world):
    # given: three customers on the default monthly cycle, never visited
    # when: planned as of Monday 5 October 2026
    output = run_plan_visits("--date", "2026-10-05")

    # then: each is planned on the day (the next visit falls after the two-week horizon)
    assert output.strip() == (
        "Visit plan as of 2026-10-05: 3 customers, 3 visits planned, 0 withdrawn, 0 missed."
    )
    assert set(PlannedVisit.objects.values_list("planned_for", flat=True)) == {dt.date(2026, 10, 5)}
    # and a second run the same day changes nothing
    assert "0 visits planned, 0 withdrawn, 0 missed" in run_plan_visits("--date", "2026-10-05")
    assert PlannedVisit.objects.count() == 3


def test_plan_visits_defaults_to_today(customer_world):
    output = run_plan_visits()

    assert f"as of {timezone.localdate():%Y-%m-%d}: 3 customers" in output


def test_plan_visits_refuses_a_bad_date(db):
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        run_plan_visits("--date", "5/10/2026")
