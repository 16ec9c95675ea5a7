"""Forms and filters of the pages account managers and licence officers work on: the early
warnings (filter, acknowledge, resolve) and the compliance records (filter, add, void).

Their FilterSets are in `valuation.filtersets`, with the value results'.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from customers import selectors as customer_selectors
from valuation.choices import RecordType

if TYPE_CHECKING:
    from crm.models import User

# --- early warnings -----------------------------------------------------------------------


class WarningAcknowledgeForm(forms.Form):
    note = forms.CharField(
        label=_("What will you do about it?"),
        max_length=2000,
        error_messages={"required": _("Say what you will do about it.")},
    )


class WarningResolveForm(forms.Form):
    note = forms.CharField(label=_("Resolution (optional)"), max_length=2000, required=False)


# --- compliance records -------------------------------------------------------------------


class ComplianceRecordForm(forms.Form):
    """A licence officer's new record. The customer is given by code and must be one the
    user sees; the service checks the rest (type, date not in the future, a note for a
    violation) and its errors land on these fields."""

    customer = forms.CharField(label=_("Customer code"), max_length=32)
    date = forms.DateField(label=_("Date"), input_formats=["%Y-%m-%d"])
    record_type = forms.ChoiceField(label=_("Type"), choices=RecordType.choices)
    note = forms.CharField(label=_("Note"), max_length=2000, required=False)

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_customer(self):
        code = self.cleaned_data["customer"].strip()
        try:
            return customer_selectors.customer_get(user=self.user, code=code)
        except Http404:
            raise forms.ValidationError(
                _("No customer with this code among your customers.")
            ) from None


class ComplianceVoidForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is the record void?"),
        max_length=2000,
        error_messages={"required": _("Say why the record is void.")},
    )
