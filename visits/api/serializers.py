"""API shapes of visits.

`VisitSerializer` renders a stored visit (list, detail and the answer to a POST).
`VisitCreateSerializer` checks only the *types* of a POST body: whether a visit may be
logged, and with which values, is `visits.services.visit_log`'s business, so the API and the
page refuse the same things with the same messages.
"""

from __future__ import annotations

import datetime as dt
import json

from django.core.exceptions import ObjectDoesNotExist
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.utils import html

from audits.choices import QuestionKind
from audits.models import Audit, AuditAnswer
from crm.api.serializers import StrictSerializer
from customers.api.serializers import CustomerCodeField
from visits.choices import FollowUpStatus, PriceDisplay, StockLevel, VisitType
from visits.models import FollowUp, Visit

# --- reads -----------------------------------------------------------------------------

# A link that is null when there is nothing to link to (no photo).
_NULLABLE_URI = {"type": "string", "format": "uri", "nullable": True}


class FollowUpSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username", read_only=True)
    status = serializers.ChoiceField(choices=FollowUpStatus.choices, read_only=True)

    class Meta:
        model = FollowUp
        fields = ["id", "action", "due_date", "owner", "status", "done_at"]
        read_only_fields = fields


class AuditAnswerSerializer(serializers.ModelSerializer):
    key = serializers.CharField(source="question.key", read_only=True)
    type = serializers.ChoiceField(
        source="question.kind", choices=QuestionKind.choices, read_only=True
    )
    label = serializers.CharField(source="question.label", read_only=True)
    product_code = serializers.SerializerMethodField(
        help_text=_("Per-product questions: the product (null otherwise)")
    )
    value = serializers.JSONField(
        read_only=True,
        help_text=_(
            "As answered: true / false, a number as a string (a price in the question's "
            "unit), a choice, a list of choices, a text; photo answers: the name of the part "
            "it was sent in"
        ),
    )

    class Meta:
        model = AuditAnswer
        fields = ["question", "key", "type", "label", "product_code", "value"]
        read_only_fields = fields

    @extend_schema_field({"type": "string", "nullable": True})
    def get_product_code(self, answer: AuditAnswer) -> str | None:
        return answer.product.code if answer.product_id else None


class AuditSerializer(serializers.ModelSerializer):
    """One form filled in on the visit. Expects the form joined and the answers prefetched
    with their questions and products."""

    form_code = serializers.CharField(source="form.code", read_only=True)
    version = serializers.IntegerField(source="form.version", read_only=True)
    display_compliance = serializers.SerializerMethodField(
        help_text=_(
            "Share of yes (0-1) among the answered display questions; null when none was answered"
        )
    )
    answers = AuditAnswerSerializer(many=True, read_only=True)

    class Meta:
        model = Audit
        fields = ["form", "form_code", "version", "display_compliance", "answers"]
        read_only_fields = fields

    @extend_schema_field({"type": "number", "format": "double", "nullable": True})
    def get_display_compliance(self, audit: Audit) -> float | None:
        if not audit.display_answered:
            return None
        return round(audit.display_yes / audit.display_answered, 4)


class VisitSerializer(serializers.ModelSerializer):
    """One visit as stored. Expects the customer, `visited_by` and the plan joined and the
    follow-ups prefetched with their owners (the selectors do it)."""

    customer_code = serializers.CharField(source="customer.customer_code", read_only=True)
    store_name = serializers.CharField(source="customer.store_name", read_only=True)
    visited_by = serializers.CharField(
        source="visited_by.username", read_only=True, help_text=_("Username of who logged it")
    )
    has_photo = serializers.SerializerMethodField()
    photo_url = serializers.SerializerMethodField(
        help_text=_(
            "The photo as uploaded: the visit page's address, which opens in a signed-in "
            "browser session of a person who sees the customer (not with a token)"
        )
    )
    thumbnail_url = serializers.SerializerMethodField(
        help_text=_("A small JPEG of the photo, served like the photo")
    )
    # Declared for the schema: a finding left out is "" (the model's read-only fields would
    # not say so).
    stock_level = serializers.ChoiceField(
        choices=StockLevel.choices, allow_blank=True, read_only=True
    )
    price_display = serializers.ChoiceField(
        choices=PriceDisplay.choices, allow_blank=True, read_only=True
    )
    follow_ups = FollowUpSerializer(many=True, read_only=True)
    audits = AuditSerializer(
        many=True, read_only=True, help_text=_("The retail audits filled in on the visit")
    )
    plan = serializers.SerializerMethodField(
        help_text=_("Id of the planned visit this visit fulfilled, if any")
    )

    class Meta:
        model = Visit
        fields = [
            "id",
            "customer_code",
            "store_name",
            "visited_by",
            "visited_at",
            "ended_at",
            "visit_type",
            "purpose",
            "stock_level",
            "stock_notes",
            "price_display",
            "competitor_notes",
            "customer_requests",
            "latitude",
            "longitude",
            "location_accuracy_m",
            "distance_m",
            "location_flagged",
            "has_photo",
            "photo_url",
            "thumbnail_url",
            "follow_ups",
            "audits",
            "plan",
            "client_id",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_has_photo(self, visit: Visit) -> bool:
        return bool(visit.photo)

    @extend_schema_field(_NULLABLE_URI)
    def get_photo_url(self, visit: Visit) -> str | None:
        return self._photo_url(visit, "full") if visit.photo else None

    @extend_schema_field(_NULLABLE_URI)
    def get_thumbnail_url(self, visit: Visit) -> str | None:
        return self._photo_url(visit, "thumb") if visit.photo_thumbnail else None

    @extend_schema_field({"type": "integer", "nullable": True})
    def get_plan(self, visit: Visit) -> int | None:
        try:
            return visit.plan.pk
        except ObjectDoesNotExist:
            return None

    def _photo_url(self, visit: Visit, kind: str) -> str:
        # Served by the visits page (scope-checked), never straight from the storage.
        path = reverse("visits:photo", kwargs={"pk": visit.pk, "kind": kind})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


# --- write -----------------------------------------------------------------------------


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 date and time that must carry its offset: a phone's local time without
    one cannot be placed on the timeline, so it is refused rather than guessed."""

    default_error_messages = {
        "naive": _("Give the time with its offset, e.g. 2026-10-05T09:30:00+08:00."),
    }

    def to_internal_value(self, value):
        # DRF would make a naive input aware in the current time zone: look at it first.
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value.strip())
            except ValueError:
                parsed = None  # refused as invalid below
            if parsed is not None and timezone.is_naive(parsed):
                self.fail("naive")
        elif isinstance(value, dt.datetime) and timezone.is_naive(value):
            self.fail("naive")
        return super().to_internal_value(value)


class FollowUpInputSerializer(StrictSerializer):
    action = serializers.CharField(help_text=_("What is to be done (at most 300 characters)"))
    due_date = serializers.DateField(help_text=_("On or after the day of the visit"))
    owner = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text=_(
            "Username of who does it: the customer's account manager or a supervisor of its "
            "area. The caller when left out."
        ),
    )


class JsonPartsListField(serializers.ListField):
    """A list of objects: a JSON list; in a multipart body either fields of its name each
    holding one item as a JSON object (OpenAPI's encoding of an array in multipart, which
    generated clients send), one field holding the JSON list, or `name[0]key`, … fields."""

    def get_value(self, dictionary):
        if html.is_html_input(dictionary) and self.field_name in dictionary:
            items = []
            for raw in dictionary.getlist(self.field_name):
                try:
                    value = json.loads(raw) if raw else []
                except (TypeError, ValueError):
                    return raw  # refused by to_internal_value as "not a list"
                items.extend(value if isinstance(value, list) else [value])
            return items
        return super().get_value(dictionary)


class FollowUpListField(JsonPartsListField):
    """The follow-ups (`follow_ups[0]action`, `follow_ups[0]due_date`, … in a form body)."""

    child = FollowUpInputSerializer()


@extend_schema_field(FollowUpInputSerializer(many=True))
class _DocumentedFollowUpListField(FollowUpListField):
    pass


class AuditAnswerInputSerializer(StrictSerializer):
    question = serializers.IntegerField(help_text=_("The question's id"))
    product_code = serializers.CharField(
        required=False, help_text=_("Per-product questions: the product answered about")
    )
    value = serializers.JSONField(
        allow_null=True,
        help_text=_(
            "Yes / no: true or false; number, facings, price: a number (a price in the "
            "question's unit); single choice: one of the choices; multiple choice: a list of "
            "them; text: at most 2,000 characters; photo: the name of the file part carrying "
            "it (multipart only, `POST /api/v1/visits/with-photo/`)"
        ),
    )
    confirmed = serializers.BooleanField(
        required=False,
        help_text=_("True to confirm a price under half or over twice the suggested retail price"),
    )


class AuditInputSerializer(StrictSerializer):
    form = serializers.IntegerField(
        help_text=_("The id of a form version the shop was asked (`GET /api/v1/audit-forms/`)")
    )
    answers = serializers.ListField(child=AuditAnswerInputSerializer())


class AuditListField(JsonPartsListField):
    """The audits sent with a visit."""

    child = AuditInputSerializer()


@extend_schema_field(AuditInputSerializer(many=True))
class _DocumentedAuditListField(AuditListField):
    pass


class VisitCreateSerializer(StrictSerializer):
    """A visit to log, as a JSON body (`POST /api/v1/visits/with-photo/` logs one with its
    photo). An unknown key is refused.

    Only the types are checked here; the rules (times not in the future, the customer in the
    caller's scope, owners who look after the customer, the photo's type and size…) are
    checked when the visit is stored, and a refusal names the field."""

    customer_code = CustomerCodeField(help_text=_("A customer in the caller's scope"))
    visited_at = AwareDateTimeField(
        help_text=_("Time in: ISO 8601 with the offset, not in the future")
    )
    ended_at = AwareDateTimeField(
        required=False,
        allow_null=True,
        help_text=_("Time out: ISO 8601 with the offset, after the time in"),
    )
    visit_type = serializers.ChoiceField(choices=VisitType.choices)
    purpose = serializers.CharField(help_text=_("At most 200 characters"))
    stock_level = serializers.ChoiceField(
        choices=StockLevel.choices,
        required=False,
        allow_blank=True,
        help_text=_("Finding: stock of key brands"),
    )
    stock_notes = serializers.CharField(required=False, allow_blank=True)
    price_display = serializers.ChoiceField(
        choices=PriceDisplay.choices,
        required=False,
        allow_blank=True,
        help_text=_("Finding: retail price display compliance"),
    )
    competitor_notes = serializers.CharField(required=False, allow_blank=True)
    customer_requests = serializers.CharField(
        required=False, allow_blank=True, help_text=_("The customer's requests and complaints")
    )
    latitude = serializers.FloatField(
        required=False, allow_null=True, help_text=_("WGS-84, with the longitude")
    )
    longitude = serializers.FloatField(
        required=False, allow_null=True, help_text=_("WGS-84, with the latitude")
    )
    location_accuracy_m = serializers.FloatField(
        required=False, allow_null=True, help_text=_("The browser's accuracy, in metres")
    )
    follow_ups = _DocumentedFollowUpListField(
        required=False, help_text=_("Actions the visit leaves behind (at most 10)")
    )
    audits = _DocumentedAuditListField(
        required=False,
        help_text=_(
            "The retail audits filled in: the forms due at the shop "
            "(`GET /api/v1/audit-forms/?customer=`) with their answers. A refused answer is "
            "a 400 naming it (`audits.0.answers.2.value`) and nothing of the visit is stored."
        ),
    )
    client_id = serializers.UUIDField(
        required=False,
        allow_null=True,
        help_text=_(
            "The draft's id, made by the client: the same draft sent again is refused (409) "
            "and the visit stored the first time is returned."
        ),
    )
    plan = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text=_(
            "Id of the planned visit this visit fulfils; when left out, the customer's open "
            "planned visit nearest the visit's day is marked done."
        ),
    )


@extend_schema_field({"type": "string", "format": "binary"})
class _PhotoField(serializers.FileField):
    pass


class VisitCreateWithPhotoSerializer(VisitCreateSerializer):
    """A visit to log with its photo, as a multipart body. The follow-ups go as one
    `follow_ups` field holding the JSON list (or as `follow_ups[0]action`,
    `follow_ups[0]due_date`, `follow_ups[0]owner`, … fields), the audits as one `audits`
    field holding the JSON list; the photos of photo answers as file parts named by their
    answers' `value`."""

    photo = _PhotoField(help_text=_("JPEG or PNG, up to the size limit"))


class MultipartVisitSerializer(VisitCreateWithPhotoSerializer):
    """A multipart body sent to `POST /api/v1/visits/`, as clients did before the photo had
    its own operation: the photo is optional there. Not in the schema."""

    photo = _PhotoField(required=False, allow_null=True)
