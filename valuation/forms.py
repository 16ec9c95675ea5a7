"""Forms of the valuation pages. The scheme form reads what was typed into the parameters dict
the services take; whether the values make sense (weights adding up to 1, cut-offs within
0-100, a method the input allows) is decided by `valuation.computations.validate_parameters`
through the services, and `SchemeForm.add_service_errors` puts each refusal back beside its
field.

Each parameter has one form field, named after its path with "_" for ".": the path
`inputs.on_time_rate.full` is the field `inputs_on_time_rate_full`, so an error key of the
rules finds its field without a table of names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm import forms as crm_forms
from crm.forms import NumberField, plain_number
from customers.choices import Cycle, OutletSize, TradeArea
from valuation.choices import Indicator, PercentileGroup, ScoreMethod
from valuation.computations import ANSWERS, CURRENT, INDICATORS, INPUTS, POTENTIAL
from valuation.models import ValueResult

# What the "full value" of each measured input is counted in (a scale input scores 100 at it).
FULL_UNITS: dict[str, Any] = {
    "avg_amount": gettext_lazy("CNY per month"),
    "key_brand_share": gettext_lazy("share of the cartons, 1 = all of them"),
    "new_product_share": gettext_lazy("share of the cartons, 1 = all of them"),
    "display_compliance": gettext_lazy("share of the display answers, 1 = all of them yes"),
    "e_settlement_rate": gettext_lazy("share of the amount, 1 = all of it"),
    "on_time_rate": gettext_lazy("share of the orders, 1 = all of them"),
    "amount_trend": gettext_lazy("change per month as a share of the average, 0.05 = 5 percent"),
    "tenure_months": gettext_lazy("months as a customer"),
}
NUMERIC_METHODS = [
    (ScoreMethod.PERCENTILE.value, ScoreMethod.PERCENTILE.label),
    (ScoreMethod.SCALE.value, ScoreMethod.SCALE.label),
]


def _number(**kwargs: Any) -> NumberField:
    """A small number box: the scheme form has dozens of them."""
    return NumberField(css="form-control form-control-sm", **kwargs)


def input_label(name: str) -> str:
    """An input's name as the pages show it: the verbose name of its result column."""
    return capfirst(ValueResult._meta.get_field(name).verbose_name)


def answer_label(name: str, answer: str) -> str:
    """The label of an answer of an input scored by points."""
    if name == "outlet_size":
        return str(OutletSize(answer).label)
    if name == "trade_area":
        return str(TradeArea(answer).label)
    return _("Yes") if answer == "yes" else _("No")


def _choice(label: Any, choices: list, **kwargs: Any) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        choices=choices,
        required=False,
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
        **kwargs,
    )


# The plain parameters: (path, label, whole number?, help text).
PLAIN_PARAMETERS: tuple[tuple[str, Any, bool, Any], ...] = (
    ("window.months", gettext_lazy("Window (months)"), True,
     gettext_lazy("Contribution, support and credit read the full months before the valued "
                  "month, 1 to 12.")),
    ("growth.months", gettext_lazy("Growth window (months)"), True,
     gettext_lazy("The amount trend reads these months, 3 to 24.")),
    ("growth.min_months", gettext_lazy("Fewest months for a trend"), True,
     gettext_lazy("With fewer months of trade the trend is missing.")),
    ("neutral_score", gettext_lazy("Neutral score"), False,
     gettext_lazy("The score of an indicator none of whose inputs could be measured, 0 to 100.")),
    ("credit.violation_penalty", gettext_lazy("Points off per violation"), False,
     gettext_lazy("Taken off the credit score for each violation in the credit window.")),
    ("credit.violation_months", gettext_lazy("Credit window (months)"), True,
     gettext_lazy("Violations of these last months lower the credit score.")),
    ("tiers.current_from", gettext_lazy("High current value from"), False,
     gettext_lazy("A current value at or above it is high.")),
    ("tiers.potential_from", gettext_lazy("High potential value from"), False,
     gettext_lazy("A potential value at or above it is high.")),
    ("problem.credit_below", gettext_lazy("Credit score below"), False,
     gettext_lazy("A customer whose credit score is below it is a problem customer.")),
    ("problem.violation_months", gettext_lazy("Violation in the last (months)"), True,
     gettext_lazy("A violation in these last months makes a problem customer; 0 turns the rule "
                  "off.")),
    ("core.top_percent", gettext_lazy("Top share of current value (percent)"), False,
     gettext_lazy("Value customers within this top share of all customers' current value are "
                  "core customers.")),
    ("warnings.no_order_cycles", gettext_lazy("No order in (order cycles)"), True,
     gettext_lazy("Warn when the last order is this many order cycles ago.")),
    ("warnings.drop_months", gettext_lazy("Compare the last (months)"), True,
     gettext_lazy("The amount of these last full months against the same number of months "
                  "before them.")),
    ("warnings.drop_percent", gettext_lazy("Amount down by at least (percent)"), False, ""),
    ("warnings.downgrade_steps", gettext_lazy("Grade down by at least (grades)"), True,
     gettext_lazy("Against the grade of the month before.")),
)  # fmt: skip
VALUE_LABELS = {name: Indicator(name).label for name in INDICATORS}


def field_name(path: str) -> str:
    return path.replace(".", "_")


def _get(parameters: Mapping[str, Any], path: str) -> Any:
    value: Any = parameters
    for key in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


class SchemeForm(crm_forms.SchemeForm):
    """A draft's name, note and every parameter. Bound data is only parsed: `parameters()`
    gives the dict for `scheme_update_draft`, and the rules' `DomainError` paths come back
    through `add_service_errors`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for path, label, integer, help_text in PLAIN_PARAMETERS:
            self.fields[field_name(path)] = _number(
                label=label, integer=integer, help_text=help_text
            )
        self.fields["group_by"] = _choice(
            gettext_lazy("Percentiles among"), list(PercentileGroup.choices)
        )
        self.fields["warnings_default_order_cycle"] = _choice(
            gettext_lazy("Order cycle when unknown"), list(Cycle.choices)
        )
        for name in INPUTS:
            prefix = f"inputs_{name}"
            self.fields[f"{prefix}_weight"] = _number(
                label=_("%(input)s: weight") % {"input": input_label(name)}
            )
            if name in ANSWERS:
                for answer in ANSWERS[name]:
                    self.fields[f"{prefix}_points_{answer}"] = _number(
                        label=_("%(input)s: points for “%(answer)s”")
                        % {"input": input_label(name), "answer": answer_label(name, answer)}
                    )
            else:
                self.fields[f"{prefix}_method"] = _choice(
                    _("%(input)s: method") % {"input": input_label(name)}, NUMERIC_METHODS
                )
                self.fields[f"{prefix}_full"] = _number(
                    label=_("%(input)s: full value") % {"input": input_label(name)},
                    help_text=FULL_UNITS.get(name, ""),
                )
        for value_name, names in (("current", CURRENT), ("potential", POTENTIAL)):
            for indicator in names:
                self.fields[f"values_{value_name}_{indicator}"] = _number(
                    label=VALUE_LABELS[indicator]
                )

    # --- layout ---------------------------------------------------------------------------

    def fields_of(self, *paths: str) -> list[forms.BoundField]:
        return [self[field_name(path)] for path in paths]

    def window_fields(self) -> list[forms.BoundField]:
        return [
            *self.fields_of("window.months", "growth.months", "growth.min_months"),
            self["group_by"],
            self["neutral_score"],
        ]

    def indicator_sections(self) -> list[dict[str, Any]]:
        """The inputs by indicator for the template: each input's weight, and its method and
        full value or its points per answer."""
        sections = []
        for indicator in INDICATORS:
            rows = []
            for name, feeds in INPUTS.items():
                if feeds != indicator:
                    continue
                prefix = f"inputs_{name}"
                points = [
                    {"answer": answer_label(name, a), "field": self[f"{prefix}_points_{a}"]}
                    for a in ANSWERS.get(name, ())
                ]
                rows.append(
                    {
                        "name": name,
                        "label": input_label(name),
                        "weight": self[f"{prefix}_weight"],
                        "method": None if points else self[f"{prefix}_method"],
                        "full": None if points else self[f"{prefix}_full"],
                        "points": points,
                        "errors": [
                            *self.group_errors.get(f"inputs.{name}", []),
                            *self.group_errors.get(f"inputs.{name}.points", []),
                        ],
                    }
                )
            sections.append(
                {
                    "indicator": indicator,
                    "label": Indicator(indicator).label,
                    "inputs": rows,
                    "errors": self.group_errors.get(f"indicators.{indicator}", []),
                }
            )
        return sections

    def value_sections(self) -> list[dict[str, Any]]:
        return [
            {
                "key": value_name,
                "label": label,
                "fields": [self[f"values_{value_name}_{i}"] for i in names],
                "errors": self.group_errors.get(f"values.{value_name}", []),
            }
            for value_name, label, names in (
                ("current", _("Current value"), CURRENT),
                ("potential", _("Potential value"), POTENTIAL),
            )
        ]

    def credit_fields(self) -> list[forms.BoundField]:
        return self.fields_of("credit.violation_penalty", "credit.violation_months")

    def tier_fields(self) -> list[forms.BoundField]:
        return self.fields_of("tiers.current_from", "tiers.potential_from")

    def list_fields(self) -> list[forms.BoundField]:
        return self.fields_of(
            "problem.credit_below", "problem.violation_months", "core.top_percent"
        )

    def warning_fields(self) -> list[forms.BoundField]:
        return [
            *self.fields_of("warnings.no_order_cycles"),
            self["warnings_default_order_cycle"],
            *self.fields_of(
                "warnings.drop_months", "warnings.drop_percent", "warnings.downgrade_steps"
            ),
        ]

    # --- values ---------------------------------------------------------------------------

    @classmethod
    def initial_for(cls, *, name: str, note: str, parameters: Mapping[str, Any]) -> dict:
        """The form's initial values from a scheme's stored parameters."""
        initial: dict[str, Any] = {"name": name, "note": note}
        for path, *_rest in PLAIN_PARAMETERS:
            initial[field_name(path)] = plain_number(_get(parameters, path))
        initial["group_by"] = parameters.get("group_by")
        initial["warnings_default_order_cycle"] = _get(parameters, "warnings.default_order_cycle")
        for input_name in INPUTS:
            spec = _get(parameters, f"inputs.{input_name}") or {}
            prefix = f"inputs_{input_name}"
            initial[f"{prefix}_weight"] = plain_number(spec.get("weight"))
            if input_name in ANSWERS:
                for answer in ANSWERS[input_name]:
                    points = spec.get("points") or {}
                    initial[f"{prefix}_points_{answer}"] = plain_number(points.get(answer))
            else:
                initial[f"{prefix}_method"] = spec.get("method")
                initial[f"{prefix}_full"] = plain_number(spec.get("full"))
        for value_name, names in (("current", CURRENT), ("potential", POTENTIAL)):
            weights = _get(parameters, f"values.{value_name}") or {}
            for indicator in names:
                initial[f"values_{value_name}_{indicator}"] = plain_number(weights.get(indicator))
        return initial

    def parameters(self) -> dict[str, Any]:
        """The parameters dict the services take, from the cleaned data (call after
        `is_valid()`); what could not be read is None, and the rules name it."""
        data = self.cleaned_data
        out: dict[str, Any] = {}

        def put(path: str, value: Any) -> None:
            *parents, last = path.split(".")
            node = out
            for key in parents:
                node = node.setdefault(key, {})
            node[last] = value

        for path, *_rest in PLAIN_PARAMETERS:
            put(path, data.get(field_name(path)))
        put("group_by", data.get("group_by") or None)
        put("warnings.default_order_cycle", data.get("warnings_default_order_cycle") or None)
        for input_name in INPUTS:
            prefix = f"inputs_{input_name}"
            spec: dict[str, Any] = {"weight": data.get(f"{prefix}_weight")}
            if input_name in ANSWERS:
                spec["method"] = ScoreMethod.POINTS.value
                spec["points"] = {
                    answer: data.get(f"{prefix}_points_{answer}") for answer in ANSWERS[input_name]
                }
            else:
                spec["method"] = data.get(f"{prefix}_method") or None
                spec["full"] = data.get(f"{prefix}_full")
            put(f"inputs.{input_name}", spec)
        for value_name, names in (("current", CURRENT), ("potential", POTENTIAL)):
            put(
                f"values.{value_name}",
                {indicator: data.get(f"values_{value_name}_{indicator}") for indicator in names},
            )
        return out

    # --- errors from the service ----------------------------------------------------------

    GROUPS = frozenset(
        {
            *(f"indicators.{indicator}" for indicator in INDICATORS),
            "values.current",
            "values.potential",
            *(f"inputs.{name}" for name in INPUTS),
            *(f"inputs.{name}.points" for name in ANSWERS),
        }
    )

    def error_place(self, path: str) -> str | None:
        """A path with a field of its own goes beside it, a group's path under the group,
        anything else on top of the form."""
        name = field_name(path)
        if name in self.fields:
            return name
        return path if path in self.GROUPS else None


class SchemeCreateForm(forms.Form):
    """A new draft: its name (the parameters start from the brief's defaults)."""

    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
