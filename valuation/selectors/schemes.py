"""Reads of the administrators' valuation pages: the scheme versions, the valuation runs and
the early-warning refreshes. None of them is scoped: only administrators reach these pages,
and none of the rows belongs to a customer."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from crm.choices import SchemeStatus
from valuation.models import ValuationRun, ValuationScheme, WarningRefresh

# How many refreshes the runs page lists (one a day, plus one after each run).
RECENT_REFRESHES = 10


def scheme_list() -> QuerySet[ValuationScheme]:
    return ValuationScheme.objects.select_related("created_by", "activated_by").order_by("-version")


def scheme_get(*, pk: int) -> ValuationScheme:
    scheme = scheme_list().filter(pk=pk).first()
    if scheme is None:
        raise Http404
    return scheme


def scheme_active_or_none() -> ValuationScheme | None:
    """The active scheme, without creating the default one (`services.scheme_active` does)."""
    return ValuationScheme.objects.filter(status=SchemeStatus.ACTIVE).first()


def run_list() -> QuerySet[ValuationRun]:
    """Every valuation run, newest first."""
    return ValuationRun.objects.select_related("started_by", "scheme").order_by(
        "-created_at", "-id"
    )


def warning_refresh_list(*, limit: int = RECENT_REFRESHES) -> list[WarningRefresh]:
    """The latest early-warning refreshes, newest first."""
    return list(WarningRefresh.objects.order_by("-started_at", "-id")[:limit])
