"""The account manager's day: the agenda (today's planned visits in route order, overdue, done,
skipped, follow-ups due, the days ahead opened one at a time), rescheduling and skipping a
planned visit, and the follow-up list with its "mark done".

The actions answer htmx with the row they changed (the error inside it, if any); a plain form
post (no JavaScript) goes back to the page it came from with the outcome as a message.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.choices import AuditSource, Role
from crm.exceptions import DomainError
from crm.models import User
from crm.paginators import CappedPaginator
from crm.services import Actor
from crm.views import is_htmx, page_context, people_only, redirect_back
from visits import policies, selectors, services
from visits.forms import FollowUpDoneForm, PlanRescheduleForm, PlanSkipForm
from visits.offline import offline_urls

FOLLOW_UPS_PER_PAGE = 50


def _parse_day(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text or "")
    except ValueError:
        return None


def _is_supervising(user) -> bool:
    return user.is_administrator or user.role == Role.SUPERVISOR


# --- the agenda ----------------------------------------------------------------------------


def _whose_agenda(request: HttpRequest) -> tuple[User | None, list[User]]:
    """Whose agenda the user looks at and whose they may switch to: an account manager their
    own (?am= naming anyone else: 404); a supervisor or administrator the account manager
    ?am= names among those they watch (404 for anyone else), or None when ?am= is missing."""
    user = request.user
    wanted = request.GET.get("am", "").strip()
    if user.role == Role.ACCOUNT_MANAGER:
        if wanted and wanted != user.username:
            raise Http404
        return user, []
    managers = list(selectors.account_managers_in_scope(user=user))
    if not wanted:
        return None, managers
    manager = next((m for m in managers if m.username == wanted), None)
    if manager is None:
        raise Http404
    return manager, managers


@people_only
def agenda_view(request: HttpRequest) -> HttpResponse:
    """One account manager's day. An account manager sees their own; supervisors and
    administrators pick one of the account managers they watch with ?am=; licence officers
    have no agenda (they get a page saying so). ?day=YYYY-MM-DD shows another day. The days
    ahead show their number of visits; a day's visits load when it is opened
    (`agenda_coming_day`), or on that day's agenda without JavaScript."""
    user = request.user
    if user.role == Role.LICENSE_OFFICER:
        return render(request, "visits/agenda.html", {"no_agenda": True})
    manager, managers = _whose_agenda(request)
    if manager is None:
        # A supervisor first chooses whose day to look at.
        return render(request, "visits/agenda.html", {"managers": managers, "choose_manager": True})
    today = timezone.localdate()
    day = _parse_day(request.GET.get("day")) or today
    agenda = selectors.agenda(user=user, account_manager=manager, day=day)
    may_manage = _is_supervising(user) or user.pk == manager.pk
    # The account manager's own day is kept on the phone for the road (visits/offline.py).
    keep = offline_urls(agenda=agenda, today=today) if manager == user and day == today else []
    return render(
        request,
        "visits/agenda.html",
        {
            "agenda": agenda,
            "manager": manager,
            "managers": managers,
            "today": today,
            "is_today": day == today,
            "previous_day": day - dt.timedelta(days=1),
            "next_day": day + dt.timedelta(days=1),
            "may_manage": may_manage,
            "am_query": "" if user.role == Role.ACCOUNT_MANAGER else manager.username,
            "next_url": request.get_full_path(),
            "offline_urls": keep,
        },
    )


@people_only
def agenda_coming_day(request: HttpRequest) -> HttpResponse:
    """A day ahead on the agenda, opened: its planned visits in route order (an htmx fragment
    for the agenda's "Coming days"; ?am= and ?day= as on the agenda). Asked for as a page (no
    htmx), it is that day's agenda."""
    day = _parse_day(request.GET.get("day"))
    if day is None or request.user.role == Role.LICENSE_OFFICER:
        raise Http404
    manager, _managers = _whose_agenda(request)
    if manager is None:
        raise Http404
    if not is_htmx(request):
        return redirect(f"{reverse('visits:agenda')}?{request.GET.urlencode()}")
    plans = selectors.planned_on(user=request.user, account_manager=manager, day=day)
    return render(request, "visits/inc/agenda_coming_day.html", {"plans": plans, "day": day})


# --- rescheduling and skipping -------------------------------------------------------------


def _plan_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    plan = selectors.planned_visit_get(user=request.user, pk=pk)
    if not policies.can_manage_plan(request.user, plan.customer):
        raise PermissionDenied
    form_class = PlanRescheduleForm if action == "reschedule" else PlanSkipForm
    form = form_class(request.POST)
    errors: list[str] = []
    done = ""
    if form.is_valid():
        actor = Actor.of(request.user, AuditSource.PAGE)
        try:
            if action == "reschedule":
                plan = services.planned_visit_reschedule(
                    plan=plan,
                    new_date=form.cleaned_data["new_date"],
                    reason=form.cleaned_data["reason"],
                    actor=actor,
                )
                done = _("Moved to %(day)s.") % {"day": plan.planned_for.isoformat()}
            else:
                plan = services.planned_visit_skip(
                    plan=plan, reason=form.cleaned_data["reason"], actor=actor
                )
                done = _("Skipped.")
        except DomainError as exc:
            errors = [m for msgs in exc.errors.values() for m in msgs]
    else:
        errors = [str(e) for msgs in form.errors.values() for e in msgs]
    if is_htmx(request):
        plan = selectors.planned_visit_get(user=request.user, pk=pk)
        return render(
            request,
            "visits/inc/agenda_plan.html",
            {
                "plan": plan,
                "may_manage": True,
                "today": timezone.localdate(),
                "next_url": request.POST.get("next", ""),
                "errors": errors,
                "failed_action": action if errors else "",
                "posted": request.POST if errors else {},
                "done": done,
            },
        )
    for message in errors:
        messages.error(request, message)
    if done:
        messages.success(
            request,
            _("%(customer)s: %(outcome)s")
            % {"customer": plan.customer.store_name, "outcome": done},
        )
    return redirect_back(request, reverse("visits:agenda"))


@require_POST
@people_only
def plan_reschedule(request: HttpRequest, pk: int) -> HttpResponse:
    """Moves a planned visit to another day, with a reason."""
    return _plan_action(request, pk, "reschedule")


@require_POST
@people_only
def plan_skip(request: HttpRequest, pk: int) -> HttpResponse:
    """Skips a planned visit, with a reason."""
    return _plan_action(request, pk, "skip")


# --- follow-ups ----------------------------------------------------------------------------

FOLLOW_UP_TABS = ("mine", "overdue", "area")


@people_only
def follow_up_list(request: HttpRequest) -> HttpResponse:
    """Open follow-ups: the user's own, the user's overdue ones, and (supervisors and
    administrators) all those of their areas."""
    user = request.user
    may_see_area = _is_supervising(user)
    tabs = [t for t in FOLLOW_UP_TABS if t != "area" or may_see_area]
    tab = request.GET.get("tab", "mine")
    if tab not in tabs:
        tab = "mine"
    follow_ups = selectors.follow_up_list(
        user=user, owner=None if tab == "area" else user, overdue_only=tab == "overdue"
    )
    page = CappedPaginator(follow_ups, FOLLOW_UPS_PER_PAGE).get_page(request.GET.get("page"))
    rows = [
        {"follow_up": f, "may_complete": policies.can_complete_follow_up(user, f)}
        for f in page.object_list
    ]
    labels = {"mine": _("Mine"), "overdue": _("My overdue"), "area": _("My areas")}
    return render(
        request,
        "visits/followup_list.html",
        {
            "tabs": [(key, labels[key]) for key in tabs],
            "tab": tab,
            **page_context(page),
            "rows": rows,
            "query_string": f"tab={tab}",
            "today": timezone.localdate(),
            "next_url": request.get_full_path(),
        },
    )


@require_POST
@people_only
def follow_up_done(request: HttpRequest, pk: int) -> HttpResponse:
    """Marks a follow-up done with a note saying what was done."""
    follow_up = selectors.follow_up_get(user=request.user, pk=pk)
    if not policies.can_complete_follow_up(request.user, follow_up):
        raise PermissionDenied
    form = FollowUpDoneForm(request.POST)
    errors: list[str] = []
    done = ""
    if form.is_valid():
        try:
            services.follow_up_complete(
                follow_up=follow_up,
                note=form.cleaned_data["note"],
                actor=Actor.of(request.user, AuditSource.PAGE),
            )
            done = _("The follow-up is done.")
        except DomainError as exc:
            errors = [m for msgs in exc.errors.values() for m in msgs]
    else:
        errors = [str(e) for msgs in form.errors.values() for e in msgs]
    if is_htmx(request):
        follow_up = selectors.follow_up_get(user=request.user, pk=pk)
        return render(
            request,
            "visits/inc/followup_row.html",
            {
                "follow_up": follow_up,
                "today": timezone.localdate(),
                "next_url": request.POST.get("next", ""),
                "errors": errors,
                "done": done,
                "may_complete": True,
            },
        )
    for message in errors:
        messages.error(request, message)
    if done:
        messages.success(request, done)
    return redirect_back(request, reverse("visits:follow_ups"))
