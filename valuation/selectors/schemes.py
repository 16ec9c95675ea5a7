"""Reads of the administrators' valuation pages beyond the engine's scheme and run pages
(`crm.monthly_views`): the early-warning refreshes. Not scoped: only administrators reach
these pages, and none of the rows belongs to a customer."""

from __future__ import annotations

from valuation.models import WarningRefresh

# How many refreshes the runs page lists (one a day, plus one after each run).
RECENT_REFRESHES = 10


def warning_refresh_list(*, limit: int = RECENT_REFRESHES) -> list[WarningRefresh]:
    """The latest early-warning refreshes, newest first."""
    return list(WarningRefresh.objects.order_by("-started_at", "-id")[:limit])
