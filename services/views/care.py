"""Care this week (what each account manager owes their customers: family service, birthday
and holiday greetings), the list of care and value-added services done, and logging one.

An account manager sees their own care list; supervisors, licence officers and
administrators first see how much is due per account manager of their areas and open one
manager's list with ?am=username.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.generic import ListView

from crm.choices import AuditSource, Role
from crm.exceptions import DomainError
from crm.forms import form_domain_error
from crm.models import User
from crm.paginators import CappedPaginator
from crm.services import Actor
from crm.views import (
    PeopleOnlyMixin,
    list_query_context,
    page_context,
    people_only,
    redirect_back,
    safe_next,
)
from customers import selectors as customer_selectors
from customers.models import Customer
from services import policies, selectors, services, workflow
from services.choices import SINGLE_KINDS, ActivityCategory, ActivityKind
from services.filtersets import ActivityFilterSet
from services.forms_care import ActivityForm
from visits import selectors as visits_selectors
from visits.forms import customer_picker_context
from visits.models import Visit

CARE_PER_PAGE = 50
MANAGERS_PER_PAGE = 50
ACTIVITIES_PER_PAGE = 50
# The care list's tabs, in the order the page shows them.
CARE_TABS = (ActivityKind.FAMILY, ActivityKind.BIRTHDAY_GREETING, ActivityKind.HOLIDAY_GREETING)
# What ?kind= may preset on the form (training is logged as a session).
LOGGABLE = frozenset(kind.value for kind in SINGLE_KINDS)


# --- care this week --------------------------------------------------------------------------


def _manager_of(request: HttpRequest):
    """Whose care list the page shows: an account manager's own; for the others the one
    named by ?am= (one of the account managers they watch, else 404), or None (the
    overview)."""
    user = request.user
    wanted = request.GET.get("am", "").strip()
    if user.role == Role.ACCOUNT_MANAGER:
        if wanted and wanted != user.username:
            raise Http404
        return user
    if not wanted:
        return None
    manager = visits_selectors.account_managers_in_scope(user=user).filter(username=wanted).first()
    if manager is None:
        raise Http404
    return manager


@people_only
def care_view(request: HttpRequest) -> HttpResponse:
    """The care services due this week (Monday to Sunday)."""
    today = timezone.localdate()
    week_start, week_end = workflow.week_bounds(today)
    manager = _manager_of(request)
    context: dict[str, Any] = {
        "today": today,
        "week_start": week_start,
        "week_end": week_end,
        "holidays": selectors.upcoming_holidays(today=today).filter(date__gte=week_start),
        "manager": manager,
        "kind_labels": [ActivityKind(kind).label for kind in CARE_TABS],
    }
    if manager is None:
        context.update(_overview(request, today))
    else:
        context.update(_manager_list(request, manager, today))
    return render(request, "services/care.html", context)


def _overview(request: HttpRequest, today) -> dict[str, Any]:
    """How much care is due per account manager the user watches (those with none too)."""
    user = request.user
    counts = selectors.care_due_counts(customers=Customer.objects.visible_to(user), today=today)
    in_scope = list(visits_selectors.account_managers_in_scope(user=user))
    in_scope_ids = {m.pk for m in in_scope}
    people = User.objects.in_bulk([pk for pk in counts if pk is not None])
    rows = [
        {
            "manager": people.get(key) if key is not None else None,
            "total": sum(per_kind.values()),
            "kinds": [per_kind[kind] for kind in CARE_TABS],
            "may_open": key in in_scope_ids,
        }
        for key, per_kind in counts.items()
    ]
    rows.sort(key=lambda row: (-row["total"], str(row["manager"] or "")))
    rows.extend(
        {"manager": m, "total": 0, "kinds": [0] * len(CARE_TABS), "may_open": True}
        for m in in_scope
        if m.pk not in counts
    )
    totals = sum(counts.values(), Counter())
    page = CappedPaginator(rows, MANAGERS_PER_PAGE).get_page(request.GET.get("page"))
    return {
        "overview": True,
        "rows": page.object_list,
        **page_context(page),
        "query_string": list_query_context(request)["query_string"],
        "total": sum(totals.values()),
        "kind_totals": [(ActivityKind(kind).label, totals[kind]) for kind in CARE_TABS],
    }


def _manager_list(request: HttpRequest, manager, today) -> dict[str, Any]:
    """One account manager's care list, soonest first, optionally one kind (?kind=)."""
    user = request.user
    items = selectors.care_due(user=user, account_manager=manager, today=today)
    counts = Counter(item.kind for item in items)
    kind = request.GET.get("kind", "")
    if kind not in CARE_TABS:
        kind = ""
    shown = [item for item in items if item.kind == kind] if kind else items
    page = CappedPaginator(shown, CARE_PER_PAGE).get_page(request.GET.get("page"))
    next_url = request.get_full_path()
    am_query = "" if user.role == Role.ACCOUNT_MANAGER else manager.username
    rows = [
        {
            "item": item,
            "overdue": item.is_overdue(today),
            "log_url": _log_url(item, next_url) if policies.can_serve(user, item.customer) else "",
        }
        for item in page.object_list
    ]
    tab_query = {"am": am_query} if am_query else {}
    return {
        "overview": False,
        "rows": rows,
        **page_context(page),
        "query_string": list_query_context(request)["query_string"],
        "total": len(items),
        "tabs": [
            {
                "kind": "",
                "label": _("All"),
                "count": len(items),
                "url": "?" + urlencode(tab_query),
            },
            *(
                {
                    "kind": value,
                    "label": ActivityKind(value).label,
                    "count": counts[value],
                    "url": "?" + urlencode({**tab_query, "kind": value}),
                }
                for value in CARE_TABS
            ),
        ],
        "kind": kind,
        "am_query": am_query,
        "managers": (
            []
            if user.role == Role.ACCOUNT_MANAGER
            else list(visits_selectors.account_managers_in_scope(user=user))
        ),
    }


def _log_url(item: selectors.CareDue, next_url: str) -> str:
    query = {"customer": item.customer.customer_code, "kind": item.kind}
    if item.holiday is not None:
        query["holiday"] = item.holiday.pk
    query["next"] = next_url
    return f"{reverse('services:activity_new')}?{urlencode(query)}"


# --- the services done -----------------------------------------------------------------------


class ActivityListView(PeopleOnlyMixin, ListView):
    """Care and value-added services the user may see, newest first, filtered by
    ActivityFilterSet (category, service, customer, who, dates)."""

    template_name = "services/activity_list.html"
    context_object_name = "activities"
    paginate_by = ACTIVITIES_PER_PAGE
    paginator_class = CappedPaginator

    def get_queryset(self):
        return selectors.activity_list(user=self.request.user, filters=self.request.GET)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(list_query_context(self.request))
        ctx["filter"] = ActivityFilterSet(self.request.GET)
        ctx["categories"] = ActivityCategory.choices
        ctx["kinds"] = ActivityKind.choices
        ctx["care_kinds"] = [kind.value for kind in CARE_TABS]
        return ctx


activity_list = ActivityListView.as_view()


# --- logging a service ----------------------------------------------------------------------


def _int_param(request: HttpRequest, name: str) -> int | None:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise Http404
    return int(raw)


def _visit_of(request: HttpRequest, customer: Customer) -> Visit | None:
    """The visit the service was done on (?visit=): one the user sees, to this customer."""
    pk = _int_param(request, "visit")
    if pk is None:
        return None
    visit = visits_selectors.visit_get(user=request.user, pk=pk)
    if visit.customer_id != customer.pk:
        raise Http404
    return visit


@people_only
def activity_new(request: HttpRequest) -> HttpResponse:
    """Logs a care or value-added service for ?customer=CODE (preset with ?kind=, ?holiday=,
    done on ?visit=); without a customer, a picker among the user's customers."""
    code = request.GET.get("customer", "").strip()
    if not code:
        return _customer_picker(request)
    customer = customer_selectors.customer_get(user=request.user, code=code)
    if not policies.can_serve(request.user, customer):
        raise PermissionDenied
    visit = _visit_of(request, customer)
    holiday_id = _int_param(request, "holiday")
    if request.method == "POST":
        form = ActivityForm(request.POST, holiday_id=holiday_id)
        if form.is_valid():
            data = form.cleaned_data
            try:
                activity = services.service_activity_log(
                    customer=customer,
                    kind=data["kind"],
                    performed_on=data["performed_on"],
                    actor=Actor.of(request.user, AuditSource.PAGE),
                    note=data["note"],
                    holiday=data["holiday"],
                    visit=visit,
                )
            except DomainError as exc:
                form_domain_error(form, exc)
            else:
                messages.success(
                    request,
                    _("%(service)s logged for %(customer)s.")
                    % {"service": activity.get_kind_display(), "customer": customer.store_name},
                )
                return redirect_back(request, reverse("services:care"))
    else:
        kind = request.GET.get("kind", "")
        form = ActivityForm(
            initial={
                "kind": kind if kind in LOGGABLE else "",
                "performed_on": timezone.localdate(),
                "holiday": holiday_id,
                "next": request.GET.get("next", ""),
            },
            holiday_id=holiday_id,
        )
    back = safe_next(request, request.POST.get("next") or request.GET.get("next", ""))
    return render(
        request,
        "services/activity_form.html",
        {
            "customer": customer,
            "visit": visit,
            "form": form,
            "back_url": back or reverse("services:care"),
        },
    )


def _customer_picker(request: HttpRequest) -> HttpResponse:
    """The customers the user may log a service for, searched by code or name."""
    kind = request.GET.get("kind", "")
    return render(
        request,
        "services/activity_form.html",
        {
            **customer_picker_context(request),
            "kind": kind if kind in LOGGABLE else "",
            "back_url": reverse("services:activity_list"),
        },
    )
