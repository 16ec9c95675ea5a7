"""Scheme administration (administrators only): the versions with the active one on top, a
draft's edit form with a preview, activation, copies, deletion of drafts, and the peak-month
flags. The services decide what is allowed and valid; the views read forms, call them and put
their refusals on the fields.

The preview grades the latest graded month with the draft's values as posted (not saved) and
sets the result beside the month's stored grades: a dry `grading_compute` with an unsaved
`GradingScheme`, so nothing is written.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from crm.choices import AuditSource
from crm.exceptions import DomainError
from crm.job_views import SchemeActions
from crm.services import Actor
from crm.views import administrators_only, form_domain_error, is_htmx
from customers.choices import BusinessScale, MarketType
from grading import computations, selectors, services
from grading.choices import SchemeKind, SchemeStatus, StructureMetric
from grading.forms import (
    WEIGHT_LABELS,
    WEIGHTS,
    PeakMonthForm,
    SchemeCreateForm,
    SchemeForm,
    band_labels,
    plain_number,
)
from grading.models import GradingScheme

PAGE_SIZE = 25


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


# --- list ---------------------------------------------------------------------------------


def _render_list(
    request: HttpRequest,
    *,
    create_form: SchemeCreateForm | None = None,
    peak_form: PeakMonthForm | None = None,
) -> HttpResponse:
    versions = selectors.scheme_list()
    active = versions.filter(status=SchemeStatus.ACTIVE).first()
    page = Paginator(versions.exclude(status=SchemeStatus.ACTIVE), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "grading/scheme_list.html",
        {
            "active": active,
            "versions": page.object_list,
            "page_obj": page,
            "paginator": page.paginator,
            "is_paginated": page.has_other_pages(),
            "create_form": create_form or SchemeCreateForm(),
            "peak_form": peak_form or PeakMonthForm(),
            "peak_months": list(selectors.peak_month_list()),
            "query_string": "",
        },
    )


@administrators_only
def scheme_list(request: HttpRequest) -> HttpResponse:
    """The versions, the peak months, and (POST) a new draft of a kind with the defaults."""
    form = SchemeCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            scheme = services.scheme_create_draft(
                kind=form.cleaned_data["kind"],
                name=form.cleaned_data["name"],
                actor=_actor(request),
            )
        except DomainError as exc:
            form_domain_error(form, exc)
        else:
            messages.success(
                request,
                _("Draft version %(v)d was created with the default rules.")
                % {"v": scheme.version},
            )
            return redirect("grading:scheme", scheme.pk)
    return _render_list(request, create_form=form)


# --- one version --------------------------------------------------------------------------


def _scheme_form(scheme: GradingScheme, data=None) -> SchemeForm:
    initial = SchemeForm.initial_for(
        name=scheme.name, note=scheme.note, parameters=scheme.parameters
    )
    return SchemeForm(data=data, initial=initial, kind=scheme.kind)


def _read_form(form: SchemeForm) -> dict[str, Any] | None:
    """The posted parameters, validated by the rules without saving; None (with the
    messages on the form) when they are not valid."""
    parsed = form.is_valid()
    try:
        clean = computations.validate_parameters(form.kind, form.parameters())
    except DomainError as exc:
        form.add_service_errors(exc.errors, skip_fields_in_error=True)
        return None
    return clean if parsed else None


def _render_detail(
    request: HttpRequest,
    scheme: GradingScheme,
    *,
    form: SchemeForm | None = None,
    preview: dict[str, Any] | None = None,
    previewing: bool = False,
    template: str = "grading/scheme_detail.html",
) -> HttpResponse:
    is_draft = scheme.status == SchemeStatus.DRAFT
    active = selectors.scheme_active_or_none()
    return render(
        request,
        template,
        {
            "scheme": scheme,
            "is_draft": is_draft,
            "active": active,
            "shown": scheme_display(scheme),
            "form": (form or _scheme_form(scheme)) if is_draft else None,
            "preview": preview,
            "previewing": previewing,
        },
    )


def _refuse_unless_draft(request: HttpRequest, scheme: GradingScheme) -> HttpResponse | None:
    if scheme.status == SchemeStatus.DRAFT:
        return None
    # The service refuses too (it locks the row and checks again); this says so before
    # reading a form the page does not show for active and retired versions.
    messages.error(
        request,
        _("Version %(v)d is no longer a draft: copy it to change the rules.")
        % {"v": scheme.version},
    )
    return redirect("grading:scheme", scheme.pk)


@administrators_only
def scheme_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A version's rules; a draft's edit form (POST saves through `scheme_update_draft`)."""
    scheme = selectors.scheme_get(pk=pk)
    if request.method != "POST":
        return _render_detail(request, scheme)
    if refused := _refuse_unless_draft(request, scheme):
        return refused
    form = _scheme_form(scheme, data=request.POST)
    if form.is_valid():
        try:
            services.scheme_update_draft(
                scheme=scheme,
                name=form.cleaned_data["name"],
                parameters=form.parameters(),
                note=form.cleaned_data["note"],
                actor=_actor(request),
            )
        except DomainError as exc:
            form.add_service_errors(exc.errors)
            if "name" in exc.errors:
                # The name is checked before the parameters: say what the rules think of them.
                _read_form(form)
        else:
            messages.success(request, _("The draft was saved."))
            return redirect("grading:scheme", scheme.pk)
    else:
        # Say at once what the rules think of the values that could be read.
        _read_form(form)
    return _render_detail(request, scheme, form=form)


@administrators_only
@require_POST
def scheme_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The preview: a draft's values as posted (unsaved), or an active or retired version's
    stored rules. htmx gets the editor (draft) or the preview card; otherwise the page."""
    scheme = selectors.scheme_get(pk=pk)
    form = None
    if scheme.status == SchemeStatus.DRAFT:
        form = _scheme_form(scheme, data=request.POST)
        parameters = _read_form(form)
    else:
        parameters = scheme.parameters
    preview = None
    if parameters is not None:
        preview = services.scheme_preview(scheme=scheme, parameters=parameters)
    if is_htmx(request):
        part = "scheme_editor" if form is not None else "scheme_preview"
        template = f"grading/inc/{part}.html"
        return _render_detail(
            request, scheme, form=form, preview=preview, previewing=True, template=template
        )
    return _render_detail(request, scheme, form=form, preview=preview, previewing=True)


_ACTIONS = SchemeActions(
    namespace="grading",
    services=services,
    selectors=selectors,
    retired=gettext_lazy(
        "Version %(v)d is active; version %(old)d is retired. Months already graded "
        "keep their results until they are recomputed."
    ),
)


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
    return _render_list(request, peak_form=form)


@administrators_only
@require_POST
def peak_month_delete(request: HttpRequest, pk: int) -> HttpResponse:
    peak = get_object_or_404(selectors.peak_month_list(), pk=pk)
    services.peak_month_unflag(peak=peak, actor=_actor(request))
    messages.success(request, _("%(m)s is no longer a peak month.") % {"m": f"{peak.month:%Y-%m}"})
    return redirect("grading:schemes")


urlpatterns = [
    path("schemes/", scheme_list, name="schemes"),
    path("schemes/<int:pk>/", scheme_detail, name="scheme"),
    path("schemes/<int:pk>/preview/", scheme_preview, name="scheme_preview"),
    *_ACTIONS.urlpatterns(),
    path("peak-months/add/", peak_month_add, name="peak_month_add"),
    path("peak-months/<int:pk>/delete/", peak_month_delete, name="peak_month_delete"),
]
