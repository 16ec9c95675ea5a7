"""The API's JSON renderer.

- Every error body leaves in the one shape (`crm.api.exceptions`). Errors raised as exceptions
  are shaped by the exception handler; this catches a response built by hand with an error
  status (`Response({"detail": …}, status=409)`), or a stored one replayed, so no error reaches
  a client in another shape, whoever built it.
- Text UTF-8 cannot encode is still written. A response may quote what a client sent
  (`“routine\\ud800” is not a valid choice.`); an unpaired surrogate in it made the UTF-8
  encoding fail, a 500. Such a response is written with ASCII escapes instead: the same JSON,
  readable by any client.
- DRF's browsable API pages alone allow inline styles under the Content-Security-Policy.
"""

from __future__ import annotations

from http import HTTPStatus

from django.conf import settings
from rest_framework import renderers

from crm.api.exceptions import error_body, flatten_errors, summary
from crm.headers import csp_extend, csp_header_value
from crm.middleware import CSP_HEADER

# The machine code of an error built by hand, by its status.
_CODES = {
    400: "invalid",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "throttled",
}


def is_error_body(data) -> bool:
    return isinstance(data, dict) and set(data) == {"detail", "code", "errors"}


def reshaped(data, status_code: int) -> dict:
    """`data` of an error response in the one shape."""
    code = _CODES.get(status_code, "server_error" if status_code >= 500 else "error")
    if isinstance(data, dict) and isinstance(data.get("detail"), str):
        rest = {key: value for key, value in data.items() if key != "detail"}
        return error_body(data["detail"], code, flatten_errors(rest) if rest else {})
    errors = flatten_errors(data) if data else {}
    if errors:
        return error_body(summary(errors), code, errors)
    return error_body(HTTPStatus(status_code).phrase, code)


class ApiJSONRenderer(renderers.JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None and response.status_code >= 400 and not is_error_body(data):
            data = reshaped(data, response.status_code)
        try:
            return super().render(data, accepted_media_type, renderer_context)
        except UnicodeEncodeError:
            return _AsciiJSONRenderer().render(data, accepted_media_type, renderer_context)


class _AsciiJSONRenderer(renderers.JSONRenderer):
    ensure_ascii = True


class BrowsableAPIRenderer(renderers.BrowsableAPIRenderer):
    """DRF's browsable API, whose templates write inline styles (a Pygments <style> element,
    style="" on its buttons and fieldsets): its pages alone allow inline styles. Scripts stay
    'self' only. An inline style cannot run code; the risk it leaves (restyling injected
    markup) needs an HTML injection, which the page's escaping already refuses. Copying DRF's
    templates to strip them would drift from DRF at each upgrade."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None and CSP_HEADER not in response:
            policy = csp_extend(settings.SECURE_CSP, "style-src 'unsafe-inline'")
            response[CSP_HEADER] = csp_header_value(policy)
        return super().render(data, accepted_media_type, renderer_context)
