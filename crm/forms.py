from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _


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
