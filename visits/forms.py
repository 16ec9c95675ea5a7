"""Forms of the account manager's visit pages. They read what was typed (dates, times, choices,
the photo) into Python values; whether the values make sense (a time in the future, a
follow-up due before the visit, a photo of the wrong type) is `visits.services`' business,
and the views show its refusals on the fields."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm.exceptions import DomainError
from crm.forms import InvalidFieldsMixin, form_domain_error
from crm.models import User
from visits.choices import PriceDisplay, StockLevel, VisitType

# Follow-up rows offered on the visit form (the service takes more; a phone screen does not).
FOLLOW_UP_ROWS = 3
# `datetime-local` sends minutes, or seconds when the browser shows them.
LOCAL_INPUT_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]


class BootstrapMixin(InvalidFieldsMixin):
    """Bootstrap classes on every widget, and `is-invalid` on the fields with errors."""

    def _style(self) -> None:
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.HiddenInput):
                continue
            css = "form-select" if isinstance(widget, forms.Select) else "form-control"
            widget.attrs.setdefault("class", css)


def local_datetime_widget() -> forms.DateTimeInput:
    """A phone's date-and-time picker; the value is wall-clock time in the active time zone
    (Django's DateTimeField makes it aware)."""
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def date_widget(**attrs: Any) -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date", **attrs}, format="%Y-%m-%d")


def _blank_choice(choices: Sequence[tuple[str, Any]]) -> list[tuple[str, Any]]:
    return [("", "—"), *choices]


class VisitForm(BootstrapMixin, forms.Form):
    """The visit itself: times, type, purpose, findings, photo and the browser's position."""

    visited_at = forms.DateTimeField(
        label=_("Time in"), input_formats=LOCAL_INPUT_FORMATS, widget=local_datetime_widget()
    )
    ended_at = forms.DateTimeField(
        label=_("Time out"),
        required=False,
        input_formats=LOCAL_INPUT_FORMATS,
        widget=local_datetime_widget(),
    )
    visit_type = forms.ChoiceField(label=pgettext_lazy("visit", "Type"), choices=VisitType.choices)
    purpose = forms.CharField(
        label=_("Purpose"),
        max_length=200,
        # Empty is the service's to refuse (it names the field); the browser asks first.
        required=False,
        widget=forms.TextInput(attrs={"required": True, "autocomplete": "off"}),
    )
    stock_level = forms.ChoiceField(
        label=_("Stock of key brands"), required=False, choices=_blank_choice(StockLevel.choices)
    )
    stock_notes = forms.CharField(
        label=_("Stock notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    price_display = forms.ChoiceField(
        label=_("Retail price display"),
        required=False,
        choices=_blank_choice(PriceDisplay.choices),
    )
    competitor_notes = forms.CharField(
        label=_("Competitor and market notes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    customer_requests = forms.CharField(
        label=_("Customer's requests and complaints"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    # A FileField, not an ImageField: the service judges the photo by its content.
    photo = forms.FileField(
        label=_("Photo"),
        required=False,
        widget=forms.FileInput(attrs={"accept": "image/jpeg,image/png", "capture": "environment"}),
    )
    # Filled by the page's script from the browser's geolocation, when the user allows it.
    latitude = forms.CharField(required=False, widget=forms.HiddenInput)
    longitude = forms.CharField(required=False, widget=forms.HiddenInput)
    location_accuracy_m = forms.CharField(required=False, widget=forms.HiddenInput)
    # The draft's id: the same draft sent twice is stored once.
    client_id = forms.UUIDField(required=False, widget=forms.HiddenInput)

    SERVICE_FIELDS = (
        "visited_at",
        "ended_at",
        "visit_type",
        "purpose",
        "stock_level",
        "stock_notes",
        "price_display",
        "competitor_notes",
        "customer_requests",
        "latitude",
        "longitude",
        "location_accuracy_m",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {
                "visited_at": timezone.localtime().replace(second=0, microsecond=0),
                "visit_type": VisitType.ROUTINE,
                "client_id": uuid.uuid4(),
            },
        )
        super().__init__(*args, **kwargs)
        self._style()

    def service_data(self) -> dict[str, Any]:
        """The values `visits.services.visit_log` takes as `data`."""
        return {name: self.cleaned_data.get(name) for name in self.SERVICE_FIELDS}


class OwnerField(forms.ChoiceField):
    """A follow-up's owner among `owners`, people read once for the form's rows: a
    ModelChoiceField queries its queryset for every row twice (the options, and the widget's
    `required` check on the first one) and once more to clean each posted value."""

    def __init__(self, *, owners: Sequence[User] = (), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.owners = owners

    @property
    def owners(self) -> Sequence[User]:
        return self._owners

    @owners.setter
    def owners(self, owners: Sequence[User]) -> None:
        self._owners = owners
        self._by_pk = {str(user.pk): user for user in owners}
        self.choices = [(user.pk, str(user)) for user in owners]

    def clean(self, value: Any) -> User | None:
        value = super().clean(value)
        return self._by_pk[value] if value else None


class FollowUpForm(BootstrapMixin, forms.Form):
    """One follow-up row of the visit form; a row left empty is no follow-up."""

    action = forms.CharField(
        label=_("Action"),
        max_length=300,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    due_date = forms.DateField(label=_("Due date"), required=False, widget=date_widget())
    owner = OwnerField(label=_("Owner"), required=False)

    def __init__(
        self, *args: Any, owners: Sequence[User], default_owner: User | None, **kwargs: Any
    ):
        super().__init__(*args, **kwargs)
        self.fields["owner"].owners = owners
        if default_owner is not None:
            self.fields["owner"].initial = default_owner.pk
        self._style()

    def item(self) -> dict[str, Any] | None:
        """The row for the service, or None when nothing was typed in it."""
        data = self.cleaned_data
        if not data.get("action") and not data.get("due_date"):
            return None
        return {"action": data["action"], "due_date": data["due_date"], "owner": data["owner"]}


def follow_up_forms(
    data: Mapping[str, Any] | None, *, owners: Sequence[User], default_owner: User | None
) -> list[FollowUpForm]:
    """The follow-up rows, prefixed fu0, fu1, …; `owners` (a list, read once) are whom each
    row's owner may be."""
    return [
        FollowUpForm(data, prefix=f"fu{i}", owners=owners, default_owner=default_owner)
        for i in range(FOLLOW_UP_ROWS)
    ]


def show_visit_error(form: VisitForm, exc: DomainError) -> list[str]:
    """Shows a refusal of `visit_log` on the visit form; returns the follow-up messages
    (the service gives them under "follow_ups"), which the page shows above those rows."""
    follow_up_messages = list(exc.errors.get("follow_ups", []))
    rest = {key: msgs for key, msgs in exc.errors.items() if key != "follow_ups"}
    if rest:
        form_domain_error(form, DomainError(exc.message, errors=rest))
    return follow_up_messages


class CustomerPickForm(forms.Form):
    """Which customer a visit or a service is for: a code or a part of the name."""

    q = forms.CharField(
        label=_("Customer code or name"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"class": "form-control", "type": "search", "autocomplete": "off"}
        ),
    )


PICKER_LIMIT = 20


def customer_picker_context(request, limit: int = PICKER_LIMIT) -> dict:
    """The context of a "which customer?" step (visit form, service request, service log): the
    search form and the first `limit` customers the user sees matching it (the scope rule
    gives account managers their own customers, the others those of their areas)."""
    from customers.selectors import customer_list

    form = CustomerPickForm(request.GET)
    query = form.cleaned_data["q"].strip() if form.is_valid() else ""
    customers = customer_list(user=request.user, filters={"q": query} if query else {})
    return {
        "picker": form,
        "query": query,
        "customers": list(customers[:limit]),
        "picker_limit": limit,
    }


class PlanRescheduleForm(BootstrapMixin, forms.Form):
    """Moving a planned visit: the new day and why (the service requires both)."""

    new_date = forms.DateField(label=_("New day"), required=False, widget=date_widget())
    reason = forms.CharField(label=_("Reason"), required=False, max_length=1000)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["new_date"].widget.attrs.update(
            {"required": True, "min": timezone.localdate().isoformat()}
        )
        self.fields["reason"].widget.attrs.update({"required": True})
        self._style()


class PlanSkipForm(BootstrapMixin, forms.Form):
    """Skipping a planned visit: why (the service requires it)."""

    reason = forms.CharField(label=_("Reason"), required=False, max_length=1000)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].widget.attrs.update({"required": True})
        self._style()


class FollowUpDoneForm(BootstrapMixin, forms.Form):
    """Completing a follow-up: what was done (the service requires it)."""

    note = forms.CharField(label=_("What was done"), required=False, max_length=2000)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["note"].widget.attrs.update({"required": True})
        self._style()
