"""Valuation's own part of the scheme pages (the engine's `crm.monthly_views` serves the list,
a version's page with its edit form, and its actions): the readable table of a version's
rules."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from customers.choices import Cycle
from valuation import computations
from valuation.choices import Indicator, PercentileGroup, ScoreMethod
from valuation.forms import (
    FULL_UNITS,
    PLAIN_PARAMETERS,
    answer_label,
    input_label,
    plain_number,
)
from valuation.models import ValuationScheme

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
