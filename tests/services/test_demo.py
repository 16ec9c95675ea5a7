"""The demo's services: care marks and birthdays, eight weeks of service requests walked
through their workflow (due times from the service levels, escalations when they fell due,
satisfaction mostly 4-5), care and value-added services, training sessions; every services
list has something for every demo user; a second `seed_demo` run changes nothing."""

import datetime as dt
from io import StringIO

from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.utils import timezone

from crm.choices import AuditAction, Role
from crm.models import AuditEntry, Notification, User
from customers.models import Customer, CustomerDynamic
from services import selectors, workflow
from services.choices import ActivityKind, Queue, RequestStatus
from services.models import (
    Holiday,
    ServiceActivity,
    ServiceRequest,
    ServicesConfig,
    TrainingSession,
)


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def snapshot() -> dict:
    return {
        "requests": list(
            ServiceRequest.objects.order_by("id").values_list(
                "id",
                "status",
                "due_at",
                "assignee_id",
                "resolved_at",
                "closed_at",
                "satisfaction",
                "escalated_at",
            )
        ),
        "activities": list(ServiceActivity.objects.order_by("id").values_list("id", "kind")),
        "sessions": list(TrainingSession.objects.order_by("id").values_list("id", "held_on")),
        "marks": list(
            CustomerDynamic.objects.order_by("pk").values_list("pk", "care_need", "owner_birthday")
        ),
        "audit": AuditEntry.objects.count(),
        "notifications": Notification.objects.count(),
    }


def test_seed_demo_serves_the_shops_and_is_idempotent(db, settings):
    # One test, as seeding the whole demo takes a while.
    settings.DEBUG = True

    # when
    first = seed()

    # then
    now, today = timezone.now(), timezone.localdate()
    start = today - dt.timedelta(weeks=8)
    week_start, week_end = workflow.week_bounds(today)
    managers = list(User.objects.filter(role=Role.ACCOUNT_MANAGER).order_by("username"))
    shops = Customer.objects.select_related("dynamic")
    assert "Services: " in first

    # care marks: a few shops for family service and about 30% birthdays, for every manager,
    # with a birthday this week
    for manager in managers:
        book = [c.dynamic for c in shops.filter(account_manager=manager)]
        assert any(d.care_need for d in book), manager.username
        assert sum(d.care_need != "" for d in book) <= max(1, round(len(book) * 0.05))
        assert any(
            d.owner_birthday and workflow.birthdays_between(d.owner_birthday, week_start, week_end)
            for d in book
        ), manager.username
    share = shops.filter(dynamic__owner_birthday__isnull=False).count() / shops.count()
    assert 0.25 <= share <= 0.4

    # requests: about one a week per 15 shops over eight weeks, raised by people who serve
    # the shop, on visits to it now and then
    requests = list(
        ServiceRequest.objects.select_related("customer", "visit", "raised_by", "escalated_to")
    )
    assert len(requests) >= shops.count() * 8 // 15
    assert all(start <= timezone.localdate(r.raised_at) <= today for r in requests)
    assert all(r.raised_at <= now for r in requests)
    on_visits = [r for r in requests if r.visit is not None]
    assert on_visits and all(r.visit.customer_id == r.customer_id for r in on_visits)
    # due times: raised (or reopened) plus the type's service level
    config = ServicesConfig.current()
    reopened = set(
        AuditEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(ServiceRequest), field="due_at"
        ).values_list("object_id", flat=True)
    )
    for request in requests:
        if str(request.pk) not in reopened:
            assert request.due_at == workflow.due_at(
                request.raised_at, config.sla_hours(request.request_type)
            ), request.number
    # the workflow's times in order, and the history dated as it happened
    closed = [r for r in requests if r.status == RequestStatus.CLOSED]
    assert len(closed) > len(requests) * 0.6
    for request in closed:
        assert request.resolution_note and request.satisfaction
        assert request.raised_at < request.resolved_at < request.closed_at <= now
    assert sum(r.satisfaction >= 4 for r in closed) > len(closed) * 0.6
    assert {r.satisfaction for r in closed} >= {4, 5}
    assert len({timezone.localtime(r.closed_at).month for r in closed}) >= 2
    history = selectors.request_history(request=closed[0])
    assert history[0].action == AuditAction.CREATE
    assert history[0].created_at == closed[0].raised_at
    assert history.last().created_at == closed[0].closed_at
    # some still open or in progress; the overdue ones escalated, when they fell due
    statuses = {r.status for r in requests}
    assert {RequestStatus.OPEN, RequestStatus.IN_PROGRESS, RequestStatus.CLOSED} <= statuses
    overdue = [r for r in requests if r.is_overdue(now)]
    assert overdue
    for request in overdue:
        assert request.escalated_to is not None
        assert request.escalated_to.role == Role.SUPERVISOR
        assert request.due_at < request.escalated_at <= request.due_at + dt.timedelta(minutes=15)
    # late ones resolved since escalated too, before they were resolved
    late = [r for r in closed if r.escalated_at]
    assert late and all(r.escalated_at < r.resolved_at for r in late)

    # care and value-added services of every kind, done by now
    activities = ServiceActivity.objects.select_related("customer__dynamic", "visit")
    assert {a.kind for a in activities} == set(ActivityKind.values)
    assert all(a.performed_on <= today for a in activities)
    assert all(a.customer.dynamic.care_need for a in activities.filter(kind=ActivityKind.FAMILY))
    last_holidays = list(Holiday.objects.filter(date__lte=today).order_by("-date")[:2])
    assert {a.occasion for a in activities.filter(kind=ActivityKind.HOLIDAY_GREETING)} == {
        h.occasion for h in last_holidays
    }
    assert all(a.visit.customer_id == a.customer_id for a in activities.exclude(visit=None))
    # two or three training sessions per district, with attendees from it
    for area_id in set(shops.values_list("area_id", flat=True)):
        sessions = TrainingSession.objects.filter(area_id=area_id)
        assert 2 <= sessions.count() <= 3
        for session in sessions:
            attendees = session.attendances.select_related("customer")
            assert attendees and all(a.customer.area_id == area_id for a in attendees)

    # every list has something for every demo user
    for manager in managers:
        name = manager.username
        assert selectors.request_queue(user=manager, queue=Queue.MINE).exists(), name
        assert selectors.request_queue(user=manager, queue=Queue.OVERDUE).exists(), name
        assert selectors.care_due(user=manager, account_manager=manager), name
        assert selectors.activity_list(user=manager).exists(), name
        assert selectors.training_list(user=manager).exists(), name
    for supervisor in User.objects.filter(role=Role.SUPERVISOR):
        summary = selectors.satisfaction_summary(user=supervisor)
        assert summary.rows, supervisor.username
        assert sum(1 for score in summary.total.months if score.count) >= 2
        assert selectors.request_queue(user=supervisor, queue=Queue.AREA).exists()
        assert selectors.care_due(user=supervisor)

    # when: seeded again (the same day)
    before = snapshot()
    second = seed()

    # then: nothing changed
    assert snapshot() == before
    assert "not logged again" in second
    assert "Service requests escalated now: 0" in second
