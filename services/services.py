"""Writes on services: the settings and holiday calendar, raising and working service requests
through their workflow, escalating overdue ones, logging care and value-added services and
training sessions, and telling account managers what care is due.

Every service is atomic and writes its audit rows in the same transaction. Whether a person may
act on a customer is the scope rule's (`customers.selectors.customer_in_scope`) plus the role
rules in `services.policies`; the workflow itself is `services.workflow`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.choices import AuditAction, AuditSource, Role
from crm.exceptions import DomainError
from crm.models import Area, AuditEntry, Notification, User
from crm.scope import ancestor_area_ids, descendant_area_ids
from crm.services import (
    Actor,
    audit_build,
    audit_record,
    notification_build,
    notify,
    settings_update,
)
from crm.stored_text import items, label, nested, text
from customers.models import Customer
from customers.selectors import customer_in_scope
from services import policies, workflow
from services.choices import (
    ActivityKind,
    Priority,
    RequestAction,
    RequestStatus,
    RequestType,
)
from services.models import (
    Holiday,
    ServiceActivity,
    ServiceRequest,
    ServicesConfig,
    TrainingSession,
)

CONFIG_FIELDS = (
    *(ServicesConfig.sla_field(kind) for kind in RequestType.values),
    "escalate_after_hours",
    "reopen_days",
    "family_interval_days",
    "greeting_lead_days",
    "greeting_audience",
)
MAX_DESCRIPTION = 4000
MAX_ATTENDEES = 500
ESCALATION_LABEL = "services.escalate"
CARE_NOTICE_LABEL = "services.care_due"


# --- settings and the holiday calendar ------------------------------------------------------


def services_config_update(*, data: Mapping[str, Any], actor: Actor) -> ServicesConfig:
    """Changes the service settings (audited per field). New requests get the new service
    levels; requests already raised keep their due time."""
    if not policies.can_configure(actor.user):
        raise DomainError(_("Only administrators change the service settings."))
    return settings_update(model=ServicesConfig, fields=CONFIG_FIELDS, data=data, actor=actor)


@transaction.atomic
def holiday_save(
    *,
    date: dt.date,
    name_en: str,
    name_zh: str,
    actor: Actor,
    holiday: Holiday | None = None,
) -> Holiday:
    """Adds a holiday to the greeting calendar, or changes one (`holiday`)."""
    if not policies.can_configure(actor.user):
        raise DomainError(_("Only administrators change the holiday calendar."))
    name_en, name_zh = (name_en or "").strip(), (name_zh or "").strip()
    if not name_en or not name_zh:
        raise DomainError(_("Give the holiday's name in English and in Chinese."), field="name_en")
    clash = Holiday.objects.filter(date=date)
    if holiday is not None:
        clash = clash.exclude(pk=holiday.pk)
    if clash.exists():
        raise DomainError(_("There is a holiday on this date already."), field="date")
    if holiday is None:
        holiday = Holiday.objects.create(date=date, name_en=name_en, name_zh=name_zh)
        audit_record(
            actor=actor,
            obj=holiday,
            action=AuditAction.CREATE,
            snapshot={"date": date.isoformat(), "name_en": name_en, "name_zh": name_zh},
        )
        return holiday
    before = {"date": holiday.date, "name_en": holiday.name_en, "name_zh": holiday.name_zh}
    after = {"date": date, "name_en": name_en, "name_zh": name_zh}
    changes = {k: (str(before[k]), str(after[k])) for k in after if before[k] != after[k]}
    if changes:
        Holiday.objects.filter(pk=holiday.pk).update(**after)
        holiday.refresh_from_db()
        audit_record(actor=actor, obj=holiday, action=AuditAction.UPDATE, changes=changes)
    return holiday


@transaction.atomic
def holiday_delete(*, holiday: Holiday, actor: Actor) -> None:
    """Removes a holiday from the calendar. Greetings already logged for it stay."""
    if not policies.can_configure(actor.user):
        raise DomainError(_("Only administrators change the holiday calendar."))
    audit_record(
        actor=actor,
        obj=holiday,
        action=AuditAction.DELETE,
        snapshot={"date": holiday.date.isoformat(), "name_en": holiday.name_en},
    )
    holiday.delete()


# --- service requests ----------------------------------------------------------------------


def assignee_candidates(*, customer: Customer) -> list[User]:
    """People who may be given a request on `customer` (one query): the administrators, the
    supervisors and licence officers of its area and the areas above, and its account manager.
    The same people the scope rule lets see it; integration clients never."""
    areas = ancestor_area_ids([customer.area_id])
    return list(
        User.objects.filter(is_active=True)
        .exclude(role=Role.INTEGRATION_CLIENT)
        .filter(
            Q(role=Role.ADMINISTRATOR)
            | Q(is_superuser=True)
            | Q(role__in=[Role.SUPERVISOR, Role.LICENSE_OFFICER], areas__in=areas)
            | Q(pk=customer.account_manager_id)
        )
        .distinct()
        .order_by("role", "username")
    )


def _sees(person: User, customer: Customer) -> bool:
    return customer_in_scope(user=person, customer=customer)


def default_assignee(*, customer: Customer, request_type: str, raised_by: User) -> User:
    """Licence matters go to the customer's licence officer; everything else to its account
    manager; failing those, to whoever raised the request."""
    if request_type == RequestType.LICENCE and customer.license_officer_id:
        officer = customer.license_officer
        if officer.is_active and _sees(officer, customer):
            return officer
    manager = customer.account_manager
    if manager is not None and manager.is_active:
        return manager
    return raised_by


def _check_assignee(assignee: User, customer: Customer) -> None:
    if (
        not policies.is_person(assignee)
        or (assignee.role == Role.ACCOUNT_MANAGER and customer.account_manager_id != assignee.pk)
        or not _sees(assignee, customer)
    ):
        raise DomainError(
            _("%(name)s cannot take requests for this customer.") % {"name": assignee},
            field="assignee",
        )


@transaction.atomic
def service_request_raise(
    *,
    customer: Customer,
    request_type: str,
    priority: str,
    description: str,
    actor: Actor,
    assignee: User | None = None,
    visit: Any = None,
    raised_at: dt.datetime | None = None,
) -> ServiceRequest:
    """Records a customer's request or complaint. It is due after its type's service level
    (ServicesConfig), opens with the default assignee unless one is given, and tells the
    assignee when that is someone else."""
    user = actor.user
    if user is None or not customer_in_scope(user=user, customer=customer):
        raise DomainError(_("This customer is not in your scope."), field="customer_code")
    if not policies.can_serve(user, customer):
        raise DomainError(_("Only the customer's account manager or a supervisor can do this."))
    errors: dict[str, list[str]] = {}
    if request_type not in RequestType.values:
        errors["request_type"] = [_("Choose one of: %s.") % ", ".join(RequestType.values)]
    if priority not in Priority.values:
        errors["priority"] = [_("Choose one of: %s.") % ", ".join(Priority.values)]
    description = (description or "").strip()
    if not description:
        errors["description"] = [_("Describe what the customer asks for.")]
    elif len(description) > MAX_DESCRIPTION:
        errors["description"] = [
            _("Keep the description under %(n)d characters.") % {"n": MAX_DESCRIPTION}
        ]
    if visit is not None and visit.customer_id != customer.pk:
        errors["visit"] = [_("That visit was to another customer.")]
    now = timezone.now()
    raised_at = raised_at or now
    if raised_at > now + dt.timedelta(minutes=10):
        errors["raised_at"] = [_("The time cannot be in the future.")]
    if errors:
        raise DomainError(_("Check the highlighted fields."), errors=errors)
    if assignee is None:
        assignee = default_assignee(customer=customer, request_type=request_type, raised_by=user)
    _check_assignee(assignee, customer)
    config = ServicesConfig.current()
    request = ServiceRequest.objects.create(
        customer=customer,
        visit=visit,
        request_type=request_type,
        priority=priority,
        description=description,
        raised_by=user,
        raised_at=raised_at,
        due_at=workflow.due_at(raised_at, config.sla_hours(request_type)),
        assignee=assignee,
        source=actor.source,
        updated_at=now,
    )
    audit_record(
        actor=actor,
        obj=request,
        action=AuditAction.CREATE,
        snapshot={
            "customer": customer.customer_code,
            "request_type": request_type,
            "priority": priority,
            "assignee": assignee.username,
            "due_at": request.due_at.isoformat(),
            "visit": visit.pk if visit is not None else None,
        },
    )
    if assignee.pk != user.pk:
        notify(
            user=assignee,
            message=text(
                "services.request.assigned",
                number=request.number,
                customer=customer.store_name,
                type=label("services.choices.RequestType", request.request_type),
                due=timezone.localtime(request.due_at).strftime("%Y-%m-%d %H:%M"),
            ),
            link=_link(request),
        )
    return request


def _link(request: ServiceRequest) -> str:
    return reverse("services:request_detail", args=[request.pk])


def _locked(request: ServiceRequest) -> ServiceRequest:
    return (
        ServiceRequest.objects.select_for_update(of=("self",))
        .select_related("customer", "assignee", "raised_by")
        .get(pk=request.pk)
    )


@transaction.atomic
def service_request_assign(
    *, request: ServiceRequest, assignee: User, actor: Actor, reason: str = ""
) -> ServiceRequest:
    """Gives an unfinished request to someone else, who is told."""
    locked = _locked(request)
    user = actor.user
    if user is None or not customer_in_scope(user=user, customer=locked.customer):
        raise DomainError(_("This request is not in your scope."))
    if not policies.can_assign(user, locked):
        raise DomainError(_("Only a supervisor, who raised it or its assignee can hand it on."))
    if locked.status in (RequestStatus.RESOLVED, RequestStatus.CLOSED):
        raise DomainError(_("A request that is resolved or closed is not handed on; reopen it."))
    if assignee.pk == locked.assignee_id:
        raise DomainError(
            _("It is assigned to %(name)s already.") % {"name": assignee}, field="assignee"
        )
    _check_assignee(assignee, locked.customer)
    before = locked.assignee.username
    locked.assignee, locked.updated_at = assignee, timezone.now()
    locked.save(update_fields=["assignee", "updated_at"])
    audit_record(
        actor=actor,
        obj=locked,
        action=AuditAction.UPDATE,
        changes={"assignee": (before, assignee.username)},
        reason=(reason or "").strip(),
    )
    if assignee.pk != user.pk:
        notify(
            user=assignee,
            message=text(
                "services.request.handed_on",
                number=locked.number,
                customer=locked.customer.store_name,
                who=str(user),
            ),
            link=_link(locked),
        )
    return locked


@transaction.atomic
def service_request_act(
    *,
    request: ServiceRequest,
    action: str,
    actor: Actor,
    note: str = "",
    satisfaction: int | None = None,
) -> ServiceRequest:
    """Moves a request along its workflow (`services.workflow.TRANSITIONS`):

    - start: open or reopened → in progress (the assignee or a supervisor);
    - resolve: → resolved, with the resolution note (the assignee or a supervisor);
    - close: resolved → closed, with the customer's satisfaction 1-5 (who raised it, the
      assignee, the account manager or a supervisor);
    - reopen: resolved, or closed within `reopen_days`, → reopened with a reason; it is due
      again after its service level, counted from now.

    Anything else is refused and nothing changes."""
    locked = _locked(request)
    user = actor.user
    if user is None or not customer_in_scope(user=user, customer=locked.customer):
        raise DomainError(_("This request is not in your scope."))
    if action not in RequestAction.values:
        raise DomainError(_("Unknown action."), field="action")
    target = workflow.next_status(locked.status, action)
    if target is None:
        raise DomainError(
            _("A request that is %(status)s cannot be moved by “%(action)s”.")
            % {
                "status": locked.get_status_display().lower(),
                "action": RequestAction(action).label,
            },
            field="action",
        )
    may = (
        policies.can_settle
        if action in (RequestAction.CLOSE, RequestAction.REOPEN)
        else policies.can_work
    )
    if not may(user, locked):
        raise DomainError(_("You may not do this to this request."))
    now = timezone.now()
    note = (note or "").strip()
    config = ServicesConfig.current()
    changes: dict[str, tuple[Any, Any]] = {"status": (locked.status, target)}
    fields = ["status", "updated_at"]
    if action == RequestAction.RESOLVE:
        if not note:
            raise DomainError(_("Say how it was resolved."), field="note")
        changes["resolution_note"] = (locked.resolution_note, note)
        locked.resolution_note, locked.resolved_at = note, now
        fields += ["resolution_note", "resolved_at"]
    elif action == RequestAction.CLOSE:
        if satisfaction in (None, ""):
            raise DomainError(_("Record the customer's satisfaction (1-5)."), field="satisfaction")
        try:
            score = int(str(satisfaction).strip())
        except (TypeError, ValueError):
            score = 0  # not a whole number (4.5, "x"): refused below
        if not 1 <= score <= 5:
            raise DomainError(
                _("Satisfaction is a whole number from 1 to 5."), field="satisfaction"
            )
        changes["satisfaction"] = (locked.satisfaction, score)
        locked.satisfaction, locked.closed_at = score, now
        fields += ["satisfaction", "closed_at"]
    elif action == RequestAction.REOPEN:
        if not note:
            raise DomainError(_("Say why it is reopened."), field="note")
        if (
            locked.status == RequestStatus.CLOSED
            and locked.closed_at
            and locked.closed_at < now - dt.timedelta(days=config.reopen_days)
        ):
            raise DomainError(
                _("It was closed more than %(days)d days ago; raise a new request.")
                % {"days": config.reopen_days}
            )
        due = workflow.due_at(now, config.sla_hours(locked.request_type))
        changes["due_at"] = (locked.due_at.isoformat(), due.isoformat())
        locked.due_at, locked.resolved_at, locked.closed_at = due, None, None
        locked.satisfaction, locked.escalated_at, locked.escalated_to = None, None, None
        fields += [
            "due_at",
            "resolved_at",
            "closed_at",
            "satisfaction",
            "escalated_at",
            "escalated_to",
        ]
    locked.status, locked.updated_at = target, now
    locked.save(update_fields=fields)
    audit_record(actor=actor, obj=locked, action=AuditAction.UPDATE, changes=changes, reason=note)
    if action == RequestAction.RESOLVE and locked.raised_by_id != user.pk:
        notify(
            user=locked.raised_by,
            message=text(
                "services.request.resolved",
                number=locked.number,
                customer=locked.customer.store_name,
            ),
            link=_link(locked),
        )
    if action == RequestAction.REOPEN and locked.assignee_id != user.pk:
        notify(
            user=locked.assignee,
            message=text(
                "services.request.reopened",
                number=locked.number,
                customer=locked.customer.store_name,
                reason=note,
            ),
            link=_link(locked),
        )
    return locked


def escalation_targets(area: Area, cache: dict[int, list[User]] | None = None) -> list[User]:
    """The supervisors an overdue request in `area` goes to: those of the nearest area, going
    up, that has any; failing all, the administrators."""
    cache = {} if cache is None else cache
    if area.pk in cache:
        return cache[area.pk]
    current: Area | None = area
    people: list[User] = []
    while current is not None and not people:
        people = list(
            User.objects.filter(role=Role.SUPERVISOR, is_active=True, areas=current).order_by(
                "username"
            )
        )
        current = current.parent
    if not people:
        people = list(
            User.objects.filter(role=Role.ADMINISTRATOR, is_active=True).order_by("username")
        )
    cache[area.pk] = people
    return people


def service_requests_escalate(*, now: dt.datetime | None = None, chunk: int = 200) -> int:
    """Escalates unfinished requests past their due time (plus `escalate_after_hours`) to the
    supervisor: marks them escalated, tells the supervisors and the assignee. Each request
    escalates once (again only after it is reopened). Works in transactions of `chunk`
    requests, so a large backlog is not one long lock and a stop half-way loses nothing.
    Returns how many escalated."""
    now = now or timezone.now()
    config = ServicesConfig.current()
    cutoff = now - dt.timedelta(hours=config.escalate_after_hours)
    pending = list(
        ServiceRequest.objects.filter(
            status__in=workflow.UNFINISHED, escalated_at__isnull=True, due_at__lt=cutoff
        )
        .order_by("due_at", "pk")
        .values_list("pk", flat=True)
    )
    cache: dict[int, list[User]] = {}
    return sum(_escalate(pending[i : i + chunk], now, cache) for i in range(0, len(pending), chunk))


@transaction.atomic
def _escalate(pks: Sequence[int], now: dt.datetime, cache: dict[int, list[User]]) -> int:
    # Rows another run holds are skipped (that run escalates them); on PostgreSQL.
    requests = list(
        ServiceRequest.objects.select_for_update(of=("self",), skip_locked=True)
        .select_related("customer", "customer__area", "assignee")
        .filter(pk__in=pks, escalated_at__isnull=True, status__in=workflow.UNFINISHED)
    )
    actor = Actor.system(ESCALATION_LABEL, AuditSource.JOB)
    entries: list[AuditEntry] = []
    notices: list[Notification] = []
    for request in requests:
        targets = escalation_targets(request.customer.area, cache)
        due = timezone.localtime(request.due_at).strftime("%Y-%m-%d %H:%M")
        request.escalated_at = now
        request.escalated_to = targets[0] if targets else None
        entries += audit_build(
            actor=actor,
            obj=request,
            action=AuditAction.UPDATE,
            changes={"escalated_to": (None, targets[0].username if targets else None)},
            reason=text("services.request.overdue_since", due=due),
        )
        message = text(
            "services.request.overdue",
            number=request.number,
            customer=request.customer.store_name,
            due=due,
            who=str(request.assignee),
        )
        notices += [
            notification_build(user=person, message=message, link=_link(request))
            for person in {p.pk: p for p in [*targets, request.assignee]}.values()
        ]
    ServiceRequest.objects.bulk_update(requests, ["escalated_at", "escalated_to"])
    AuditEntry.objects.bulk_create(entries)
    Notification.objects.bulk_create(notices)
    return len(requests)


# --- care and value-added services ---------------------------------------------------------


def _occasion(kind: str, customer: Customer, performed_on: dt.date, holiday: Holiday | None) -> str:
    if kind == ActivityKind.BIRTHDAY_GREETING:
        if customer.dynamic.owner_birthday is None:
            raise DomainError(
                _("The owner's birthday is not recorded; add it to the customer first."),
                field="kind",
            )
        birthday = workflow.nearest_birthday(customer.dynamic.owner_birthday, performed_on)
        return f"birthday:{birthday.year}"
    if kind == ActivityKind.HOLIDAY_GREETING:
        if holiday is None:
            raise DomainError(_("Choose the holiday."), field="holiday")
        return holiday.occasion
    if kind == ActivityKind.FAMILY and not customer.dynamic.care_need:
        raise DomainError(
            _("This customer is not marked for family service; mark it on the customer first."),
            field="kind",
        )
    return ""


@transaction.atomic
def service_activity_log(
    *,
    customer: Customer,
    kind: str,
    performed_on: dt.date,
    actor: Actor,
    note: str = "",
    holiday: Holiday | None = None,
    visit: Any = None,
) -> ServiceActivity:
    """Logs a care service (family service, a holiday or birthday greeting) or a value-added
    service (renovation or display guidance) done for a customer. A greeting is logged once
    per customer and occasion; family service needs the customer marked for it. Training is
    logged as a session (`training_session_log`)."""
    user = actor.user
    if user is None or not customer_in_scope(user=user, customer=customer):
        raise DomainError(_("This customer is not in your scope."), field="customer_code")
    if not policies.can_serve(user, customer):
        raise DomainError(_("Only the customer's account manager or a supervisor can do this."))
    if kind not in ActivityKind.values or kind == ActivityKind.TRAINING:
        raise DomainError(_("Choose a service."), field="kind")
    if performed_on > timezone.localdate():
        raise DomainError(_("Log services once they are done, not ahead."), field="performed_on")
    if visit is not None and visit.customer_id != customer.pk:
        raise DomainError(_("That visit was to another customer."), field="visit")
    occasion = _occasion(kind, customer, performed_on, holiday)
    try:
        with transaction.atomic():
            activity = ServiceActivity.objects.create(
                customer=customer,
                kind=kind,
                performed_on=performed_on,
                performed_by=user,
                note=(note or "").strip(),
                occasion=occasion,
                visit=visit,
                source=actor.source,
            )
    except IntegrityError as exc:
        raise DomainError(
            _("This greeting was logged for this customer already."), field="kind"
        ) from exc
    audit_record(
        actor=actor,
        obj=activity,
        action=AuditAction.CREATE,
        snapshot={
            "customer": customer.customer_code,
            "kind": kind,
            "performed_on": performed_on.isoformat(),
            "occasion": occasion,
        },
    )
    return activity


@transaction.atomic
def training_session_log(
    *,
    title: str,
    held_on: dt.date,
    area: Area,
    attendees: Sequence[Customer],
    actor: Actor,
    topic: str = "",
    location: str = "",
) -> TrainingSession:
    """Logs a retailer training session and a training activity for each attending customer
    (all of them in the holder's scope and the session's area)."""
    user = actor.user
    if not policies.can_hold_training(user):
        raise DomainError(
            _("Only account managers, licence officers and supervisors log training.")
        )
    errors: dict[str, list[str]] = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = [_("Give the session a title.")]
    if held_on > timezone.localdate():
        errors["held_on"] = [_("Log a session once it is held, not ahead.")]
    if not Area.objects.visible_to(user).filter(pk=area.pk).exists():
        errors["area"] = [_("This area is not in your scope.")]
    unique = list({customer.pk: customer for customer in attendees}.values())
    if not unique:
        errors["attendees"] = [_("Add the customers who attended.")]
    elif len(unique) > MAX_ATTENDEES:
        errors["attendees"] = [_("At most %(n)d attendees per session.") % {"n": MAX_ATTENDEES}]
    else:
        visible = set(
            Customer.objects.visible_to(user)
            .filter(pk__in=[c.pk for c in unique])
            .values_list("pk", flat=True)
        )
        outside = [c.customer_code for c in unique if c.pk not in visible]
        session_areas = descendant_area_ids([area.pk])
        elsewhere = [
            c.customer_code for c in unique if c.pk in visible and c.area_id not in session_areas
        ]
        if outside:
            errors["attendees"] = [
                _("Not in your scope: %(codes)s.") % {"codes": ", ".join(sorted(outside)[:10])}
            ]
        elif elsewhere:
            errors["attendees"] = [
                _("Not in the session's area: %(codes)s.")
                % {"codes": ", ".join(sorted(elsewhere)[:10])}
            ]
    if errors:
        raise DomainError(_("Check the highlighted fields."), errors=errors)
    session = TrainingSession.objects.create(
        title=title,
        topic=(topic or "").strip(),
        held_on=held_on,
        location=(location or "").strip(),
        area=area,
        held_by=user,
    )
    ServiceActivity.objects.bulk_create(
        ServiceActivity(
            customer=customer,
            kind=ActivityKind.TRAINING,
            performed_on=held_on,
            performed_by=user,
            note=title,
            occasion=f"training:{session.pk}",
            training_session=session,
            source=actor.source,
        )
        for customer in unique
    )
    audit_record(
        actor=actor,
        obj=session,
        action=AuditAction.CREATE,
        snapshot={
            "title": title,
            "held_on": held_on.isoformat(),
            "area": area.code,
            "attendees": sorted(c.customer_code for c in unique),
        },
    )
    return session


def care_due_notify(*, today: dt.date | None = None) -> int:
    """Daily: tells each account manager how many care services are due this week (once a
    day: a second run the same day tells no one again). Returns how many were told."""
    from services.selectors import care_due_counts

    today = today or timezone.localdate()
    link = reverse("services:care")
    # Once per calendar day of sending, whatever day the list is drawn for.
    start = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time.min))
    counts = care_due_counts(customers=Customer.objects.all(), today=today)
    managers = User.objects.filter(
        role=Role.ACCOUNT_MANAGER, is_active=True, pk__in=[pk for pk in counts if pk]
    ).exclude(notifications__link=link, notifications__created_at__gte=start)
    told = 0
    for manager in managers.order_by("pk"):
        kinds = counts[manager.pk]
        total = sum(kinds.values())
        parts = items(
            [
                nested(
                    text(
                        "services.care_due.part",
                        kind=label("services.choices.ActivityKind", kind),
                        n=n,
                    )
                )
                for kind, n in sorted(kinds.items())
            ]
        )
        notify(
            user=manager,
            message=text("services.care_due", n=total, parts=parts),
            link=link,
        )
        told += 1
    return told
