"""Forms of the service-request pages: raising a request, moving it along its workflow and
handing it on. They read what was typed; whether it makes sense (an empty description, a
resolution without a note, a close without the customer's satisfaction, an assignee who cannot
take the customer's requests) is `services.services`' business, and the views show its
refusals on the fields or as messages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy

from crm.choices import Role
from crm.models import User
from services.choices import Priority, RequestType
from services.services import MAX_DESCRIPTION
from visits.forms import BootstrapMixin

SATISFACTION_CHOICES = [(n, str(n)) for n in range(1, 6)]


def people() -> Any:
    """Everyone a request may be handed to, before the service's check of the customer."""
    return User.objects.filter(is_active=True).exclude(role=Role.INTEGRATION_CLIENT)


def person_label(person: User) -> str:
    return f"{person} · {person.role_label}" if person.role_label else str(person)


class RequestRaiseForm(BootstrapMixin, forms.Form):
    """A customer's request or complaint: what kind, how urgent, what they ask for, and
    (optionally) who works it; left blank, the service picks the default assignee."""

    request_type = forms.ChoiceField(label=gettext_lazy("Type"), choices=RequestType.choices)
    priority = forms.ChoiceField(
        label=gettext_lazy("Priority"), choices=Priority.choices, initial=Priority.NORMAL
    )
    description = forms.CharField(
        label=gettext_lazy("What the customer asks for"),
        max_length=MAX_DESCRIPTION,
        # Empty is the service's to refuse (it names the field); the browser asks first.
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "required": True}),
    )
    assignee = forms.TypedChoiceField(
        label=gettext_lazy("Assignee"), required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args: Any, candidates: Sequence[User] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.candidates = {person.pk: person for person in candidates}
        self.fields["assignee"].choices = [
            ("", gettext_lazy("Default (see below)")),
            *((person.pk, person_label(person)) for person in candidates),
        ]
        self._style()

    def assignee_user(self) -> User | None:
        pk = self.cleaned_data.get("assignee")
        return self.candidates.get(pk) if pk is not None else None


class RequestActionForm(forms.Form):
    """What goes with an action: the note (resolving, reopening) and the customer's
    satisfaction 1-5 (closing). Which one an action needs is the service's rule."""

    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=MAX_DESCRIPTION)
    satisfaction = forms.TypedChoiceField(
        label=gettext_lazy("Customer's satisfaction"),
        required=False,
        choices=SATISFACTION_CHOICES,
        coerce=int,
        empty_value=None,
    )


class RequestAssignForm(forms.Form):
    """Handing a request to someone else, with an optional reason."""

    assignee = forms.ModelChoiceField(label=gettext_lazy("Hand to"), queryset=User.objects.none())
    reason = forms.CharField(label=gettext_lazy("Reason"), required=False, max_length=1000)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = people()
