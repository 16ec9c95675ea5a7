"""Demo visits: eight weeks of visits by the account managers to their shops, logged through
`visits.services.visit_log` (so every rule is checked and plans are fulfilled the real way),
with findings, positions (a few far from the shop, flagged), follow-ups (some done, some
overdue), a few planned visits skipped or rescheduled with reasons, and today's plan — every
account manager has an agenda today, with overdue visits, and am_zhang at least three visits.

How the history is made: the visits older than two weeks follow each shop's cycle and batch
day; then the planning job is run as of two weeks ago, and the visits since follow that plan
(mostly on the planned day, some a day late, a few skipped, and two shops per account manager
not visited at all, so their visits are overdue today).

Deterministic (each shop's visits come from a generator seeded by its code) and seeded once:
the history, the moved visits and today's agenda are made only the first time; a later run
only runs the planning job (as every morning), which plans around what people did and plans
nothing new on the same day.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.utils import timezone

from crm.choices import Role
from crm.demo import NAMED_BOOKS, SeedReport, seed_once
from crm.models import User
from crm.services import Actor
from customers.choices import CustomerStatus, ValueTier
from customers.demo import demo_sample
from customers.models import Customer
from visits import selectors, services
from visits.choices import FollowUpStatus, PlanStatus, PriceDisplay, StockLevel, VisitType
from visits.computations import batch_weekday, effective_cycle, next_plan_day
from visits.models import FollowUp, PlannedVisit, Visit, VisitsConfig

WEEKS = 8
# The last days follow the plan the job made as of their start. Two weeks: a weekly shop has
# at most two planned visits in them, and logging a visit leaves the later one open (the
# job marks missed all but the latest overdue visit of a shop).
RECENT_DAYS = 14
# Shops per account manager left unvisited over the last days: overdue on today's agenda.
UNVISITED_PER_MANAGER = 2
TODAY_AT_LEAST = {"am_zhang": 3}
# ... and tomorrow: the offline route keeps today's and tomorrow's shops on the phone.
TOMORROW_AT_LEAST = {"am_zhang": 2}

_TYPES = [
    (VisitType.ROUTINE, 60),
    (VisitType.ORDER, 15),
    (VisitType.SERVICE, 10),
    (VisitType.INSPECTION, 10),
    (VisitType.COMPLAINT, 5),
]
_PURPOSES = {
    VisitType.ROUTINE: ["例行拜访，了解经营情况", "例行拜访，检查陈列与库存", "新品动销情况了解"],
    VisitType.ORDER: ["协助订货，核对下周需求", "订货指导：调整品规结构"],
    VisitType.SERVICE: ["更换价签与陈列架", "讲解电子结算操作", "送达新版宣传资料"],
    VisitType.INSPECTION: ["明码标价检查", "陈列规范检查"],
    VisitType.COMPLAINT: ["处理断货投诉回访", "处理配送延误投诉"],
}
_STOCK_NOTES = {
    StockLevel.SUFFICIENT: ["重点品规库存充足", ""],
    StockLevel.LOW: ["中华(硬)只剩两条", "玉溪(软)库存偏低", "双喜(硬经典)快断货"],
    StockLevel.OUT: ["黄鹤楼(硬金砂)已断货三天", "利群(新版)断货"],
}
_COMPETITOR_NOTES = [
    "隔壁便利店在做促销",
    "附近新开一家烟酒行",
    "周边超市细支烟卖得好",
    "有顾客询问外地品牌",
]
_REQUESTS = [
    "希望增加中华(硬)配额",
    "希望配送时间提前到上午",
    "要求更换破损的价签",
    "咨询电子结算手续费",
]
_FOLLOW_UPS = [
    "反馈配额申请结果",
    "补送新版价签",
    "电话回访处理结果",
    "协调配送线路时间",
    "送达新品陈列物料",
]
_DONE_NOTES = ["已办结，店主满意", "已电话告知结果", "已上门处理"]
_SKIP_REASONS = ["店主外出进货，关门一天", "店铺装修暂停营业", "店主生病，改日再访"]
_MOVE_REASONS = ["店主这周三不在店", "配合配送线路调整", "临时会议，顺延一天"]
_TODAY_REASON = "顺路，今天一并拜访"
_TOMORROW_REASON = "顺路，明天一并拜访"


def seed_visits(report: SeedReport, *, actor: Actor) -> None:
    today = timezone.localdate()
    counts: dict[str, int] = {}
    moved_today = 0
    if seed_once("visits.history", made=Visit.objects.exists):
        counts = _seed_history(today, actor, demo_sample(report.options))
        run = services.plan_refresh(today=today)
        counts["moved"] = _seed_moves(today, actor)
        moved_today = _fill_day(today, TODAY_AT_LEAST, _TODAY_REASON, actor)
        counts["moved"] += _fill_day(
            today + dt.timedelta(days=1), TOMORROW_AT_LEAST, _TOMORROW_REASON, actor
        )
        report.lines.append(
            "Visits: {visits} logged over the past {weeks} weeks ({flagged} far from the shop), "
            "{follow_ups} follow-ups ({done} done, {overdue} overdue); {skipped} planned visits "
            "skipped, {moved} rescheduled.".format(weeks=WEEKS, **counts)
        )
    else:
        # The planning job (it runs every morning) plans around what people did; the demo
        # moves, skips and logs nothing again.
        report.lines.append(
            f"Visits: {Visit.objects.count()} exist already; the demo history is not logged "
            "again and no planned visit is moved."
        )
        run = services.plan_refresh(today=today)
    planned, withdrawn, missed = run.planned, run.withdrawn, run.missed
    if moved_today or counts.get("moved"):
        # The job plans around the visits people moved (no other visit within a cycle of
        # one): let it do so now, so the next run finds nothing to change.
        settle = services.plan_refresh(today=today)
        planned, withdrawn = planned + settle.planned, withdrawn + settle.withdrawn
        missed += settle.missed
    report.lines.append(
        f"Visit plan as of {run.as_of:%Y-%m-%d}: {planned} planned, {withdrawn} withdrawn, "
        f"{missed} missed; " + _agenda_summary(today, moved_today)
    )


def settle_plans(report: SeedReport, *, actor: Actor) -> None:
    """The last stage: the planning job again, as it runs every morning, around what the
    stages after the visits changed — the audit visits, and this month's values recomputed
    with the audits' answers, which move a potential shop's cycle (a weekly plan of a shop now
    valued on a fortnightly cycle is withdrawn). So the demo's plans are those the job keeps,
    and seeding again changes none."""
    run = services.plan_refresh(today=timezone.localdate())
    report.lines.append(
        f"Visit plan after the later stages: {run.planned} planned, {run.withdrawn} withdrawn, "
        f"{run.missed} missed."
    )


# --- the history -------------------------------------------------------------------------


def _customers(sample: set[int]) -> list[Customer]:
    return list(
        Customer.objects.with_parts()
        .filter(account_manager__isnull=False, pk__in=sample)
        .exclude(dynamic__status=CustomerStatus.CLOSED)
        .order_by("customer_code")
    )


def _seed_history(today: dt.date, actor: Actor, sample: set[int]) -> dict[str, int]:
    """The history of the sample's shops (`customers.demo.demo_sample`: every shop of the
    named account managers and a few of every other one); the planning job plans everyone."""
    config = VisitsConfig.current()
    recent_start = today - dt.timedelta(days=RECENT_DAYS)
    customers = _customers(sample)
    rngs = {c.pk: random.Random(f"visits-{c.customer_code}") for c in customers}  # noqa: S311
    visits = 0

    # 1. The weeks before the last days: each shop on its cycle and batch day. Logged
    # newest first: each visit_log plans the shop from today on, and an older visit would
    # otherwise "fulfil" such a plan (a monthly shop's plan lies within a cycle of its last
    # visit before the last days).
    for customer in customers:
        rng = rngs[customer.pk]
        cycle_days, weekday = _cycle(customer, config)
        days = []
        day = today - dt.timedelta(weeks=WEEKS) + dt.timedelta(days=rng.randrange(cycle_days))
        while (day := _plan_day(day, weekday, config)) < recent_start:
            days.append(day)
            day += dt.timedelta(days=cycle_days + rng.choice([-1, 0, 0, 0, 1, 2]))
        for day in reversed(days):
            _log(customer, day, rng, actor)
            visits += 1

    # 2. The planning job as it ran at the start of the last days, and the visits since, which
    # follow its plan.
    services.plan_refresh(today=recent_start)
    plans: dict[int, list[PlannedVisit]] = defaultdict(list)
    for plan in PlannedVisit.objects.filter(
        status=PlanStatus.PLANNED, planned_for__gte=recent_start, planned_for__lt=today
    ).order_by("planned_for", "id"):
        plans[plan.customer_id].append(plan)
    unvisited = _unvisited(customers, plans)
    skipped = 0
    for customer in customers:
        if customer.pk in unvisited:
            continue
        rng = rngs[customer.pk]
        for plan in plans.get(customer.pk, []):
            roll = rng.random()
            if roll < 0.08:
                services.planned_visit_skip(
                    plan=plan,
                    reason=rng.choice(_SKIP_REASONS),
                    actor=Actor.of(customer.account_manager, actor.source),
                )
                skipped += 1
                continue
            late = roll > 0.9 and plan.planned_for + dt.timedelta(days=1) < today
            day = plan.planned_for + dt.timedelta(days=1 if late else 0)
            _log(customer, day, rng, actor, plan=plan)
            visits += 1

    done, overdue = _complete_follow_ups(today, actor)
    return {
        "visits": visits,
        "flagged": Visit.objects.filter(location_flagged=True).count(),
        "follow_ups": FollowUp.objects.count(),
        "done": done,
        "overdue": overdue,
        "skipped": skipped,
    }


def _cycle(customer: Customer, config: VisitsConfig) -> tuple[int, int | None]:
    """The shop's cycle in days (shortened for a potential-value shop) and its batch day."""
    dynamic, system = customer.dynamic, customer.system
    name, _boosted = effective_cycle(
        dynamic.visit_cycle,
        potential=system.value_tier == ValueTier.POTENTIAL,
        shift=config.potential_shift,
        default=config.default_cycle,
    )
    return config.cycle_days[name], batch_weekday(dynamic.visit_batch)


def _plan_day(day: dt.date, weekday: int | None, config: VisitsConfig) -> dt.date:
    return next_plan_day(day, weekday=weekday, work_weekdays=config.work_weekdays)


def _unvisited(customers: list[Customer], plans: dict[int, list[PlannedVisit]]) -> set[int]:
    """Per account manager, the first shops (by code) with planned visits in the last days:
    left unvisited, so today's agenda has overdue visits."""
    chosen: dict[int, list[int]] = defaultdict(list)
    for customer in customers:
        mine = chosen[customer.account_manager_id]
        if plans.get(customer.pk) and len(mine) < UNVISITED_PER_MANAGER:
            mine.append(customer.pk)
    return {pk for pks in chosen.values() for pk in pks}


def _log(
    customer: Customer,
    day: dt.date,
    rng: random.Random,
    actor: Actor,
    plan: PlannedVisit | None = None,
) -> Visit:
    visit_type = rng.choices([t for t, _w in _TYPES], weights=[w for _t, w in _TYPES])[0]
    start = timezone.make_aware(
        dt.datetime.combine(day, dt.time(rng.randint(9, 17), rng.choice([0, 10, 20, 30, 40])))
    )
    stock = rng.choice([StockLevel.SUFFICIENT] * 3 + [StockLevel.LOW, StockLevel.OUT])
    data: dict[str, Any] = {
        "visited_at": start,
        "ended_at": start + dt.timedelta(minutes=rng.randint(8, 40)),
        "visit_type": visit_type.value,
        "purpose": rng.choice(_PURPOSES[visit_type]),
        "stock_level": stock.value,
        "stock_notes": rng.choice(_STOCK_NOTES[stock]),
        "price_display": rng.choice(
            [PriceDisplay.COMPLIANT] * 6 + [PriceDisplay.PARTIAL, PriceDisplay.NON_COMPLIANT]
        ).value,
        "competitor_notes": rng.choice(_COMPETITOR_NOTES) if rng.random() < 0.25 else "",
        "customer_requests": rng.choice(_REQUESTS) if rng.random() < 0.2 else "",
    }
    data.update(_position(customer, rng))
    follow_ups = []
    if visit_type == VisitType.COMPLAINT or rng.random() < 0.15:
        owners = list(selectors.follow_up_owners(customer=customer))
        manager = customer.account_manager
        follow_ups.append(
            {
                "action": rng.choice(_FOLLOW_UPS),
                "due_date": day + dt.timedelta(days=rng.randint(2, 7)),
                "owner": manager if rng.random() < 0.8 or len(owners) < 2 else rng.choice(owners),
            }
        )
    return services.visit_log(
        customer=customer,
        data=data,
        actor=Actor.of(customer.account_manager, actor.source),
        follow_ups=follow_ups,
        plan=plan,
    )


def _position(customer: Customer, rng: random.Random) -> dict[str, Any]:
    """Where the phone said it was: near the shop mostly, sometimes not shared, and now and
    then a kilometre or two away (flagged)."""
    dynamic = customer.dynamic
    if dynamic.latitude is None or dynamic.longitude is None or rng.random() < 0.15:
        return {}
    far = rng.random() < 0.04
    spread = 0.02 if far else 0.0004  # degrees: about 2 km, about 45 m
    offset_lat = rng.uniform(-spread, spread)
    offset_lon = rng.uniform(-spread, spread)
    if far:  # at least about 600 m away
        offset_lat = max(abs(offset_lat), 0.006) * (1 if offset_lat >= 0 else -1)
    return {
        "latitude": (dynamic.latitude + Decimal(f"{offset_lat:.6f}")),
        "longitude": (dynamic.longitude + Decimal(f"{offset_lon:.6f}")),
        "location_accuracy_m": rng.choice([5, 8, 12, 20, 35]),
    }


def _complete_follow_ups(today: dt.date, actor: Actor) -> tuple[int, int]:
    """Most follow-ups due by yesterday were done by their owners; the rest are overdue."""
    rng = random.Random(2026)  # noqa: S311 - demo data
    done = 0
    for follow_up in FollowUp.objects.filter(
        status=FollowUpStatus.OPEN, due_date__lt=today
    ).select_related("customer", "owner"):
        if rng.random() < 0.65:
            services.follow_up_complete(
                follow_up=follow_up,
                note=rng.choice(_DONE_NOTES),
                actor=Actor.of(follow_up.owner, actor.source),
            )
            done += 1
    overdue = FollowUp.objects.filter(status=FollowUpStatus.OPEN, due_date__lt=today).count()
    return done, overdue


# --- today's plan ------------------------------------------------------------------------


def _managers():
    return User.objects.filter(role=Role.ACCOUNT_MANAGER, is_active=True).order_by("username")


def _seed_moves(today: dt.date, actor: Actor) -> int:
    """One upcoming planned visit per account manager moved to the next working day, with a
    reason."""
    rng = random.Random(7)  # noqa: S311 - demo data
    config = VisitsConfig.current()
    moved = 0
    for manager in _managers():
        plans = PlannedVisit.objects.filter(
            customer__account_manager=manager,
            status=PlanStatus.PLANNED,
            planned_for__gt=today + dt.timedelta(days=1),
        ).order_by("planned_for", "customer__customer_code")
        for plan in plans[:5]:
            new_date = _plan_day(plan.planned_for + dt.timedelta(days=1), None, config)
            if PlannedVisit.objects.filter(
                customer_id=plan.customer_id, planned_for=new_date, status=PlanStatus.PLANNED
            ).exists():
                continue
            services.planned_visit_reschedule(
                plan=plan,
                new_date=new_date,
                reason=rng.choice(_MOVE_REASONS),
                actor=Actor.of(manager, actor.source),
            )
            moved += 1
            break
    return moved


def _fill_day(day: dt.date, wanted_by: dict[str, int], reason: str, actor: Actor) -> int:
    """Brings the demo account managers who must show a full agenda up to their number of
    visits on `day`, by moving their later planned visits to that day (with a reason)."""
    moved = 0
    for username, wanted in wanted_by.items():
        manager = User.objects.filter(username=username).first()
        if manager is None:
            continue
        mine = PlannedVisit.objects.filter(
            customer__account_manager=manager, status=PlanStatus.PLANNED
        )
        missing = wanted - mine.filter(planned_for=day).count()
        if missing <= 0:
            continue
        # Not a shop already due that day or before: it would be on the agenda twice.
        busy = set(mine.filter(planned_for__lte=day).values_list("customer_id", flat=True))
        later = mine.filter(planned_for__gt=day, rescheduled_from__isnull=True)
        for plan in later.order_by(
            "planned_for", "customer__dynamic__visit_batch", "customer__customer_code"
        ):
            if missing <= 0:
                break
            if plan.customer_id in busy:
                continue
            services.planned_visit_reschedule(
                plan=plan,
                new_date=day,
                reason=reason,
                actor=Actor.of(manager, actor.source),
            )
            busy.add(plan.customer_id)
            missing -= 1
            moved += 1
    return moved


def _agenda_summary(today: dt.date, moved_today: int) -> str:
    """The named account managers' agendas (and how many other managers there are)."""
    parts = []
    named = {manager for _a, manager, _m, _c in NAMED_BOOKS}
    others = 0
    for manager in _managers():
        if manager.username not in named:
            others += 1
            continue
        day = selectors.agenda(user=manager, account_manager=manager, day=today)
        tomorrow = sum(len(c.plans) for c in day.upcoming if c.day == today + dt.timedelta(days=1))
        parts.append(
            f"{manager.username} {len(day.planned)} today, {tomorrow} tomorrow, "
            f"{len(day.overdue)} overdue"
        )
    if others:
        parts.append(f"and {others} more account managers")
    moved = f" ({moved_today} moved to today)" if moved_today else ""
    return "agendas: " + "; ".join(parts) + moved + "."
