import re
from collections.abc import Mapping

from django.utils.translation import gettext_lazy
from rest_framework import serializers

from crm.models import Area, Notification, User


class AreaSerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = Area
        fields = ["code", "name", "parent"]
        read_only_fields = fields


class MeSerializer(serializers.ModelSerializer):
    areas = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = User
        fields = ["username", "name", "role", "areas"]
        read_only_fields = fields


class NotificationSerializer(serializers.ModelSerializer):
    message = serializers.CharField(
        source="text",
        read_only=True,
        help_text=gettext_lazy("The message in the request's language (Accept-Language)"),
    )

    class Meta:
        model = Notification
        fields = ["id", "message", "link", "created_at", "read_at"]
        read_only_fields = fields


# --- what every request body and every error share ----------------------------------------

UNKNOWN_FIELD = gettext_lazy("Unknown field.")


def unknown_keys(data: Mapping, fields: Mapping[str, serializers.Field]) -> list[str]:
    """The keys of `data` no field reads. In a form or multipart body a list field is also
    sent as `name[0]…` (DRF's HTML list syntax) and a nested one as `name.…`."""
    html = hasattr(data, "getlist")
    return [
        key
        for key in data
        if key not in fields
        and not (html and any(re.match(rf"{re.escape(name)}(\[\d+\]|\.)", key) for name in fields))
    ]


class StrictSerializer(serializers.Serializer):
    """A request body that refuses keys it does not know, naming them (a mistyped `quantiy`
    would otherwise be dropped without a word). The schema says so with
    `additionalProperties: false` (`crm.api.schema.AutoSchema`)."""

    refuses_unknown_keys = True

    def to_internal_value(self, data):
        unknown = {}
        if isinstance(data, Mapping):
            unknown = {key: [str(UNKNOWN_FIELD)] for key in unknown_keys(data, self.fields)}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if unknown and isinstance(exc.detail, dict):
                raise serializers.ValidationError({**exc.detail, **unknown}) from None
            raise
        if unknown:
            raise serializers.ValidationError(unknown)
        return value


class ApiErrorSerializer(serializers.Serializer):
    """Every error the API answers, whatever the endpoint and the status."""

    detail = serializers.CharField(help_text=gettext_lazy("What went wrong, in one sentence"))
    code = serializers.CharField(
        help_text=gettext_lazy(
            "A machine code: invalid, parse_error, bad_request, not_authenticated, "
            "authentication_failed, permission_denied, not_found, method_not_allowed, "
            "duplicate_visit, idempotency_conflict, payload_too_large, unsupported_media_type, "
            "server_error, … (more may be added)"
        )
    )
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text=gettext_lazy(
            "Messages by the dotted path of the refused field (`customer_code`, "
            "`follow_ups.0.due_date`, `Idempotency-Key`; `non_field_errors` for the request or "
            "an object as a whole); {} when no field is at fault"
        ),
    )
