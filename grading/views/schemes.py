"""Grading's own parts of the scheme pages (the engine's `crm.monthly_views` serves the list,
a version's page and its actions): the readable rules of a version, the preview and the
peak-month flags.

The preview grades the latest graded month with the draft's values as posted (not saved) and
sets the result beside the month's stored grades: a dry `grading_compute` with an unsaved
`GradingScheme`, so nothing is written.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm import monthly, versioning
from crm.choices import AuditSource
from crm.exceptions import DomainError
from crm.monthly_views import MonthlyPages
from crm.services import Actor
from crm.views import administrators_only, form_domain_error, is_htmx
from customers.choices import BusinessScale, MarketType
from grading import computations, selectors, services
from grading.choices import SchemeKind, SchemeStatus, StructureMetric
from grading.forms import (
    WEIGHT_LABELS,
    WEIGHTS,
    PeakMonthForm,
    band_labels,
    plain_number,
)
from grading.models import GradingScheme


def _actor(request: HttpRequest) -> Actor:
    return Actor.of(request.user, AuditSource.PAGE)


# --- readable parameters ------------------------------------------------------------------


def _ranges(falling: list[float]) -> list[str]:
    """Labels of the ranges a list falling to 0 cuts: "≥ 1500", "1000–1500", …, "< 50"."""
    labels = []
    for i, start in enumerate(falling):
        if i == 0:
            labels.append(f"≥ {plain_number(start)}")
        elif start == 0:
            labels.append(f"< {plain_number(falling[i - 1])}")
        else:
            labels.append(f"{plain_number(start)}–{plain_number(falling[i - 1])}")
    return labels


def scheme_display(scheme: GradingScheme) -> dict[str, Any]:
    """Every parameter of `scheme` in the shapes the readable page shows."""
    p = scheme.parameters
    grades = p["grades"]
    shown: dict[str, Any] = {
        "kind": scheme.kind,
        "kind_label": SchemeKind(scheme.kind).label,
        "grade_count": scheme.grade_count,
        "window": p["window"],
    }
    if scheme.kind == SchemeKind.THRESHOLDS:
        shown["thresholds"] = [
            {"grade": i + 1, "range": label, "from": plain_number(value)}
            for i, (value, label) in enumerate(
                zip(grades["thresholds"], _ranges(grades["thresholds"]), strict=True)
            )
        ]
    elif scheme.kind == SchemeKind.MATRIX:
        price = grades["price"]
        shown["matrix"] = {
            "price_labels": _ranges(price),
            "rows": [
                {
                    "label": label,
                    "grades": [1 + segment * len(price) + k for k in range(len(price))],
                }
                for segment, label in enumerate(_ranges(grades["volume"]))
            ],
        }
    else:
        cumulative = 0.0
        bands = []
        for i, share in enumerate(grades["bands"]):
            cumulative += share
            bands.append(
                {"grade": i + 1, "share": plain_number(share), "top": plain_number(cumulative)}
            )
        shown["score"] = {
            "weights": [
                {
                    "label": WEIGHT_LABELS[name],
                    "weight": plain_number(grades["weights"][name]),
                    "percent": plain_number(round(grades["weights"][name] * 100, 4)),
                }
                for name in WEIGHTS
            ],
            "metric": StructureMetric(grades["structure_metric"]).label,
            "bands": bands,
        }
    initial = p["initial"]
    shown["initial"] = {
        "floor_area_m2": plain_number(initial["floor_area_m2"]),
        "rows": [
            {
                "market": MarketType(market).label,
                "up_to": initial["grades"][market]["up_to"],
                "above": initial["grades"][market]["above"],
            }
            for market in computations.MARKETS
        ],
    }
    shown["scale"] = [
        {"label": BusinessScale(size).label, "percent": plain_number(p["scale"][size])}
        for size in computations.SCALES
    ]
    shown["structure"] = {
        "labels": band_labels(p["structure"]["price_bands"]),
        "rows": [
            {"label": BusinessScale(size).label, "classes": p["structure"]["matrix"][size]}
            for size in computations.SCALES
        ],
    }
    return shown


# --- the preview ------------------------------------------------------------------------


def _pages() -> MonthlyPages:
    return MonthlyPages(monthly.rules_for("grading"))


@administrators_only
@require_POST
def scheme_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The preview: a draft's values as posted (unsaved), or an active or retired version's
    stored rules. htmx gets the editor (draft) or the preview card; otherwise the page."""
    pages = _pages()
    scheme = versioning.scheme_get(GradingScheme, pk=pk)
    form = None
    if scheme.status == SchemeStatus.DRAFT:
        form = pages.rules.scheme_form(scheme, request.POST)
        parameters = pages.read_form(scheme, form)
    else:
        parameters = scheme.parameters
    preview = None
    if parameters is not None:
        preview = services.scheme_preview(scheme=scheme, parameters=parameters)
    extra: dict[str, Any] = {"preview": preview, "previewing": True}
    if is_htmx(request):
        part = "scheme_editor" if form is not None else "scheme_preview"
        extra["template"] = f"grading/inc/{part}.html"
    return pages.render_scheme(request, scheme, form=form, **extra)


def scheme_list_context() -> dict[str, Any]:
    """What the schemes page's peak-months card shows."""
    return {"peak_form": PeakMonthForm(), "peak_months": list(selectors.peak_month_list())}


# --- peak months --------------------------------------------------------------------------


@administrators_only
@require_POST
def peak_month_add(request: HttpRequest) -> HttpResponse:
    form = PeakMonthForm(request.POST)
    if form.is_valid():
        try:
            peak = services.peak_month_flag(
                month=form.cleaned_data["month"],
                label=form.cleaned_data["label"],
                actor=_actor(request),
            )
        except DomainError as exc:
            form_domain_error(form, exc)
        else:
            messages.success(
                request,
                _("%(m)s is flagged as a peak month.") % {"m": f"{peak.month:%Y-%m}"},
            )
            return redirect("grading:schemes")
    return _pages().render_scheme_list(request, peak_form=form)


@administrators_only
@require_POST
def peak_month_delete(request: HttpRequest, pk: int) -> HttpResponse:
    peak = get_object_or_404(selectors.peak_month_list(), pk=pk)
    services.peak_month_unflag(peak=peak, actor=_actor(request))
    messages.success(request, _("%(m)s is no longer a peak month.") % {"m": f"{peak.month:%Y-%m}"})
    return redirect("grading:schemes")


urlpatterns = [
    path("schemes/<int:pk>/preview/", scheme_preview, name="scheme_preview"),
    path("peak-months/add/", peak_month_add, name="peak_month_add"),
    path("peak-months/<int:pk>/delete/", peak_month_delete, name="peak_month_delete"),
]
