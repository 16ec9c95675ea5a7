"""The plan editor's form. It only gathers what was typed into the dict `plan_clean` reads
(`plan_data()`); the services check it as a whole, and their DomainError's messages are shown
beside the fields (`ServiceErrorsMixin`). Numbers and dates are passed on as typed, so the
services' one wording of each rule is what people see."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from allocation.services import STRUCTURE_CLASSES
from crm.forms import ServiceErrorsMixin, checkbox_group
from customers.choices import BusinessFormat, MarketType

DEFAULT_GRADES = 8

_TEXT = {"class": "form-control"}


# A group of checkboxes of which none ticked means everyone.
_pick = checkbox_group


class PlanForm(ServiceErrorsMixin, forms.Form):
    """A draft plan: `grades` are the grades given a quota input (1..n of the active grading
    scheme, and any grade the plan already names); `products` and `areas` the choices as
    (code, label); `with_code` only when creating (a plan's code does not change)."""

    code = forms.CharField(
        label=_("Plan code"),
        required=False,
        help_text=_("Letters, digits, dots, dashes and underscores, e.g. 2026-12-ZHZ."),
        widget=forms.TextInput(attrs={**_TEXT, "autocomplete": "off", "autocapitalize": "none"}),
    )
    name = forms.CharField(label=_("Name"), required=False, widget=forms.TextInput(attrs=_TEXT))
    product_code = forms.CharField(label=_("Product"), required=False)
    starts_on = forms.CharField(
        label=_("Starts on"),
        required=False,
        widget=forms.DateInput(attrs={**_TEXT, "type": "date"}),
    )
    ends_on = forms.CharField(
        label=_("Ends on"),
        required=False,
        widget=forms.DateInput(attrs={**_TEXT, "type": "date"}),
    )
    structure_classes = _pick(
        _("Structure classes"),
        [(str(c), str(c)) for c in STRUCTURE_CLASSES],
        _("None ticked: every structure class."),
    )
    market_types = _pick(
        _("Market types"), MarketType.choices, _("None ticked: every market type.")
    )
    business_formats = _pick(
        _("Business formats"), BusinessFormat.choices, _("None ticked: every format.")
    )
    areas = forms.MultipleChoiceField(
        label=_("Areas"),
        required=False,
        widget=forms.SelectMultiple(attrs={"class": "form-select", "size": 6}),
        help_text=_("None chosen: every area. An area includes the areas below it."),
    )
    supply = forms.CharField(
        label=_("Total supply (cartons)"),
        required=False,
        help_text=_("Optional. When the quotas add up to more, every quota is scaled down to fit."),
        widget=forms.TextInput(attrs={**_TEXT, "inputmode": "numeric", "autocomplete": "off"}),
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        widget=forms.Textarea(attrs={**_TEXT, "rows": 2}),
    )
    # The checkbox groups get no red outline of their own: their message is under the group.
    unmarked = ("structure_classes", "market_types", "business_formats")

    def __init__(
        self,
        *args: Any,
        grades: Iterable[int],
        products: list[tuple[str, str]],
        areas: list[tuple[str, str]],
        with_code: bool,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if not with_code:
            del self.fields["code"]
        self.fields["product_code"].widget = forms.Select(
            attrs={"class": "form-select"},
            choices=[("", _("Choose the product…")), *products],
        )
        self.fields["areas"].choices = areas
        self.grades = sorted(set(grades))
        for grade in self.grades:
            self.fields[f"quota_{grade}"] = forms.CharField(
                label=_("Grade %(g)d") % {"g": grade},
                required=False,
                widget=forms.TextInput(
                    attrs={**_TEXT, "inputmode": "numeric", "autocomplete": "off"}
                ),
            )

    @classmethod
    def initial_of(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        """The form's initial values from a plan's data (`services.plan_as_data`)."""
        initial = {
            key: data.get(key)
            for key in ("code", "name", "note", "product_code", "market_types", "business_formats")
        }
        initial["areas"] = list(data.get("areas") or [])
        for key in ("starts_on", "ends_on"):
            initial[key] = data[key].isoformat() if data.get(key) else ""
        initial["structure_classes"] = [str(c) for c in data.get("structure_classes") or []]
        initial["supply"] = "" if data.get("supply") is None else str(data["supply"])
        for grade, cartons in (data.get("quotas") or {}).items():
            initial[f"quota_{grade}"] = str(cartons)
        return initial

    def quota_fields(self) -> list[forms.BoundField]:
        return [self[f"quota_{grade}"] for grade in self.grades]

    def plan_data(self) -> dict[str, Any]:
        """What was typed, in the shape `plan_clean` reads (a grade left empty asks for 0)."""
        cleaned = self.cleaned_data
        data: dict[str, Any] = {
            key: cleaned.get(key, "")
            for key in ("code", "name", "note", "product_code", "starts_on", "ends_on")
        }
        data["quotas"] = {
            str(grade): cleaned[f"quota_{grade}"].strip()
            for grade in self.grades
            if cleaned.get(f"quota_{grade}", "").strip()
        }
        data["structure_classes"] = [int(c) for c in cleaned.get("structure_classes", [])]
        data["market_types"] = list(cleaned.get("market_types", []))
        data["business_formats"] = list(cleaned.get("business_formats", []))
        data["areas"] = list(cleaned.get("areas", []))
        data["supply"] = cleaned.get("supply", "").strip() or None
        return data

    def error_place(self, path: str) -> str | None:
        if path == "quotas":
            self._mark_wrong_quotas()
            return "quotas"
        return path if path in self.fields else None

    def _mark_wrong_quotas(self) -> None:
        """Outlines the grade inputs holding something other than a whole number of cartons
        (the service's message, under the group, names the grade)."""
        for grade in self.grades:
            value = (self.cleaned_data.get(f"quota_{grade}") or "").strip()
            if value and not value.isdigit():
                attrs = self.fields[f"quota_{grade}"].widget.attrs
                if "is-invalid" not in attrs.get("class", ""):
                    attrs["class"] = f"{attrs.get('class', '')} is-invalid".strip()
