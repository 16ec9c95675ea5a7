"""Page pieces every monthly job shares (grading and valuation): the runs page's start form
and list, and the activate / copy / delete actions of a versioned scheme. The apps declare
what differs (their services, selectors, namespace and wording); the flow is written once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm import jobs
from crm.choices import AuditSource, RunTrigger
from crm.dates import parse_month
from crm.exceptions import DomainError
from crm.services import Actor
from crm.views import administrators_only

RUNS_PER_PAGE = 25


def duration_text(seconds: float | None) -> str:
    """ "12.3 s" or "4 min 05 s"; empty when the run has not finished."""
    if seconds is None:
        return ""
    if seconds < 60:
        return _("%(s).1f s") % {"s": seconds}
    minutes, rest = divmod(int(round(seconds)), 60)
    return _("%(m)d min %(s)02d s") % {"m": minutes, "s": rest}


def run_start(
    request: HttpRequest, *, start: Callable[..., Any], url_name: str, choose: Any, queued: Any
) -> HttpResponse:
    """The runs page's POST: queues a run of the posted month through `start` (a service
    taking month, trigger and actor) and says what happened. `queued` has a %(m)s month."""
    month = parse_month(request.POST.get("month"))
    if month is None:
        messages.error(request, choose)
        return redirect(url_name)
    try:
        start(month=month, trigger=RunTrigger.PAGE, actor=Actor.of(request.user, AuditSource.PAGE))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, str(queued) % {"m": f"{month:%Y-%m}"})
    return redirect(url_name)


def run_row(runs: QuerySet, pk: int) -> Any:
    """One run of `runs` for its row (the htmx poll of a live run), marked failed first if
    its process died; 404 when it is not there."""
    jobs.runs_abandon_dead(runs.model, pk=pk)
    run = runs.filter(pk=pk).first()
    if run is None:
        raise Http404
    return run


def run_list_context(
    request: HttpRequest, runs: QuerySet, *, decorate: Callable[[Any], Any]
) -> dict[str, Any]:
    """The runs page's list: one page of `runs` (newest first), each through `decorate`. A
    live run whose process died is marked failed first, so the page shows why it stopped."""
    jobs.runs_abandon_dead(runs.model)
    page_obj = Paginator(runs, RUNS_PER_PAGE).get_page(request.GET.get("page"))
    for run in page_obj.object_list:
        decorate(run)
    query = request.GET.copy()
    query.pop("page", None)
    return {
        "tab": "runs",
        "runs": page_obj.object_list,
        "page_obj": page_obj,
        "paginator": page_obj.paginator,
        "is_paginated": page_obj.has_other_pages(),
        "query_string": query.urlencode(),
        "this_month": f"{timezone.localdate():%Y-%m}",
    }


@dataclass(frozen=True)
class SchemeActions:
    """The POST actions on one version of a versioned scheme (administrators only).

    `services` has scheme_activate / scheme_copy / scheme_delete_draft, `selectors` has
    scheme_get and scheme_active_or_none; `retired` is the message after an activation that
    retired a version (with %(v)d and %(old)d)."""

    namespace: str
    services: Any
    selectors: Any
    retired: Any

    def activate(self, request: HttpRequest, pk: int) -> HttpResponse:
        scheme = self.selectors.scheme_get(pk=pk)
        previous = self.selectors.scheme_active_or_none()
        try:
            self.services.scheme_activate(scheme=scheme, actor=_actor(request))
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            if previous is not None:
                text = str(self.retired) % {"v": scheme.version, "old": previous.version}
            else:
                text = _("Version %(v)d is active.") % {"v": scheme.version}
            messages.success(request, text)
        return redirect(f"{self.namespace}:scheme", scheme.pk)

    def copy(self, request: HttpRequest, pk: int) -> HttpResponse:
        scheme = self.selectors.scheme_get(pk=pk)
        try:
            copy = self.services.scheme_copy(scheme=scheme, actor=_actor(request))
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect(f"{self.namespace}:scheme", scheme.pk)
        messages.success(
            request,
            _("Draft version %(v)d is a copy of version %(old)d.")
            % {"v": copy.version, "old": scheme.version},
        )
        return redirect(f"{self.namespace}:scheme", copy.pk)

    def delete(self, request: HttpRequest, pk: int) -> HttpResponse:
        scheme = self.selectors.scheme_get(pk=pk)
        try:
            self.services.scheme_delete_draft(scheme=scheme, actor=_actor(request))
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect(f"{self.namespace}:scheme", scheme.pk)
        messages.success(request, _("Draft version %(v)d was deleted.") % {"v": scheme.version})
        return redirect(f"{self.namespace}:schemes")

    def urlpatterns(self) -> list[URLPattern]:
        def view(action: Callable[[HttpRequest, int], HttpResponse]):
            return administrators_only(require_POST(action))

        return [
            path("schemes/<int:pk>/activate/", view(self.activate), name="scheme_activate"),
            path("schemes/<int:pk>/copy/", view(self.copy), name="scheme_copy"),
            path("schemes/<int:pk>/delete/", view(self.delete), name="scheme_delete"),
        ]


def _actor(request: HttpRequest) -> Actor:
    return Actor.of(request.user, AuditSource.PAGE)
