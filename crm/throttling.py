"""Failed sign-in throttling on top of django-axes: the client's address behind trusted
proxies, a second limit per address against password spraying, and the doors other than the
sign-in form that take a secret (the password change form, password reset links).

django-axes locks a username + address pair after `AXES_FAILURE_LIMIT` failures. Its
`AXES_LOCKOUT_PARAMETERS` can name several combinations, but it compares the largest of their
counts with one limit, and a successful sign-in deletes the attempts of every combination: an
address limit of 5 would lock an office behind one NAT after five typos, and a sprayer holding
one valid account could clear the address's count by signing in with it. Its maintainers point
to a custom handler for separate limits (jazzband/django-axes#661), which is this module: the
address's failures are the sum of its attempt rows over every username, read from the same
table axes keeps, so a success (which deletes only its own username's row) does not clear them.
"""

from __future__ import annotations

import ipaddress

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username, get_lockout_response
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse

# The name under which invalid password reset links are counted (one row per address and
# browser in axes' attempts table). Usernames cannot hold spaces or brackets, so no person's
# attempts are ever counted with these.
RESET_LINK_CREDENTIALS = {"username": "(password reset link)"}


def client_address(request: HttpRequest) -> str | None:
    """The client's address as sign-in throttling counts it (`AXES_CLIENT_IP_CALLABLE`).

    With `TRUSTED_PROXY_COUNT` = N reverse proxies in front of the application, each appends
    the address it received the request from to `X-Forwarded-For`, so the client is the N-th
    entry from the right; anything further left was written by the client and is not
    trusted. Without trusted proxies, or when the header is missing, malformed or shorter
    than N (the request did not come through them), the connection's own address counts."""
    remote = request.META.get("REMOTE_ADDR") or None
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    hops = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    hops = [hop for hop in hops if hop]
    if len(hops) < count:
        return remote
    try:
        return str(ipaddress.ip_address(hops[-count]))
    except ValueError:
        return remote


def address_failures(request: HttpRequest) -> int:
    """Failed attempts from the request's address within the cool-off, over every username."""
    address = request.axes_ip_address
    if address is None:
        return 0
    since = get_cool_off_threshold(request)
    total = AccessAttempt.objects.filter(ip_address=address, attempt_time__gte=since).aggregate(
        total=Sum("failures_since_start")
    )["total"]
    return total or 0


def address_limit_reached(request: HttpRequest) -> bool:
    return address_failures(request) >= settings.AXES_ADDRESS_FAILURE_LIMIT


class AddressLimitHandler(AxesDatabaseHandler):
    """django-axes' database handler (`AXES_HANDLER`) with a second limit: an address with
    `AXES_ADDRESS_FAILURE_LIMIT` failures within the cool-off, across any usernames, is
    refused like a locked username + address pair, with the same lockout page."""

    def is_locked(self, request, credentials: dict | None = None) -> bool:
        if super().is_locked(request, credentials):
            return True
        return settings.AXES_LOCK_OUT_AT_FAILURE and address_limit_reached(request)

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        super().user_login_failed(sender, credentials, request, **kwargs)
        if (
            request is None
            or request.axes_locked_out
            or not settings.AXES_LOCK_OUT_AT_FAILURE
            or self.is_whitelisted(request, credentials)
            or not address_limit_reached(request)
        ):
            return
        request.axes_locked_out = True
        request.axes_credentials = credentials
        user_locked_out.send(
            "axes",
            request=request,
            username=get_client_username(request, credentials),
            ip_address=request.axes_ip_address,
        )


# --- doors other than the sign-in form -------------------------------------------------


def reset_link_refused(request: HttpRequest) -> HttpResponse | None:
    """The lockout page when the request's address may not try reset links now (too many
    invalid links from it, or its sign-in failures reached the address limit); else None."""
    if AxesProxyHandler.is_allowed(request, RESET_LINK_CREDENTIALS):
        return None
    return get_lockout_response(request, None, RESET_LINK_CREDENTIALS)


def reset_link_failed(request: HttpRequest) -> None:
    """Counts an invalid reset link as a failed attempt of the request's address, the way a
    wrong password is counted (django-axes learns of failures through this signal). Once the
    limit is reached, AxesMiddleware answers with the lockout page."""
    user_login_failed.send(sender=__name__, credentials=RESET_LINK_CREDENTIALS, request=request)
