"""The grading runs page (administrators): start a recompute of a month, follow the runs.

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

# Shared with the other administrator pages until it moves to crm.views.
from crm.views import administrators_only
from grading import selectors, services
from grading.models import GradingRun

RUNS_PER_PAGE = 25


def _for_display(run: GradingRun) -> GradingRun:
    """Adds what the row shows: counts per grade in grade order, progress, duration."""
    run.grade_counts = sorted((int(grade), n) for grade, n in (run.counts or {}).items())
    total = max(run.parts_total, 1)
    run.progress = round(100 * min(run.parts_done, total) / total)
    run.duration = duration_text(run.duration_seconds)
    return run


@require_http_methods(["GET", "POST"])
@administrators_only
def run_list(request: HttpRequest) -> HttpResponse:
    """GET: the start form and the runs, newest first. POST: queues a run of a month."""
    if request.method == "POST":
        return run_start(
            request,
            start=services.grading_run_start,
            url_name="grading:runs",
            choose=_("Choose a month to grade."),
            queued=_("The run of %(m)s is queued; its progress shows below."),
        )
    ctx: dict[str, Any] = {
        **run_list_context(request, selectors.run_list(), decorate=_for_display),
        "active_scheme": selectors.scheme_active_or_none(),
    }
    return render(request, "grading/run_list.html", ctx)


@require_GET
@administrators_only
def run_status(request: HttpRequest, pk: int) -> HttpResponse:
    """One run's row (the htmx poll of a live run)."""
    run = run_row(selectors.run_list(), pk)
    return render(request, "grading/inc/run_status.html", {"run": _for_display(run)})


urlpatterns = [
    path("runs/", run_list, name="runs"),
    path("runs/<int:pk>/status/", run_status, name="run_status"),
]
