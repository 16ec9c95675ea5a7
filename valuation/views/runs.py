"""The valuation runs page (administrators): value a month again, follow the runs, and see
the latest early-warning refreshes.

A live run's row polls its status partial every 2 s (htmx) until the run has finished.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from crm.job_views import duration_text, run_list_context, run_row, run_start
from crm.views import administrators_only
from customers.choices import ValueTier
from valuation import services
from valuation.models import ValuationRun, WarningRefresh
from valuation.selectors import schemes as selectors
from valuation.views.overview import TIER_COLOURS

RUNS_PER_PAGE = 25


def _for_display(run: ValuationRun) -> ValuationRun:
    """Adds what the row shows: customers per tier in tier order, the duration."""
    counts = run.counts or {}
    run.tier_counts = [
        (tier.value, tier.label, TIER_COLOURS[tier], counts.get(tier.value, 0))
        for tier in ValueTier
        if tier.value in counts
    ]
    run.duration = duration_text(run.duration_seconds)
    return run


def _refreshes() -> list[WarningRefresh]:
    refreshes = selectors.warning_refresh_list()
    for refresh in refreshes:
        seconds = None
        if refresh.finished_at:
            seconds = (refresh.finished_at - refresh.started_at).total_seconds()
        refresh.duration = duration_text(seconds)
    return refreshes


@require_http_methods(["GET", "POST"])
@administrators_only
def run_list(request: HttpRequest) -> HttpResponse:
    """GET: the start form, the runs (newest first) and the latest warning refreshes.
    POST: queues a valuation of a month."""
    if request.method == "POST":
        return run_start(
            request,
            start=services.valuation_run_start,
            url_name="valuation:runs",
            choose=_("Choose a month to value."),
            queued=_("The valuation of %(m)s is queued; its progress shows below."),
        )
    ctx: dict[str, Any] = {
        **run_list_context(request, selectors.run_list(), decorate=_for_display),
        "active_scheme": selectors.scheme_active_or_none(),
        "refreshes": _refreshes(),
    }
    return render(request, "valuation/run_list.html", ctx)


@require_GET
@administrators_only
def run_status(request: HttpRequest, pk: int) -> HttpResponse:
    """One run's row (the htmx poll of a live run)."""
    run = run_row(selectors.run_list(), pk)
    return render(request, "valuation/inc/run_status.html", {"run": _for_display(run)})


urlpatterns = [
    path("runs/", run_list, name="runs"),
    path("runs/<int:pk>/status/", run_status, name="run_status"),
]
