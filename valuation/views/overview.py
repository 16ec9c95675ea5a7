"""Valuation's parts of the value overview (everyone with a people role, within their scope;
the engine's `crm.monthly_views` serves the page and its tier movements) and the exports of
its core and problem lists.

One valued month at a time, for the population the user picked (area, account manager): the
2×2 matrix of current × potential value with the tier of each cell, the tiers by area (a
stacked bar chart with its table) and by account manager, the tier movements against the
month before, and the paginated core and problem lists. The exports write the same scoped,
filtered lists.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from django.core.paginator import Page
from django.http import Http404, HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.dates import parse_month
from crm.paginators import CountedPaginator
from crm.views import people_only
from customers import io
from customers.choices import TIER_COLOURS, ValueTier
from valuation.filtersets import ValueResultFilterSet
from valuation.selectors import overview as selectors

LIST_PER_PAGE = 25
# The filters of the whole page: the summaries and both lists follow them.
FILTERS = ("area", "account_manager")
LISTS = ("core", "problem")
# A cell of the 2×2 matrix opens the list of its tier (?tier=…), above the other two.
TIER_LIST = "tier"
TIERS = selectors.TIERS


# A hue per tier, shared by the matrix, the tables and the chart (Bootstrap colour names).
def _query(request: HttpRequest, month: dt.date, **changes: str | None) -> str:
    """The page's filters (only those) with `month` set and `changes` applied (None removes)."""
    query = QueryDict(mutable=True)
    for key in (*FILTERS, TIER_LIST):
        if request.GET.get(key):
            query[key] = request.GET[key]
    query["month"] = f"{month:%Y-%m}"
    for key, value in changes.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = value
    return query.urlencode()


def _cut(scheme, name: str) -> Any:
    tiers = (scheme.parameters.get("tiers") if scheme else None) or {}
    return selectors.plain_number(tiers.get(name, 50))


def _share(n: int, total: int) -> str:
    return f"{100 * n / total:.1f}" if total else "0.0"


def _tier(request: HttpRequest) -> str | None:
    """The tier whose list was asked for (?tier=…), if it names one."""
    tier = request.GET.get(TIER_LIST)
    return tier if tier in TIERS else None


def _listed(results, key: str, tier: str | None = None):
    """The results of one of the lists: core, problem, or the customers of `tier`."""
    if key == "core":
        return selectors.core_list(results)
    if key == "problem":
        return selectors.problem_list(results)
    return selectors.tier_list(results, tier)


def value_matrix(
    summary: dict[str, Any], scheme, query: Callable[[str], str] | None = None
) -> dict[str, Any]:
    """The 2×2 matrix: rows potential value high / low, columns current value high / low,
    each cell its tier, customers, share of customers and amount in the window, and the
    query of its customers' list (`query(tier)`) when given."""
    total = summary["customers"]

    def cell(tier: ValueTier) -> dict[str, Any]:
        figures = summary["by_tier"][tier]
        return {
            "query": query(tier.value) if query and figures["n"] else "",
            "tier": tier.value,
            "label": tier.label,
            "colour": TIER_COLOURS[tier],
            "n": figures["n"],
            "share": _share(figures["n"], total),
            "amount": figures["amount"],
        }

    return {
        "current_from": _cut(scheme, "current_from"),
        "potential_from": _cut(scheme, "potential_from"),
        "rows": [
            {"high": True, "cells": [cell(ValueTier.VALUE), cell(ValueTier.POTENTIAL)]},
            {"high": False, "cells": [cell(ValueTier.SECONDARY), cell(ValueTier.LOW)]},
        ],
        "total": total,
        "amount": sum((t["amount"] for t in summary["by_tier"].values()), Decimal(0)),
    }


def _distribution_rows(
    request: HttpRequest, month: dt.date, rows: list[dict[str, Any]], param: str
) -> list[dict[str, Any]]:
    """Rows by area or account manager, each linking to the page narrowed to it."""
    total = sum(row["total"] for row in rows)
    key = "code" if param == "area" else "username"
    return [
        {
            **row,
            "query": _query(request, month, **{param: row[key] or None}) if row[key] else "",
            "share": _share(row["total"], total),
        }
        for row in rows
    ]


def _chart_data(by_area: list[dict[str, Any]]) -> dict[str, Any]:
    """The stacked bars the chart script reads (json_script): areas, one series per tier."""
    return {
        "labels": [row["code"] for row in by_area],
        "names": [row["name"] for row in by_area],
        "series": [
            {
                "tier": tier,
                "label": str(ValueTier(tier).label),
                "colour": TIER_COLOURS[tier],
                "counts": [row["counts"][i] for row in by_area],
            }
            for i, tier in enumerate(TIERS)
        ],
    }


def _list(
    request: HttpRequest, month: dt.date, key: str, results, summary, scheme, title: str
) -> dict[str, Any]:
    """One of the lists (core, problem, a tier's): its page (its own page parameter) and its
    links."""
    param = f"{key}_page"
    tier = _tier(request) if key == TIER_LIST else None
    qs = _listed(results, key, tier)
    count = summary["by_tier"][tier]["n"] if tier else summary[key]
    paginator = CountedPaginator(qs, LIST_PER_PAGE, count=count)
    page: Page = paginator.get_page(request.GET.get(param))
    rows = list(page.object_list)
    parameters = scheme.parameters if scheme else None
    credit_below = ((parameters or {}).get("problem") or {}).get("credit_below")
    for result in rows:
        result.tier_colour = TIER_COLOURS.get(result.value_tier, "secondary")
        if key == "problem":
            result.low_credit = credit_below is not None and result.credit_score < credit_below
            result.reasons = selectors.problem_reasons(
                credit_score=result.credit_score,
                recent_violations=result.recent_violations,
                parameters=parameters,
            )
    # Paging one list keeps the others on their pages.
    keep = {
        other: request.GET[other]
        for other in (f"{name}_page" for name in (*LISTS, TIER_LIST))
        if other != param and request.GET.get(other)
    }
    return {
        "key": key,
        "tier": tier,
        "title": title,
        "rows": rows,
        "page_obj": page,
        "paginator": page.paginator,
        "page_param": param,
        "page_query": _query(request, month, **keep),
        "export_query": _query(request, month, list=key),
        "close_query": _query(request, month, **{TIER_LIST: None}),
    }


def overview_filters(request: HttpRequest) -> dict[str, Any]:
    """The filters of the value overview, shown whatever the month."""
    return {"filter": ValueResultFilterSet(request.GET)}


def overview_context(request: HttpRequest, month: dt.date) -> dict[str, Any]:
    """The valued month's overview for the user's scope (the engine's overview page,
    `crm.monthly_views`, picks the month and draws the tier movements)."""
    filters = {key: request.GET[key] for key in FILTERS if request.GET.get(key)}
    results = selectors.value_results(user=request.user, month=month, filters=filters)
    summary = selectors.value_overview(results=results, month=month)
    scheme = selectors.month_scheme(month)
    by_area = _distribution_rows(request, month, summary["by_area"], "area")
    tier = _tier(request)
    lists = [
        _list(request, month, "core", results, summary, scheme, _("Core customers")),
        _list(request, month, "problem", results, summary, scheme, _("Problem customers")),
    ]
    if tier:
        title = str(ValueTier(tier).label)
        lists.insert(0, _list(request, month, TIER_LIST, results, summary, scheme, title))
    return {
        "scheme": scheme,
        "overview": summary,
        "matrix": value_matrix(
            summary, scheme, lambda value: _query(request, month, **{TIER_LIST: value})
        ),
        "missing_inputs": selectors.missing_inputs_warning(results=results, scheme=scheme),
        "tiers": [(tier, ValueTier(tier).label, TIER_COLOURS[tier]) for tier in TIERS],
        "by_area": by_area,
        "by_manager": _distribution_rows(request, month, summary["by_manager"], "account_manager"),
        "chart": _chart_data(by_area) if by_area else None,
        "lists": lists,
        "clear_query": _query(request, month, area=None, account_manager=None),
    }


# --- export -------------------------------------------------------------------------------

# (header, value path of the results queryset); "" for the reasons, worked out per row.
EXPORT_COLUMNS: list[tuple[Any, str]] = [
    (gettext_lazy("Customer code"), "customer__customer_code"),
    (gettext_lazy("Store name"), "customer__store_name"),
    (gettext_lazy("Area code"), "customer__area__code"),
    (gettext_lazy("Account manager"), "customer__account_manager__username"),
    (gettext_lazy("Month"), "month"),
    (gettext_lazy("Value tier"), "value_tier"),
    (gettext_lazy("Current value"), "current_value"),
    (gettext_lazy("Potential value"), "potential_value"),
    (gettext_lazy("Contribution"), "contribution_score"),
    (gettext_lazy("Support"), "support_score"),
    (gettext_lazy("Credit"), "credit_score"),
    (gettext_lazy("Growth"), "growth_score"),
    (gettext_lazy("Influence"), "influence_score"),
    (gettext_lazy("Amount in the window"), "window_amount"),
    (gettext_lazy("Violations in the problem window"), "recent_violations"),
    (gettext_lazy("Core customer"), "is_core"),
    (gettext_lazy("Problem customer"), "is_problem"),
    (gettext_lazy("Why a problem customer"), ""),
    (gettext_lazy("Scheme version"), "scheme__version"),
]

# Rows fetched per round trip: a few hundred kB of plain values, flat memory on any size.
EXPORT_CHUNK_SIZE = 2000


def _export_rows(results, parameters) -> Iterator[list[Any]]:
    """The results as export rows of plain values, one query per chunk. The words are read
    now, in the request's language: the rows are produced later, while the response streams."""
    tiers = {value: str(label) for value, label in ValueTier.choices}
    yes, no = _("Yes"), _("No")
    paths = [value_path for _label, value_path in EXPORT_COLUMNS if value_path]
    at = {name: paths.index(name) for name in paths}
    # The reasons depend on two numbers only: worded once per pair.
    reasons: dict[tuple[float, int], str] = {}

    def why(credit: float, violations: int) -> str:
        key = (credit, violations)
        if key not in reasons:
            reasons[key] = "; ".join(
                selectors.problem_reasons(
                    credit_score=credit, recent_violations=violations, parameters=parameters
                )
            )
        return reasons[key]

    def rows() -> Iterator[list[Any]]:
        for values in results.values_list(*paths).iterator(chunk_size=EXPORT_CHUNK_SIZE):
            v = list(values)
            problem = v[at["is_problem"]]
            row = [
                *v[: at["is_problem"] + 1],
                why(v[at["credit_score"]], v[at["recent_violations"]]) if problem else "",
                *v[at["is_problem"] + 1 :],
            ]
            row[at["month"]] = f"{row[at['month']]:%Y-%m}"
            row[at["value_tier"]] = tiers.get(row[at["value_tier"]], row[at["value_tier"]])
            row[at["is_core"]] = yes if row[at["is_core"]] else no
            row[at["is_problem"]] = yes if problem else no
            yield row

    return rows()


@people_only
def value_export(request: HttpRequest) -> HttpResponse:
    """The core or the problem list of a month (same scope and filters as the overview) as
    CSV or XLSX."""
    key = request.GET.get("list")
    tier = _tier(request)
    if key not in LISTS and not (key == TIER_LIST and tier):
        raise Http404
    requested = request.GET.get("month")
    month = parse_month(requested) if requested else selectors.latest_result_month()
    if month is None:
        raise Http404
    filters = {name: request.GET[name] for name in FILTERS if request.GET.get(name)}
    results = selectors.value_results(user=request.user, month=month, filters=filters)
    listed = _listed(results, key, tier)
    scheme = selectors.month_scheme(month)
    rows = _export_rows(listed, scheme.parameters if scheme else None)
    headers = [str(label) for label, _path in EXPORT_COLUMNS]
    name = f"{tier or key}-customers-{month:%Y-%m}"
    if request.GET.get("format") == "xlsx":
        titles = {"core": _("Core customers"), "problem": _("Problem customers")}
        title = titles.get(key) or str(ValueTier(tier).label)
        response = HttpResponse(
            io.write_xlsx(rows, headers, title=title),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
        return response
    response = StreamingHttpResponse(
        io.write_csv(rows, headers), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


urlpatterns = [
    path("export/", value_export, name="export"),
]
