"""Retailer training sessions (零售户培训): the sessions the user sees, logging one with the
codes of the customers who attended, and a session's page with its attendees."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.generic import ListView

from crm.choices import AuditSource
from crm.exceptions import DomainError
from crm.forms import form_domain_error
from crm.paginators import CappedPaginator
from crm.services import Actor
from crm.views import PeopleOnlyMixin, list_query_context, page_context, people_only
from services import policies, selectors, services
from services.forms_care import TrainingForm

SESSIONS_PER_PAGE = 25
ATTENDEES_PER_PAGE = 100


class TrainingListView(PeopleOnlyMixin, ListView):
    """The training sessions of the user's areas, newest first, with how many attended."""

    template_name = "services/training_list.html"
    context_object_name = "sessions"
    paginate_by = SESSIONS_PER_PAGE
    paginator_class = CappedPaginator

    def get_queryset(self):
        return selectors.training_list(user=self.request.user)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(list_query_context(self.request))
        ctx["may_hold"] = policies.can_hold_training(self.request.user)
        return ctx


training_list = TrainingListView.as_view()


@people_only
def training_new(request: HttpRequest) -> HttpResponse:
    """Logs a session held and its attendees (typed or pasted as customer codes)."""
    user = request.user
    if not policies.can_hold_training(user):
        raise PermissionDenied
    if request.method == "POST":
        form = TrainingForm(request.POST, user=user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                session = services.training_session_log(
                    title=data["title"],
                    held_on=data["held_on"],
                    area=data["area"],
                    attendees=data["attendees"],
                    actor=Actor.of(user, AuditSource.PAGE),
                    topic=data["topic"],
                    location=data["location"],
                )
            except DomainError as exc:
                form_domain_error(form, exc)
            else:
                messages.success(
                    request,
                    _("The session was logged with %(n)d attendees.")
                    % {"n": len(data["attendees"])},
                )
                return redirect("services:training_detail", pk=session.pk)
    else:
        form = TrainingForm(user=user, initial={"held_on": timezone.localdate()})
        areas = list(form.fields["area"].queryset[:2])
        if len(areas) == 1:  # one area: nothing to choose
            form.initial["area"] = areas[0].pk
    return render(request, "services/training_form.html", {"form": form})


@people_only
def training_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One session and the attendees the user sees (404 outside the user's areas)."""
    session = selectors.training_get(user=request.user, pk=pk)
    attendees = selectors.training_attendees(user=request.user, session=session)
    page = CappedPaginator(attendees, ATTENDEES_PER_PAGE).get_page(request.GET.get("page"))
    total = session.attendances.count()
    return render(
        request,
        "services/training_detail.html",
        {
            "session": session,
            "attendees": page.object_list,
            **page_context(page),
            "query_string": list_query_context(request)["query_string"],
            "total": total,
            "hidden": total - page.paginator.count,
        },
    )
