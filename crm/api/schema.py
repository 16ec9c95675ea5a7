"""The OpenAPI schema: our token authentication, and the error responses every operation
can give (drf-spectacular documents only the success by default).

`AutoSchema` is set on each API view (`schema = AutoSchema()`); the errors it adds are the
ones DRF and the shared pieces produce on their own: 401 without a valid token, 400 for a
refused filter value, 404 for a page past the end or an object outside the caller's scope.
Errors a view documents itself (its own 400, 403, 404, ...) are left as the view says.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular import openapi
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import ResolvedComponent


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "crm.api.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "Integration clients: `Token <key>` (from `manage.py create_api_client`)."
            ),
        }


_ERROR_DETAIL = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
    "description": "An error that concerns the request as a whole.",
}
_FIELD_ERRORS = {
    "type": "object",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
    "description": (
        "Messages by the name of the refused parameter or field (`non_field_errors` for the "
        "request as a whole)."
    ),
}


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's AutoSchema, adding the error responses the operation can give."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code, (component, description) in self._error_responses().items():
            if code not in responses:
                responses[code] = {
                    "description": description,
                    "content": {"application/json": {"schema": self._error_ref(component)}},
                }
        return dict(sorted(responses.items()))

    def _error_responses(self) -> dict[str, tuple[str, str]]:
        errors = {
            "401": (
                "ErrorDetail",
                _("No valid credentials: no token, or an unknown or revoked one."),
            )
        }
        if self.method == "GET" and self._is_list_view():
            errors["400"] = ("FieldErrors", _("A filter value is refused; the body names it."))
            errors["404"] = (
                "ErrorDetail",
                _("No such page: the page number is not one of the pages."),
            )
        elif self.method == "GET" and "{" in self.path:  # one object, by a path parameter
            errors["404"] = (
                "ErrorDetail",
                _("It does not exist, or lies outside the caller's scope."),
            )
        return errors

    def _error_ref(self, name: str) -> dict:
        schema = _ERROR_DETAIL if name == "ErrorDetail" else _FIELD_ERRORS
        component = ResolvedComponent(
            name=name, type=ResolvedComponent.SCHEMA, schema=schema, object=name
        )
        self.registry.register_on_missing(component)
        return component.ref
