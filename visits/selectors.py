"""Reads on visits, always through the scope rule: the agenda, visit lists and details, the
customer's timeline, follow-ups and the supervisors' coverage figures."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import (
    Case,
    Count,
    DateTimeField,
    F,
    Max,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
    Window,
)
from django.db.models.functions import TruncDate
from django.http import Http404
from django.utils import timezone

from crm.choices import Role
from crm.models import Area, User
from crm.scope import (
    ancestor_area_ids,
    area_ids_in_scope,
    descendant_area_ids,
    sees_everything,
)
from customers.choices import CustomerStatus, ValueTier
from customers.models import Customer
from visits.choices import FollowUpStatus, PlanStatus
from visits.computations import CYCLES, effective_cycle, in_cycle
from visits.filtersets import VisitFilterSet
from visits.models import FollowUp, PlannedVisit, PlanRefresh, Visit, VisitsConfig

ROUTE_ORDER = (
    "customer__dynamic__visit_batch",
    "customer__dynamic__delivery_route",
    "customer__customer_code",
)


def days_filter(field: str, first: dt.date, last: dt.date) -> dict[str, dt.datetime]:
    """Lookups selecting the moments of local days `first` to `last` in a datetime column, as
    aware bounds (a `__date` lookup would hide the column from its index)."""
    start = timezone.make_aware(dt.datetime.combine(first, dt.time.min))
    end = timezone.make_aware(dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min))
    return {f"{field}__gte": start, f"{field}__lt": end}


# --- people ------------------------------------------------------------------------------


def account_managers_in_scope(*, user: User, area: Area | None = None) -> QuerySet[User]:
    """The account managers whose agenda and coverage `user` may watch: themselves (an
    account manager), those of their areas (supervisors), everyone (administrators)."""
    managers = User.objects.filter(role=Role.ACCOUNT_MANAGER, is_active=True)
    if area is not None:  # those working in `area` or below it
        managers = managers.filter(areas__in=descendant_area_ids([area.pk])).distinct()
    if sees_everything(user):
        return managers.order_by("username")
    if user.role == Role.ACCOUNT_MANAGER:
        return managers.filter(pk=user.pk)
    return managers.filter(areas__in=area_ids_in_scope(user)).distinct().order_by("username")


def follow_up_owners(*, customer: Customer) -> QuerySet[User]:
    """People who may own a follow-up on `customer`: its account manager and the supervisors
    of its area and the areas above (the ones who see it)."""
    areas = ancestor_area_ids([customer.area_id])
    return (
        User.objects.filter(is_active=True)
        .filter(Q(pk=customer.account_manager_id) | Q(role=Role.SUPERVISOR, areas__in=areas))
        .distinct()
        .order_by("username")
    )


# --- agenda ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ComingDay:
    """A day ahead on the agenda: its planned visits as (plan id, customer code), in route
    order — enough to count them and to keep their pages for the road; the visits themselves
    are read when the user opens the day (`planned_on`)."""

    day: dt.date
    plans: list[tuple[int, str]]


@dataclass
class Agenda:
    """One account manager's day: what is overdue, what is planned (in route order), what
    was done and skipped, and the days ahead (their counts; their visits on demand)."""

    day: dt.date
    overdue: list[PlannedVisit] = field(default_factory=list)
    planned: list[PlannedVisit] = field(default_factory=list)
    done: list[Visit] = field(default_factory=list)
    skipped: list[PlannedVisit] = field(default_factory=list)
    upcoming: list[ComingDay] = field(default_factory=list)
    follow_ups_due: list[FollowUp] = field(default_factory=list)


# What an agenda row shows of a plan's customer (templates/visits/inc/agenda_plan.html): the
# customer's 25 columns and its dynamic row's 27 (and the system row's 22, which no row shows)
# cost the page more to load than its SQL. Reading any other field costs a query per row.
AGENDA_CUSTOMER_FIELDS = (
    "customer__customer_code",
    "customer__store_name",
    "customer__address",
    "customer__area_id",
    "customer__account_manager_id",
    "customer__dynamic__visit_batch",
    "customer__dynamic__delivery_route",
)


def _plans(user: User, account_manager: User) -> QuerySet[PlannedVisit]:
    return (
        PlannedVisit.objects.visible_to(user)
        .filter(customer__account_manager=account_manager)
        .select_related("customer", "customer__dynamic")
        .only(*(f.name for f in PlannedVisit._meta.concrete_fields), *AGENDA_CUSTOMER_FIELDS)
    )


def agenda(
    *, user: User, account_manager: User, day: dt.date | None = None, upcoming: bool = True
) -> Agenda:
    """`account_manager`'s agenda for `day` (today by default), as `user` may see it. Overdue
    visits are the open ones planned before today; the days ahead cover the horizon, each with
    its plans' ids and customer codes only (left out with `upcoming=False`). The home page
    counts them with `today_summary` instead."""
    today = timezone.localdate()
    day = day or today
    plans = _plans(user, account_manager)
    result = Agenda(day=day)
    result.overdue = list(
        plans.filter(status=PlanStatus.PLANNED, planned_for__lt=today).order_by(
            "planned_for", *ROUTE_ORDER
        )
    )
    result.planned = list(
        plans.filter(status=PlanStatus.PLANNED, planned_for=day)
        .exclude(planned_for__lt=today)
        .order_by(*ROUTE_ORDER)
    )
    result.skipped = list(
        plans.filter(status=PlanStatus.SKIPPED, planned_for=day).order_by(*ROUTE_ORDER)
    )
    result.done = list(
        Visit.objects.visible_to(user)
        .filter(visited_by=account_manager, **days_filter("visited_at", day, day))
        .select_related("customer", "customer__dynamic")
        .prefetch_related("follow_ups")
        .order_by("visited_at")
    )
    if upcoming:
        horizon = VisitsConfig.current().horizon_days
        end = max(day, today) + dt.timedelta(days=horizon)
        by_day: dict[dt.date, list[tuple[int, str]]] = defaultdict(list)
        for planned_for, pk, code in (
            plans.filter(
                status=PlanStatus.PLANNED, planned_for__gt=max(day, today), planned_for__lt=end
            )
            .order_by("planned_for", *ROUTE_ORDER)
            .values_list("planned_for", "pk", "customer__customer_code")
        ):
            by_day[planned_for].append((pk, code))
        result.upcoming = [ComingDay(day=d, plans=p) for d, p in sorted(by_day.items())]
    result.follow_ups_due = list(
        FollowUp.objects.visible_to(user)
        .filter(owner=account_manager, status=FollowUpStatus.OPEN, due_date__lte=day)
        .select_related("customer")
        .order_by("due_date", "id")
    )
    return result


# Follow-ups the home page's Today card lists (the soonest due); it counts them all.
HOME_FOLLOW_UPS = 5


@dataclass
class TodaySummary:
    """An account manager's day on the home page: how many visits are planned, overdue and
    done, and the follow-ups due: the first HOME_FOLLOW_UPS of them and how many in all (the
    agenda's figures, without its rows)."""

    day: dt.date
    planned: int
    overdue: int
    done: int
    follow_ups_due: list[FollowUp]
    follow_ups_due_count: int


def today_summary(*, user: User, account_manager: User) -> TodaySummary:
    """`account_manager`'s today as `user` may see it, counted: the same planned and overdue
    visits as `agenda` lists (one conditional count), the visits done today, and the
    follow-ups due (the soonest, each with the customer's code and name, counted in the same
    query: the card lists five of a few dozen)."""
    today = timezone.localdate()
    plans = (
        PlannedVisit.objects.visible_to(user)
        .filter(customer__account_manager=account_manager, status=PlanStatus.PLANNED)
        .filter(planned_for__lte=today)
        .aggregate(
            planned=Count("pk", filter=Q(planned_for=today)),
            overdue=Count("pk", filter=Q(planned_for__lt=today)),
        )
    )
    done = (
        Visit.objects.visible_to(user)
        .filter(visited_by=account_manager, **days_filter("visited_at", today, today))
        .count()
    )
    follow_ups = list(
        FollowUp.objects.visible_to(user)
        .filter(owner=account_manager, status=FollowUpStatus.OPEN, due_date__lte=today)
        .select_related("customer")
        .only(
            *(f.name for f in FollowUp._meta.concrete_fields),
            "customer__customer_code",
            "customer__store_name",
        )
        .annotate(due_count=Window(Count("pk")))  # over every row, before the LIMIT
        .order_by("due_date", "id")[:HOME_FOLLOW_UPS]
    )
    return TodaySummary(
        day=today,
        planned=plans["planned"],
        overdue=plans["overdue"],
        done=done,
        follow_ups_due=follow_ups,
        follow_ups_due_count=follow_ups[0].due_count if follow_ups else 0,
    )


def planned_on(*, user: User, account_manager: User, day: dt.date) -> list[PlannedVisit]:
    """`account_manager`'s open planned visits of `day`, in route order, as `user` may see
    them: a day ahead on the agenda, opened."""
    return list(
        _plans(user, account_manager)
        .filter(status=PlanStatus.PLANNED, planned_for=day)
        .order_by(*ROUTE_ORDER)
    )


def planned_visit_get(*, user: User, pk: int) -> PlannedVisit:
    plan = (
        PlannedVisit.objects.visible_to(user)
        .select_related("customer", "customer__dynamic")
        .filter(pk=pk)
        .first()
    )
    if plan is None:
        raise Http404
    return plan


# --- visits ------------------------------------------------------------------------------


def visit_list(*, user: User, filters: Mapping[str, Any] | None = None) -> QuerySet[Visit]:
    """Visits `user` may see, newest first, filtered by VisitFilterSet."""
    qs = Visit.objects.visible_to(user).select_related("customer", "customer__area", "visited_by")
    filterset = VisitFilterSet(filters or {}, queryset=qs)
    qs = filterset.qs if filterset.is_valid() else qs
    return qs.order_by("-visited_at", "-id")


def visit_get(*, user: User, pk: int) -> Visit:
    """One visit; 404 when it does not exist or its customer lies outside the user's scope."""
    visit = (
        Visit.objects.visible_to(user)
        .select_related("customer", "customer__dynamic", "visited_by", "plan")
        .prefetch_related(
            Prefetch("follow_ups", queryset=FollowUp.objects.select_related("owner", "done_by"))
        )
        .filter(pk=pk)
        .first()
    )
    if visit is None:
        raise Http404
    return visit


def customer_latest_visit(*, customer: Customer) -> Visit | None:
    """The customer's latest visit (the customer page's summary header: the first of
    `customer_visit_timeline`'s visits, read alone). The caller has checked the scope."""
    return Visit.objects.filter(customer=customer).order_by("-visited_at", "-id").first()


def customer_visit_timeline(*, customer: Customer, limit: int = 20) -> dict[str, Any]:
    """The customer page's visit card: the latest visits with their follow-ups, the next
    planned visit, and how many visits there were in all. The caller has checked the scope."""
    visits = list(
        Visit.objects.filter(customer=customer)
        .select_related("visited_by")
        .prefetch_related(Prefetch("follow_ups", queryset=FollowUp.objects.select_related("owner")))
        .order_by("-visited_at", "-id")[:limit]
    )
    next_plan = (
        PlannedVisit.objects.filter(customer=customer, status=PlanStatus.PLANNED)
        .order_by("planned_for")
        .first()
    )
    return {
        "visits": visits,
        "latest": visits[0] if visits else None,
        "next_plan": next_plan,
        "total": Visit.objects.filter(customer=customer).count()
        if len(visits) == limit
        else len(visits),
        "today": timezone.localdate(),
    }


def follow_up_get(*, user: User, pk: int) -> FollowUp:
    follow_up = (
        FollowUp.objects.visible_to(user)
        .select_related("customer", "owner", "visit")
        .filter(pk=pk)
        .first()
    )
    if follow_up is None:
        raise Http404
    return follow_up


def follow_up_list(
    *,
    user: User,
    owner: User | None = None,
    overdue_only: bool = False,
    today: dt.date | None = None,
) -> QuerySet[FollowUp]:
    """Open follow-ups `user` may see (of `owner` when given), the most urgent first."""
    qs = FollowUp.objects.visible_to(user).filter(status=FollowUpStatus.OPEN)
    if owner is not None:
        qs = qs.filter(owner=owner)
    if overdue_only:
        qs = qs.filter(due_date__lt=today or timezone.localdate())
    return qs.select_related("customer", "owner", "visit").order_by("due_date", "id")


# --- coverage ----------------------------------------------------------------------------


@dataclass
class CustomerCoverage:
    """One customer on the coverage drill-down."""

    customer_id: int
    customer_code: str
    store_name: str
    account_manager_id: int
    cycle: str
    cycle_days: int
    boosted: bool
    last_visit: dt.date | None
    in_cycle: bool
    next_due: dt.date
    overdue_since: dt.date | None


@dataclass
class ManagerCoverage:
    """One account manager's line on the coverage page (`manager` None: a total)."""

    manager: User | None
    customers: int = 0
    in_cycle: int = 0
    overdue: int = 0
    visits: int = 0
    visits_per_day: float = 0.0
    follow_ups_overdue: int = 0

    @property
    def share(self) -> float | None:
        """Share of customers visited within their cycle, 0-100 (None without customers)."""
        return None if not self.customers else 100 * self.in_cycle / self.customers


def coverage_total(lines: Sequence[ManagerCoverage]) -> ManagerCoverage:
    """The lines added up: the team's customers, visits and overdue counts, and its visits
    per working day (the lines share one period, so their rates add up)."""
    total = ManagerCoverage(manager=None)
    for line in lines:
        total.customers += line.customers
        total.in_cycle += line.in_cycle
        total.overdue += line.overdue
        total.visits += line.visits
        total.visits_per_day += line.visits_per_day
        total.follow_ups_overdue += line.follow_ups_overdue
    return total


def work_days_between(start: dt.date, end: dt.date, weekdays: frozenset[int]) -> int:
    """Working days from `start` to `end`, both included."""
    days = (end - start).days + 1
    return sum(
        1
        for offset in range(max(0, days))
        if (start + dt.timedelta(days=offset)).isoweekday() in weekdays
    )


def coverage_customers(
    *, user: User, today: dt.date | None = None, account_manager: User | None = None
) -> list[CustomerCoverage]:
    """Every open customer `user` sees that has an account manager (of `account_manager` when
    given): its effective cycle, last visit, whether that visit still covers today, the day
    the next visit is due and, when a planned visit is overdue, since when."""
    today = today or timezone.localdate()
    config = VisitsConfig.current()
    customers = (
        Customer.objects.visible_to(user)
        .exclude(dynamic__status=CustomerStatus.CLOSED)
        .filter(account_manager__isnull=False)
    )
    if account_manager is not None:
        customers = customers.filter(account_manager=account_manager)
    rows = list(
        customers.order_by("customer_code").values_list(
            "pk",
            "customer_code",
            "store_name",
            "account_manager_id",
            "dynamic__visit_cycle",
            "system__value_tier",
        )
    )
    # The scoped customers as a subquery: one query each, however many customers.
    in_scope = customers.order_by().values("pk")
    last = dict(
        Visit.objects.filter(customer__in=in_scope)
        .order_by()
        .values("customer_id")
        .annotate(last=Max(TruncDate("visited_at")))
        .values_list("customer_id", "last")
    )
    overdue: dict[int, dt.date] = {}
    for customer_id, day in (
        PlannedVisit.objects.filter(
            customer__in=in_scope, status=PlanStatus.PLANNED, planned_for__lt=today
        )
        .order_by("planned_for")
        .values_list("customer_id", "planned_for")
    ):
        overdue.setdefault(customer_id, day)
    result = []
    for pk, code, name, manager_id, cycle, tier in rows:
        cycle_name, boosted = effective_cycle(
            cycle,
            potential=tier == ValueTier.POTENTIAL,
            shift=config.potential_shift,
            default=config.default_cycle,
        )
        days = config.cycle_days[cycle_name]
        last_visit = last.get(pk)
        result.append(
            CustomerCoverage(
                customer_id=pk,
                customer_code=code,
                store_name=name,
                account_manager_id=manager_id,
                cycle=cycle_name,
                cycle_days=days,
                boosted=boosted,
                last_visit=last_visit,
                in_cycle=in_cycle(last_visit, cycle_days=days, today=today),
                next_due=today
                if last_visit is None
                else max(today, last_visit + dt.timedelta(days=days)),
                overdue_since=overdue.get(pk),
            )
        )
    return result


def _day_start(day: dt.date) -> dt.datetime:
    """The first moment of local day `day`, aware."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _in_cycle_since(config: VisitsConfig, today: dt.date) -> Case:
    """Per customer, the first moment a last visit still covers `today`: the start of the day
    `today - cycle_days + 1` of its effective cycle (`effective_cycle` and `in_cycle` in SQL:
    a cycle other than weekly, fortnightly or monthly is the default one; a potential-value
    customer's is `potential_shift` steps shorter)."""

    def since(cycle: str | None, potential: bool) -> Value:
        name, _boosted = effective_cycle(
            cycle, potential=potential, shift=config.potential_shift, default=config.default_cycle
        )
        return Value(_day_start(today - dt.timedelta(days=config.cycle_days[name] - 1)))

    potential = Q(system__value_tier=ValueTier.POTENTIAL)
    whens = []
    for name in CYCLES:
        named = Q(dynamic__visit_cycle=name)
        whens += [
            When(named & potential, then=since(name, True)),
            When(named, then=since(name, False)),
        ]
    whens.append(When(potential, then=since(None, True)))
    return Case(*whens, default=since(None, False), output_field=DateTimeField())


def _customer_counts(
    *, user: User, managers: list[int], config: VisitsConfig, today: dt.date
) -> list[tuple[int, int, int, int]]:
    """Per account manager of `managers`: (manager id, customers, visited within their cycle,
    with an overdue planned visit), counted in one query over the open customers `user` sees
    (those of other account managers — reassigned shops — are not counted).

    Each customer's last visit comes from one aggregate of the visits since the earliest day a
    cycle reaches back to (an earlier last visit covers no cycle; a visit after today, which
    the services refuse, would be the last one and cover nothing, as in `in_cycle`) of the same
    customers, joined on the customer, not a subquery per customer: with 200,000 customers
    that is one pass over an index of the month's visits instead of 200,000 index look-ups.
    The scoped customers, the visits and the plans are the ORM's querysets; only the join is
    written out."""
    if not managers:
        return []
    tomorrow = _day_start(today + dt.timedelta(days=1))
    earliest = _day_start(today - dt.timedelta(days=max(config.cycle_days.values()) - 1))
    scoped = Customer.objects.visible_to(user).filter(account_manager__in=managers)
    customers = (
        scoped.exclude(dynamic__status=CustomerStatus.CLOSED)
        .annotate(
            customer_id=F("pk"),
            manager_id=F("account_manager_id"),
            in_cycle_since=_in_cycle_since(config, today),
        )
        .order_by()
        .values("customer_id", "manager_id", "in_cycle_since")
    )
    last_visits = (
        # of the scoped customers, closed ones too: the join below leaves those out
        Visit.objects.filter(visited_at__gte=earliest, customer__in=scoped.order_by().values("pk"))
        .order_by()
        .values("customer_id")
        .annotate(last_visit=Max("visited_at"))
        .values("customer_id", "last_visit")
    )
    overdue = (
        PlannedVisit.objects.filter(status=PlanStatus.PLANNED, planned_for__lt=today)
        .order_by()
        .values("customer_id")
        .distinct()
    )
    customers_sql, customers_params = customers.query.sql_with_params()
    last_sql, last_params = last_visits.query.sql_with_params()
    overdue_sql, overdue_params = overdue.query.sql_with_params()
    sql = f"""
        SELECT c.manager_id, COUNT(*),
               COUNT(*) FILTER (WHERE lv.last_visit >= c.in_cycle_since AND lv.last_visit < %s),
               COUNT(od.customer_id)
        FROM ({customers_sql}) c
        LEFT JOIN ({last_sql}) lv ON lv.customer_id = c.customer_id
        LEFT JOIN ({overdue_sql}) od ON od.customer_id = c.customer_id
        GROUP BY c.manager_id
    """  # noqa: S608 (the ORM's own SQL, parameters apart)
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                connection.ops.adapt_datetimefield_value(tomorrow),
                *customers_params,
                *last_params,
                *overdue_params,
            ],
        )
        return cursor.fetchall()


def coverage_shares(
    *, user: User, today: dt.date | None = None, area: Area | None = None
) -> list[ManagerCoverage]:
    """The customers' part of `coverage`, per account manager `user` may watch: customers,
    how many were visited within their cycle, overdue planned visits. The visits and overdue
    follow-ups are not counted (they stay 0): the home page's card shows the shares only."""
    today = today or timezone.localdate()
    return _shares(user=user, today=today, area=area, config=VisitsConfig.current())


def _shares(
    *, user: User, today: dt.date, area: Area | None, config: VisitsConfig
) -> list[ManagerCoverage]:
    lines = {
        manager.pk: ManagerCoverage(manager=manager)
        for manager in account_managers_in_scope(user=user, area=area)
    }
    for manager_id, customers, visited, late in _customer_counts(
        user=user, managers=list(lines), config=config, today=today
    ):
        line = lines[manager_id]
        line.customers, line.in_cycle, line.overdue = customers, visited, late
    return list(lines.values())


def coverage(
    *, user: User, today: dt.date | None = None, period_days: int = 30, area: Area | None = None
) -> list[ManagerCoverage]:
    """Per account manager `user` may watch: customers, how many were visited within their
    cycle, overdue planned visits (`coverage_shares`), visits in the last `period_days` days
    and per working day, and overdue follow-ups they own (those working in `area` or below
    it, when given).

    The same figures as `coverage_customers` added up per account manager, but counted in the
    database (`_customer_counts`), however many customers there are."""
    today = today or timezone.localdate()
    config = VisitsConfig.current()
    shares = _shares(user=user, today=today, area=area, config=config)
    lines = {line.manager.pk: line for line in shares}
    start = today - dt.timedelta(days=period_days - 1)
    visits = _count_by(
        Visit.objects.visible_to(user).filter(
            visited_by__in=list(lines), **days_filter("visited_at", start, today)
        ),
        "visited_by",
    )
    follow_ups = _count_by(
        FollowUp.objects.visible_to(user).filter(
            owner__in=list(lines), status=FollowUpStatus.OPEN, due_date__lt=today
        ),
        "owner",
    )
    work_days = max(1, work_days_between(start, today, config.work_weekdays))
    for pk, line in lines.items():
        line.visits = visits.get(pk, 0)
        line.visits_per_day = line.visits / work_days
        line.follow_ups_overdue = follow_ups.get(pk, 0)
    return list(lines.values())


def _count_by(qs: QuerySet, column: str) -> dict[int, int]:
    return dict(qs.order_by().values(column).annotate(n=Count("pk")).values_list(column, "n"))


def plan_refresh_list(*, limit: int = 10) -> QuerySet[PlanRefresh]:
    """The latest runs of the planning job, newest first (the settings page lists them)."""
    return PlanRefresh.objects.order_by("-started_at", "-id")[:limit]
