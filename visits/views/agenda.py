"""The account manager's day: the agenda (today's planned visits in route order, overdue, done,
skipped, follow-ups due, the days ahead opened one at a time), rescheduling and skipping a
planned visit, and the follow-up list with its "mark done".

The actions answer htmx with the row they changed (the error inside it, if any); a plain form
post (no JavaScript) goes back to the page it came from with the outcome as a message.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from urllib.parse import quote

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext
from django.views.decorators.http import require_http_methods, require_POST

from crm.choices import AuditSource, Role
from crm.exceptions import DomainError
from crm.models import User
from crm.navigation import url_builder
from crm.paginators import CappedPaginator
from crm.services import Actor
from crm.views import is_htmx, page_context, people_only, redirect_back, safe_next
from visits import policies, selectors, services
from visits.choices import PlanStatus
from visits.forms import FollowUpDoneForm, PlanRescheduleForm, PlanSkipForm
from visits.models import PlannedVisit
from visits.offline import offline_urls, visit_log_links

FOLLOW_UPS_PER_PAGE = 50


def _parse_day(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text or "")
    except ValueError:
        return None


def _is_supervising(user) -> bool:
    return user.is_administrator or user.role == Role.SUPERVISOR


# --- the agenda ----------------------------------------------------------------------------


def plan_rows(plans: Iterable[PlannedVisit], *, next_url: str) -> dict[str, str]:
    """Readies plans for their agenda rows (templates/visits/inc/agenda_plan.html) and returns
    the rows' fixed words (`row_text`). Sets on each plan its addresses: its customer's page,
    the visit form started from the plan, the reschedule and skip forms (`*_url`: their pages,
    which come back to `next_url`; `*_post_url`: where they are sent); and its cycle in words.

    About 50 rows a page: their `{% url %}` tags made 440 `reverse()` calls, their
    `{% translate %}` tags some 500 look-ups; here each address is reversed once per kind
    and each word translated once."""
    customer_url = url_builder("customers:detail")
    reschedule_url = url_builder("visits:plan_reschedule")
    skip_url = url_builder("visits:plan_skip")
    visit_log = visit_log_links()
    # As the templates' `urlencode` filter writes it (the offline copy keeps these addresses).
    back = f"?next={quote(next_url, safe='/')}" if next_url else ""
    cycles: dict[int, str] = {}
    for plan in plans:
        code = plan.customer.customer_code
        plan.customer_url = customer_url(code)
        plan.start_url = visit_log(code, plan.pk)
        plan.reschedule_post_url = reschedule_url(plan.pk)
        plan.skip_post_url = skip_url(plan.pk)
        plan.reschedule_url = plan.reschedule_post_url + back
        plan.skip_url = plan.skip_post_url + back
        n = plan.cycle_days
        if n not in cycles:
            cycles[n] = ngettext("cycle: every day", "cycle: every %(n)s days", n) % {"n": n}
        plan.cycle_text = cycles[n]
    return {
        "route_place": _("Place on the route"),
        "visit_batch": _("Visit batch"),
        "delivery_route": _("Delivery route"),
        "boosted": _("shorter cycle: potential value"),
        "start_visit": _("Start visit"),
        "reschedule": pgettext("planned visit", "Reschedule"),
        "skip": pgettext("planned visit", "Skip"),
        "open_form": _("Open the form"),
    }


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
    next_url = request.get_full_path()
    row_text = plan_rows([*agenda.overdue, *agenda.planned, *agenda.skipped], next_url=next_url)
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
            "next_url": next_url,
            "row_text": row_text,
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


PLAN_ACTION_FORMS = {"reschedule": PlanRescheduleForm, "skip": PlanSkipForm}


def _plan_action_page(
    request: HttpRequest,
    plan: PlannedVisit,
    action: str,
    *,
    errors: list[str] | None = None,
    posted=None,
) -> HttpResponse:
    """The action's form: the fragment the agenda row's toggle loads (htmx), else its own page
    (no JavaScript; a refused action sent from that page shows it again with what was typed).
    It comes back to `next` (the agenda the row was on)."""
    asked = (request.POST if request.method == "POST" else request.GET).get("next", "")
    next_url = safe_next(request, asked) or reverse("visits:agenda")
    plan_rows([plan], next_url=next_url)
    errors = list(errors or [])
    if plan.status != PlanStatus.PLANNED and not errors:
        errors = [_("Only a planned visit that is still open can be changed.")]
    context = {
        "plan": plan,
        "action": action,
        "post_url": plan.reschedule_post_url if action == "reschedule" else plan.skip_post_url,
        "today": timezone.localdate(),
        "next_url": next_url,
        "errors": errors,
        "posted": posted or {},
    }
    if is_htmx(request):
        closed = errors[0] if plan.status != PlanStatus.PLANNED else ""
        return render(request, "visits/inc/agenda_plan_form.html", {**context, "closed": closed})
    titles = {
        "reschedule": _("Reschedule a planned visit"),
        "skip": _("Skip a planned visit"),
    }
    return render(request, "visits/plannedvisit_action.html", {**context, "title": titles[action]})


def _plan_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    plan = selectors.planned_visit_get(user=request.user, pk=pk)
    if not policies.can_manage_plan(request.user, plan.customer):
        raise PermissionDenied
    if request.method == "GET":
        return _plan_action_page(request, plan, action)
    form = PLAN_ACTION_FORMS[action](request.POST)
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
        next_url = request.POST.get("next", "")
        return render(
            request,
            "visits/inc/agenda_plan.html",
            {
                "row_text": plan_rows([plan], next_url=next_url),
                "plan": plan,
                "may_manage": True,
                "today": timezone.localdate(),
                "next_url": next_url,
                "errors": errors,
                "failed_action": action if errors else "",
                "posted": request.POST if errors else {},
                "done": done,
            },
        )
    if errors and request.POST.get("shown_on") == "page":
        # Refused on the action's own page (no JavaScript): that page again, with what was typed.
        plan = selectors.planned_visit_get(user=request.user, pk=pk)
        return _plan_action_page(request, plan, action, errors=errors, posted=request.POST)
    for message in errors:
        messages.error(request, message)
    if done:
        messages.success(
            request,
            _("%(customer)s: %(outcome)s")
            % {"customer": plan.customer.store_name, "outcome": done},
        )
    return redirect_back(request, reverse("visits:agenda"))


@require_http_methods(["GET", "POST"])
@people_only
def plan_reschedule(request: HttpRequest, pk: int) -> HttpResponse:
    """Moves a planned visit to another day, with a reason (GET: the form, see
    `_plan_action_page`)."""
    return _plan_action(request, pk, "reschedule")


@require_http_methods(["GET", "POST"])
@people_only
def plan_skip(request: HttpRequest, pk: int) -> HttpResponse:
    """Skips a planned visit, with a reason (GET: the form, see `_plan_action_page`)."""
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
