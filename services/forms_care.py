"""Forms of the care, value-added service and training pages. They read what was typed into
Python values; the rules (a greeting once per occasion, family service only for customers
marked for it, no logging ahead, attendees in the holder's scope) are `services.services`'
business, and the views show its refusals on the fields."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.forms import InvalidFieldsMixin
from crm.models import Area, User
from customers.models import Customer
from services.choices import CARE_KINDS, SINGLE_KINDS, ActivityCategory, ActivityKind
from services.models import Holiday
from services.services import MAX_ATTENDEES

# Holidays the activity form offers: the recent ones (a greeting logged a little late) and
# those ahead (greetings are due some days before the holiday).
HOLIDAYS_BACK_DAYS = 30
HOLIDAYS_AHEAD_DAYS = 60
# Customer codes are typed or pasted separated by spaces, commas (also Chinese ones),
# semicolons or new lines.
CODE_SEPARATORS = re.compile(r"[\s,，;；、]+")
# Unknown codes named in the error at most (the rest are counted).
CODES_NAMED = 20


class StyledMixin(InvalidFieldsMixin):
    """Bootstrap classes on every widget, and `is-invalid` on the fields with errors."""

    def _style(self) -> None:
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.HiddenInput):
                continue
            css = "form-select" if isinstance(widget, forms.Select) else "form-control"
            widget.attrs.setdefault("class", css)


def date_widget() -> forms.DateInput:
    """A phone's date picker (the form sets its `max` to today: services are logged once
    done)."""
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def kind_choices() -> list[tuple[str, Any]]:
    """The services logged one by one, grouped: care first, then value-added (after a blank
    choice: the service is chosen, not defaulted)."""
    groups = [
        (
            str(category.label),
            [
                (kind.value, str(kind.label))
                for kind in SINGLE_KINDS
                if (kind in CARE_KINDS) == (category == ActivityCategory.CARE)
            ],
        )
        for category in ActivityCategory
    ]
    return [("", "—"), *groups]


def holiday_choices(today: dt.date, also: int | None = None):
    """The holidays a greeting may be logged for: recent and coming ones (and `also`, the
    one the care list asked for, wherever it falls)."""
    window = Q(
        date__gte=today - dt.timedelta(days=HOLIDAYS_BACK_DAYS),
        date__lte=today + dt.timedelta(days=HOLIDAYS_AHEAD_DAYS),
    )
    if also is not None:
        window |= Q(pk=also)
    return Holiday.objects.filter(window).order_by("date")


class ActivityForm(StyledMixin, forms.Form):
    """One care or value-added service done for a customer (the customer is in the address)."""

    kind = forms.ChoiceField(label=gettext_lazy("Service"), choices=kind_choices)
    performed_on = forms.DateField(label=gettext_lazy("Date"), widget=date_widget())
    holiday = forms.ModelChoiceField(
        label=gettext_lazy("Holiday"),
        queryset=Holiday.objects.none(),
        required=False,
        empty_label="—",
        help_text=gettext_lazy("Only for holiday greetings: the holiday the greeting was for."),
    )
    note = forms.CharField(
        label=gettext_lazy("Note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    # The page to go back to once logged (checked to be on this site when used).
    next = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, holiday_id: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["holiday"].queryset = holiday_choices(today, also=holiday_id)
        self.fields["performed_on"].widget.attrs["max"] = today.isoformat()
        self.fields["kind"].widget.attrs["data-kind-select"] = ""
        self._style()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("kind") != ActivityKind.HOLIDAY_GREETING:
            # The select may still hold a holiday chosen before the service was changed.
            data["holiday"] = None
        elif not data.get("holiday") and "holiday" not in self.errors:
            self.add_error("holiday", _("Choose the holiday."))
        return data


class TrainingForm(StyledMixin, forms.Form):
    """A retailer training session and the codes of the customers who attended."""

    title = forms.CharField(label=gettext_lazy("Title"), max_length=120)
    held_on = forms.DateField(label=gettext_lazy("Held on"), widget=date_widget())
    area = forms.ModelChoiceField(
        label=gettext_lazy("Area"), queryset=Area.objects.none(), empty_label="—"
    )
    location = forms.CharField(label=gettext_lazy("Location"), max_length=200, required=False)
    topic = forms.CharField(
        label=gettext_lazy("Topic"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    attendees = forms.CharField(
        label=gettext_lazy("Attendees"),
        widget=forms.Textarea(
            attrs={
                "rows": 5,
                "autocapitalize": "none",
                "autocomplete": "off",
                "spellcheck": "false",
            }
        ),
        help_text=gettext_lazy(
            "The codes of the customers who attended, separated by spaces, commas or new lines."
        ),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        areas = Area.objects.visible_to(user).order_by("code")
        self.fields["area"].queryset = areas
        self.fields["held_on"].widget.attrs["max"] = timezone.localdate().isoformat()
        self._style()

    def clean_attendees(self) -> list[Customer]:
        """The attending customers, read from the codes through the scope rule: a code the
        user does not see is named as unknown (whether it exists elsewhere is not told)."""
        codes = list(
            dict.fromkeys(c for c in CODE_SEPARATORS.split(self.cleaned_data["attendees"]) if c)
        )
        if not codes:
            raise forms.ValidationError(_("Add the codes of the customers who attended."))
        if len(codes) > MAX_ATTENDEES:
            raise forms.ValidationError(
                _("At most %(n)d attendees per session.") % {"n": MAX_ATTENDEES}
            )
        found = {
            customer.customer_code: customer
            for customer in Customer.objects.visible_to(self.user).filter(customer_code__in=codes)
        }
        unknown = [code for code in codes if code not in found]
        if unknown:
            named = ", ".join(unknown[:CODES_NAMED])
            if len(unknown) > CODES_NAMED:
                named += " " + _("and %(n)d more") % {"n": len(unknown) - CODES_NAMED}
            raise forms.ValidationError(
                _("Unknown customer codes (or not in your scope): %(codes)s.") % {"codes": named}
            )
        return [found[code] for code in codes]
