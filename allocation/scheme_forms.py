"""The forms of the take-up schemes' pages (served by the engine, `crm.monthly_views`): a new
draft's name, and a draft's name, note and two shares. The rules decide what is valid
(`allocation.computations.validate_takeup_parameters`); these forms only read the values."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy

from crm import forms as crm_forms

SHARES = ("low_share", "full_share")
LABELS = {
    "low_share": gettext_lazy("Low below (per cent of the quota used)"),
    "full_share": gettext_lazy("Full from (per cent of the quota used)"),
}


class SchemeCreateForm(forms.Form):
    """A new draft: its name (the shares start from the defaults, 50 and 95)."""

    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )


class SchemeForm(crm_forms.SchemeForm):
    """A draft's name, note and shares; `parameters()` gives them to `scheme_update_draft`."""

    low_share = crm_forms.NumberField(
        label=LABELS["low_share"],
        help_text=gettext_lazy(
            "A shop that used less than this share of its quotas has a low take-up."
        ),
    )
    full_share = crm_forms.NumberField(
        label=LABELS["full_share"],
        help_text=gettext_lazy(
            "A shop that used at least this share of its quotas has a full take-up."
        ),
    )

    @classmethod
    def initial_for(cls, *, name: str, note: str, parameters: dict[str, Any]) -> dict[str, Any]:
        return {
            "name": name,
            "note": note,
            **{share: crm_forms.plain_number(parameters.get(share)) for share in SHARES},
        }

    def parameters(self) -> dict[str, Any]:
        cleaned = getattr(self, "cleaned_data", {})
        return {share: cleaned.get(share) for share in SHARES}

    def error_place(self, path: str) -> str | None:
        return path if path in self.fields else None
