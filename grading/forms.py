"""Forms of the grading pages. They read what was typed (numbers, lists of numbers) into the
shapes the services take; whether the values make sense (thresholds falling, bands adding up
to 100%, weights to 1) is decided by `grading.computations.validate_parameters` through the
services, and `SchemeForm.add_service_errors` puts each refusal back on its field."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm import forms as crm_forms
from crm.forms import NumberField, parse_number, plain_number
from customers.choices import BusinessScale, MarketType
from grading.choices import SchemeKind, StructureMetric
from grading.computations import MARKETS, SCALES

WEIGHTS: tuple[str, ...] = ("quantity", "amount", "structure", "assessment")
WEIGHT_LABELS = {
    "quantity": gettext_lazy("Quantity"),
    "amount": gettext_lazy("Amount"),
    "structure": gettext_lazy("Structure"),
    "assessment": gettext_lazy("Account manager's assessment"),
}
INITIAL_SIZES: tuple[str, ...] = ("up_to", "above")
# Commas (also the full-width ones of Chinese keyboards), semicolons or spaces separate values.
_SEPARATORS = re.compile(r"[,，;；、\s]+")


def number_list_text(values: Any) -> str:
    """A list of numbers as the comma-separated text the form shows."""
    if not isinstance(values, list):
        return ""
    return ", ".join(str(plain_number(v)) for v in values)


class NumberListField(forms.CharField):
    """ "1500, 1000, 500" → [1500, 1000, 500]. Only checks that each entry is a number."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        # No numeric keypad: phones offer no comma on it.
        self.widget.attrs.update({"class": "form-control", "autocomplete": "off"})

    def to_python(self, value: Any) -> list[int | float]:
        text = super().to_python(value)
        numbers: list[int | float] = []
        for item in filter(None, _SEPARATORS.split(text.strip())):
            try:
                numbers.append(parse_number(item))
            except ValueError:
                raise ValidationError(
                    _("“%(value)s” is not a number. Separate the numbers with commas."),
                    code="invalid",
                    params={"value": item},
                ) from None
        return numbers


def band_labels(bands: list[float]) -> list[str]:
    """Column labels of the structure matrix: "≥ 250", "180–250", …, "< 90"."""
    if not bands:
        return [_("any price")]
    labels = [f"≥ {plain_number(bands[0])}"]
    pairs = zip(bands, bands[1:], strict=False)
    labels += [f"{plain_number(lo)}–{plain_number(hi)}" for hi, lo in pairs]
    labels.append(f"< {plain_number(bands[-1])}")
    return labels


class SchemeForm(crm_forms.SchemeForm):
    """A draft's name, note and parameters, shaped for its kind. Bound data is only parsed:
    `parameters()` gives the dict for `scheme_update_draft` / the preview, and the service's
    `DomainError` paths come back through `add_service_errors`."""

    window_months = NumberField(
        label=gettext_lazy("Reference window (months)"),
        integer=True,
        help_text=gettext_lazy("The full calendar months before the grade month, 1 to 12."),
    )
    exclude_peak_months = forms.BooleanField(
        label=gettext_lazy("Leave peak months out of the window"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
    initial_floor_area_m2 = NumberField(
        label=gettext_lazy("Floor area limit (m²)"),
        help_text=gettext_lazy("An unknown floor area counts as the smaller kind of shop."),
    )
    price_bands = NumberListField(
        label=gettext_lazy("Price bands (CNY per carton, from)"),
        help_text=gettext_lazy("Falling, above 0, e.g. 250, 180, 130, 90."),
    )

    def __init__(self, *args: Any, kind: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        if kind == SchemeKind.THRESHOLDS:
            self.fields["thresholds"] = NumberListField(
                label=_("Thresholds (cartons per month, from)"),
                help_text=_("Grade 1 first, falling strictly, the last one 0."),
            )
        elif kind == SchemeKind.MATRIX:
            self.fields["volume"] = NumberListField(
                label=_("Volume segments (cartons per month, from)"),
                help_text=_("Falling strictly, the last one 0."),
            )
            self.fields["price"] = NumberListField(
                label=_("Price intervals (CNY per carton, from)"),
                help_text=_("Falling strictly, the last one 0."),
            )
        else:
            for name in WEIGHTS:
                self.fields[f"weight_{name}"] = NumberField(label=WEIGHT_LABELS[name])
            self.fields["structure_metric"] = forms.ChoiceField(
                label=_("Structure measure"),
                choices=StructureMetric.choices,
                widget=forms.Select(attrs={"class": "form-select"}),
            )
            self.fields["bands"] = NumberListField(
                label=_("Bands (percent of customers per grade)"),
                help_text=_("Grade 1 first; they must add up to 100."),
            )
        for market in MARKETS:
            for size in INITIAL_SIZES:
                self.fields[f"initial_{market}_{size}"] = NumberField(
                    label=_("%(market)s, %(size)s")
                    % {
                        "market": MarketType(market).label,
                        "size": _("up to the limit") if size == "up_to" else _("above it"),
                    },
                    integer=True,
                )
        for size in SCALES:
            self.fields[f"scale_{size}"] = NumberField(
                label=_("%(scale)s (%%)") % {"scale": BusinessScale(size).label}
            )
        for size in SCALES:
            for column in range(self.structure_columns):
                self.fields[f"structure_{size}_{column}"] = NumberField(
                    label=_("Class: %(scale)s, %(band)s")
                    % {"scale": BusinessScale(size).label, "band": self.column_labels[column]},
                    integer=True,
                )

    # --- layout -------------------------------------------------------------------------

    @property
    def price_band_values(self) -> list[int | float] | None:
        """The price bands as posted (or, unbound, as saved); None when unreadable."""
        text = self.data.get("price_bands") if self.is_bound else self.initial.get("price_bands")
        try:
            return self.fields["price_bands"].clean(text or "")
        except ValidationError:
            return None

    @property
    def column_labels(self) -> list[str]:
        values = self.price_band_values
        labels = band_labels(values or [])
        # Unreadable bands: number the columns rather than label them.
        return labels if values is not None else [str(c + 1) for c in range(self.structure_columns)]

    @property
    def structure_columns(self) -> int:
        """One class per price band plus one below the lowest band: the grid follows the
        bands as posted, so adding a band adds a column to fill in."""
        values = self.price_band_values
        if values is None:  # keep the grid as posted until the bands can be read
            size = SCALES[0]
            return max(1, sum(1 for key in self.data if key.startswith(f"structure_{size}_")))
        return min(len(values) + 1, 12)

    def structure_rows(self) -> list[dict[str, Any]]:
        """The structure grid for the template: one row per business scale."""
        return [
            {
                "scale": size,
                "label": BusinessScale(size).label,
                "cells": [self[f"structure_{size}_{c}"] for c in range(self.structure_columns)],
                "errors": self.group_errors.get(f"structure.matrix.{size}", []),
            }
            for size in SCALES
        ]

    def initial_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "market": MarketType(market).label,
                "cells": [self[f"initial_{market}_{size}"] for size in INITIAL_SIZES],
            }
            for market in MARKETS
        ]

    def weight_fields(self) -> list[forms.BoundField]:
        return [self[f"weight_{name}"] for name in WEIGHTS if f"weight_{name}" in self.fields]

    def scale_fields(self) -> list[forms.BoundField]:
        return [self[f"scale_{size}"] for size in SCALES]

    # --- values ---------------------------------------------------------------------------

    @classmethod
    def initial_for(cls, *, name: str, note: str, parameters: Mapping[str, Any]) -> dict:
        """The form's initial values from a scheme's stored parameters."""
        p = parameters
        grades = p.get("grades", {})
        initial: dict[str, Any] = {
            "name": name,
            "note": note,
            "window_months": p.get("window", {}).get("months"),
            "exclude_peak_months": p.get("window", {}).get("exclude_peak_months", True),
            "initial_floor_area_m2": plain_number(p.get("initial", {}).get("floor_area_m2")),
            "price_bands": number_list_text(p.get("structure", {}).get("price_bands")),
            "thresholds": number_list_text(grades.get("thresholds")),
            "volume": number_list_text(grades.get("volume")),
            "price": number_list_text(grades.get("price")),
            "bands": number_list_text(grades.get("bands")),
            "structure_metric": grades.get("structure_metric"),
        }
        for name_ in WEIGHTS:
            initial[f"weight_{name_}"] = plain_number((grades.get("weights") or {}).get(name_))
        for market in MARKETS:
            for size in INITIAL_SIZES:
                row = (p.get("initial", {}).get("grades") or {}).get(market) or {}
                initial[f"initial_{market}_{size}"] = row.get(size)
        for size in SCALES:
            initial[f"scale_{size}"] = plain_number(p.get("scale", {}).get(size))
            row = (p.get("structure", {}).get("matrix") or {}).get(size) or []
            for column, value in enumerate(row):
                initial[f"structure_{size}_{column}"] = value
        return initial

    def parameters(self) -> dict[str, Any]:
        """The parameters dict the services take, from the cleaned data (call after
        `is_valid()`); what could not be read is None and the service names it."""
        data = self.cleaned_data
        if self.kind == SchemeKind.THRESHOLDS:
            grades: dict[str, Any] = {"thresholds": data.get("thresholds")}
        elif self.kind == SchemeKind.MATRIX:
            grades = {"volume": data.get("volume"), "price": data.get("price")}
        else:
            grades = {
                "weights": {name: data.get(f"weight_{name}") for name in WEIGHTS},
                "structure_metric": data.get("structure_metric"),
                "bands": data.get("bands"),
            }
        return {
            "window": {
                "months": data.get("window_months"),
                "exclude_peak_months": bool(data.get("exclude_peak_months")),
            },
            "grades": grades,
            "initial": {
                "floor_area_m2": data.get("initial_floor_area_m2"),
                "grades": {
                    market: {size: data.get(f"initial_{market}_{size}") for size in INITIAL_SIZES}
                    for market in MARKETS
                },
            },
            "scale": {size: data.get(f"scale_{size}") for size in SCALES},
            "structure": {
                "price_bands": data.get("price_bands"),
                "matrix": {
                    size: [data.get(f"structure_{size}_{c}") for c in range(self.structure_columns)]
                    for size in SCALES
                },
            },
        }

    # --- errors from the service --------------------------------------------------------

    def error_place(self, path: str) -> str | None:
        """The form field (or group of fields) a parameter path such as `grades.thresholds.3`
        or `initial.grades.C.up_to` belongs to; None for the form as a whole."""
        parts = path.split(".")
        head = parts[0]
        if head in ("name", "note"):
            return head
        if path == "window.months":
            return "window_months"
        if head == "grades":
            if len(parts) == 1:  # too many grades: the list that makes them
                return {"thresholds": "thresholds", "matrix": "volume"}.get(self.kind, "bands")
            if parts[1] == "weights":
                return f"weight_{parts[2]}" if len(parts) > 2 else "weights"
            return parts[1] if parts[1] in self.fields else None
        if head == "initial":
            if len(parts) >= 2 and parts[1] == "floor_area_m2":
                return "initial_floor_area_m2"
            if len(parts) == 4:
                return f"initial_{parts[2]}_{parts[3]}"
            return "initial"
        if head == "scale":
            if len(parts) == 2 and parts[1].isdigit() and int(parts[1]) < len(SCALES):
                return f"scale_{SCALES[int(parts[1])]}"
            return "scale"
        if head == "structure":
            if len(parts) >= 2 and parts[1] == "price_bands":
                return "price_bands"
            if len(parts) >= 3 and parts[1] == "matrix":
                return f"structure.matrix.{parts[2]}"
        return None


class SchemeCreateForm(forms.Form):
    """A new draft: its kind and name (the parameters start from the brief's defaults)."""

    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"),
        choices=SchemeKind.choices,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )


class MonthInput(forms.DateInput):
    input_type = "month"

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, dt.date):
            return f"{value:%Y-%m}"
        return value


class PeakMonthForm(forms.Form):
    """A month to flag as peak season (`<input type=month>` gives "2026-02") and why."""

    month = forms.DateField(
        label=gettext_lazy("Month"),
        input_formats=["%Y-%m", "%Y-%m-%d"],
        widget=MonthInput(attrs={"class": "form-control"}),
    )
    label = forms.CharField(
        label=gettext_lazy("Label"),
        max_length=100,
        widget=forms.TextInput(
            attrs={"class": "form-control", "placeholder": gettext_lazy("e.g. Spring Festival")}
        ),
    )

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field if field in (None, *self.fields) else None, error)
