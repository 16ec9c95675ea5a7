import re
from collections.abc import Mapping
from typing import Any

from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from crm.exceptions import DomainError


class LoginForm(AuthenticationForm):
    """The sign-in form. Integration clients are machines: they use API tokens, not pages."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "api_client": _("This account is an API client and cannot sign in to pages."),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.update(
            {"autocomplete": "username", "autocapitalize": "none", "class": "form-control"}
        )
        self.fields["password"].widget.attrs.update({"class": "form-control"})

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if user.is_integration_client:
            raise forms.ValidationError(self.error_messages["api_client"], code="api_client")


# --- numbers typed by people (the scheme editors) ---


def plain_number(value: float | int | None) -> int | float | None:
    """A number as people write it: 1500 rather than 1500.0."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def parse_number(text: str) -> int | float:
    """A number typed by a person ("1500", "0.2", "1e3" are all fine); ValueError otherwise."""
    text = text.strip()
    if re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    number = float(text)  # ValueError for anything else, "nan"/"inf" caught below
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError(text)
    return plain_number(number)


class NumberField(forms.CharField):
    """One number (int when whole, else float); empty is None so the service names it."""

    def __init__(self, *, integer: bool = False, css: str = "form-control", **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.integer = integer
        # A text input with a numeric keypad: no spinner arrows eating the small grid cells,
        # and what was typed comes back as typed (a number input drops what it cannot read).
        self.widget = forms.TextInput(
            attrs={
                "class": css,
                "inputmode": "numeric" if integer else "decimal",
                "autocomplete": "off",
            }
        )

    def to_python(self, value: Any) -> int | float | None:
        text = super().to_python(value).strip()
        if not text:
            return None
        try:
            number = parse_number(text)
        except ValueError:
            number = None
        if number is None or (self.integer and not isinstance(number, int)):
            message = _("Enter a whole number.") if self.integer else _("Enter a number.")
            raise ValidationError(message, code="invalid")
        return number

    def prepare_value(self, value: Any) -> Any:
        return plain_number(value) if isinstance(value, float) else value


def checkbox_group(label: Any, choices: Any, help_text: Any) -> forms.Field:
    """A group of checkboxes of which none ticked means everyone (who a plan or an audit
    form is for)."""
    return forms.MultipleChoiceField(
        label=label,
        required=False,
        choices=choices,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        help_text=help_text,
    )


def form_domain_error(form, exc: DomainError) -> None:
    """Shows a service's DomainError on a form: each message on its field when the form has
    one, otherwise as a form-wide error."""
    for key, msgs in exc.errors.items():
        for msg in msgs:
            form.add_error(key if key in form.fields else None, msg)


class InvalidFieldsMixin:
    """Marks each field with an error `is-invalid`, so Bootstrap outlines it in red (also for
    errors a service raised after validation). `unmarked` names fields to leave alone (e.g. a
    group of checkboxes)."""

    unmarked: tuple[str, ...] = ()

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)
        for name in self.errors:
            if name in self.fields and name not in self.unmarked:
                attrs = self.fields[name].widget.attrs
                if "is-invalid" not in attrs.get("class", ""):
                    attrs["class"] = f"{attrs.get('class', '')} is-invalid".strip()


class ServiceErrorsMixin(InvalidFieldsMixin):
    """A form whose values a service checks as a whole (a scheme's parameters): the
    DomainError's messages ({path: [message]}) go beside the field each path belongs to, under
    a group of fields (`group_errors`, which the template shows with the group), or on top of
    the form. The form says where a path goes with `error_place(path)`: a field name, a group
    name, or None for the form as a whole."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Messages about a group of inputs (weights that must add up, a matrix row): shown
        # under the group rather than on one input.
        self.group_errors: dict[str, list[str]] = {}

    def error_place(self, path: str) -> str | None:
        raise NotImplementedError

    def add_service_errors(
        self, errors: Mapping[str, list[str]], *, skip_fields_in_error: bool = False
    ) -> None:
        """Shows the messages of `errors` in their places. With `skip_fields_in_error`, a
        field that could not be read keeps only that message (the rules, given nothing for
        it, would only add "Enter a number")."""
        unreadable = set(self.errors) if skip_fields_in_error else set()
        for path, messages in errors.items():
            place = None if path == "__all__" else self.error_place(path)
            if place in unreadable:
                continue
            for message in messages:
                if place in self.fields:
                    self.add_error(place, message)
                elif place is not None:
                    self.group_errors.setdefault(place, []).append(message)
                else:
                    self.add_error(None, message)

    @property
    def has_errors(self) -> bool:
        return bool(self.errors or self.group_errors)


class SchemeForm(ServiceErrorsMixin, forms.Form):
    """The edit form of a versioned scheme's draft: its name and note (the monthly engine's
    name-and-note card), the app's parameter fields after them, and `parameters()` giving
    the dict its services take."""

    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        widget=forms.Textarea(attrs={"class": "form-control", "rows": 2}),
    )

    def parameters(self) -> dict[str, Any]:
        raise NotImplementedError


class StyledPasswordFields:
    """Bootstrap classes on every password field of Django's password forms."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-control")


class PasswordSetForm(StyledPasswordFields, InvalidFieldsMixin, auth_forms.SetPasswordForm):
    """A new password, twice, checked by AUTH_PASSWORD_VALIDATORS (the reset link's form).
    It only validates: the view saves through `crm.services.user_password_reset`."""


class PasswordChangeForm(StyledPasswordFields, InvalidFieldsMixin, auth_forms.PasswordChangeForm):
    """The old password and a new one twice. It only validates: the view saves through
    `crm.services.user_set_password`.

    The old password is checked through `authenticate()`, not `check_password()`, so a wrong
    one counts as a failed sign-in of this user from this address (django-axes): the form
    cannot be used to guess a signed-in user's password, and once the limit is reached the
    lockout page answers, as on the sign-in page."""

    def __init__(self, user, *args, request, **kwargs):
        self.request = request
        super().__init__(user, *args, **kwargs)

    @sensitive_variables("old_password")
    def clean_old_password(self):
        old_password = self.cleaned_data["old_password"]
        checked = authenticate(
            self.request, username=self.user.get_username(), password=old_password
        )
        if checked is None or checked.pk != self.user.pk:
            raise ValidationError(
                self.error_messages["password_incorrect"], code="password_incorrect"
            )
        return old_password
