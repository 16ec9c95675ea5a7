"""Response headers every page shares, and the refusal of a NUL in the address.

`SecurityHeadersMiddleware` sends the Content-Security-Policy (settings.SECURE_CSP, and
SECURE_CSP_REPORT_ONLY when set) and the Permissions-Policy (settings.PERMISSIONS_POLICY) on
every response: pages, API answers, error pages and static files alike. A header the view
already set wins (a view serving a file may need a stricter policy of its own). The CSP
settings have the names and the shape of Django 6.0's: on Django 6 the CSP half can move to
Django's own middleware without touching them.

A page that needs a powerful browser feature (the visit form reads the phone's position and
takes a photo) says so with `@browser_features("geolocation", "camera")`: its responses carry
a Permissions-Policy allowing those features for this origin (the view's header wins), every
other response denies them.

`RejectNulMiddleware` refuses a NUL character (`%00`) in the path (404) or the query string
(400) of any request: no view expects one, and PostgreSQL refuses NUL in text, so a NUL that
reached a query used to end in a 500.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.validators import ProhibitNullCharactersValidator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError

from crm.api.exceptions import api_error_response, is_api_request
from crm.headers import csp_header_value, permissions_policy_value

CSP_HEADER = "Content-Security-Policy"
CSP_REPORT_ONLY_HEADER = "Content-Security-Policy-Report-Only"
PERMISSIONS_POLICY_HEADER = "Permissions-Policy"


def browser_features(*features: str) -> Callable:
    """View decorator: the page may use these browser features (names from
    settings.PERMISSIONS_POLICY, e.g. "geolocation", "camera"); every other page denies them.
    For a class-based view: `@method_decorator(browser_features(...), name="dispatch")`."""
    unknown = set(features) - set(settings.PERMISSIONS_POLICY)
    if unknown:
        raise ValueError(f"Not in settings.PERMISSIONS_POLICY: {', '.join(sorted(unknown))}")
    policy = permissions_policy_value(settings.PERMISSIONS_POLICY, features)

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            response = view(request, *args, **kwargs)
            response[PERMISSIONS_POLICY_HEADER] = policy
            return response

        return wrapped

    return decorator


class SecurityHeadersMiddleware:
    """Content-Security-Policy and Permissions-Policy on every response (see the module)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        # The policies are settings: built once per process.
        self.csp = csp_header_value(settings.SECURE_CSP)
        self.csp_report_only = csp_header_value(getattr(settings, "SECURE_CSP_REPORT_ONLY", {}))
        self.permissions = permissions_policy_value(settings.PERMISSIONS_POLICY)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        csp_header = CSP_HEADER
        if settings.DEBUG and response.status_code >= 400:
            # Django's technical error pages (DEBUG only) are styled and scripted inline:
            # reported, not blocked, so a developer can read them.
            csp_header = CSP_REPORT_ONLY_HEADER
        if self.csp and csp_header not in response:
            response[csp_header] = self.csp
        if self.csp_report_only and CSP_REPORT_ONLY_HEADER not in response:
            response[CSP_REPORT_ONLY_HEADER] = self.csp_report_only
        if PERMISSIONS_POLICY_HEADER not in response:
            response[PERMISSIONS_POLICY_HEADER] = self.permissions
        return response


def nul_parameters(request: HttpRequest) -> list[str]:
    """The query parameters whose name or a value holds a NUL character."""
    return [
        name
        for name, values in request.GET.lists()
        if "\x00" in name or any("\x00" in value for value in values)
    ]


class RejectNulMiddleware:
    """A NUL (`%00`) in the address, refused before any view reads it: in the path, a 404
    (nothing has such a name: the root URLconf's handler404 answers, on /api/ in the API's
    shape); in the query string, a 400 naming the parameters, on /api/ in the API's JSON error
    shape (the body a filter form gave these parameters before), a page otherwise."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path_info:
            raise Http404("A NUL character in the path")
        names = nul_parameters(request)
        if not names:
            return self.get_response(request)
        if is_api_request(request):
            message = ProhibitNullCharactersValidator.message
            return api_error_response(ValidationError({name: [message] for name in names}))
        shown = ", ".join(f"“{name.replace(chr(0), '%00')}”" for name in names)
        message = _("A parameter of the address holds a NUL character: %(names)s.") % {
            "names": shown
        }
        return render(request, "crm/bad_request.html", {"message": message}, status=400)
