"""Passwords: every person changes their own; an administrator creates a one-time reset link
for someone; whoever holds a valid link sets a new password with it."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import INTERNAL_RESET_SESSION_TOKEN
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from crm import services, throttling
from crm.choices import AuditSource
from crm.exceptions import DomainError
from crm.forms import PasswordChangeForm, PasswordSetForm, form_domain_error
from crm.models import User
from crm.stored_text import text
from crm.views import PeopleOnlyMixin, administrators_only


class PasswordChangeView(PeopleOnlyMixin, auth_views.PasswordChangeView):
    """The signed-in person's own password: the old one, the new one twice. This session
    stays signed in; the user's other sessions end at their next request."""

    form_class = PasswordChangeForm
    template_name = "registration/password_change_form.html"
    success_url = reverse_lazy("home")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}

    def form_valid(self, form):
        try:
            user = services.user_set_password(
                user=self.request.user,
                password=form.cleaned_data["new_password1"],
                actor=services.Actor.of(self.request.user, AuditSource.PAGE),
                reason=text("crm.password.changed"),
            )
        except DomainError as exc:
            form_domain_error(form, exc)
            return self.form_invalid(form)
        update_session_auth_hash(self.request, user)
        messages.success(
            self.request,
            _(
                "Your password was changed. You stay signed in here; anywhere else you were "
                "signed in, you have been signed out."
            ),
        )
        return HttpResponseRedirect(self.get_success_url())


@never_cache
@administrators_only
def user_password_reset(request: HttpRequest, pk: int) -> HttpResponse:
    """An administrator creates a one-time password reset link for a person, after a
    confirmation: GET explains, POST creates the link and shows it (and says whether it was
    emailed). The page is never cached: it shows the link."""
    target = get_object_or_404(User, pk=pk)
    context = {
        "target": target,
        "refusal": services.password_reset_link_refusal(user=target, by=request.user),
        "hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
        "email_enabled": settings.EMAIL_ENABLED,
        # The quick start's console backend prints mails: the page must not claim delivery.
        "mail_to_console": settings.EMAIL_BACKEND.endswith("console.EmailBackend"),
    }
    if request.method == "POST" and context["refusal"] is None:
        try:
            context["link"] = services.password_reset_link_create(
                user=target,
                actor=services.Actor.of(request.user, AuditSource.PAGE),
                link_for=lambda uid, token: request.build_absolute_uri(
                    reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": token})
                ),
            )
        except DomainError as exc:
            context["refusal"] = exc.message
    return render(request, "crm/user_password_reset.html", context)


@method_decorator(never_cache, name="dispatch")
class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's reset-link page (the token moves from the URL into the session, so it never
    leaks in a Referer), for anyone holding the link, signed in or not. Invalid, used and
    expired links get a page that says so and count as failed attempts of the address, which
    is refused with the lockout page once it reached the limits (crm.throttling)."""

    form_class = PasswordSetForm
    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("login")

    def dispatch(self, request, *args, **kwargs):
        refused = throttling.reset_link_refused(request)
        if refused is not None:
            return refused
        return super().dispatch(request, *args, **kwargs)

    def get_user(self, uidb64):
        user = super().get_user(uidb64)
        if user is None or not services.password_reset_link_usable_by(user):
            return None
        return user

    def render_to_response(self, context, **response_kwargs):
        if not self.validlink:
            throttling.reset_link_failed(self.request)
        return super().render_to_response(context, **response_kwargs)

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "reset_user": self.user}

    def form_valid(self, form):
        try:
            services.user_password_reset(
                user=self.user,
                token=self.request.session.get(INTERNAL_RESET_SESSION_TOKEN, ""),
                password=form.cleaned_data["new_password1"],
            )
        except DomainError as exc:
            form_domain_error(form, exc)
            return self.form_invalid(form)
        del self.request.session[INTERNAL_RESET_SESSION_TOKEN]
        messages.success(self.request, _("Your new password is set. Sign in with it."))
        return redirect(self.get_success_url())
