"""The grade overview's publication buttons: publish a month, ask to unlock it, and approve,
reject or withdraw that request. One POST target; `grading.services` decides who may (the
overview offers only what `grading.policies.publication_actions` allows) and every outcome
comes back to the month's overview as a message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.choices import AuditSource
from crm.dates import parse_month
from crm.exceptions import DomainError
from crm.services import Actor
from crm.views import people_only
from grading import services


def _publish(month, actor: Actor, post) -> str:
    services.grades_publish(month=month, actor=actor, note=post.get("note", ""))
    return _("The grades of %(m)s are published: they are locked and allocation reads them.")


def _request_unlock(month, actor: Actor, post) -> str:
    services.grades_unlock_request(month=month, reason=post.get("reason", ""), actor=actor)
    return _("The unlock of %(m)s was asked for; another person must approve it.")


def _approve_unlock(month, actor: Actor, post) -> str:
    services.grades_unlock_approve(month=month, actor=actor, note=post.get("note", ""))
    return _("%(m)s is unlocked: it may be graded again, then published again.")


def _reject_unlock(month, actor: Actor, post) -> str:
    services.grades_unlock_reject(month=month, actor=actor, note=post.get("note", ""))
    return _("The unlock of %(m)s was rejected: the month stays published.")


def _withdraw_unlock(month, actor: Actor, post) -> str:
    services.grades_unlock_withdraw(month=month, actor=actor)
    return _("The unlock of %(m)s was withdrawn: the month stays published.")


ACTIONS: dict[str, Callable[[Any, Actor, Any], str]] = {
    "publish": _publish,
    "request_unlock": _request_unlock,
    "approve_unlock": _approve_unlock,
    "reject_unlock": _reject_unlock,
    "withdraw_unlock": _withdraw_unlock,
}


@require_POST
@people_only
def publication_action(request: HttpRequest, action: str) -> HttpResponse:
    """Does `action` on the posted month's publication, then back to its overview."""
    if action not in ACTIONS:
        raise Http404
    month = parse_month(request.POST.get("month"))
    if month is None:
        messages.error(request, _("Choose a graded month."))
        return redirect("grading:overview")
    shown = f"{month:%Y-%m}"
    try:
        done = ACTIONS[action](month, Actor.of(request.user, AuditSource.PAGE), request.POST)
    except DomainError as exc:
        for msgs in exc.errors.values():
            for msg in msgs:
                messages.error(request, msg)
    else:
        messages.success(request, done % {"m": shown})
    return redirect(f"{reverse('grading:overview')}?month={shown}")


urlpatterns = [
    path("publication/<str:action>/", publication_action, name="publication"),
]
