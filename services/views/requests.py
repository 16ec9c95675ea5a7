"""Service requests and complaints: the queues (mine, my area, overdue) with their filters and
export, raising a request for a customer (on a visit or not), and one request's page with its
history and the actions the user may take on it.

The actions are plain form posts: they go back to the request's page with the outcome as a
message; a refusal of the service changes nothing and is shown as an error message.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from crm.choices import AuditAction, AuditSource
from crm.exceptions import DomainError
from crm.forms import form_domain_error
from crm.paginators import CappedPaginator
from crm.services import Actor
from crm.views import list_query_context, page_context, people_only
from customers import io
from customers import selectors as customer_selectors
from customers.models import Customer
from services import policies, selectors, services, workflow
from services.choices import Priority, Queue, RequestAction, RequestStatus, RequestType
from services.filtersets import ServiceRequestFilterSet
from services.forms import RequestActionForm, RequestAssignForm, RequestRaiseForm, person_label
from services.models import ServiceRequest, ServicesConfig
from services.workflow import overdue_by
from visits import selectors as visit_selectors
from visits.forms import customer_picker_context

REQUESTS_PER_PAGE = 50
# Filters the queue page and its export read (besides `queue` and `page`).
FILTER_NAMES = ("status", "request_type", "priority", "customer", "assignee", "escalated")


def default_queue(user) -> str:
    """Account managers and licence officers start on their own requests; supervisors and
    administrators on the whole of their areas."""
    return Queue.AREA if policies.is_supervising(user) else Queue.MINE


def _queue_of(request: HttpRequest) -> str:
    queue = request.GET.get("queue", "")
    return queue if queue in Queue.values else default_queue(request.user)


# --- the queues ----------------------------------------------------------------------------


@people_only
def queue_view(request: HttpRequest) -> HttpResponse:
    """The request queues as tabs with their counts; filters by status, type, priority,
    customer, assignee and escalation; closed requests only when a status filter asks."""
    user = request.user
    now = timezone.now()
    queue = _queue_of(request)
    requests = selectors.request_queue(user=user, queue=queue, filters=request.GET, now=now)
    page = CappedPaginator(requests, REQUESTS_PER_PAGE).get_page(request.GET.get("page"))
    counts = selectors.request_counts(user=user, now=now)
    filter_query = request.GET.copy()
    for name in ("queue", "page"):
        filter_query.pop(name, None)
    filterset = ServiceRequestFilterSet(request.GET)
    rows = [{"request": item, "overdue_by": overdue_by(item, now)} for item in page.object_list]
    return render(
        request,
        "services/queue.html",
        {
            "queue": queue,
            "tabs": [
                {"key": key, "label": label, "count": counts.get(key, 0)}
                for key, label in Queue.choices
            ],
            "rows": rows,
            **page_context(page),
            **list_query_context(request),
            "filter_query": filter_query.urlencode(),
            "filter": filterset,
            "filtered": any(request.GET.get(name) for name in FILTER_NAMES),
            "statuses": RequestStatus.choices,
            "chosen_statuses": request.GET.getlist("status"),
            "request_types": RequestType.choices,
            "priorities": Priority.choices,
        },
    )


def _export_columns() -> list[str]:
    return [
        _("Number"),
        _("Customer code"),
        _("Store name"),
        _("Area"),
        _("Type"),
        _("Priority"),
        _("Status"),
        _("Description"),
        _("Raised by"),
        _("Raised at"),
        _("Assignee"),
        _("Due"),
        _("Overdue"),
        _("Escalated at"),
        _("Escalated to"),
        _("Resolution"),
        _("Resolved at"),
        _("Closed at"),
        _("Satisfaction (1-5)"),
    ]


def _export_rows(queryset, now: dt.datetime, *, typed: bool) -> Iterator[list[Any]]:
    """One row per request; times in local time (real date-times in XLSX, text in CSV)."""

    def when(value: dt.datetime | None) -> Any:
        if value is None:
            return None
        local = timezone.localtime(value).replace(second=0, microsecond=0)
        return local.replace(tzinfo=None) if typed else local.strftime("%Y-%m-%d %H:%M")

    yes, no = _("yes"), _("no")
    for item in queryset.iterator(chunk_size=io.EXPORT_CHUNK_SIZE):
        yield [
            item.number,
            item.customer.customer_code,
            item.customer.store_name,
            item.customer.area.code,
            item.get_request_type_display(),
            item.get_priority_display(),
            item.get_status_display(),
            item.description,
            str(item.raised_by),
            when(item.raised_at),
            str(item.assignee),
            when(item.due_at),
            yes if item.is_overdue(now) else no,
            when(item.escalated_at),
            str(item.escalated_to) if item.escalated_to_id else "",
            item.resolution_note,
            when(item.resolved_at),
            when(item.closed_at),
            item.satisfaction,
        ]


@people_only
def queue_export(request: HttpRequest) -> HttpResponse:
    """The queue the page shows (same tab, filters and scope) as CSV or XLSX."""
    now = timezone.now()
    queue = _queue_of(request)
    queryset = selectors.request_queue(user=request.user, queue=queue, filters=request.GET, now=now)
    columns = _export_columns()
    name = f"service-requests-{queue}-{timezone.localtime(now):%Y%m%d-%H%M}"
    if request.GET.get("format") == "xlsx":
        response = HttpResponse(
            io.write_xlsx(
                _export_rows(queryset, now, typed=True), columns, title=_("Service requests")
            ),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = content_disposition_header(True, f"{name}.xlsx")
        return response
    response = StreamingHttpResponse(
        io.write_csv(_export_rows(queryset, now, typed=False), columns),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = content_disposition_header(True, f"{name}.csv")
    return response


# --- raising a request ---------------------------------------------------------------------


@people_only
def request_new(request: HttpRequest) -> HttpResponse:
    """The form for ?customer=CODE (on the visit ?visit=ID when raised during one); without a
    customer, a picker among the customers the user sees."""
    code = request.GET.get("customer", "").strip()
    if not code:
        return _customer_picker(request)
    user = request.user
    customer = customer_selectors.customer_get(user=user, code=code)
    if not policies.can_serve(user, customer):
        raise PermissionDenied
    visit = _visit_of(request, customer)
    candidates = services.assignee_candidates(customer=customer)
    data = request.POST if request.method == "POST" else None
    form = RequestRaiseForm(data, candidates=candidates)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            created = services.service_request_raise(
                customer=customer,
                request_type=data["request_type"],
                priority=data["priority"],
                description=data["description"],
                actor=Actor.of(user, AuditSource.PAGE),
                assignee=form.assignee_user(),
                visit=visit,
            )
        except DomainError as exc:
            form_domain_error(form, exc)
        else:
            messages.success(
                request,
                _("%(number)s was raised and given to %(who)s; it is due %(due)s.")
                % {
                    "number": created.number,
                    "who": created.assignee,
                    "due": timezone.localtime(created.due_at).strftime("%Y-%m-%d %H:%M"),
                },
            )
            return redirect("services:request_detail", pk=created.pk)
    config = ServicesConfig.current()
    return render(
        request,
        "services/request_form.html",
        {
            "customer": customer,
            "visit": visit,
            "form": form,
            "sla": [(label, config.sla_hours(value)) for value, label in RequestType.choices],
            "default_help": _default_help(customer, user),
            "form_action": request.get_full_path(),
        },
    )


def _visit_of(request: HttpRequest, customer: Customer):
    """The visit the request is raised on (?visit=), which must be this customer's."""
    raw = request.GET.get("visit", "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise Http404
    visit = visit_selectors.visit_get(user=request.user, pk=int(raw))
    if visit.customer_id != customer.pk:
        raise Http404
    return visit


def _default_help(customer: Customer, user) -> str:
    """Who a request goes to when no assignee is chosen (licence matters may differ)."""
    usual = services.default_assignee(
        customer=customer, request_type=RequestType.OTHER, raised_by=user
    )
    licence = services.default_assignee(
        customer=customer, request_type=RequestType.LICENCE, raised_by=user
    )
    if licence.pk == usual.pk:
        return _("Left blank, the request goes to %(who)s.") % {"who": person_label(usual)}
    return _("Left blank, the request goes to %(who)s; licence matters go to %(officer)s.") % {
        "who": person_label(usual),
        "officer": person_label(licence),
    }


def _customer_picker(request: HttpRequest) -> HttpResponse:
    """The customers the user may raise a request for, searched by code or name."""
    return render(request, "services/request_form.html", customer_picker_context(request))


# --- one request ---------------------------------------------------------------------------


@dataclass
class HistoryEvent:
    """One step of a request's life, gathered from the audit rows written together."""

    when: dt.datetime
    who: str
    source: str
    title: str
    icon: str
    lines: list[tuple[str, str, str]] = field(default_factory=list)  # label, before, after
    reason: str = ""


STATUS_EVENTS = {
    RequestStatus.IN_PROGRESS: (gettext_lazy("Work started"), "play-circle"),
    RequestStatus.RESOLVED: (RequestStatus.RESOLVED.label, "check2-circle"),
    RequestStatus.CLOSED: (RequestStatus.CLOSED.label, "lock"),
    RequestStatus.REOPENED: (RequestStatus.REOPENED.label, "arrow-counterclockwise"),
}


def _shown(name: str, value: Any) -> str:
    """An audit value as people read it: status labels, local times, empty as a dash."""
    if value in (None, ""):
        return "—"
    if name == "status" and value in RequestStatus.values:
        return str(RequestStatus(value).label)
    if name == "due_at":
        try:
            return timezone.localtime(dt.datetime.fromisoformat(value)).strftime("%Y-%m-%d %H:%M")
        except (TypeError, ValueError):
            return str(value)
    return str(value)


def history_events(entries) -> list[HistoryEvent]:
    """The request's audit rows as a timeline: the rows one change wrote (same time, same
    actor) become one event, titled by what happened."""
    labels = {
        "status": _("Status"),
        "assignee": _("Assignee"),
        "satisfaction": _("Satisfaction"),
        "due_at": _("Due"),
        "escalated_to": _("Escalated to"),
    }
    events: list[HistoryEvent] = []
    key = None
    for entry in entries:
        entry_key = (entry.created_at, entry.actor_label, entry.action)
        if entry_key != key:
            key = entry_key
            events.append(
                HistoryEvent(
                    when=entry.created_at,
                    # A job has no person behind it: its source badge says which door.
                    who=str(entry.actor) if entry.actor_id else _("Automatic"),
                    source=entry.get_source_display(),
                    title=_("Updated"),
                    icon="pencil",
                    reason=entry.reason_text,
                )
            )
        event = events[-1]
        if entry.action == AuditAction.CREATE:
            event.title, event.icon = _("Raised"), "plus-circle"
            snapshot = entry.new_value or {}
            for name, label in (("assignee", _("Assignee")), ("due_at", _("Due"))):
                if snapshot.get(name):
                    event.lines.append((label, "", _shown(name, snapshot[name])))
            continue
        if entry.field == "status" and entry.new_value in STATUS_EVENTS:
            title, event.icon = STATUS_EVENTS[entry.new_value]
            event.title = str(title)
        elif entry.field == "assignee" and event.icon == "pencil":
            event.title, event.icon = _("Handed on"), "person-check"
        elif entry.field == "escalated_to":
            event.title, event.icon = _("Escalated"), "exclamation-triangle"
        if entry.field in labels:
            event.lines.append(
                (
                    labels[entry.field],
                    _shown(entry.field, entry.old_value),
                    _shown(entry.field, entry.new_value),
                )
            )
    return events


def _actions_for(user, item: ServiceRequest) -> list[str]:
    """The workflow's actions from the request's status that `user` may take."""
    actions = []
    for action in workflow.allowed_actions(item.status):
        settle = action in (RequestAction.CLOSE, RequestAction.REOPEN)
        may = policies.can_settle if settle else policies.can_work
        if may(user, item):
            actions.append(action)
    return actions


@people_only
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Everything about one request, its history, and what the user may do with it; 404
    outside the user's scope."""
    user = request.user
    item = selectors.request_get(user=user, pk=pk)
    now = timezone.now()
    actions = _actions_for(user, item)
    config = ServicesConfig.current()
    if (
        RequestAction.REOPEN in actions
        and item.status == RequestStatus.CLOSED
        and item.closed_at
        and item.closed_at < now - dt.timedelta(days=config.reopen_days)
    ):
        actions.remove(RequestAction.REOPEN)  # too late: the service would refuse it
    may_assign = policies.can_assign(user, item) and item.status in workflow.UNFINISHED
    candidates = []
    if may_assign:
        candidates = [
            person
            for person in services.assignee_candidates(customer=item.customer)
            if person.pk != item.assignee_id
        ]
    return render(
        request,
        "services/request_detail.html",
        {
            "item": item,
            "overdue_by": overdue_by(item, now),
            "history": history_events(selectors.request_history(request=item)),
            "actions": actions,
            "action_labels": dict(RequestAction.choices),
            "may_assign": may_assign and bool(candidates),
            "candidates": [(p.pk, person_label(p)) for p in candidates],
            "satisfaction_scale": range(1, 6),
            "reopen_days": config.reopen_days,
        },
    )


@require_POST
@people_only
def request_act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Moves the request by `action` (start, resolve with a note, close with the customer's
    satisfaction, reopen with a reason)."""
    if action not in RequestAction.values:
        raise Http404
    item = selectors.request_get(user=request.user, pk=pk)
    form = RequestActionForm(request.POST)
    if not form.is_valid():
        for msgs in form.errors.values():
            for message in msgs:
                messages.error(request, message)
        return redirect("services:request_detail", pk=item.pk)
    try:
        moved = services.service_request_act(
            request=item,
            action=action,
            actor=Actor.of(request.user, AuditSource.PAGE),
            note=form.cleaned_data["note"],
            satisfaction=form.cleaned_data["satisfaction"],
        )
    except DomainError as exc:
        for msgs in exc.errors.values():
            for message in msgs:
                messages.error(request, message)
    else:
        messages.success(
            request,
            _("%(number)s is %(status)s.")
            % {"number": moved.number, "status": moved.get_status_display().lower()},
        )
    return redirect("services:request_detail", pk=item.pk)


@require_POST
@people_only
def request_assign(request: HttpRequest, pk: int) -> HttpResponse:
    """Hands the request to someone else (who is told), with an optional reason."""
    item = selectors.request_get(user=request.user, pk=pk)
    form = RequestAssignForm(request.POST)
    if form.is_valid():
        try:
            moved = services.service_request_assign(
                request=item,
                assignee=form.cleaned_data["assignee"],
                actor=Actor.of(request.user, AuditSource.PAGE),
                reason=form.cleaned_data["reason"],
            )
        except DomainError as exc:
            form_domain_error(form, exc)
        else:
            messages.success(
                request,
                _("%(number)s was handed to %(who)s.")
                % {"number": moved.number, "who": moved.assignee},
            )
            return redirect(reverse("services:request_detail", args=[item.pk]))
    for msgs in form.errors.values():
        for message in msgs:
            messages.error(request, message)
    return redirect(reverse("services:request_detail", args=[item.pk]))
