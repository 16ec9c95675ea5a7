"""The audit form editor's forms. They only gather what was typed (`form_data()`,
`question_data()`); the services check it, and their DomainError's messages go beside the
fields (`ServiceErrorsMixin`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from audits.choices import Frequency, PriceUnit, ProductScope, QuestionKind
from audits.models import AuditQuestion
from audits.services_forms import STRUCTURE_CLASSES, TARGETING, answer_values
from crm.forms import ServiceErrorsMixin, checkbox_group
from customers.choices import BusinessFormat, MarketType, ValueTier

_TEXT = {"class": "form-control"}
_SELECT = {"class": "form-select"}


_pick = checkbox_group


def _number(label: Any) -> forms.Field:
    """A number as typed (the service reads it and names what is wrong)."""
    return forms.CharField(
        label=label,
        required=False,
        widget=forms.TextInput(attrs={**_TEXT, "inputmode": "decimal", "autocomplete": "off"}),
    )


class AuditFormForm(ServiceErrorsMixin, forms.Form):
    """A draft's name, description, frequency and targeting; `with_code` when creating (a
    form's code does not change)."""

    code = forms.CharField(
        label=_("Form code"),
        required=False,
        help_text=_("Letters, digits, dots, dashes and underscores, e.g. shelf-check."),
        widget=forms.TextInput(attrs={**_TEXT, "autocomplete": "off", "autocapitalize": "none"}),
    )
    name = forms.CharField(label=_("Name"), required=False, widget=forms.TextInput(attrs=_TEXT))
    description = forms.CharField(
        label=_("Description"),
        required=False,
        help_text=_("Shown to the account manager above the questions."),
        widget=forms.Textarea(attrs={**_TEXT, "rows": 2}),
    )
    frequency = forms.ChoiceField(
        label=_("Due"),
        choices=Frequency.choices,
        initial=Frequency.EVERY_VISIT,
        widget=forms.Select(attrs=_SELECT),
    )
    business_formats = _pick(
        _("Business formats"), BusinessFormat.choices, _("None ticked: every format.")
    )
    market_types = _pick(
        _("Market types"), MarketType.choices, _("None ticked: every market type.")
    )
    value_tiers = _pick(_("Value tiers"), ValueTier.choices, _("None ticked: every tier."))
    structure_classes = _pick(
        _("Structure classes"),
        [(str(c), str(c)) for c in STRUCTURE_CLASSES],
        _("None ticked: every structure class."),
    )
    areas = forms.MultipleChoiceField(
        label=_("Areas"),
        required=False,
        widget=forms.SelectMultiple(attrs={**_SELECT, "size": 6}),
        help_text=_("None chosen: every area. An area includes the areas below it."),
    )
    unmarked = ("business_formats", "market_types", "value_tiers", "structure_classes")

    def __init__(
        self, *args: Any, areas: list[tuple[str, str]], with_code: bool, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if not with_code:
            del self.fields["code"]
        self.fields["areas"].choices = areas

    def form_data(self) -> dict[str, Any]:
        """What was typed, as the services take it."""
        cleaned = self.cleaned_data
        return {
            "name": cleaned.get("name", ""),
            "description": cleaned.get("description", ""),
            "frequency": cleaned.get("frequency", ""),
            "targeting": {key: list(cleaned.get(key) or []) for key in TARGETING},
        }

    def error_place(self, path: str) -> str | None:
        return path if path in self.fields else None


class QuestionForm(ServiceErrorsMixin, forms.Form):
    """One question of a draft. The condition's answers are one group of checkboxes per
    question it may depend on (`condition_groups`): the page shows the group of the question
    chosen (all of them without JavaScript, each under its question's label)."""

    kind = forms.ChoiceField(
        label=_("Type"),
        choices=[("", _("Choose the type…")), *QuestionKind.choices],
        required=False,
        widget=forms.Select(attrs={**_SELECT, "data-question-kind": ""}),
    )
    label = forms.CharField(
        label=_("Question"), required=False, widget=forms.TextInput(attrs=_TEXT)
    )
    help_text = forms.CharField(
        label=_("Help text"),
        required=False,
        help_text=_("Optional: shown under the question."),
        widget=forms.TextInput(attrs=_TEXT),
    )
    required = forms.BooleanField(
        label=_("An answer is required"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
    choices = forms.CharField(
        label=_("Choices"),
        required=False,
        help_text=_("One per line (single and multiple choice questions)."),
        widget=forms.Textarea(attrs={**_TEXT, "rows": 4}),
    )
    minimum = _number(_("Minimum"))
    maximum = _number(_("Maximum"))
    price_unit = forms.ChoiceField(
        label=_("Price asked"),
        required=False,
        choices=[("", "—"), *PriceUnit.choices],
        help_text=_("Prices are stored per carton (10 packs)."),
        widget=forms.Select(attrs=_SELECT),
    )
    product_scope = forms.ChoiceField(
        label=_("Products asked about"),
        required=False,
        choices=[("", "—"), *ProductScope.choices],
        widget=forms.Select(attrs=_SELECT),
    )
    products = forms.MultipleChoiceField(
        label=_("Products"),
        required=False,
        help_text=_("For “the products listed”."),
        widget=forms.SelectMultiple(attrs={**_SELECT, "size": 6}),
    )
    is_display = forms.BooleanField(
        label=_("Counts for display compliance"),
        required=False,
        help_text=_("Yes / no questions only: their share of “yes” is the shop's compliance."),
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
    condition_question = forms.ChoiceField(
        label=_("Ask only when"),
        required=False,
        widget=forms.Select(attrs={**_SELECT, "data-condition-question": ""}),
    )
    key = forms.CharField(
        label=_("Key"),
        required=False,
        help_text=_("Optional: made from the question when empty. Reports join versions by it."),
        widget=forms.TextInput(attrs={**_TEXT, "autocomplete": "off", "autocapitalize": "none"}),
    )
    unmarked = ("required", "is_display")

    def __init__(
        self,
        *args: Any,
        products: list[tuple[str, str]],
        earlier: Sequence[AuditQuestion],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["products"].choices = products
        deciding = [q for q in earlier if answer_values(q)]
        self.fields["condition_question"].choices = [
            ("", _("Always asked")),
            *[(str(q.pk), f"{q.position}. {q.label[:80]}") for q in deciding],
        ]
        self.condition_groups = []
        for q in deciding:
            name = f"condition_values_{q.pk}"
            values = answer_values(q)
            labels = {"yes": _("Yes"), "no": _("No")}
            self.fields[name] = forms.MultipleChoiceField(
                label=_("Its answer is one of (question %(n)d)") % {"n": q.position},
                required=False,
                choices=[(v, labels.get(v, v)) for v in values],
                widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
            )
            self.condition_groups.append({"question": q, "field": self[name]})

    @classmethod
    def initial_of(cls, question: AuditQuestion) -> dict[str, Any]:
        initial = {
            name: getattr(question, name)
            for name in ("kind", "label", "help_text", "required", "price_unit", "key")
        }
        initial.update(
            product_scope=question.product_scope,
            is_display=question.is_display,
            choices="\n".join(question.choices),
            minimum="" if question.minimum is None else f"{question.minimum.normalize():f}",
            maximum="" if question.maximum is None else f"{question.maximum.normalize():f}",
            products=[p.code for p in question.products.all()],
            condition_question=str(question.condition_question_id or ""),
        )
        if question.condition_question_id:
            initial[f"condition_values_{question.condition_question_id}"] = list(
                question.condition_values
            )
        return initial

    def question_data(self) -> dict[str, Any]:
        """What was typed, as `question_save` takes it."""
        cleaned = self.cleaned_data
        data = {
            name: cleaned.get(name)
            for name in (
                "kind",
                "label",
                "help_text",
                "required",
                "minimum",
                "maximum",
                "price_unit",
                "product_scope",
                "is_display",
                "key",
            )
        }
        data["choices"] = (cleaned.get("choices") or "").splitlines()
        data["products"] = list(cleaned.get("products") or [])
        condition = cleaned.get("condition_question") or ""
        data["condition_question"] = condition or None
        data["condition_values"] = list(cleaned.get(f"condition_values_{condition}") or [])
        return data

    def error_place(self, path: str) -> str | None:
        if path == "condition_values":
            condition = self.cleaned_data.get("condition_question")
            name = f"condition_values_{condition}"
            return name if name in self.fields else "condition_question"
        return path if path in self.fields else None
