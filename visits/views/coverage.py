"""Supervision: how well the account managers cover their customers.

- the coverage page: one line per account manager the user may watch (share of customers
  visited within their cycle, overdue planned visits, visits per working day, overdue
  follow-ups), a bar chart of the shares and a totals row;
- the drill-down: one account manager's customers with their cycle, last visit and next due
  day, and the manager's overdue follow-ups;
- the export of either list (CSV or XLSX).

Supervisors and administrators only (`policies.can_watch_coverage`); the figures come from
`selectors.coverage` / `selectors.coverage_customers`, scoped to the user.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.models import Area, User
from crm.paginators import CappedPaginator
from crm.views import int_choice_param, page_context, people_allowed
from customers import io
from visits import policies, selectors
from visits.models import VisitsConfig

PERIODS = (7, 30, 90)
DEFAULT_PERIOD = 30
PER_PAGE = 50
# Overdue follow-ups listed on the drill-down; the count says how many there are in all.
FOLLOW_UPS_SHOWN = 50
# Share of customers visited within their cycle: from GOOD on the bar is green, from FAIR
# amber, below it red.
GOOD_SHARE = 90
FAIR_SHARE = 70
# The drill-down's tabs: every customer, those not visited within their cycle, those with
# an overdue planned visit.
TABS = {
    "all": gettext_lazy("All"),
    "out": gettext_lazy("Not visited within cycle"),
    "overdue": gettext_lazy("Overdue"),
}
CYCLE_LABELS = dict(VisitsConfig._meta.get_field("default_cycle").choices)


# `people_only`, then 403 for anyone the page is not for.
_watchers_only = people_allowed(policies.can_watch_coverage)


def _today() -> dt.date:
    """The day the figures are computed for (a seam the tests move)."""
    return timezone.localdate()


def _period(request: HttpRequest) -> int:
    return int_choice_param(request, "period", PERIODS, DEFAULT_PERIOD)


def share_level(share: float | None) -> str:
    """The Bootstrap colour of a coverage share."""
    if share is None:
        return "secondary"
    if share >= GOOD_SHARE:
        return "success"
    if share >= FAIR_SHARE:
        return "warning"
    return "danger"


def _manager(user: User, username: str) -> User:
    """An account manager `user` may watch; 404 for anyone else."""
    manager = selectors.account_managers_in_scope(user=user).filter(username=username).first()
    if manager is None:
        raise Http404
    return manager


def _area_choices(user: User) -> list[Area]:
    """The areas `user` sees, for the area filter (shown only when there are several)."""
    return list(Area.objects.visible_to(user).order_by("code"))


def _lines(request: HttpRequest, today: dt.date, period: int) -> dict[str, Any]:
    """The coverage lines (of the chosen area's account managers) and the area filter."""
    user = request.user
    areas = _area_choices(user)
    code = request.GET.get("area", "")
    area = next((a for a in areas if a.code == code), None) if code and len(areas) > 1 else None
    lines = selectors.coverage(user=user, today=today, period_days=period, area=area)
    return {"lines": lines, "areas": areas if len(areas) > 1 else [], "area": area}


@_watchers_only
def coverage_view(request: HttpRequest) -> HttpResponse:
    """Per account manager: customers, visited within cycle, overdue plans, visits per
    working day, overdue follow-ups; a chart of the shares; a totals row."""
    today = _today()
    period = _period(request)
    ctx = _lines(request, today, period)
    rows = [{"line": line, "level": share_level(line.share)} for line in ctx["lines"]]
    totals = selectors.coverage_total(ctx["lines"])
    with_customers = [row for row in rows if row["line"].customers]
    chart = {
        "labels": [str(row["line"].manager) for row in with_customers],
        "shares": [round(row["line"].share, 1) for row in with_customers],
        "levels": [row["level"] for row in with_customers],
    }
    query = request.GET.copy()
    query.pop("format", None)
    return render(
        request,
        "visits/coverage.html",
        {
            **ctx,
            "rows": rows,
            "totals": totals,
            "totals_level": share_level(totals.share),
            "chart": chart if with_customers else None,
            "period": period,
            "periods": PERIODS,
            "today": today,
            "export_query": query.urlencode(),
            "can_configure": policies.can_configure(request.user),
            "good_share": GOOD_SHARE,
            "fair_share": FAIR_SHARE,
        },
    )


def _tab_rows(rows: list[selectors.CustomerCoverage], tab: str) -> list[selectors.CustomerCoverage]:
    if tab == "out":
        return [row for row in rows if not row.in_cycle]
    if tab == "overdue":
        return [row for row in rows if row.overdue_since is not None]
    return rows


def _tab(request: HttpRequest) -> str:
    tab = request.GET.get("show", "all")
    return tab if tab in TABS else "all"


@_watchers_only
def coverage_detail(request: HttpRequest, username: str) -> HttpResponse:
    """One account manager's customers: cycle, last visit, next due, within cycle or not,
    overdue since; filtered by tab, 50 a page; and the manager's overdue follow-ups."""
    manager = _manager(request.user, username)
    today = _today()
    rows = selectors.coverage_customers(user=request.user, today=today, account_manager=manager)
    tab = _tab(request)
    counts = {key: len(_tab_rows(rows, key)) for key in TABS}
    page = CappedPaginator(_tab_rows(rows, tab), PER_PAGE).get_page(request.GET.get("page"))
    summary = selectors.ManagerCoverage(
        manager=manager,
        customers=counts["all"],
        in_cycle=counts["all"] - counts["out"],
        overdue=counts["overdue"],
    )
    # Overdue as of the page's day (the same day as the figures above).
    follow_ups = selectors.follow_up_list(
        user=request.user, owner=manager, overdue_only=True, today=today
    )
    shown = list(follow_ups[: FOLLOW_UPS_SHOWN + 1])
    query = request.GET.copy()
    query.pop("page", None)
    tab_query = query.copy()
    tab_query.pop("show", None)
    return render(
        request,
        "visits/coverage_detail.html",
        {
            "manager": manager,
            "today": today,
            "tab": tab,
            "tabs": [(key, label, counts[key]) for key, label in TABS.items()],
            **page_context(page),
            "customers": [
                {"row": row, "cycle_label": CYCLE_LABELS.get(row.cycle, row.cycle)}
                for row in page.object_list
            ],
            "summary": summary,
            "summary_level": share_level(summary.share),
            "follow_ups": shown[:FOLLOW_UPS_SHOWN],
            "more_follow_ups": len(shown) > FOLLOW_UPS_SHOWN,
            "follow_ups_total": follow_ups.count() if len(shown) > FOLLOW_UPS_SHOWN else len(shown),
            "query_string": query.urlencode(),
            "tab_query": tab_query.urlencode(),
        },
    )


# --- export ------------------------------------------------------------------------------


def _share_cell(share: float | None) -> float | None:
    return None if share is None else round(share, 1)


def _manager_export(
    lines: Sequence[selectors.ManagerCoverage],
) -> tuple[list[str], Iterator[list[Any]]]:
    headers = [
        _("Username"),
        _("Account manager"),
        _("Customers"),
        _("Visited within cycle"),
        _("Share visited within cycle (percent)"),
        _("Overdue planned visits"),
        _("Visits in the period"),
        _("Visits per working day"),
        _("Overdue follow-ups"),
    ]

    def rows() -> Iterator[list[Any]]:
        for line in lines:
            yield [
                line.manager.username,
                line.manager.name,
                line.customers,
                line.in_cycle,
                _share_cell(line.share),
                line.overdue,
                line.visits,
                round(line.visits_per_day, 2),
                line.follow_ups_overdue,
            ]

    return headers, rows()


def _customer_export(
    rows: Sequence[selectors.CustomerCoverage],
) -> tuple[list[str], Iterator[list[Any]]]:
    headers = [
        _("Customer code"),
        _("Store name"),
        _("Visit cycle"),
        _("Cycle (days)"),
        _("Shorter cycle (potential value)"),
        _("Last visit"),
        _("Next visit due"),
        _("Visited within cycle"),
        _("Overdue since"),
    ]
    yes, no = _("yes"), _("no")

    def cells() -> Iterator[list[Any]]:
        for row in rows:
            yield [
                row.customer_code,
                row.store_name,
                str(CYCLE_LABELS.get(row.cycle, row.cycle)),
                row.cycle_days,
                yes if row.boosted else no,
                row.last_visit,
                row.next_due,
                yes if row.in_cycle else no,
                row.overdue_since,
            ]

    return headers, cells()


@_watchers_only
def coverage_export(request: HttpRequest) -> HttpResponse:
    """The coverage table (per account manager) or, with `am`, that manager's customers, as
    CSV or XLSX: the same scope, period, area and tab as the pages."""
    today = _today()
    username = request.GET.get("am", "")
    if username:
        manager = _manager(request.user, username)
        rows = selectors.coverage_customers(user=request.user, today=today, account_manager=manager)
        headers, cells = _customer_export(_tab_rows(rows, _tab(request)))
        name = f"coverage-{manager.username}-{today:%Y-%m-%d}"
        title = _("Customers")
    else:
        period = _period(request)
        headers, cells = _manager_export(_lines(request, today, period)["lines"])
        name = f"coverage-{today:%Y-%m-%d}-{period}d"
        title = _("Coverage")
    if request.GET.get("format") == "xlsx":
        response = HttpResponse(
            io.write_xlsx(cells, headers, title=title),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = content_disposition_header(True, f"{name}.xlsx")
        return response
    response = StreamingHttpResponse(
        io.write_csv(cells, headers), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = content_disposition_header(True, f"{name}.csv")
    return response
