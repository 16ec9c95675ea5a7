"""The valuation runs page (administrators): value a month again, follow the runs, and see
the latest early-warning refreshes.

A live run's row polls its status partial every 2 s (htmx) until the run has finished.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from crm.choices import AuditSource, RunTrigger
from crm.dates import parse_month
from crm.exceptions import DomainError
from crm.services import Actor
from crm.views import administrators_only
from customers.choices import ValueTier
from valuation import services
from valuation.models import ValuationRun, WarningRefresh
from valuation.selectors import schemes as selectors
from valuation.views.overview import TIER_COLOURS

RUNS_PER_PAGE = 25


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return _("%(s).1f s") % {"s": seconds}
    minutes, rest = divmod(int(round(seconds)), 60)
    return _("%(m)d min %(s)02d s") % {"m": minutes, "s": rest}


def _for_display(run: ValuationRun) -> ValuationRun:
    """Adds what the row shows: customers per tier in tier order, the duration."""
    counts = run.counts or {}
    run.tier_counts = [
        (tier.value, tier.label, TIER_COLOURS[tier], counts.get(tier.value, 0))
        for tier in ValueTier
        if tier.value in counts
    ]
    run.duration = _duration(run.duration_seconds)
    return run


def _refreshes() -> list[WarningRefresh]:
    refreshes = selectors.warning_refresh_list()
    for refresh in refreshes:
        seconds = None
        if refresh.finished_at:
            seconds = (refresh.finished_at - refresh.started_at).total_seconds()
        refresh.duration = _duration(seconds)
    return refreshes


@require_http_methods(["GET", "POST"])
@administrators_only
def run_list(request: HttpRequest) -> HttpResponse:
    """GET: the start form, the runs (newest first) and the latest warning refreshes.
    POST: queues a valuation of a month."""
    if request.method == "POST":
        month = parse_month(request.POST.get("month"))
        if month is None:
            messages.error(request, _("Choose a month to value."))
            return redirect("valuation:runs")
        try:
            services.valuation_run_start(
                month=month,
                trigger=RunTrigger.PAGE,
                actor=Actor.of(request.user, AuditSource.PAGE),
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("The valuation of %(m)s is queued; its progress shows below.")
                % {"m": f"{month:%Y-%m}"},
            )
        return redirect("valuation:runs")
    page_obj = Paginator(selectors.run_list(), RUNS_PER_PAGE).get_page(request.GET.get("page"))
    for run in page_obj.object_list:
        _for_display(run)
    query = request.GET.copy()
    query.pop("page", None)
    ctx: dict[str, Any] = {
        "tab": "runs",
        "runs": page_obj.object_list,
        "page_obj": page_obj,
        "paginator": page_obj.paginator,
        "is_paginated": page_obj.has_other_pages(),
        "query_string": query.urlencode(),
        "this_month": f"{timezone.localdate():%Y-%m}",
        "active_scheme": selectors.scheme_active_or_none(),
        "refreshes": _refreshes(),
    }
    return render(request, "valuation/run_list.html", ctx)


@require_GET
@administrators_only
def run_status(request: HttpRequest, pk: int) -> HttpResponse:
    """One run's row (the htmx poll of a live run)."""
    run = selectors.run_list().filter(pk=pk).first()
    if run is None:
        raise Http404
    return render(request, "valuation/inc/run_status.html", {"run": _for_display(run)})


urlpatterns = [
    path("runs/", run_list, name="runs"),
    path("runs/<int:pk>/status/", run_status, name="run_status"),
]
