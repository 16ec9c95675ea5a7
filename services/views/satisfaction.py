"""Supervision: the customers' satisfaction with how their requests were dealt with.

- the satisfaction page: per area (the customer's) and month (of closing) the mean rating of
  the closed requests and how many were rated, as a line chart, a bar chart of the scores 1-5
  and a table with a total row; over the last 3, 6 or 12 months, optionally of one area;
- the export of the table (CSV or XLSX).

Supervisors and administrators only (`policies.can_watch_satisfaction`); the figures come from
`selectors.satisfaction_summary`, scoped to the user.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from crm.models import Area
from crm.views import int_choice_param, people_allowed
from customers import io
from services import policies, selectors
from services.workflow import MonthScore

MONTH_CHOICES = (3, 6, 12)
DEFAULT_MONTHS = 6
SCORES = range(1, 6)


# `people_only`, then 403 for anyone the page is not for.
_watchers_only = people_allowed(policies.can_watch_satisfaction)


def _today() -> dt.date:
    """The day the summary ends on (a seam the tests move)."""
    return timezone.localdate()


def _summary(request: HttpRequest) -> dict[str, Any]:
    """The summary for the chosen period and area, with the area filter (the areas the user
    sees, offered only when there are several)."""
    areas = list(Area.objects.visible_to(request.user).order_by("code"))
    code = request.GET.get("area", "")
    area = next((a for a in areas if a.code == code), None) if code and len(areas) > 1 else None
    months = int_choice_param(request, "months", MONTH_CHOICES, DEFAULT_MONTHS)
    summary = selectors.satisfaction_summary(
        user=request.user, months=months, until=_today(), area=area
    )
    return {
        "summary": summary,
        "months": months,
        "areas": areas if len(areas) > 1 else [],
        "area": area,
    }


def score_text(score: MonthScore) -> str:
    """A cell of the table, "4.25 (12)": the mean rating (at least one decimal) and how many
    were rated."""
    if not score.count:
        return "—"
    mean = f"{score.average:.2f}".rstrip("0")  # 4.25, 4.5, 2.0
    return f"{mean}0 ({score.count})" if mean.endswith(".") else f"{mean} ({score.count})"


def _area_label(area: Area | None) -> str:
    return f"{area.code} {area.name}" if area is not None else _("All areas")


def _chart(summary: selectors.SatisfactionSummary) -> dict[str, Any]:
    """The figures the charts draw (static/js/services_satisfaction.js): a line of monthly
    means per area (null where none was rated), the line of all areas, the distribution."""
    return {
        "labels": [f"{month:%Y-%m}" for month in summary.months],
        "series": [
            {
                "label": _area_label(row.area),
                "data": [score.average for score in row.months],
            }
            for row in summary.rows
        ],
        "total": [score.average for score in summary.total.months],
        "scores": [str(score) for score in SCORES],
        "counts": [summary.distribution.get(score, 0) for score in SCORES],
    }


def _table_row(row: selectors.SatisfactionRow, months: list[dt.date]) -> dict[str, Any]:
    return {
        "area": row.area,
        "cells": [
            {"month": month, "score": score, "text": score_text(score)}
            for month, score in zip(months, row.months, strict=True)
        ],
        "overall": {"score": row.overall, "text": score_text(row.overall)},
    }


@_watchers_only
def satisfaction_view(request: HttpRequest) -> HttpResponse:
    """Per area and month: the mean satisfaction of the closed requests and how many were
    rated; a line chart of the means, a bar chart of the scores, the table with totals."""
    ctx = _summary(request)
    summary = ctx["summary"]
    rated = summary.total.overall.count
    query = request.GET.copy()
    query.pop("format", None)
    return render(
        request,
        "services/satisfaction.html",
        {
            **ctx,
            "month_choices": MONTH_CHOICES,
            "rows": [_table_row(row, summary.months) for row in summary.rows],
            "total": _table_row(summary.total, summary.months),
            "distribution": [(score, summary.distribution.get(score, 0)) for score in SCORES],
            "rated": rated,
            "chart": _chart(summary) if rated else None,
            "export_query": query.urlencode(),
            "today": _today(),
        },
    )


# --- export ------------------------------------------------------------------------------


def _export(
    summary: selectors.SatisfactionSummary,
) -> tuple[list[str], Iterator[list[Any]]]:
    headers = [_("Area code"), _("Area")]
    for month in summary.months:
        label = f"{month:%Y-%m}"
        headers += [
            _("%(month)s average") % {"month": label},
            _("%(month)s rated") % {"month": label},
        ]
    headers += [_("Period average"), _("Period rated")]

    def cells(row: selectors.SatisfactionRow) -> list[Any]:
        values: list[Any] = []
        for score in [*row.months, row.overall]:
            values += [score.average, score.count]
        return values

    def rows() -> Iterator[list[Any]]:
        for row in summary.rows:
            yield [row.area.code, row.area.name, *cells(row)]
        yield ["", _("Total"), *cells(summary.total)]

    return headers, rows()


@_watchers_only
def satisfaction_export(request: HttpRequest) -> HttpResponse:
    """The satisfaction table (areas × months, with the total row) as CSV or XLSX: the same
    scope, period and area as the page."""
    ctx = _summary(request)
    headers, cells = _export(ctx["summary"])
    name = f"satisfaction-{_today():%Y-%m}-{ctx['months']}m"
    if ctx["area"] is not None:
        name += f"-{ctx['area'].code}"
    if request.GET.get("format") == "xlsx":
        response = HttpResponse(
            io.write_xlsx(cells, headers, title=_("Satisfaction")),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = content_disposition_header(True, f"{name}.xlsx")
        return response
    response = StreamingHttpResponse(
        io.write_csv(cells, headers), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = content_disposition_header(True, f"{name}.csv")
    return response
