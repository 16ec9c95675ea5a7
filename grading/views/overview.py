"""Grading's parts of the overview (everyone with a people role, within their scope; the
engine's `crm.monthly_views` serves the page and its transition matrix) and its export.

One grade month at a time: totals and movements, three distributions (charts with table
fallbacks) and the paginated, sortable list of the month's results. The export writes the
same scoped, filtered results with their inputs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.dates import parse_month
from crm.paginators import CappedPaginator
from crm.views import list_query_context, page_context, people_only
from customers import io
from customers.choices import BusinessScale
from grading import policies, selectors
from grading.choices import GradeBasis
from grading.filtersets import MOVEMENTS, GradeResultFilterSet

RESULTS_PER_PAGE = 25

# The overview's totals, charts and matrix describe the population the user picked (area,
# account manager); the list below also narrows by movement, grade, code… so the cards keep
# their meaning while the list shows one of them.
SUMMARY_FILTERS = ("area", "account_manager")
# Filters that only narrow the list: a movement card or chart row link replaces them.
LIST_ONLY_FILTERS = (
    "movement",
    "grade",
    "previous_grade",
    "category_code",
    "structure_class",
    "business_scale",
    "page",
)


def _query(request: HttpRequest, month: dt.date, **changes: str | None) -> str:
    """The request's query string with `month` set and `changes` applied (None removes)."""
    query: QueryDict = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    query["month"] = f"{month:%Y-%m}"
    for key, value in changes.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = value
    return query.urlencode()


def _number(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() else None


def _distributions(request: HttpRequest, overview: dict[str, Any]) -> list[dict[str, Any]]:
    """The three distributions (a chart and a table each): by grade on a contiguous axis
    (1 … the lowest seen), by the category codes present, by the structure classes present.
    Each table row links to the list narrowed by its filter (`param`)."""
    by_grade = overview["by_grade"]
    clear = dict.fromkeys(LIST_ONLY_FILTERS)
    specs = [
        ("grades", _("Customers by grade"), _("Grade"), "grade",
         {g: by_grade.get(g, 0) for g in range(1, max(by_grade, default=0) + 1)}),
        ("categories", _("Customers by category code"), _("Category code"), "category_code",
         overview["by_category"]),
        ("structures", _("Customers by structure class"), _("Structure class"),
         "structure_class", overview["by_structure"]),
    ]  # fmt: skip
    return [
        {
            "key": key,
            "title": title,
            "axis": axis,
            "param": param,
            "query": _query(request, overview["month"], **clear),
            "rows": [(str(label), n) for label, n in counts.items()],
        }
        for key, title, axis, param, counts in specs
    ]


def _chart_data(distributions: list[dict[str, Any]]) -> dict[str, dict[str, list]]:
    """The series the chart script reads (json_script)."""
    return {
        d["key"]: {
            "labels": [label for label, _n in d["rows"]],
            "counts": [n for _label, n in d["rows"]],
        }
        for d in distributions
    }


def _cards(request: HttpRequest, overview: dict[str, Any]) -> list[dict[str, Any]]:
    """The totals as cards, each linking to the list filtered by that movement."""
    month = overview["month"]
    clear = dict.fromkeys(LIST_ONLY_FILTERS)
    labels = dict(MOVEMENTS)
    movements = overview["movements"]
    specs = [
        ("", _("Customers graded"), overview["customers"], "people", "primary"),
        ("up", labels["up"], movements["up"], "arrow-up-circle", "success"),
        ("down", labels["down"], movements["down"], "arrow-down-circle", "danger"),
        ("same", labels["same"], movements["same"], "dash-circle", "secondary"),
        ("new", labels["new"], movements["new"], "plus-circle", "info"),
        (
            "not_comparable",
            labels["not_comparable"],
            movements["not_comparable"],
            "slash-circle",
            "secondary",
        ),
        ("overridden", labels["overridden"], overview["overridden"], "pencil-square", "warning"),
    ]
    return [
        {
            "key": key or "total",
            "label": label,
            "count": count,
            "icon": icon,
            "colour": colour,
            "query": _query(request, month, **{**clear, "movement": key or None}),
        }
        for key, label, count, icon, colour in specs
        # The not-comparable card only in a month that follows a change of scheme.
        if key != "not_comparable" or count
    ]


def _columns() -> list[tuple[str, str, bool, bool]]:
    """(name, label, sortable, right-aligned) of the results table; names are the
    GradeResultFilterSet ordering names."""
    return [
        ("customer_code", _("Customer code"), True, False),
        ("store_name", _("Store name"), True, False),
        ("area", _("Area"), False, False),
        ("account_manager", _("Account manager"), False, False),
        ("grade", _("Grade"), True, False),
        ("computed_grade", _("Computed"), False, False),
        ("avg_cartons", _("Avg cartons"), True, True),
        ("avg_price", _("Avg price"), True, True),
        ("category_code", _("Category code"), True, False),
        ("structure_class", _("Structure class"), True, True),
    ]


def overview_filters(request: HttpRequest) -> dict[str, Any]:
    """The filters of the grade overview, shown whatever the month."""
    return {"filter": GradeResultFilterSet(request.GET), "movements": MOVEMENTS}


def overview_context(request: HttpRequest, month: dt.date) -> dict[str, Any]:
    """The grade month's overview for the user's scope (the engine's overview page,
    `crm.monthly_views`, picks the month and draws the transition matrix)."""
    summary_filters = {key: request.GET[key] for key in SUMMARY_FILTERS if request.GET.get(key)}
    summary = selectors.grading_overview(user=request.user, month=month, filters=summary_filters)
    results = selectors.grade_results(user=request.user, month=month, filters=request.GET)
    distributions = _distributions(request, summary)
    page_obj = CappedPaginator(results, RESULTS_PER_PAGE).get_page(request.GET.get("page"))
    clear = dict.fromkeys(LIST_ONLY_FILTERS)
    publication = selectors.publication_of(month=month)
    return {
        **list_query_context(request),
        "overview": summary,
        # Whether the month is published (locked), and what the user may do about it.
        "publication": publication,
        "publication_actions": policies.publication_actions(request.user, publication),
        "cards": _cards(request, summary),
        "distributions": distributions,
        "chart": _chart_data(distributions),
        "columns": _columns(),
        "results": page_obj.object_list,
        **page_context(page_obj),
        "movement": request.GET.get("movement", ""),
        "movement_label": dict(MOVEMENTS).get(request.GET.get("movement", "")),
        # What a transition cell or a grade's row picked (shown beside the count).
        "grade_filter": _number(request.GET.get("grade")),
        "previous_grade_filter": _number(request.GET.get("previous_grade")),
        "export_query": _query(request, month),
        "all_query": _query(request, month, **clear),
        "upgrades_query": _query(request, month, **{**clear, "movement": "up"}),
        "downgrades_query": _query(request, month, **{**clear, "movement": "down"}),
    }


# --- export -------------------------------------------------------------------------------

# (header, value path of the results queryset). The previous grade is the selector's annotation.
EXPORT_COLUMNS: list[tuple[Any, str]] = [
    (gettext_lazy("Customer code"), "customer__customer_code"),
    (gettext_lazy("Store name"), "customer__store_name"),
    (gettext_lazy("Area code"), "customer__area__code"),
    (gettext_lazy("Account manager"), "customer__account_manager__username"),
    (gettext_lazy("Grade month"), "month"),
    (gettext_lazy("Grade"), "grade"),
    (gettext_lazy("Computed grade"), "computed_grade"),
    (gettext_lazy("Previous grade"), "previous_grade"),
    (gettext_lazy("Basis"), "basis"),
    (gettext_lazy("Window months"), "window"),
    (gettext_lazy("Months counted"), "months_used"),
    (gettext_lazy("Monthly average cartons"), "avg_cartons"),
    (gettext_lazy("Monthly average amount"), "avg_amount"),
    (gettext_lazy("Average price per carton"), "avg_price"),
    (gettext_lazy("Business scale"), "business_scale"),
    (gettext_lazy("Category code"), "category_code"),
    (gettext_lazy("Price band"), "price_band"),
    (gettext_lazy("Structure class"), "structure_class"),
    (gettext_lazy("Scheme version"), "scheme__version"),
]

# Rows fetched per round trip: a few hundred kB of plain values, flat memory on any size.
EXPORT_CHUNK_SIZE = 2000


def _export_rows(results) -> Iterator[list[Any]]:
    """The results as export rows of plain values, one query per chunk. The labels are read
    now, in the request's language: the rows are produced later, while the response streams."""
    basis = {value: str(label) for value, label in GradeBasis.choices}
    scale = {value: str(label) for value, label in BusinessScale.choices}
    paths = [value_path for _label, value_path in EXPORT_COLUMNS]
    month_at, basis_at, scale_at = (paths.index(p) for p in ("month", "basis", "business_scale"))

    def rows() -> Iterator[list[Any]]:
        for values in results.values_list(*paths).iterator(chunk_size=EXPORT_CHUNK_SIZE):
            row = list(values)
            row[month_at] = f"{row[month_at]:%Y-%m}"
            row[basis_at] = basis.get(row[basis_at], row[basis_at])
            row[scale_at] = scale.get(row[scale_at], row[scale_at])
            yield row

    return rows()


@people_only
def grade_export(request: HttpRequest) -> HttpResponse:
    """The month's results (same scope and filters as the overview's list) as CSV or XLSX."""
    requested = request.GET.get("month")
    month = parse_month(requested) if requested else selectors.latest_result_month()
    if month is None:
        raise Http404
    results = selectors.grade_results(user=request.user, month=month, filters=request.GET)
    headers = [str(label) for label, _path in EXPORT_COLUMNS]
    name = f"grades-{month:%Y-%m}"
    if request.GET.get("format") == "xlsx":
        response = HttpResponse(
            io.write_xlsx(_export_rows(results), headers, title="grades"),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
        return response
    response = StreamingHttpResponse(
        io.write_csv(_export_rows(results), headers), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


urlpatterns = [
    path("export/", grade_export, name="export"),
]
