"""The early warnings page (everyone with a people role, within their scope) and its two
POST actions, acknowledge and resolve.

Account managers, supervisors and administrators handle warnings; licence officers read them.
The services decide (and raise DomainError); the page offers the forms only to those
`valuation.policies.may_handle_warnings` allows. An action sent by htmx gets the warning's
row back (with the error in it, if any); a plain form post goes back to where it came from
with the outcome as a message.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.generic import ListView

from crm.choices import AuditSource
from crm.exceptions import DomainError
from crm.paginators import CappedPaginator
from crm.services import Actor
from crm.views import PeopleOnlyMixin, is_htmx, list_query_context, people_only, redirect_back
from valuation import policies, services
from valuation.choices import WarningKind
from valuation.filtersets import WARNING_STATUS_TABS, EarlyWarningFilterSet
from valuation.forms_records import WarningAcknowledgeForm, WarningResolveForm
from valuation.selectors import warnings as selectors

WARNINGS_PER_PAGE = 25


def _errors(form: forms.Form | None, exc: DomainError | None) -> list[str]:
    out = []
    if form is not None:
        out += [str(e) for errors in form.errors.values() for e in errors]
    if exc is not None:
        out += [m for msgs in exc.errors.values() for m in msgs]
    return out


class WarningListView(PeopleOnlyMixin, ListView):
    """The warnings of the user's customers: unresolved ones by default, filtered by status,
    kind, area and account manager, newest first."""

    template_name = "valuation/warning_list.html"
    context_object_name = "warnings"
    paginate_by = WARNINGS_PER_PAGE
    paginator_class = CappedPaginator

    def get_queryset(self):
        return selectors.warning_list(user=self.request.user, filters=self.request.GET)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(list_query_context(self.request))
        user = self.request.user
        filters = selectors.warning_filters(self.request.GET)
        counts = selectors.warning_status_counts(user=user, filters=self.request.GET)
        others = self.request.GET.copy()
        for key in ("status", "page"):
            others.pop(key, None)
        ctx["status_tabs"] = [
            {
                "key": key,
                "label": label,
                "count": counts[key],
                "active": key == filters["status"],
                "query": "&".join(q for q in (f"status={key}", others.urlencode()) if q),
            }
            for key, (label, _statuses) in WARNING_STATUS_TABS.items()
        ]
        ctx["filter"] = EarlyWarningFilterSet(filters)
        ctx["kinds"] = WarningKind.choices
        ctx["rows"] = [
            {"warning": w, "summary": selectors.warning_summary(w)} for w in ctx["warnings"]
        ]
        ctx["may_handle"] = policies.may_handle_warnings(user)
        ctx["next_url"] = self.request.get_full_path()
        ctx["refresh"] = selectors.warning_refresh_latest()
        return ctx


def _act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    warning = selectors.warning_get(user=request.user, pk=pk)
    if not policies.may_handle_warnings(request.user):
        raise PermissionDenied
    form_class = WarningAcknowledgeForm if action == "acknowledge" else WarningResolveForm
    form = form_class(request.POST)
    error, done = None, ""
    if form.is_valid():
        actor = Actor.of(request.user, AuditSource.PAGE)
        note = form.cleaned_data["note"]
        try:
            if action == "acknowledge":
                services.warning_acknowledge(warning=warning, note=note, actor=actor)
                done = _("The warning was acknowledged.")
            else:
                services.warning_resolve(warning=warning, note=note, actor=actor)
                done = _("The warning was resolved.")
        except DomainError as exc:
            error, done = exc, ""
    errors = _errors(form, error)
    if is_htmx(request):
        warning = selectors.warning_get(user=request.user, pk=pk)
        return render(
            request,
            "valuation/inc/warning_row.html",
            {
                "row": {"warning": warning, "summary": selectors.warning_summary(warning)},
                "may_handle": True,
                "next_url": request.POST.get("next", ""),
                "errors": errors,
                "done": done,
            },
        )
    for message in errors:
        messages.error(request, message)
    if done:
        messages.success(request, done)
    return redirect_back(request, reverse("valuation:warnings"))


@require_POST
@people_only
def warning_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    """Acknowledges an open warning with a note saying what will be done."""
    return _act(request, pk, "acknowledge")


@require_POST
@people_only
def warning_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    """Resolves an open or acknowledged warning, with an optional note."""
    return _act(request, pk, "resolve")


urlpatterns = [
    path("warnings/", WarningListView.as_view(), name="warnings"),
    path("warnings/<int:pk>/acknowledge/", warning_acknowledge, name="warning_acknowledge"),
    path("warnings/<int:pk>/resolve/", warning_resolve, name="warning_resolve"),
]
