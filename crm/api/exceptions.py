"""The one shape of every API error, whatever raised it.

    {"detail": "<one sentence for a person>",
     "code": "<machine code>",
     "errors": {"<field.path>": ["<message>", ...]}}

`errors` is `{}` when no field is at fault; its keys are dotted paths into the request
(`customer_code`, `follow_ups.0.due_date`, `areas.3`; `non_field_errors` for the request or an
object as a whole). `code` is DRF's code of the exception (`invalid`, `parse_error`,
`not_authenticated`, `authentication_failed`, `permission_denied`, `not_found`,
`method_not_allowed`, `unsupported_media_type`) or the `default_code` of our own APIException
subclasses (`payload_too_large`, `duplicate_visit`, `idempotency_conflict`, `bad_request`,
`server_error`). No throttling is configured: DRF's `throttled` (429) is never given.

`exception_handler` (DRF's EXCEPTION_HANDLER) turns DRF's exceptions, a `DomainError` (400
naming the field), Django's `Http404` and `PermissionDenied` into it. Outside a DRF view,
`api_error_response(exc)` answers an APIException the same way: the root URLconf's
handler400/404/500 (`api_error_handler_*`) use it on an API path (a URL that matches no view,
a request Django cannot read, a server error). The schema declares it as
one component, `ApiError` (see `crm.api.schema`).

Per-item errors inside a sync report (a 200) keep the report's own shape.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler

from crm.api.parsers import PayloadTooLarge
from crm.exceptions import DomainError

API_PREFIX = "/api/"
NON_FIELD = "non_field_errors"


def flatten_errors(detail: Any, path: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as `{dotted path: [messages]}`: `{"areas": {"0": [...]}}`
    becomes `{"areas.0": [...]}`, a list of per-item dicts `follow_ups.<i>.<field>`; messages
    at the top level go under `non_field_errors`."""
    flat: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            key = NON_FIELD if key == "__all__" else str(key)
            flat.update(flatten_errors(value, f"{path}.{key}" if path else key))
    elif isinstance(detail, list | tuple):
        if all(not isinstance(item, dict | list | tuple) for item in detail):
            if detail:
                flat.setdefault(path or NON_FIELD, []).extend(str(item) for item in detail)
        else:
            for index, item in enumerate(detail):
                if item:  # a valid item of a list of objects is an empty dict
                    flat.update(flatten_errors(item, f"{path}.{index}" if path else str(index)))
    else:
        flat.setdefault(path or NON_FIELD, []).append(str(detail))
    return flat


def summary(errors: dict[str, list[str]]) -> str:
    """One sentence for a person: the first message (with its field), and how many more."""
    messages = [(path, message) for path, msgs in errors.items() for message in msgs]
    if not messages:
        return _("The request was refused.")
    path, message = messages[0]
    first = message if path == NON_FIELD else f"{path}: {message}"
    if len(messages) == 1:
        return first
    return _("%(first)s (and %(n)d more: see errors)") % {"first": first, "n": len(messages) - 1}


def error_body(detail: str, code: str, errors: dict[str, list[str]] | None = None) -> dict:
    return {"detail": str(detail), "code": code, "errors": errors or {}}


def api_exception_body(exc: exceptions.APIException) -> dict:
    """The error shape of a DRF exception."""
    if isinstance(exc.detail, dict | list):
        errors = flatten_errors(exc.detail)
        return error_body(summary(errors), exc.default_code, errors)
    return error_body(exc.detail, getattr(exc.detail, "code", None) or exc.default_code)


def exception_handler(exc, context):
    if isinstance(exc, RequestDataTooBig):
        # Django refused a form or multipart body (JSON is bounded by the parser): a 413 in
        # the API's own shape, not Django's HTML 400 page.
        exc = PayloadTooLarge(
            _("The body is larger than %(limit)d bytes, the most accepted.")
            % {"limit": settings.DATA_UPLOAD_MAX_MEMORY_SIZE}
        )
    elif isinstance(exc, DomainError):
        # A 400 like any refused field, its `detail` made by the same rule: a service's
        # message for a page ("Check the highlighted fields.") would point at nothing here.
        exc = exceptions.ValidationError(flatten_errors(exc.errors))
    elif isinstance(exc, Http404):
        # Django's message ("No Customer matches the given query.") names a model: not ours.
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    response = drf_exception_handler(exc, context)
    if response is not None:  # None: not an API error; Django answers 500
        response.data = api_exception_body(exc)
        # An exception may carry headers of its own (a 409's `Location`).
        for name, value in (getattr(exc, "headers", None) or {}).items():
            response[name] = value
    return response


# --- outside DRF: middleware and the root URLconf's handlers ------------------------------


class BadRequest(exceptions.APIException):
    """A request Django could not read at all (too many fields, a suspicious operation)."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = gettext_lazy("The request could not be read.")
    default_code = "bad_request"


class ServerError(exceptions.APIException):
    default_detail = gettext_lazy("Something went wrong on the server; it has been logged.")
    default_code = "server_error"


def is_api_request(request: HttpRequest) -> bool:
    """Whether `request` is one of the API's, answered in its shape (`path_info`: the path
    below wherever the site is mounted)."""
    return request.path_info.startswith(API_PREFIX)


def api_error_response(exc: exceptions.APIException) -> JsonResponse:
    """`exc` answered as a DRF view answers it (its status, the body `exception_handler`
    gives it), for code outside a DRF view: middleware, the URL handlers below."""
    return JsonResponse(
        api_exception_body(exc),
        status=exc.status_code,
        json_dumps_params={"ensure_ascii": False},
    )


def api_error_handler_400(request: HttpRequest, exception=None) -> HttpResponse:
    if is_api_request(request):
        return api_error_response(BadRequest())
    return defaults.bad_request(request, exception)


def api_error_handler_404(request: HttpRequest, exception=None) -> HttpResponse:
    if is_api_request(request):
        return api_error_response(exceptions.NotFound())
    return defaults.page_not_found(request, exception)


def api_error_handler_500(request: HttpRequest) -> HttpResponse:
    if is_api_request(request):
        return api_error_response(ServerError())
    return defaults.server_error(request)
