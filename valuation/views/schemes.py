"""Valuation scheme administration (administrators only): the versions with the active one on
top, a draft's edit form covering every parameter, activation, copies and deletion of
drafts, and a readable table of an active or retired version's rules. The services decide
what is allowed and valid; the views read forms, call them and put their refusals beside the
fields.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.choices import AuditSource, SchemeStatus
from crm.exceptions import DomainError
from crm.job_views import SchemeActions
from crm.services import Actor
from crm.views import administrators_only, form_domain_error
from customers.choices import Cycle
from valuation import computations, services
from valuation.choices import Indicator, PercentileGroup, ScoreMethod
from valuation.forms import (
    FULL_UNITS,
    PLAIN_PARAMETERS,
    SchemeCreateForm,
    SchemeForm,
    answer_label,
    input_label,
    plain_number,
)
from valuation.models import ValuationScheme
from valuation.selectors import schemes as selectors

PAGE_SIZE = 25


def _actor(request: HttpRequest) -> Actor:
    return Actor.of(request.user, AuditSource.PAGE)


# --- readable parameters ------------------------------------------------------------------

_LABELS = {path: (label, help_text) for path, label, _integer, help_text in PLAIN_PARAMETERS}


def _get(parameters: dict[str, Any], dotted: str) -> Any:
    value: Any = parameters
    for key in dotted.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _rows(parameters: dict[str, Any], *paths: str) -> list[dict[str, Any]]:
    return [
        {
            "path": p,
            "label": _LABELS[p][0],
            "value": plain_number(_get(parameters, p)),
            "help": _LABELS[p][1],
        }
        for p in paths
    ]


def _choice_label(choices, value: Any) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def scheme_display(scheme: ValuationScheme) -> dict[str, Any]:
    """Every parameter of `scheme` in the shapes the readable page shows: labelled rows, the
    inputs by indicator, the value formulas and the tier cut-offs."""
    p = scheme.parameters
    values = p.get("values") or {}
    inputs = p.get("inputs") or {}
    indicators = []
    for indicator in computations.INDICATORS:
        value_name = "current" if indicator in computations.CURRENT else "potential"
        rows = []
        for name, feeds in computations.INPUTS.items():
            if feeds != indicator:
                continue
            spec = inputs.get(name) or {}
            method = spec.get("method")
            rows.append(
                {
                    "name": name,
                    "label": input_label(name),
                    "weight": plain_number(spec.get("weight")),
                    "method": _choice_label(ScoreMethod, method),
                    "full": plain_number(spec.get("full")) if method == ScoreMethod.SCALE else None,
                    "unit": FULL_UNITS.get(name, ""),
                    # In the answers' own order: a jsonb column does not keep the keys' order.
                    "points": [
                        (answer_label(name, answer), plain_number(spec["points"][answer]))
                        for answer in computations.ANSWERS.get(name, ())
                        if answer in (spec.get("points") or {})
                    ]
                    if method == ScoreMethod.POINTS
                    else [],
                }
            )
        indicators.append(
            {
                "indicator": indicator,
                "label": Indicator(indicator).label,
                "value_name": value_name,
                "value_weight": plain_number((values.get(value_name) or {}).get(indicator)),
                "inputs": rows,
            }
        )

    def formula(value_name: str, names: tuple[str, ...]) -> list[dict[str, Any]]:
        weights = values.get(value_name) or {}
        return [
            {"label": Indicator(n).label, "weight": plain_number(weights.get(n))} for n in names
        ]

    tiers = p.get("tiers") or {}
    return {
        "windows": [
            *_rows(p, "window.months", "growth.months", "growth.min_months"),
            {
                "path": "group_by",
                "label": _("Percentiles among"),
                "value": _choice_label(PercentileGroup, p.get("group_by")),
                "help": "",
            },
            *_rows(p, "neutral_score"),
        ],
        "indicators": indicators,
        "credit": _rows(p, "credit.violation_penalty", "credit.violation_months"),
        "current": formula("current", computations.CURRENT),
        "potential": formula("potential", computations.POTENTIAL),
        "current_from": plain_number(tiers.get("current_from")),
        "potential_from": plain_number(tiers.get("potential_from")),
        "lists": _rows(p, "problem.credit_below", "problem.violation_months", "core.top_percent"),
        "warnings": [
            *_rows(p, "warnings.no_order_cycles"),
            {
                "path": "warnings.default_order_cycle",
                "label": _("Order cycle when unknown"),
                "value": _choice_label(Cycle, _get(p, "warnings.default_order_cycle")),
                "help": "",
            },
            *_rows(p, "warnings.drop_months", "warnings.drop_percent", "warnings.downgrade_steps"),
        ],
    }


# --- list ---------------------------------------------------------------------------------


@administrators_only
def scheme_list(request: HttpRequest) -> HttpResponse:
    """The versions (the active one on top, the others paginated) and (POST) a new draft
    with the brief's defaults."""
    form = SchemeCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            scheme = services.scheme_create_draft(
                name=form.cleaned_data["name"], actor=_actor(request)
            )
        except DomainError as exc:
            form_domain_error(form, exc)
        else:
            messages.success(
                request,
                _("Draft version %(v)d was created with the default rules.")
                % {"v": scheme.version},
            )
            return redirect("valuation:scheme", scheme.pk)
    versions = selectors.scheme_list()
    active = versions.filter(status=SchemeStatus.ACTIVE).first()
    page = Paginator(versions.exclude(status=SchemeStatus.ACTIVE), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "valuation/scheme_list.html",
        {
            "tab": "schemes",
            "active": active,
            "versions": page.object_list,
            "page_obj": page,
            "paginator": page.paginator,
            "is_paginated": page.has_other_pages(),
            "create_form": form,
            "query_string": "",
        },
    )


# --- one version --------------------------------------------------------------------------


def _scheme_form(scheme: ValuationScheme, data=None) -> SchemeForm:
    initial = SchemeForm.initial_for(
        name=scheme.name, note=scheme.note, parameters=scheme.parameters
    )
    return SchemeForm(data=data, initial=initial)


def _check_form(form: SchemeForm) -> None:
    """Puts the rules' verdict on the values that could be read beside their fields."""
    try:
        computations.validate_parameters(form.parameters())
    except DomainError as exc:
        form.add_service_errors(exc.errors, skip_fields_in_error=True)


def _render_detail(
    request: HttpRequest, scheme: ValuationScheme, *, form: SchemeForm | None = None
) -> HttpResponse:
    is_draft = scheme.status == SchemeStatus.DRAFT
    return render(
        request,
        "valuation/scheme_detail.html",
        {
            "tab": "schemes",
            "scheme": scheme,
            "is_draft": is_draft,
            "active": selectors.scheme_active_or_none(),
            "shown": None if is_draft else scheme_display(scheme),
            "form": (form or _scheme_form(scheme)) if is_draft else None,
        },
    )


@administrators_only
def scheme_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A version's rules; a draft's edit form (POST saves through `scheme_update_draft`)."""
    scheme = selectors.scheme_get(pk=pk)
    if request.method != "POST":
        return _render_detail(request, scheme)
    if scheme.status != SchemeStatus.DRAFT:
        # The service refuses too (it locks the row and checks again); this says so before
        # reading a form the page does not show for active and retired versions.
        messages.error(
            request,
            _("Version %(v)d is no longer a draft: copy it to change the rules.")
            % {"v": scheme.version},
        )
        return redirect("valuation:scheme", scheme.pk)
    form = _scheme_form(scheme, data=request.POST)
    if not form.is_valid():
        _check_form(form)
        return _render_detail(request, scheme, form=form)
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
            _check_form(form)
        return _render_detail(request, scheme, form=form)
    messages.success(request, _("The draft was saved."))
    return redirect("valuation:scheme", scheme.pk)


_ACTIONS = SchemeActions(
    namespace="valuation",
    services=services,
    selectors=selectors,
    retired=gettext_lazy(
        "Version %(v)d is active; version %(old)d is retired. Months already valued "
        "keep their results until they are recomputed."
    ),
)


urlpatterns = [
    path("schemes/", scheme_list, name="schemes"),
    path("schemes/<int:pk>/", scheme_detail, name="scheme"),
    *_ACTIONS.urlpatterns(),
]
