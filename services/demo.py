"""Demo services: eight weeks of service requests and of care and value-added services, all
through `services.services` (so every rule is checked and due times, assignees, escalations
and audit rows are real).

- Care marks: about 3% of the shops (at least one per account manager) are marked for family
  service (elderly or special need), and about 30% of the owners get a birthday, one per
  account manager in the current week (written through `customer_upsert_many`, audited).
- Requests: about one a week per 15 shops, some raised on a visit, with Chinese descriptions
  and resolutions per type. They are played in time order: raised, started, resolved (most on
  time, some late), closed with the customer's satisfaction (mostly 4 or 5), a few reopened;
  the escalation job runs as of the quarter hour after each due time, so late ones escalate
  when they fell due. The most recent are still open, in progress or waiting to be closed,
  and every account manager has one raised today and one overdue (escalated). The times the
  services stamp (resolved, closed, audit rows, notifications) are moved to the played time;
  a due time is always the raise (or reopen) time plus the type's service level.
- Care: family service for the marked shops (some due again this week), greetings for the
  last two holidays to the shops `greeting_audience` names, birthday greetings for the
  birthdays of the past weeks (this week's are left due).
- Value-added: display and renovation guidance (half of it on a visit) and two or three
  training sessions per district with attendees.

Deterministic (seeded generators) and seeded once: the care marks and the history are made
only the first time; a later run only runs the escalation job (as every quarter of an hour),
which finds nothing new on the same day.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.utils import timezone

from crm.choices import Role
from crm.demo import SeedReport, seed_once
from crm.models import Area, AuditEntry, Notification, User
from crm.services import Actor
from customers.choices import CareNeed, CustomerStatus
from customers.demo import demo_sample
from customers.models import Customer
from customers.services import customer_upsert_many
from services import services, workflow
from services.choices import ActivityKind, GreetingAudience, Priority, RequestAction, RequestType
from services.models import (
    Holiday,
    ServiceActivity,
    ServiceRequest,
    ServicesConfig,
    TrainingSession,
)
from visits.models import Visit

WEEKS = 8
SHOPS_PER_WEEKLY_REQUEST = 15
CARE_SHARE = 0.03
BIRTHDAY_SHARE = 0.30
# Notifications older than this were read by the demo users.
READ_AFTER = dt.timedelta(days=2)

_TYPES = [
    (RequestType.SUPPLY, 30),
    (RequestType.DELIVERY, 25),
    (RequestType.PRICE, 15),
    (RequestType.OTHER, 12),
    (RequestType.COMPLAINT, 10),
    (RequestType.LICENCE, 8),
]
_PRIORITIES = [
    (Priority.NORMAL, 50),
    (Priority.HIGH, 25),
    (Priority.LOW, 15),
    (Priority.URGENT, 10),
]
_SATISFACTION = [(5, 50), (4, 32), (3, 10), (2, 5), (1, 3)]
_DESCRIPTIONS = {
    RequestType.SUPPLY: [
        "希望增加中华(硬)的货源",
        "玉溪(软)连续两周断货，希望尽快补货",
        "申请增加黄鹤楼(硬金砂)的订购量",
        "新品利群(休闲云岚)能否给店里配一些",
        "双喜(硬经典)到货量不够卖，周末经常断货",
    ],
    RequestType.PRICE: [
        "对芙蓉王(硬)批发价调整有疑问",
        "希望说明本月价格调整的原因",
        "零售指导价标签与实际不符，需要核对",
        "周边店铺低价销售，影响正常经营",
    ],
    RequestType.DELIVERY: [
        "送货员上周迟到两天",
        "送货时间太晚，希望改到上午",
        "到货少了一条中华(软)",
        "送来的货外包装破损",
        "配送线路调整后没有提前通知店主",
    ],
    RequestType.LICENCE: [
        "许可证下月到期，咨询延续手续",
        "店铺准备搬迁，需要办理许可证变更",
        "经营者变更，咨询许可证过户",
        "许可证正本遗失，申请补办",
    ],
    RequestType.COMPLAINT: [
        "客户经理上门拜访次数太少",
        "送货员服务态度差",
        "订货电话经常打不通",
        "上次反映的问题一直没人回复",
    ],
    RequestType.OTHER: [
        "希望提供电子结算操作培训",
        "咨询新版卷烟陈列柜的申领",
        "希望参加零售户经营培训",
        "店里的扫码枪坏了，咨询维修",
    ],
}
_RESOLUTIONS = {
    RequestType.SUPPLY: [
        "已协调增加每周配额两条",
        "已安排下一批次优先补货",
        "已登记需求，下周起调整",
    ],
    RequestType.PRICE: [
        "已上门解释价格政策",
        "已更换价签并逐一核对",
        "已向市场部反映，店主表示理解",
    ],
    RequestType.DELIVERY: [
        "已与物流中心沟通，调整为上午配送",
        "已补送缺货并向店主致歉",
        "已更换破损商品",
    ],
    RequestType.LICENCE: ["已指导准备材料并预约窗口办理", "已完成变更登记", "已协助提交补办申请"],
    RequestType.COMPLAINT: ["已约谈相关人员并向店主致歉", "已增加拜访频次并留下直线电话"],
    RequestType.OTHER: ["已安排上门讲解", "已登记并反馈相关部门处理", "已协调更换设备"],
}
_REOPEN_REASONS = ["店主反映问题仍未解决", "补货后仍然不够卖", "店主对处理结果不认可"]
_FAMILY_NOTES = [
    "上门看望，帮助整理货架",
    "陪店主聊天，了解身体情况",
    "帮助老人完成电子结算操作",
    "送去慰问品，叮嘱注意身体",
]
_GREETING_NOTES = ["电话问候并送上祝福", "上门送去节日慰问", "发送节日祝福短信"]
_BIRTHDAY_NOTES = ["电话祝贺生日", "上门送去生日蛋糕", "发送生日祝福短信"]
_GUIDANCE = {
    ActivityKind.DISPLAY: [
        "指导按品牌分区陈列，调整价签位置",
        "协助重新摆放柜台，突出新品",
        "讲解陈列规范，更换陈列道具",
    ],
    ActivityKind.RENOVATION: [
        "门头改造建议：统一招牌样式",
        "店内布局调整建议，增加陈列面积",
        "协助设计收银台与烟柜位置",
    ],
}
_TRAININGS = [
    ("新版卷烟陈列规范培训", "陈列分区、价签摆放与新品展示"),
    ("电子结算与手机订货操作培训", "手机订货、电子结算与对账"),
    ("零售户诚信经营与法规培训", "许可证管理、明码标价与未成年人保护"),
    ("卷烟真假鉴别培训", "常见假烟特征与鉴别方法"),
    ("新品推介会", "本季度新品规格、价格与卖点"),
]


def seed_services(report: SeedReport, *, actor: Actor) -> None:
    today = timezone.localdate()
    existing = (
        ServiceRequest.objects.count(),
        ServiceActivity.objects.count(),
        TrainingSession.objects.count(),
    )
    if not seed_once("services.history", made=lambda: any(existing)):
        report.lines.append(
            "Services: {} requests, {} activities and {} training sessions exist already; the "
            "demo history is not logged again.".format(*existing)
        )
    else:
        sample = demo_sample(report.options)
        customers = _customers(sample)
        rng = random.Random(report.options.seed)  # noqa: S311 - demo data
        marked, birthdays = _seed_care_marks(customers, today, rng, actor)
        customers = _customers(sample)  # with their new marks
        visits = _visits_by_customer(today)
        requests = _seed_requests(customers, visits, rng, actor)
        activities = _seed_activities(customers, visits, today, rng, actor)
        sessions = _seed_training(customers, today, rng, actor)
        closed = ServiceRequest.objects.filter(satisfaction__isnull=False).count()
        report.lines.append(
            f"Services: {marked} shops marked for family service, {birthdays} owners' "
            f"birthdays; {requests} requests over the past {WEEKS} weeks ({closed} closed with "
            f"the customer's satisfaction); {activities} care and value-added services; "
            f"{sessions} training sessions."
        )
    escalated = services.service_requests_escalate()
    report.lines.append(
        f"Service requests escalated now: {escalated}; "
        f"{ServiceRequest.objects.filter(escalated_at__isnull=False).count()} escalated in all."
    )


def _customers(sample: set[int]) -> list[Customer]:
    """The active shops of the sample (`customers.demo.demo_sample`: every shop of the named
    account managers and a few of every other one)."""
    return list(
        Customer.objects.with_parts()
        .filter(account_manager__isnull=False, dynamic__status=CustomerStatus.ACTIVE, pk__in=sample)
        .order_by("customer_code")
    )


def _by_manager(customers: list[Customer]) -> dict[int, list[Customer]]:
    books: dict[int, list[Customer]] = defaultdict(list)
    for customer in customers:
        books[customer.account_manager_id].append(customer)
    return books


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def _last_pk(model) -> int:
    return model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


@contextmanager
def _dated(when: dt.datetime) -> Iterator[None]:
    """Moves the audit rows and notifications the block writes to `when` (the services stamp
    them now); notifications older than a couple of days count as read."""
    audit_from, notice_from = _last_pk(AuditEntry), _last_pk(Notification)
    yield
    AuditEntry.objects.filter(pk__gt=audit_from).update(created_at=when)
    read = when + dt.timedelta(hours=1) if when < timezone.now() - READ_AFTER else None
    Notification.objects.filter(pk__gt=notice_from).update(created_at=when, read_at=read)


def _pick(rng: random.Random, weighted):
    return rng.choices([v for v, _w in weighted], weights=[w for _v, w in weighted])[0]


# --- care marks ------------------------------------------------------------------------------


def _seed_care_marks(
    customers: list[Customer], today: dt.date, rng: random.Random, actor: Actor
) -> tuple[int, int]:
    """Family-service marks (at least one per account manager) and owners' birthdays (one
    per account manager this week), through the customer service."""
    week_start, _week_end = workflow.week_bounds(today)
    rows: dict[str, dict] = {}
    for book in _by_manager(customers).values():
        care = rng.sample(book, max(1, round(len(book) * CARE_SHARE)))
        for customer in care:
            need = CareNeed.ELDERLY if rng.random() < 0.7 else CareNeed.SPECIAL_NEED
            rows[customer.customer_code] = {"care_need": need.value}
        with_birthday = rng.sample(book, max(1, round(len(book) * BIRTHDAY_SHARE)))
        for n, customer in enumerate(with_birthday):
            if n == 0:  # this week's: due
                day = week_start + dt.timedelta(days=rng.randrange(7))
            elif n == 1:  # one of the past weeks': greeted
                day = today - dt.timedelta(days=rng.randint(8, WEEKS * 7 - 6))
            else:
                day = dt.date(2001, 1, 1) + dt.timedelta(days=rng.randrange(365))
            born = workflow.birthday_in(rng.randint(1952, 1988), day)
            rows.setdefault(customer.customer_code, {})["owner_birthday"] = born.isoformat()
    result = customer_upsert_many(
        rows=[{"customer_code": code, **values} for code, values in sorted(rows.items())],
        actor=actor,
    )
    errors = [r for r in result.results if r.outcome == "error"]
    if errors:  # the demo's own data: a refusal is a bug here
        raise RuntimeError(f"Demo care marks refused: {errors[0].errors}")
    marked = sum("care_need" in values for values in rows.values())
    return marked, sum("owner_birthday" in values for values in rows.values())


def _visits_by_customer(today: dt.date) -> dict[int, list[Visit]]:
    since = _at(today - dt.timedelta(weeks=WEEKS), 0)
    visits: dict[int, list[Visit]] = defaultdict(list)
    for visit in Visit.objects.filter(visited_at__gte=since).select_related("visited_by"):
        visits[visit.customer_id].append(visit)
    return visits


# --- requests -----------------------------------------------------------------------------------


@dataclass
class _Plan:
    """One request to play: who raises it when, and the steps it goes through."""

    customer: Customer
    raiser: User
    request_type: str
    priority: str
    description: str
    raised_at: dt.datetime
    assignee: User | None = None
    visit: Visit | None = None
    # (when, action, note, satisfaction)
    steps: list[tuple[dt.datetime, str, str, int | None]] = field(default_factory=list)


def _seed_requests(
    customers: list[Customer], visits: dict[int, list[Visit]], rng: random.Random, actor: Actor
) -> int:
    now = timezone.now()
    config = ServicesConfig.current()
    supervisors: dict[int, list[User]] = {}
    licence_officers = _licence_officers()
    plans: list[_Plan] = []
    count = round(len(customers) * WEEKS / SHOPS_PER_WEEKLY_REQUEST)
    for _n in range(count):
        customer = rng.choice(customers)
        plans.append(
            _plan(customer, visits.get(customer.pk, []), now, rng, supervisors, licence_officers)
        )
    for book in _by_manager(customers).values():
        customer = rng.choice(book)
        # One raised today, still open.
        plans.append(
            _Plan(
                customer=customer,
                raiser=customer.account_manager,
                request_type=RequestType.SUPPLY,
                priority=Priority.NORMAL,
                description=rng.choice(_DESCRIPTIONS[RequestType.SUPPLY]),
                raised_at=now - dt.timedelta(hours=rng.uniform(1, 5)),
            )
        )
        # One started days ago and never finished: overdue, escalated.
        raised_at = now - dt.timedelta(days=rng.uniform(3, 6))
        plans.append(
            _Plan(
                customer=customer,
                raiser=customer.account_manager,
                request_type=RequestType.DELIVERY,
                priority=Priority.HIGH,
                description=rng.choice(_DESCRIPTIONS[RequestType.DELIVERY]),
                raised_at=raised_at,
                steps=[(raised_at + dt.timedelta(hours=2), RequestAction.START, "", None)],
            )
        )
    for plan in plans:
        _steps(plan, config, now, rng)
    _play(plans, config, now, actor)
    return len(plans)


def _licence_officers() -> dict[int, User]:
    """The licence officer of each area that has one."""
    officers: dict[int, User] = {}
    for officer in User.objects.filter(role=Role.LICENSE_OFFICER, is_active=True).order_by(
        "username"
    ):
        for area in officer.areas.all():
            officers.setdefault(area.pk, officer)
    return officers


def _plan(
    customer: Customer,
    visits: list[Visit],
    now: dt.datetime,
    rng: random.Random,
    supervisors: dict[int, list[User]],
    licence_officers: dict[int, User],
) -> _Plan:
    request_type = _pick(rng, _TYPES)
    visit = None
    if visits and rng.random() < 0.4:
        visit = rng.choice(visits)
        raised_at = visit.visited_at + dt.timedelta(minutes=rng.randint(3, 15))
        raiser = visit.visited_by
    else:
        day = timezone.localdate() - dt.timedelta(days=rng.randint(1, WEEKS * 7 - 1))
        if day.weekday() == 6:  # nobody raises requests on Sundays
            day -= dt.timedelta(days=1)
        raised_at = _at(day, rng.randint(9, 17), rng.choice([0, 10, 20, 30, 40, 50]))
        raiser = customer.account_manager
    targets = services.escalation_targets(customer.area, supervisors)
    if visit is None and targets and rng.random() < 0.12:
        raiser = targets[0]  # the supervisor heard it on an inspection
    assignee = None
    if request_type == RequestType.COMPLAINT and targets:
        assignee = targets[0]  # complaints about staff go to the supervisor
    elif request_type == RequestType.LICENCE:
        assignee = licence_officers.get(customer.area_id)
    return _Plan(
        customer=customer,
        raiser=raiser,
        request_type=request_type,
        priority=_pick(rng, _PRIORITIES),
        description=rng.choice(_DESCRIPTIONS[request_type]),
        raised_at=min(raised_at, now - dt.timedelta(minutes=30)),
        assignee=assignee,
        visit=visit,
    )


def _steps(plan: _Plan, config: ServicesConfig, now: dt.datetime, rng: random.Random) -> None:
    """The plan's workflow: started, resolved (one in five late), mostly closed, now and then
    reopened first; the steps not reached by now are left out, so recent requests are still
    open, in progress or waiting to be closed."""
    if not plan.steps:
        sla = config.sla_hours(plan.request_type)
        hours = dt.timedelta(hours=1)
        resolved = plan.raised_at + hours * sla * (
            rng.uniform(1.1, 2.5) if rng.random() < 0.2 else rng.uniform(0.15, 0.85)
        )
        steps = []
        if rng.random() < 0.8:
            started = plan.raised_at + (resolved - plan.raised_at) * rng.uniform(0.1, 0.4)
            steps.append((started, RequestAction.START, "", None))
        steps.append((resolved, RequestAction.RESOLVE, _resolution(plan, rng), None))
        satisfaction = _pick(rng, _SATISFACTION)
        if rng.random() < 0.07:
            reopened = resolved + hours * rng.uniform(12, 48)
            resolved = reopened + hours * sla * rng.uniform(0.2, 0.7)
            steps += [
                (reopened, RequestAction.REOPEN, rng.choice(_REOPEN_REASONS), None),
                (reopened + hours * rng.uniform(1, 3), RequestAction.START, "", None),
                (resolved, RequestAction.RESOLVE, _resolution(plan, rng), None),
            ]
            satisfaction = rng.choice([3, 4, 4])
        if rng.random() < 0.95:
            closed = resolved + hours * rng.uniform(3, 72)
            steps.append((closed, RequestAction.CLOSE, "", satisfaction))
        plan.steps = steps
    steps, last = [], plan.raised_at
    for when, *rest in plan.steps:
        last = max(_working(when), last + dt.timedelta(minutes=10))
        steps.append((last, *rest))
    plan.steps = [step for step in steps if step[0] < now - dt.timedelta(minutes=10)]


def _working(when: dt.datetime) -> dt.datetime:
    """`when`, or the next morning when it falls in the night (people work 8:00 to 20:00)."""
    local = timezone.localtime(when)
    if 8 <= local.hour < 20:
        return when
    day = local.date() + dt.timedelta(days=1 if local.hour >= 20 else 0)
    return _at(day, 8, local.minute)


def _resolution(plan: _Plan, rng: random.Random) -> str:
    return rng.choice(_RESOLUTIONS[plan.request_type])


def _tick(due: dt.datetime) -> dt.datetime:
    """The escalation job's first run after `due` (it runs every quarter of an hour)."""
    return due.replace(minute=due.minute - due.minute % 15, second=0, microsecond=0) + (
        dt.timedelta(minutes=15)
    )


def _play(plans: list[_Plan], config: ServicesConfig, now: dt.datetime, actor: Actor) -> None:
    """Raises the requests and takes their steps in time order, with the escalation job run as
    of the quarter hour after each due time."""
    events: list[tuple[dt.datetime, int, _Plan, tuple | None]] = []
    ticks: set[dt.datetime] = set()
    for plan in plans:
        events.append((plan.raised_at, 0, plan, None))
        due = plan.raised_at + dt.timedelta(hours=config.sla_hours(plan.request_type))
        ticks.add(_tick(due))
        for step in plan.steps:
            events.append((step[0], 1, plan, step))
            if step[1] == RequestAction.REOPEN:
                ticks.add(_tick(step[0] + dt.timedelta(hours=config.sla_hours(plan.request_type))))
    events += [(tick, 2, None, None) for tick in ticks if tick < now]
    events.sort(key=lambda event: (event[0], event[1]))
    raised: dict[int, ServiceRequest] = {}
    for when, kind, plan, step in events:
        with _dated(when):
            if kind == 2:
                services.service_requests_escalate(now=when)
            elif kind == 0:
                raised[id(plan)] = services.service_request_raise(
                    customer=plan.customer,
                    request_type=plan.request_type,
                    priority=plan.priority,
                    description=plan.description,
                    actor=Actor.of(plan.raiser, actor.source),
                    assignee=plan.assignee,
                    visit=plan.visit,
                    raised_at=when,
                )
            else:
                _take(raised[id(plan)], plan, step, config, actor)


def _take(
    request: ServiceRequest, plan: _Plan, step: tuple, config: ServicesConfig, actor: Actor
) -> None:
    when, action, note, satisfaction = step
    settles = action in (RequestAction.CLOSE, RequestAction.REOPEN)
    who = plan.raiser if settles else request.assignee
    services.service_request_act(
        request=request,
        action=action,
        actor=Actor.of(who, actor.source),
        note=note,
        satisfaction=satisfaction,
    )
    stamps: dict = {"updated_at": when}
    if action == RequestAction.RESOLVE:
        stamps["resolved_at"] = when
    elif action == RequestAction.CLOSE:
        stamps["closed_at"] = when
    elif action == RequestAction.REOPEN:
        stamps["due_at"] = workflow.due_at(when, config.sla_hours(plan.request_type))
    ServiceRequest.objects.filter(pk=request.pk).update(**stamps)


# --- care and value-added services ------------------------------------------------------------


def _log(
    customer: Customer,
    kind: str,
    day: dt.date,
    who: User,
    note: str,
    actor: Actor,
    holiday: Holiday | None = None,
    visit: Visit | None = None,
) -> None:
    when = _at(day, 18)
    with _dated(when):
        activity = services.service_activity_log(
            customer=customer,
            kind=kind,
            performed_on=day,
            actor=Actor.of(who, actor.source),
            note=note,
            holiday=holiday,
            visit=visit,
        )
    ServiceActivity.objects.filter(pk=activity.pk).update(created_at=when)


def _seed_activities(
    customers: list[Customer],
    visits: dict[int, list[Visit]],
    today: dt.date,
    rng: random.Random,
    actor: Actor,
) -> int:
    start = today - dt.timedelta(weeks=WEEKS)
    week_start, _week_end = workflow.week_bounds(today)
    config = ServicesConfig.current()
    before = ServiceActivity.objects.count()
    for customer in customers:
        dynamic, manager = customer.dynamic, customer.account_manager
        # Family service about monthly; the last one 10 to 45 days ago (some due this week).
        if dynamic.care_need:
            last = today - dt.timedelta(days=rng.randint(10, 45))
            for day in (last - dt.timedelta(days=rng.randint(28, 33)), last):
                if day >= start:
                    _log(
                        customer,
                        ActivityKind.FAMILY,
                        day,
                        manager,
                        rng.choice(_FAMILY_NOTES),
                        actor,
                    )
        # Birthday greetings for the birthdays of the past weeks (this week's are due).
        if dynamic.owner_birthday is not None:
            day = workflow.birthdays_between(
                dynamic.owner_birthday, start, week_start - dt.timedelta(days=1)
            )
            if day is not None and rng.random() < 0.85:
                _log(
                    customer,
                    ActivityKind.BIRTHDAY_GREETING,
                    day,
                    manager,
                    rng.choice(_BIRTHDAY_NOTES),
                    actor,
                )
    # Display and renovation guidance for a few shops, half of it on a visit.
    for kind, share in ((ActivityKind.DISPLAY, 0.14), (ActivityKind.RENOVATION, 0.05)):
        for customer in rng.sample(customers, max(1, round(len(customers) * share))):
            manager = customer.account_manager
            visit = rng.choice(visits[customer.pk]) if visits.get(customer.pk) else None
            if visit is not None and rng.random() < 0.5:
                day, who = timezone.localdate(visit.visited_at), visit.visited_by
            else:
                visit, who = None, manager
                day = today - dt.timedelta(days=rng.randint(1, WEEKS * 7 - 1))
            _log(customer, kind, day, who, rng.choice(_GUIDANCE[kind]), actor, visit=visit)
    # Greetings for the last two holidays, to the shops the settings name.
    for holiday in Holiday.objects.filter(date__lte=today).order_by("-date")[:2]:
        for customer in customers:
            if not _greeted(customer, config.greeting_audience) or rng.random() >= 0.9:
                continue
            day = holiday.date - dt.timedelta(days=rng.randint(0, 2))
            _log(
                customer,
                ActivityKind.HOLIDAY_GREETING,
                min(day, today),
                customer.account_manager,
                rng.choice(_GREETING_NOTES),
                actor,
                holiday=holiday,
            )
    return ServiceActivity.objects.count() - before


def _greeted(customer: Customer, audience: str) -> bool:
    if audience == GreetingAudience.ALL:
        return True
    if customer.dynamic.care_need:
        return True
    return audience == GreetingAudience.CARE_AND_CORE and bool(customer.system.is_core)


def _seed_training(
    customers: list[Customer], today: dt.date, rng: random.Random, actor: Actor
) -> int:
    """Two or three sessions per district over the past weeks, held by its supervisor, with
    a third to a half of its shops attending."""
    by_area: dict[int, list[Customer]] = defaultdict(list)
    for customer in customers:
        by_area[customer.area_id].append(customer)
    supervisors: dict[int, list[User]] = {}
    sessions = 0
    for area in Area.objects.filter(pk__in=by_area).order_by("code"):
        holders = services.escalation_targets(area, supervisors)
        if not holders:
            continue
        shops = by_area[area.pk]
        count = rng.choice([2, 3])
        topics = rng.sample(_TRAININGS, count)
        for n, (title, topic) in enumerate(topics):
            weeks_ago = WEEKS - 1 - n * (WEEKS - 2) // max(count - 1, 1)
            held_on = today - dt.timedelta(weeks=weeks_ago, days=rng.randint(0, 4))
            attendees = rng.sample(shops, max(1, round(len(shops) * rng.uniform(0.33, 0.5))))
            when = _at(held_on, 17)
            with _dated(when):
                session = services.training_session_log(
                    title=title,
                    held_on=held_on,
                    area=area,
                    attendees=attendees,
                    actor=Actor.of(holders[0], actor.source),
                    topic=topic,
                    location=f"{area.name}烟草专卖局三楼会议室",
                )
            TrainingSession.objects.filter(pk=session.pk).update(created_at=when)
            ServiceActivity.objects.filter(training_session=session).update(created_at=when)
            sessions += 1
    return sessions
