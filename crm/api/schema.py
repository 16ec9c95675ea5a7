"""The OpenAPI schema: our token authentication, the one error shape on every error response,
and the limits the server enforces (so a generated client can trust it).

`AutoSchema` is every API view's (REST_FRAMEWORK's `DEFAULT_SCHEMA_CLASS`). It

- answers every error status of every operation with the one `ApiError` component
  (`crm.api.exceptions`): the ones a view declares itself (its own 403, 404, 409, 413, with
  their descriptions) and the ones DRF and the shared pieces produce on their own — 401 without
  a valid token (with its `WWW-Authenticate` header), 400 for a refused filter value or body,
  403, 413 and 415 on writes, 404 for a page past the end or an object outside the caller's
  scope;
- says `additionalProperties: false` on the request bodies that refuse unknown keys
  (`crm.api.serializers.StrictSerializer`);
- gives a list of objects its `minItems` / `maxItems` (`Serializer(many=True, max_length=…)`),
  which drf-spectacular leaves out.

Enums are named in `SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]`, one name per choice set.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular import openapi
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import serializers

from crm.api.serializers import ApiErrorSerializer


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


_WRITES = ("POST", "PUT", "PATCH", "DELETE")


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's AutoSchema, adding the error responses the operation can give."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code, description in self._error_responses().items():
            responses.setdefault(code, {"description": str(description)})
        error = {"application/json": {"schema": self._error_ref()}}
        for code, response in responses.items():
            if int(code) >= 400:
                response["content"] = error
        if "401" in responses:
            responses["401"].setdefault("headers", {})["WWW-Authenticate"] = {
                "schema": {"type": "string"},
                "description": str(_("`Token`: the scheme to authenticate with.")),
            }
        return dict(sorted(responses.items()))

    def _error_responses(self) -> dict[str, str]:
        errors = {"401": _("No valid credentials: no token, or an unknown or revoked one.")}
        if self.method in _WRITES:
            errors["400"] = _(
                "The body is not JSON, or not of the documented shape, or a field is refused: "
                "`errors` names it."
            )
            errors["403"] = _(
                "The caller may not do this (or a browser session sent no CSRF token)."
            )
            errors["413"] = _(
                "The body is larger than this operation reads (Django's "
                "DATA_UPLOAD_MAX_MEMORY_SIZE; the syncs: SYNC_MAX_BYTES)."
            )
            errors["415"] = _("The body is not of a media type this operation reads.")
        if self.method == "GET" and self._is_list_view():
            errors["400"] = _("A filter value is refused; `errors` names it.")
            errors["404"] = _("No such page: the page number is not one of the pages.")
        elif "{" in self.path:  # one object, by a path parameter
            errors["404"] = _("It does not exist, or lies outside the caller's scope.")
        return errors

    def _error_ref(self) -> dict:
        return self.resolve_serializer(ApiErrorSerializer, "response").ref

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        if type(serializer).__doc__ is None:
            # drf-spectacular would describe it by a base class's docstring.
            schema.pop("description", None)
        if getattr(serializer, "refuses_unknown_keys", False):
            schema["additionalProperties"] = False
        return schema

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, serializers.ListSerializer) and schema.get("type") == "array":
            if field.max_length is not None:
                schema["maxItems"] = field.max_length
            if field.min_length is not None:
                schema["minItems"] = field.min_length
            elif not field.allow_empty:
                schema["minItems"] = 1
        return schema
