"""Reads on services, always through the scope rule: the request queues, one request and its
history, the care due this week, the activity lists, the customer's service timeline and the
satisfaction summary per area and month."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import TruncMonth
from django.http import Http404
from django.utils import timezone

from crm.dates import add_months, month_start
from crm.models import Area, AuditEntry, User
from crm.scope import descendant_area_ids
from customers.choices import CustomerStatus
from customers.models import Customer
from services import workflow
from services.choices import ActivityKind, GreetingAudience, Queue, RequestStatus
from services.filtersets import ActivityFilterSet, ServiceRequestFilterSet
from services.models import (
    Holiday,
    ServiceActivity,
    ServiceRequest,
    ServicesConfig,
    TrainingSession,
)

# --- requests --------------------------------------------------------------------------------


def in_queue(
    qs: QuerySet[ServiceRequest], *, user: User, queue: str, now: dt.datetime | None = None
) -> QuerySet[ServiceRequest]:
    """The requests of `qs` in a queue: mine (assigned to or raised by `user`), overdue
    (unfinished and past their due time), area (all of them)."""
    if queue == Queue.MINE:
        return qs.filter(Q(assignee=user) | Q(raised_by=user))
    if queue == Queue.OVERDUE:
        return qs.filter(status__in=workflow.UNFINISHED, due_at__lt=now or timezone.now())
    return qs


def request_queue(
    *,
    user: User,
    queue: str = Queue.MINE,
    filters: Mapping[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> QuerySet[ServiceRequest]:
    """A service queue, the most pressing first:

    - mine: requests assigned to `user` or raised by them;
    - area: every request `user` sees (an account manager's customers, a supervisor's areas);
    - overdue: unfinished requests past their due time that `user` sees.

    Closed requests are left out unless the filters ask for a status. Filtered by
    ServiceRequestFilterSet (status, type, priority, customer, assignee)."""
    qs = in_queue(ServiceRequest.objects.visible_to(user), user=user, queue=queue, now=now)
    filters = filters or {}
    filterset = ServiceRequestFilterSet(filters, queryset=qs)
    qs = filterset.qs if filterset.is_valid() else qs
    if not filters.get("status"):
        qs = qs.exclude(status=RequestStatus.CLOSED)
    return qs.select_related(
        "customer", "customer__area", "assignee", "raised_by", "escalated_to"
    ).order_by("due_at", "id")


def request_counts(*, user: User, now: dt.datetime | None = None) -> dict[str, int]:
    """How many requests each queue holds (closed ones left out), for the queue tabs."""
    now = now or timezone.now()
    visible = ServiceRequest.objects.visible_to(user).exclude(status=RequestStatus.CLOSED)
    return visible.aggregate(
        mine=Count("pk", filter=Q(assignee=user) | Q(raised_by=user)),
        area=Count("pk"),
        overdue=Count("pk", filter=Q(status__in=workflow.UNFINISHED, due_at__lt=now)),
    )


def request_get(*, user: User, pk: int) -> ServiceRequest:
    """One request; 404 when it does not exist or its customer lies outside the user's scope."""
    request = (
        ServiceRequest.objects.visible_to(user)
        .select_related(
            "customer",
            "customer__area",
            "customer__account_manager",
            "visit",
            "assignee",
            "raised_by",
            "escalated_to",
        )
        .filter(pk=pk)
        .first()
    )
    if request is None:
        raise Http404
    return request


def request_history(*, request: ServiceRequest) -> QuerySet[AuditEntry]:
    """The request's audit rows, oldest first: who raised, assigned, moved or escalated it."""
    return (
        AuditEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(ServiceRequest),
            object_id=str(request.pk),
        )
        .select_related("actor")
        .order_by("created_at", "id")
    )


# --- activities and training -------------------------------------------------------------------


def activity_list(
    *, user: User, filters: Mapping[str, Any] | None = None
) -> QuerySet[ServiceActivity]:
    """Care and value-added services `user` may see, newest first, filtered by
    ActivityFilterSet (category, kind, customer, who, dates)."""
    qs = ServiceActivity.objects.visible_to(user).select_related(
        "customer", "performed_by", "training_session"
    )
    filterset = ActivityFilterSet(filters or {}, queryset=qs)
    qs = filterset.qs if filterset.is_valid() else qs
    return qs.order_by("-performed_on", "-id")


def _training_visible(user: User) -> QuerySet[TrainingSession]:
    """Sessions of the areas `user` sees, and sessions attended by customers `user` sees (a
    city-wide session shows to the district whose shops went)."""
    attended = ServiceActivity.objects.visible_to(user).filter(training_session=OuterRef("pk"))
    by_area = TrainingSession.objects.visible_to(user).values("pk")
    return TrainingSession.objects.filter(Q(pk__in=by_area) | Q(Exists(attended)))


def training_list(*, user: User) -> QuerySet[TrainingSession]:
    return (
        _training_visible(user)
        .select_related("area", "held_by")
        .annotate(attendee_count=Count("attendances"))
        .order_by("-held_on", "-id")
    )


def training_get(*, user: User, pk: int) -> TrainingSession:
    session = _training_visible(user).select_related("area", "held_by")
    session = session.filter(pk=pk).first()
    if session is None:
        raise Http404
    return session


def training_attendees(*, user: User, session: TrainingSession) -> QuerySet[ServiceActivity]:
    """The session's attendees `user` sees (a supervisor of one district sees its shops)."""
    return (
        ServiceActivity.objects.visible_to(user)
        .filter(training_session=session)
        .select_related("customer", "customer__area")
        .order_by("customer__customer_code")
    )


def customer_service_timeline(*, customer: Customer, limit: int = 20) -> dict[str, Any]:
    """The customer page's service card: the latest requests and the latest care and
    value-added services, with how many are open. The caller has checked the scope."""
    requests = list(
        ServiceRequest.objects.filter(customer=customer)
        .select_related("assignee")
        .order_by("-raised_at", "-id")[:limit]
    )
    activities = list(
        ServiceActivity.objects.filter(customer=customer)
        .select_related("performed_by", "training_session")
        .order_by("-performed_on", "-id")[:limit]
    )
    if len(requests) < limit:
        # Every request of the customer is in the list (most customers have none or a few).
        open_count = sum(1 for item in requests if item.status in workflow.UNFINISHED)
    else:
        open_count = customer_open_request_count(customer=customer)
    return {"requests": requests, "activities": activities, "open_count": open_count}


def customer_open_request_count(*, customer: Customer) -> int:
    """How many of the customer's requests are not finished (one count). The caller has
    checked the scope."""
    return ServiceRequest.objects.filter(customer=customer, status__in=workflow.UNFINISHED).count()


# --- care due ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CareDue:
    """One care service due this week: for whom, what, by when, and for which occasion."""

    customer: Customer
    kind: str
    due_on: dt.date
    holiday: Holiday | None = None
    last_done: dt.date | None = None

    @property
    def kind_label(self) -> str:
        return ActivityKind(self.kind).label

    def is_overdue(self, today: dt.date) -> bool:
        return self.due_on < today


@dataclass(frozen=True)
class _Due:
    """A care service due, as ids (cheap to draw for the whole company)."""

    customer_id: int
    manager_id: int | None
    kind: str
    due_on: dt.date
    holiday: Holiday | None = None
    last_done: dt.date | None = None


def _care_customers(user: User, account_manager: User | None) -> QuerySet[Customer]:
    qs = Customer.objects.visible_to(user)
    if account_manager is not None:
        qs = qs.filter(account_manager=account_manager)
    return qs


@dataclass(frozen=True)
class _DueSources:
    """The rule of `care_due` as querysets over a set of customers (the scope's active ones):
    read row by row for a list, or grouped per account manager in SQL for the counts (a
    company-wide count then reads a row per account manager, not 6,000 shops, and no holiday
    week makes it draw every core shop's greeting in Python)."""

    # The customers whose family service falls due by the week's end.
    family: QuerySet[Customer]
    # (pk, account_manager_id, owner_birthday) whose birthday may fall in the week; the
    # Python rule (`workflow.birthdays_between`, the greetings of the birthday's year) decides.
    birthday_candidates: list[tuple[int, int | None, dt.date]]
    # The birthday greetings already logged for the week's years: (customer_id, occasion).
    birthdays_greeted: set[tuple[int, str]]
    # Each holiday greeting due in the window and the customers not yet greeted for it.
    holidays: list[tuple[Holiday, QuerySet[Customer]]]
    week_start: dt.date
    week_end: dt.date
    family_interval_days: int


def _due_sources(customers: QuerySet[Customer], today: dt.date) -> _DueSources:
    """The care due this week among `customers`: family service, birthday and holiday
    greetings (`care_due` says the rule). Reads the settings, the birthday candidates with
    their greetings, and the holidays (three queries); the family and holiday querysets are
    left to the caller to read."""
    config = ServicesConfig.current()
    week_start, week_end = workflow.week_bounds(today)
    customers = customers.filter(dynamic__status=CustomerStatus.ACTIVE).order_by()

    # Due by the week's end (`workflow.family_due_on` <= week_end): never served, or last
    # served on or before `interval` days before the week's end, so no family service after.
    served_since = ServiceActivity.objects.filter(
        customer=OuterRef("pk"),
        kind=ActivityKind.FAMILY,
        performed_on__gt=week_end - dt.timedelta(days=config.family_interval_days),
    )
    family = customers.exclude(dynamic__care_need="").filter(~Exists(served_since))

    birthday_q = Q()
    for day in (week_start + dt.timedelta(days=n) for n in range(7)):
        birthday_q |= Q(
            dynamic__owner_birthday__month=day.month, dynamic__owner_birthday__day=day.day
        )
        if day.month == 2 and day.day == 28:  # 29 February birthdays in other years
            birthday_q |= Q(dynamic__owner_birthday__month=2, dynamic__owner_birthday__day=29)
    # Read with whether each was greeted in the week's years (one query, not two).
    occasions = sorted({f"birthday:{year}" for year in (week_start.year, week_end.year)})
    greeted_in = {
        f"greeted_{n}": Exists(
            ServiceActivity.objects.filter(
                customer=OuterRef("pk"), kind=ActivityKind.BIRTHDAY_GREETING, occasion=occasion
            )
        )
        for n, occasion in enumerate(occasions)
    }
    candidates, greeted = [], set()
    for pk, manager_id, birthday, *flags in (
        customers.filter(dynamic__owner_birthday__isnull=False)
        .filter(birthday_q)
        .annotate(**greeted_in)
        .values_list("pk", "account_manager_id", "dynamic__owner_birthday", *greeted_in)
    ):
        candidates.append((pk, manager_id, birthday))
        greeted.update(
            (pk, occasion) for occasion, flag in zip(occasions, flags, strict=True) if flag
        )

    audience = customers
    if config.greeting_audience == GreetingAudience.CARE:
        audience = audience.exclude(dynamic__care_need="")
    elif config.greeting_audience == GreetingAudience.CARE_AND_CORE:
        audience = audience.filter(~Q(dynamic__care_need="") | Q(system__is_core=True))
    holidays = []
    for holiday in Holiday.objects.filter(
        date__gte=week_start, date__lte=week_end + dt.timedelta(days=config.greeting_lead_days)
    ):
        greeted_for = ServiceActivity.objects.filter(
            customer=OuterRef("pk"),
            kind=ActivityKind.HOLIDAY_GREETING,
            occasion=holiday.occasion,
        )
        holidays.append((holiday, audience.filter(~Exists(greeted_for))))
    return _DueSources(
        family=family,
        birthday_candidates=candidates,
        birthdays_greeted=greeted,
        holidays=holidays,
        week_start=week_start,
        week_end=week_end,
        family_interval_days=config.family_interval_days,
    )


def _birthdays_due(sources: _DueSources) -> list[tuple[int, int | None, dt.date]]:
    """(pk, account_manager_id, the day) of each birthday greeting due in the week."""
    due = []
    for pk, manager_id, birthday in sources.birthday_candidates:
        day = workflow.birthdays_between(birthday, sources.week_start, sources.week_end)
        if day is not None and (pk, f"birthday:{day.year}") not in sources.birthdays_greeted:
            due.append((pk, manager_id, day))
    return due


def _due_rows(customers: QuerySet[Customer], today: dt.date) -> list[_Due]:
    """The care due among `customers`, one row each, as plain values (a few queries,
    whatever the number of customers)."""
    sources = _due_sources(customers, today)
    last_family = (
        ServiceActivity.objects.filter(customer=OuterRef("pk"), kind=ActivityKind.FAMILY)
        .order_by("-performed_on")
        .values("performed_on")[:1]
    )
    family = sources.family.annotate(last_family=Subquery(last_family))
    rows = [
        _Due(
            pk,
            manager_id,
            ActivityKind.FAMILY,
            workflow.family_due_on(last, sources.family_interval_days, today),
            last_done=last,
        )
        for pk, manager_id, last in family.values_list("pk", "account_manager_id", "last_family")
    ]
    rows.extend(
        _Due(pk, manager_id, ActivityKind.BIRTHDAY_GREETING, day)
        for pk, manager_id, day in _birthdays_due(sources)
    )
    for holiday, audience in sources.holidays:
        rows.extend(
            _Due(pk, manager_id, ActivityKind.HOLIDAY_GREETING, holiday.date, holiday=holiday)
            for pk, manager_id in audience.values_list("pk", "account_manager_id")
        )
    return rows


def care_due(
    *,
    user: User,
    account_manager: User | None = None,
    today: dt.date | None = None,
) -> list[CareDue]:
    """The care services due in the week (Monday to Sunday) holding `today`, for the active
    customers `user` sees (of `account_manager` when given), soonest first:

    - family service for customers marked elderly or special need, every
      `family_interval_days` after the last one (at once when never served);
    - a birthday greeting when the owner's birthday falls in the week and was not greeted;
    - a holiday greeting for each holiday from the week's Monday to `greeting_lead_days`
      after its Sunday, for the customers `greeting_audience` names, not yet greeted.

    For one account manager's list; `care_due_counts` counts a whole company's."""
    rows = _due_rows(_care_customers(user, account_manager), today or timezone.localdate())
    customers = Customer.objects.select_related("dynamic", "account_manager", "area").in_bulk(
        {row.customer_id for row in rows}
    )
    items = [
        CareDue(customers[r.customer_id], r.kind, r.due_on, r.holiday, r.last_done) for r in rows
    ]
    items.sort(key=lambda item: (item.due_on, item.kind, item.customer.customer_code))
    return items


def care_due_counts(
    *, customers: QuerySet[Customer], today: dt.date | None = None
) -> dict[int | None, Counter]:
    """How many care services of each kind are due this week, per account manager id (None:
    customers without one), among `customers` — the caller scopes them (`visible_to(user)` on
    pages; every customer for the daily notice)."""
    sources = _due_sources(customers, today or timezone.localdate())
    counts: dict[int | None, Counter] = defaultdict(Counter)
    per_manager = [(ActivityKind.FAMILY, sources.family)] + [
        (ActivityKind.HOLIDAY_GREETING, audience) for _holiday, audience in sources.holidays
    ]
    for kind, qs in per_manager:
        # Grouped in SQL: the rows themselves are not needed, only how many per manager.
        for manager_id, n in (
            qs.values_list("account_manager_id")
            .annotate(n=Count("pk"))
            .values_list("account_manager_id", "n")
        ):
            counts[manager_id][kind] += n
    for _pk, manager_id, _day in _birthdays_due(sources):
        counts[manager_id][ActivityKind.BIRTHDAY_GREETING] += 1
    return dict(counts)


def upcoming_holidays(*, today: dt.date | None = None, days: int = 60) -> QuerySet[Holiday]:
    today = today or timezone.localdate()
    return Holiday.objects.filter(
        date__gte=today - dt.timedelta(days=14), date__lte=today + dt.timedelta(days=days)
    )


# --- satisfaction --------------------------------------------------------------------------------


@dataclass
class SatisfactionRow:
    """One area's satisfaction: a score per month (oldest first) and over the whole period."""

    area: Area | None
    months: list[workflow.MonthScore]
    overall: workflow.MonthScore


@dataclass
class SatisfactionSummary:
    months: list[dt.date]
    rows: list[SatisfactionRow]
    total: SatisfactionRow
    distribution: dict[int, int]


def satisfaction_summary(
    *,
    user: User,
    months: int = 6,
    until: dt.date | None = None,
    area: Area | None = None,
) -> SatisfactionSummary:
    """The customers' satisfaction with closed requests, per area (the customer's) and month
    (of closing), for the `months` months up to the one holding `until`: how many were rated
    and their mean. Rows are the areas with at least one rating; `total` adds them up;
    `distribution` counts each score 1-5 over the period."""
    last = month_start(until or timezone.localdate())
    first = add_months(last, -(months - 1))
    month_list = [add_months(first, n) for n in range(months)]
    start = timezone.make_aware(dt.datetime.combine(first, dt.time.min))
    end = timezone.make_aware(dt.datetime.combine(add_months(last, 1), dt.time.min))
    qs = ServiceRequest.objects.visible_to(user).filter(
        status=RequestStatus.CLOSED,
        satisfaction__isnull=False,
        closed_at__gte=start,
        closed_at__lt=end,
    )
    if area is not None:
        qs = qs.filter(customer__area__in=descendant_area_ids([area.pk]))
    cells: dict[tuple[int, dt.date], tuple[int, int]] = {}
    for row in (
        qs.annotate(month=TruncMonth("closed_at"))
        .values("customer__area", "month")
        .annotate(count=Count("pk"), total=Sum("satisfaction"))
    ):
        month = row["month"]
        month = timezone.localtime(month).date() if isinstance(month, dt.datetime) else month
        cells[(row["customer__area"], month_start(month))] = (row["count"], row["total"])
    distribution = dict.fromkeys(range(1, 6), 0)
    for row in qs.values("satisfaction").annotate(n=Count("pk")):
        distribution[row["satisfaction"]] = row["n"]
    areas = Area.objects.in_bulk({key[0] for key in cells})
    rows = []
    for area_id in sorted(areas, key=lambda pk: areas[pk].code):
        scores = [workflow.MonthScore(*cells.get((area_id, m), (0, 0))) for m in month_list]
        rows.append(SatisfactionRow(areas[area_id], scores, _sum(scores)))
    totals = [_sum([row.months[i] for row in rows]) for i in range(len(month_list))]
    return SatisfactionSummary(
        months=month_list,
        rows=rows,
        total=SatisfactionRow(None, totals, _sum(totals)),
        distribution=distribution,
    )


def _sum(scores: list[workflow.MonthScore]) -> workflow.MonthScore:
    return workflow.MonthScore(sum(s.count for s in scores), sum(s.total for s in scores))


# --- home page -----------------------------------------------------------------------------------


# What a request's card (templates/services/inc/request_card.html) shows: the home panel
# reads only these, not the ~90 columns of a request with its customer, area and three users.
REQUEST_CARD_FIELDS = (
    "request_type",
    "priority",
    "status",
    "due_at",
    "escalated_at",
    "customer__customer_code",
    "customer__store_name",
    "assignee__name",
    "assignee__username",
    "escalated_to__name",
    "escalated_to__username",
)


def request_home_panel(
    *, user: User, queue: str = Queue.MINE, limit: int = 5, now: dt.datetime | None = None
) -> dict[str, Any]:
    """The home page's service requests: the queue counts (`request_counts`) and the `limit`
    most pressing requests of `queue` (soonest due first), with what their cards show. Two
    queries."""
    now = now or timezone.now()
    cards = (
        request_queue(user=user, queue=queue, now=now)
        .select_related(None)
        .select_related("customer", "assignee", "escalated_to")
        .only(*REQUEST_CARD_FIELDS)
    )
    return {
        "queue": queue,
        "counts": request_counts(user=user, now=now),
        "requests": list(cards[:limit]),
        "now": now,
    }


def care_due_count(*, user: User, today: dt.date | None = None) -> int:
    """How many care services are due this week for the customers `user` looks after (an
    account manager's own), as the care page counts them (`care_due_counts`)."""
    customers = Customer.objects.visible_to(user).filter(account_manager=user)
    counts = care_due_counts(customers=customers, today=today)
    return sum(counts.get(user.pk, Counter()).values())
