"""Writes on visits: the settings, the planning job, rescheduling and skipping planned visits,
logging a visit (with its follow-ups and photo), completing follow-ups.

Every service is atomic and writes its audit rows in the same transaction. Whether a person
may act on a customer is the scope rule's (`customers.selectors.customer_in_scope`) plus the
role rules in `visits.policies`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import pandas as pd
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from audits.answers import CleanAudit, clean_audits
from audits.due import forms_accepted
from audits.models import Audit
from audits.recording import audit_files_delete, audits_record
from crm.choices import AuditAction, AuditSource
from crm.exceptions import DomainError
from crm.frames import write_frame
from crm.models import User
from crm.services import Actor, audit_record, settings_update
from customers.choices import CustomerStatus, ValueTier
from customers.models import Customer
from customers.selectors import customer_in_scope
from visits import policies
from visits.choices import FollowUpStatus, PlanStatus, PriceDisplay, StockLevel, VisitType
from visits.computations import batch_weekday, distance_m, effective_cycle, plan_dates
from visits.models import FollowUp, PlannedVisit, PlanRefresh, Visit, VisitsConfig
from visits.photos import photo_prepare

# Serialises the planning job (PostgreSQL advisory lock key).
_PLAN_LOCK_KEY = 7_300_001
CONFIG_FIELDS = (
    "weekly_days",
    "fortnightly_days",
    "monthly_days",
    "default_cycle",
    "potential_shift",
    "horizon_days",
    "work_days",
    "location_radius_m",
    "photo_max_mb",
)
MAX_FOLLOW_UPS = 10
# A visit longer than this is a forgotten "time out", not a visit.
MAX_VISIT_HOURS = 12
# Phones' clocks run a little ahead of the server's.
CLOCK_SKEW = dt.timedelta(minutes=10)


class DuplicateVisit(DomainError):
    """The same draft was submitted again; `visit` is the one stored the first time."""

    def __init__(self, visit: Visit) -> None:
        self.visit = visit
        super().__init__(_("This visit was saved already."), field="client_id")


# --- settings ----------------------------------------------------------------------------


def visits_config_update(*, data: Mapping[str, Any], actor: Actor) -> VisitsConfig:
    """Changes the visit settings (audited per field). The cycles must get longer from weekly
    to monthly. The next planning run uses the new values."""
    if not policies.can_configure(actor.user):
        raise DomainError(_("Only administrators change the visit settings."))
    if "work_days" in data:
        data = {**data, "work_days": "".join(sorted(set(str(data["work_days"] or ""))))}
    return settings_update(
        model=VisitsConfig, fields=CONFIG_FIELDS, data=data, actor=actor, check=_cycles_grow
    )


def _cycles_grow(config: VisitsConfig) -> None:
    if not config.weekly_days < config.fortnightly_days < config.monthly_days:
        raise DomainError(
            _("The cycles must get longer: weekly, then fortnightly, then monthly."),
            field="fortnightly_days",
        )


# --- planning ----------------------------------------------------------------------------


def plan_refresh(*, today: dt.date | None = None) -> PlanRefresh:
    """The daily planning job: plans every customer's visits for the coming days (the horizon
    in VisitsConfig), withdraws planned visits the plan no longer asks for, and marks missed
    the overdue ones a later one has replaced. One transaction; recorded as a PlanRefresh."""
    today = today or timezone.localdate()
    record = PlanRefresh.objects.create(as_of=today)
    try:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PLAN_LOCK_KEY])
            counts = _plan_sync(today=today, customer_ids=None)
    except Exception as error:  # noqa: BLE001 (recorded, then re-raised)
        PlanRefresh.objects.filter(pk=record.pk).update(
            finished_at=timezone.now(), error=f"{type(error).__name__}: {error}"[:2000]
        )
        raise
    for name, value in counts.items():
        setattr(record, name, value)
    record.finished_at = timezone.now()
    record.save()
    return record


def _plan_sync(
    *, today: dt.date, customer_ids: Sequence[int] | None, config: VisitsConfig | None = None
) -> dict[str, int]:
    """Brings the open planned visits of `customer_ids` (all customers when None) in line with
    the plan. Idempotent: a second run the same day changes nothing."""
    config = config or VisitsConfig.current()
    cycle_days = config.cycle_days
    work_weekdays = config.work_weekdays
    customers = Customer.objects.exclude(dynamic__status=CustomerStatus.CLOSED).filter(
        account_manager__isnull=False
    )
    visits = Visit.objects.all()
    plans = PlannedVisit.objects.filter(status=PlanStatus.PLANNED)
    if customer_ids is not None:
        ids = list(customer_ids)
        customers = customers.filter(pk__in=ids)
        visits = visits.filter(customer_id__in=ids)
        plans = plans.filter(customer_id__in=ids)
    rows = customers.order_by().values_list(
        "pk", "dynamic__visit_cycle", "dynamic__visit_batch", "system__value_tier"
    )
    last_visit = dict(
        visits.order_by()
        .values("customer_id")
        .annotate(last=Max(TruncDate("visited_at")))
        .values_list("customer_id", "last")
    )
    open_plans: dict[int, list[tuple[int, dt.date, bool]]] = defaultdict(list)
    for pk, customer_id, planned_for, moved in plans.order_by().values_list(
        "pk", "customer_id", "planned_for", "rescheduled_from"
    ):
        open_plans[customer_id].append((pk, planned_for, moved is not None))
    # Skips within the longest cycle still hold back the next visit.
    skips = PlannedVisit.objects.filter(
        status=PlanStatus.SKIPPED,
        planned_for__gte=today - dt.timedelta(days=max(cycle_days.values())),
    )
    if customer_ids is not None:
        skips = skips.filter(customer_id__in=ids)
    skipped: dict[int, list[dt.date]] = defaultdict(list)
    for customer_id, planned_for in skips.order_by().values_list("customer_id", "planned_for"):
        skipped[customer_id].append(planned_for)

    new: list[tuple[int, dt.date, int, bool]] = []
    withdraw: list[int] = []
    missed: list[int] = []
    planned_customers: set[int] = set()
    now = timezone.now()
    for customer_id, cycle, batch, tier in rows.iterator(chunk_size=5000):
        planned_customers.add(customer_id)
        name, boosted = effective_cycle(
            cycle,
            potential=tier == ValueTier.POTENTIAL,
            shift=config.potential_shift,
            default=config.default_cycle,
        )
        days = cycle_days[name]
        existing = open_plans.get(customer_id, [])
        last = last_visit.get(customer_id)
        overdue = sorted((p for p in existing if p[1] < today), key=lambda p: p[1])
        # One overdue visit stands for all: the older ones were missed, and so were those a
        # later visit has overtaken (a visit made more than a cycle late).
        gone = overdue[:-1] + [p for p in overdue[-1:] if last is not None and p[1] <= last]
        missed.extend(pk for pk, _day, _moved in gone)
        overdue = [p for p in overdue if p not in gone]
        kept = [day for _pk, day, moved in existing if moved and day >= today]
        if overdue:
            kept.append(overdue[-1][1])
        movable = {day: pk for pk, day, moved in existing if not moved and day >= today}
        wanted = plan_dates(
            today=today,
            horizon_days=config.horizon_days,
            cycle_days=days,
            last_visit=last,
            kept=kept,
            skipped=skipped.get(customer_id, ()),
            weekday=batch_weekday(batch),
            work_weekdays=work_weekdays,
        )
        withdraw.extend(pk for day, pk in movable.items() if day not in wanted)
        new.extend((customer_id, day, days, boosted) for day in wanted if day not in movable)
    # Customers no longer planned (closed, or without an account manager): their open
    # planned visits go.
    for customer_id, existing in open_plans.items():
        if customer_id not in planned_customers:
            withdraw.extend(pk for pk, _day, _moved in existing)

    for start in range(0, len(withdraw), 5000):
        PlannedVisit.objects.filter(pk__in=withdraw[start : start + 5000]).delete()
    for start in range(0, len(missed), 5000):
        PlannedVisit.objects.filter(pk__in=missed[start : start + 5000]).update(
            status=PlanStatus.MISSED, updated_at=now
        )
    # COPY on PostgreSQL: the first plan of 200,000 customers writes about 230,000 rows
    # (bulk_create took 12 s of it, COPY 3 s; bench/bench_visits.py).
    write_frame(
        PlannedVisit,
        pd.DataFrame(new, columns=["customer_id", "planned_for", "cycle_days", "boosted"]),
        constants={
            "status": PlanStatus.PLANNED.value,
            "reason": "",
            "created_at": now,
            "updated_at": now,
        },
    )
    return {
        "customers": len(planned_customers),
        "planned": len(new),
        "withdrawn": len(withdraw),
        "missed": len(missed),
    }


def _locked_plan(plan: PlannedVisit) -> PlannedVisit:
    return (
        PlannedVisit.objects.select_for_update(of=("self",))
        .select_related("customer")
        .get(pk=plan.pk)
    )


def _check_plan_actor(actor: Actor, plan: PlannedVisit) -> None:
    user = actor.user
    if user is None or not customer_in_scope(user=user, customer=plan.customer):
        raise DomainError(_("This planned visit is not in your scope."))
    if not policies.can_manage_plan(user, plan.customer):
        raise DomainError(_("Only the account manager or a supervisor can change this plan."))
    if plan.status != PlanStatus.PLANNED:
        raise DomainError(_("Only a planned visit that is still open can be changed."))


@transaction.atomic
def planned_visit_reschedule(
    *, plan: PlannedVisit, new_date: dt.date, reason: str, actor: Actor
) -> PlannedVisit:
    """Moves an open planned visit to another day (today or later), with a reason. The
    planning job leaves it there."""
    locked = _locked_plan(plan)
    _check_plan_actor(actor, locked)
    reason = (reason or "").strip()
    errors: dict[str, list[str]] = {}
    if not reason:
        errors["reason"] = [_("Say why the visit moves.")]
    if new_date is None:
        errors["new_date"] = [_("Choose the new day.")]
    elif new_date < timezone.localdate():
        errors["new_date"] = [_("The new day cannot be in the past.")]
    elif new_date == locked.planned_for:
        errors["new_date"] = [_("That is the day it is planned for already.")]
    elif (
        PlannedVisit.objects.filter(
            customer_id=locked.customer_id, planned_for=new_date, status=PlanStatus.PLANNED
        )
        .exclude(pk=locked.pk)
        .exists()
    ):
        errors["new_date"] = [_("A visit to this customer is planned on that day already.")]
    if errors:
        raise DomainError(_("Check the highlighted fields."), errors=errors)
    old = locked.planned_for
    locked.rescheduled_from = locked.rescheduled_from or old
    locked.planned_for = new_date
    locked.reason = reason
    locked.updated_at, locked.updated_by = timezone.now(), actor.user
    locked.save(
        update_fields=["planned_for", "rescheduled_from", "reason", "updated_at", "updated_by"]
    )
    audit_record(
        actor=actor,
        obj=locked,
        action=AuditAction.UPDATE,
        reason=reason,
        changes={"planned_for": (old.isoformat(), new_date.isoformat())},
    )
    # The rest of the customer's plan follows the moved visit now, not at the next daily run.
    _plan_sync(today=timezone.localdate(), customer_ids=[locked.customer_id])
    return locked


@transaction.atomic
def planned_visit_skip(*, plan: PlannedVisit, reason: str, actor: Actor) -> PlannedVisit:
    """Skips an open planned visit, with a reason (shop closed for the day, owner away…)."""
    locked = _locked_plan(plan)
    _check_plan_actor(actor, locked)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Say why the visit is skipped."), field="reason")
    locked.status = PlanStatus.SKIPPED
    locked.reason = reason
    locked.updated_at, locked.updated_by = timezone.now(), actor.user
    locked.save(update_fields=["status", "reason", "updated_at", "updated_by"])
    audit_record(
        actor=actor,
        obj=locked,
        action=AuditAction.UPDATE,
        reason=reason,
        changes={"status": (PlanStatus.PLANNED.value, PlanStatus.SKIPPED.value)},
    )
    _plan_sync(today=timezone.localdate(), customer_ids=[locked.customer_id])
    return locked


# --- logging a visit ---------------------------------------------------------------------


def visit_log(
    *,
    customer: Customer,
    data: Mapping[str, Any],
    actor: Actor,
    follow_ups: Sequence[Mapping[str, Any]] = (),
    photo: UploadedFile | None = None,
    plan: PlannedVisit | None = None,
    client_id: uuid.UUID | str | None = None,
    audits: Sequence[Mapping[str, Any]] = (),
    audit_photos: Mapping[str, UploadedFile] | None = None,
) -> Visit:
    """Stores a visit the account manager made, with its findings, follow-ups, photo and
    position, and marks the planned visit it fulfils done.

    `data`: visited_at (aware datetime; required), ended_at, visit_type, purpose (required),
    stock_level, stock_notes, price_display, competitor_notes, customer_requests, latitude,
    longitude, location_accuracy_m. `follow_ups`: action, due_date, owner (a User; the actor
    when missing). `client_id`: the browser's draft id — the same draft sent twice raises
    DuplicateVisit carrying the first visit, and stores nothing. `audits`: the retail audits
    filled in (`audits.answers.clean_audits`'s raw shape), checked against the forms the shop
    was asked at `visited_at` (`audits.due.forms_accepted`); `audit_photos` the uploaded
    files their photo answers name.

    All or nothing: a refused field (DomainError naming it) leaves nothing stored.
    """
    user = actor.user
    if user is None or not customer_in_scope(user=user, customer=customer):
        raise DomainError(_("This customer is not in your scope."), field="customer_code")
    if not policies.can_log_visit(user, customer):
        raise DomainError(_("You cannot log visits for this customer."), field="customer_code")
    draft = _clean_client_id(client_id)
    if draft is not None:
        earlier = Visit.objects.filter(visited_by=user, client_id=draft).first()
        if earlier is not None:
            raise DuplicateVisit(earlier)
    config = VisitsConfig.current()
    fields, errors = _clean_visit(data)
    cleaned_follow_ups = _clean_follow_ups(
        follow_ups, customer=customer, user=user, visited_at=fields.get("visited_at"), errors=errors
    )
    photo_files = None
    if photo is not None:
        try:
            # Checked to the last pixel and shrunk now, with the other fields: a damaged
            # photo is a field error like any other, before anything is stored.
            photo_files = photo_prepare(photo, max_mb=config.photo_max_mb)
        except DomainError as exc:
            errors.update(exc.errors)
    cleaned_audits: list[CleanAudit] = []
    if audits:
        visited_at = fields.get("visited_at")
        if visited_at is None:
            # Which forms were asked depends on the time of the visit, refused above.
            errors.setdefault("audits", []).append(_("Give the time of arrival first."))
        else:
            cleaned_audits, audit_errors = clean_audits(
                audits,
                accepted=forms_accepted(customer=customer, at=visited_at),
                photos=audit_photos,
                photo_max_mb=config.photo_max_mb,
            )
            errors.update(audit_errors)
    if errors:
        raise DomainError(_("Check the highlighted fields."), errors=errors)

    visit = Visit(
        customer=customer,
        visited_by=user,
        client_id=draft,
        source=actor.source
        if actor.source in (AuditSource.API, AuditSource.PAGE)
        else AuditSource.PAGE,
        **fields,
    )
    _place(visit, customer=customer, radius_m=config.location_radius_m)
    if photo_files is not None:
        original, thumbnail = photo_files
        visit.photo.save(original.name, original, save=False)
        visit.photo_thumbnail.save(thumbnail.name, thumbnail, save=False)
    recorded: list[Audit] = []
    try:
        with transaction.atomic():
            visit.save()
            FollowUp.objects.bulk_create(
                FollowUp(visit=visit, customer=customer, **item) for item in cleaned_follow_ups
            )
            recorded = audits_record(visit=visit, audits=cleaned_audits, actor=actor)
            _fulfil_plan(visit, plan)
            audit_record(
                actor=actor,
                obj=visit,
                action=AuditAction.CREATE,
                snapshot={
                    "customer": customer.customer_code,
                    "visited_at": visit.visited_at.isoformat(),
                    "visit_type": visit.visit_type,
                    "follow_ups": len(cleaned_follow_ups),
                    "audits": len(recorded),
                },
            )
            _plan_sync(today=timezone.localdate(), customer_ids=[customer.pk], config=config)
    except IntegrityError:
        _delete_files(visit)
        audit_files_delete(recorded)
        # The same draft arrived twice at once: the other request stored it.
        earlier = draft and Visit.objects.filter(visited_by=user, client_id=draft).first()
        if earlier:
            raise DuplicateVisit(earlier) from None
        raise
    except Exception:
        _delete_files(visit)
        audit_files_delete(recorded)
        raise
    return visit


def _delete_files(visit: Visit) -> None:
    """Removes a refused visit's stored photo files (storage is not transactional)."""
    for file in (visit.photo, visit.photo_thumbnail):
        if file:
            file.storage.delete(file.name)


def _clean_client_id(value: uuid.UUID | str | None) -> uuid.UUID | None:
    if value in (None, ""):
        return None
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError as exc:
        raise DomainError(_("The draft id is not valid."), field="client_id") from exc


_TEXT_LIMITS = {"stock_notes": 2000, "competitor_notes": 2000, "customer_requests": 2000}


def _clean_visit(data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    fields: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    now = timezone.now()

    visited_at = data.get("visited_at")
    if not isinstance(visited_at, dt.datetime):
        errors["visited_at"] = [_("Give the time of arrival.")]
    elif timezone.is_naive(visited_at):
        errors["visited_at"] = [_("Give the time with its time zone.")]
    elif visited_at > now + CLOCK_SKEW:
        errors["visited_at"] = [_("The time of arrival cannot be in the future.")]
    else:
        fields["visited_at"] = visited_at

    ended_at = data.get("ended_at")
    if ended_at not in (None, ""):
        if not isinstance(ended_at, dt.datetime) or timezone.is_naive(ended_at):
            errors["ended_at"] = [_("Give the time of leaving with its time zone.")]
        elif ended_at > now + CLOCK_SKEW:
            errors["ended_at"] = [_("The time of leaving cannot be in the future.")]
        elif "visited_at" in fields and ended_at < fields["visited_at"]:
            errors["ended_at"] = [_("The time of leaving is before the time of arrival.")]
        elif "visited_at" in fields and ended_at - fields["visited_at"] > dt.timedelta(
            hours=MAX_VISIT_HOURS
        ):
            errors["ended_at"] = [
                _("A visit cannot last more than %(n)d hours.") % {"n": MAX_VISIT_HOURS}
            ]
        else:
            fields["ended_at"] = ended_at

    visit_type = data.get("visit_type")
    if visit_type not in VisitType.values:
        errors["visit_type"] = [_("Choose the type of visit.")]
    else:
        fields["visit_type"] = visit_type

    purpose = str(data.get("purpose") or "").strip()
    if not purpose:
        errors["purpose"] = [_("Say what the visit was for.")]
    elif len(purpose) > 200:
        errors["purpose"] = [_("At most 200 characters.")]
    else:
        fields["purpose"] = purpose

    for name, allowed in (
        ("stock_level", StockLevel.values),
        ("price_display", PriceDisplay.values),
    ):
        value = data.get(name) or ""
        if value and value not in allowed:
            errors[name] = [_("Not one of the choices.")]
        else:
            fields[name] = value
    for name, limit in _TEXT_LIMITS.items():
        value = str(data.get(name) or "").strip()
        if len(value) > limit:
            errors[name] = [_("At most %(n)d characters.") % {"n": limit}]
        else:
            fields[name] = value

    _clean_position(data, fields, errors)
    return fields, errors


def _clean_position(
    data: Mapping[str, Any], fields: dict[str, Any], errors: dict[str, list[str]]
) -> None:
    raw = {name: data.get(name) for name in ("latitude", "longitude", "location_accuracy_m")}
    given = {name: value for name, value in raw.items() if value not in (None, "")}
    if not given:
        return
    if "latitude" not in given or "longitude" not in given:
        errors["latitude"] = [_("Send both the latitude and the longitude, or neither.")]
        return
    values: dict[str, Decimal] = {}
    for name, limit in (("latitude", 90), ("longitude", 180)):
        try:
            value = Decimal(str(given[name])).quantize(Decimal("0.000001"))
        except (InvalidOperation, ValueError):
            errors[name] = [_("Not a number.")]
            continue
        if not value.is_finite() or not -limit <= value <= limit:
            errors[name] = [_("Between -%(n)d and %(n)d.") % {"n": limit}]
            continue
        values[name] = value
    accuracy = given.get("location_accuracy_m")
    if accuracy is not None:
        try:
            accuracy = float(accuracy)
        except (TypeError, ValueError):
            errors["location_accuracy_m"] = [_("Not a number.")]
        else:
            if not 0 <= accuracy < 1_000_000:
                errors["location_accuracy_m"] = [_("Not a valid accuracy.")]
            else:
                fields["location_accuracy_m"] = round(accuracy, 1)
    fields.update(values)


def _clean_follow_ups(
    items: Sequence[Mapping[str, Any]],
    *,
    customer: Customer,
    user: User,
    visited_at: dt.datetime | None,
    errors: dict[str, list[str]],
) -> list[dict[str, Any]]:
    cleaned: list[dict[str, Any]] = []
    problems: list[str] = []
    items = [item for item in items if any(item.get(k) for k in ("action", "due_date"))]
    if len(items) > MAX_FOLLOW_UPS:
        errors["follow_ups"] = [_("At most %(n)d follow-ups.") % {"n": MAX_FOLLOW_UPS}]
        return []
    visit_day = timezone.localdate(visited_at) if visited_at else None
    for number, item in enumerate(items, start=1):
        action = str(item.get("action") or "").strip()
        due = item.get("due_date")
        owner = item.get("owner") or user
        if not action:
            problems.append(_("Follow-up %(n)d: say what is to be done.") % {"n": number})
        elif len(action) > 300:
            problems.append(_("Follow-up %(n)d: at most 300 characters.") % {"n": number})
        if not isinstance(due, dt.date) or isinstance(due, dt.datetime):
            problems.append(_("Follow-up %(n)d: give the due date.") % {"n": number})
        elif visit_day and due < visit_day:
            problems.append(_("Follow-up %(n)d: due before the visit.") % {"n": number})
        if not isinstance(owner, User) or not owner.is_active or owner.is_integration_client:
            problems.append(_("Follow-up %(n)d: choose a person as its owner.") % {"n": number})
        elif not customer_in_scope(user=owner, customer=customer):
            problems.append(
                _("Follow-up %(n)d: %(owner)s does not look after this customer.")
                % {"n": number, "owner": owner}
            )
        cleaned.append({"action": action, "due_date": due, "owner": owner})
    if problems:
        errors["follow_ups"] = problems
    return cleaned


def _place(visit: Visit, *, customer: Customer, radius_m: int) -> None:
    """Distance from the shop's recorded position, and the flag when beyond the radius."""
    dynamic = getattr(customer, "dynamic", None)
    if (
        visit.latitude is None
        or visit.longitude is None
        or dynamic is None
        or dynamic.latitude is None
        or dynamic.longitude is None
    ):
        visit.distance_m, visit.location_flagged = None, False
        return
    visit.distance_m = round(
        distance_m(
            float(visit.latitude),
            float(visit.longitude),
            float(dynamic.latitude),
            float(dynamic.longitude),
        ),
        1,
    )
    visit.location_flagged = visit.distance_m > radius_m


def _fulfil_plan(visit: Visit, plan: PlannedVisit | None) -> None:
    """Marks done the planned visit this visit fulfils: the one it was started from, else the
    customer's open one nearest the visit's day within a cycle of it, else the latest one
    overdue by the visit's day (a visit made more than a cycle late)."""
    day = timezone.localdate(visit.visited_at)
    open_plans = PlannedVisit.objects.select_for_update().filter(
        customer_id=visit.customer_id, status=PlanStatus.PLANNED
    )
    chosen = None
    if plan is not None:
        chosen = open_plans.filter(pk=plan.pk).first()
    if chosen is None:
        near = [
            candidate
            for candidate in open_plans
            if abs((candidate.planned_for - day).days) < candidate.cycle_days
        ]
        chosen = min(near, key=lambda p: (abs((p.planned_for - day).days), p.pk), default=None)
    if chosen is None:
        chosen = open_plans.filter(planned_for__lte=day).order_by("-planned_for", "-pk").first()
    if chosen is None:
        return
    chosen.status, chosen.visit = PlanStatus.DONE, visit
    chosen.updated_at, chosen.updated_by = timezone.now(), visit.visited_by
    chosen.save(update_fields=["status", "visit", "updated_at", "updated_by"])


# --- follow-ups --------------------------------------------------------------------------


@transaction.atomic
def follow_up_complete(*, follow_up: FollowUp, note: str, actor: Actor) -> FollowUp:
    """Marks an open follow-up done, with what came of it."""
    locked = (
        FollowUp.objects.select_for_update(of=("self",))
        .select_related("customer")
        .get(pk=follow_up.pk)
    )
    user = actor.user
    if user is None or not customer_in_scope(user=user, customer=locked.customer):
        raise DomainError(_("This follow-up is not in your scope."))
    if not policies.can_complete_follow_up(user, locked):
        raise DomainError(_("Only its owner, the account manager or a supervisor can do this."))
    if locked.status != FollowUpStatus.OPEN:
        raise DomainError(_("This follow-up is done already."))
    note = (note or "").strip()
    if not note:
        raise DomainError(_("Say what was done."), field="note")
    locked.status = FollowUpStatus.DONE
    locked.done_note = note
    locked.done_at, locked.done_by = timezone.now(), user
    locked.save(update_fields=["status", "done_note", "done_at", "done_by"])
    audit_record(
        actor=actor,
        obj=locked,
        action=AuditAction.UPDATE,
        reason=note,
        changes={"status": (FollowUpStatus.OPEN.value, FollowUpStatus.DONE.value)},
    )
    return locked
