"""Grade overrides and assessments: the override queue and the POST targets of the customer
page's grading card (propose an override, decide on one, record an assessment).

Who may do what is decided by `grading.services` (which raise DomainError); the pages only
offer the buttons the services would accept (`grading.policies`). Every
POST goes back to where it came from with the outcome as a message.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django.views.generic import ListView

from crm.choices import AuditSource
from crm.dates import month_start
from crm.exceptions import DomainError
from crm.paginators import CappedPaginator
from crm.services import Actor
from crm.views import PeopleOnlyMixin, list_query_context, people_only, redirect_back
from customers import selectors as customer_selectors
from grading import policies, selectors, services
from grading.choices import OverrideStatus

OVERRIDES_PER_PAGE = 25

# The queue's tabs: key → (label, the statuses it shows; None for all).
TABS: dict[str, tuple[Any, tuple[str, ...] | None]] = {
    "waiting": (gettext_lazy("Waiting"), (OverrideStatus.PROPOSED,)),
    "approved": (gettext_lazy("Approved"), (OverrideStatus.APPROVED,)),
    "closed": (
        gettext_lazy("Rejected, withdrawn or revoked"),
        (OverrideStatus.REJECTED, OverrideStatus.WITHDRAWN, OverrideStatus.REVOKED),
    ),
    "all": (gettext_lazy("All"), None),
}
ACTIONS = ("approve", "reject", "withdraw", "revoke")


class OverrideProposeForm(forms.Form):
    month = forms.DateField(label=gettext_lazy("Grade month"), input_formats=["%Y-%m-%d", "%Y-%m"])
    grade = forms.IntegerField(label=gettext_lazy("Grade"), min_value=1)
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=2000)


class OverrideDecisionForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("Note"), max_length=2000, required=False)


class AssessmentForm(forms.Form):
    score = forms.IntegerField(label=gettext_lazy("Assessment"), min_value=0, max_value=100)
    note = forms.CharField(label=gettext_lazy("Note"), max_length=255, required=False)


def _actor(request: HttpRequest) -> Actor:
    return Actor.of(request.user, AuditSource.PAGE)


def _customer_url(code: str) -> str:
    return reverse("customers:detail", args=[code]) + "?tab=grade-value#grading"


def _form_errors(request: HttpRequest, form: forms.Form) -> None:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else error)


def _domain_error(request: HttpRequest, exc: DomainError) -> None:
    for msgs in exc.errors.values():
        for msg in msgs:
            messages.error(request, msg)


class OverrideListView(PeopleOnlyMixin, ListView):
    """The override queue: supervisors and administrators decide on waiting overrides;
    account managers and licence officers see those of their scope, read-only."""

    template_name = "grading/override_list.html"
    context_object_name = "overrides"
    paginate_by = OVERRIDES_PER_PAGE
    paginator_class = CappedPaginator

    def _tab(self) -> str:
        tab = self.request.GET.get("status", "waiting")
        return tab if tab in TABS else "waiting"

    def get_queryset(self):
        statuses = TABS[self._tab()][1]
        qs = selectors.override_list(user=self.request.user, status=None)
        return qs.filter(status__in=statuses) if statuses else qs

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(list_query_context(self.request))
        user = self.request.user
        counts = selectors.override_status_counts(user=user)
        current = self._tab()
        ctx["tabs"] = [
            {
                "key": key,
                "label": label,
                "count": sum(counts.values())
                if statuses is None
                else sum(counts.get(s, 0) for s in statuses),
                "active": key == current,
            }
            for key, (label, statuses) in TABS.items()
        ]
        ctx["current_tab"] = current
        # Back to the tab's first page after a decision: the row leaves the tab, so the page
        # it was on may no longer exist.
        ctx["next_url"] = f"{reverse('grading:overrides')}?status={current}"
        # In a published month only what changes no grade is offered (reject, withdraw).
        locked = selectors.published_months(months=[o.month for o in ctx["overrides"]])
        ctx["rows"] = [
            {
                "override": o,
                "actions": [
                    a
                    for a in policies.override_actions(user, o)
                    if o.month not in locked or a in policies.LOCKED_MONTH_OVERRIDE_ACTIONS
                ],
            }
            for o in ctx["overrides"]
        ]
        ctx["may_decide"] = policies.may_decide_overrides(user)
        return ctx


@require_POST
@people_only
def override_propose(request: HttpRequest, code: str) -> HttpResponse:
    """Proposes another grade for the customer's month (the card's form)."""
    customer = customer_selectors.customer_get(user=request.user, code=code)
    form = OverrideProposeForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect(_customer_url(code))
    try:
        services.override_propose(
            customer=customer,
            month=form.cleaned_data["month"],
            grade=form.cleaned_data["grade"],
            reason=form.cleaned_data["reason"],
            actor=_actor(request),
        )
    except DomainError as exc:
        _domain_error(request, exc)
    else:
        messages.success(
            request,
            _("The override was proposed. It takes effect once a second person approves it."),
        )
    return redirect(_customer_url(code))


@require_POST
@people_only
def override_decide(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Approve, reject, withdraw or revoke an override (from the card or the queue)."""
    if action not in ACTIONS:
        raise Http404
    override = selectors.override_get(user=request.user, pk=pk)
    form = OverrideDecisionForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    actor = _actor(request)
    try:
        if action == "approve":
            services.override_approve(override=override, note=note, actor=actor)
            done = _("The override was approved: grade %(grade)d is now in force.") % {
                "grade": override.grade
            }
        elif action == "reject":
            services.override_reject(override=override, note=note, actor=actor)
            done = _("The override was rejected.")
        elif action == "withdraw":
            services.override_withdraw(override=override, actor=actor)
            done = _("The override was withdrawn.")
        else:
            services.override_revoke(override=override, note=note, actor=actor)
            done = _("The override was revoked: the computed grade is in force again.")
    except DomainError as exc:
        _domain_error(request, exc)
    else:
        messages.success(request, done)
    return redirect_back(request, _customer_url(override.customer.customer_code))


@require_POST
@people_only
def assessment_record(request: HttpRequest, code: str) -> HttpResponse:
    """Records this month's assessment of the customer (the card's form)."""
    customer = customer_selectors.customer_get(user=request.user, code=code)
    if not policies.may_assess(request.user):
        raise PermissionDenied
    form = AssessmentForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect(_customer_url(code))
    try:
        services.assessment_record(
            customer=customer,
            month=month_start(timezone.localdate()),
            score=form.cleaned_data["score"],
            note=form.cleaned_data["note"],
            actor=_actor(request),
        )
    except DomainError as exc:
        _domain_error(request, exc)
    else:
        messages.success(request, _("The assessment was saved."))
    return redirect(_customer_url(code))


urlpatterns = [
    path("overrides/", OverrideListView.as_view(), name="overrides"),
    path("overrides/<int:pk>/<str:action>/", override_decide, name="override_decide"),
    path("customers/<str:code>/override/", override_propose, name="override_propose"),
    path("customers/<str:code>/assessment/", assessment_record, name="assessment"),
]
