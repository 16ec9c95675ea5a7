"""API shapes of customers and of the sync endpoints.

Customers are read in three blocks ("static", "dynamic", "system") named as in the field
catalogue; the values come from `catalogue.block`, so the API, exports and imports agree on
every value's external form. The block serializers below are built from the catalogue too:
they exist to document each field in the OpenAPI schema.

The sync endpoints validate only the *shape* of their body here (a list of objects); each item
is checked by the service, so one bad item is reported without stopping the others and no
item costs a query of its own (no ModelSerializer on these paths).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm.api.serializers import StrictSerializer
from crm.models import area_code_validator
from customers.catalogue import FIELDS, REFERENCE_KEYS, FieldSpec, block, editable_fields
from customers.validators import validate_code

# --- customers (read) ------------------------------------------------------------------


# How a reference is written: {natural key: its description}.
_BY_KEY = {"code": _("by code"), "username": _("by username")}


def _schema_field(spec: FieldSpec, *, for_write: bool) -> serializers.Field:
    """A serializer field describing one catalogue field in its external form."""
    field = spec.model_field
    help_text = spec.label_en
    if spec.is_reference:
        key = REFERENCE_KEYS[field.related_model]
        help_text = format_lazy("{} ({})", help_text, _BY_KEY[key])
    if for_write and spec.required and spec.name != "customer_code":
        help_text = format_lazy("{} ({})", help_text, _("required to create a customer"))
    options = {"help_text": help_text}
    if for_write:
        # Only the code is needed to update; leaving a field out keeps its value.
        options["required"] = spec.name == "customer_code"
    else:
        options["read_only"] = True
    nullable = field.null or (for_write and not spec.required)
    if spec.is_reference:
        return serializers.CharField(allow_null=True, allow_blank=for_write, **options)
    if for_write and validate_code in field.validators:
        return CustomerCodeField(allow_blank=field.blank, allow_null=nullable, **options)
    if field.choices:
        # Named by SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] after its choices class.
        return serializers.ChoiceField(
            choices=field.choices,
            allow_blank=field.blank,
            allow_null=nullable,
            **options,
        )
    if isinstance(field, models.BooleanField):
        return serializers.BooleanField(allow_null=nullable, **options)
    if isinstance(field, models.DecimalField):
        # Sent as text so no precision is lost ("1000", "23.123456").
        return serializers.DecimalField(
            max_digits=field.max_digits,
            decimal_places=field.decimal_places,
            coerce_to_string=True,
            allow_null=nullable,
            **options,
        )
    if isinstance(field, models.DateField):
        return serializers.DateField(allow_null=nullable, **options)
    if isinstance(field, models.FloatField):
        return serializers.FloatField(allow_null=nullable, **options)
    if isinstance(field, models.IntegerField):
        return serializers.IntegerField(allow_null=nullable, **options)
    return serializers.CharField(allow_blank=field.blank, allow_null=nullable, **options)


class CustomerCodeField(serializers.CharField):
    """A customer code (or licence number): documented with the pattern the server checks,
    `settings.CRM_CODE_PATTERN`, read when the schema is generated (operators may change it)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 32)
        super().__init__(**kwargs)


class CustomerCodeFieldSchema(OpenApiSerializerFieldExtension):
    target_class = CustomerCodeField

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        return {**schema, "pattern": settings.CRM_CODE_PATTERN}


def _catalogue_serializer(
    name: str, specs: list[FieldSpec], *, for_write: bool = False
) -> type[serializers.Serializer]:
    """A serializer class with one field per catalogue entry (for the schema); one to write
    refuses unknown keys, as the customers sync does."""
    attrs = {spec.name: _schema_field(spec, for_write=for_write) for spec in specs}
    base = StrictSerializer if for_write else serializers.Serializer
    return type(f"{name}Serializer", (base,), attrs)


BLOCK_SERIALIZERS: dict[str, type[serializers.Serializer]] = {
    part: _catalogue_serializer(
        f"Customer{part.title()}Block", [spec for spec in FIELDS if spec.part == part]
    )
    for part in ("static", "dynamic", "system")
}


def _block_field(part: str) -> serializers.Field:
    """A read-only field giving one block of the customer (documented by its serializer)."""

    @extend_schema_field(BLOCK_SERIALIZERS[part])
    class BlockField(serializers.Field):
        def __init__(self, **kwargs):
            super().__init__(source="*", read_only=True, **kwargs)

        def to_representation(self, customer):
            return block(customer, part)

    return BlockField()


class CustomerSerializer(serializers.Serializer):
    """One customer: its code and its three blocks, by catalogue field names."""

    customer_code = serializers.CharField(read_only=True)
    static = _block_field("static")
    dynamic = _block_field("dynamic")
    system = _block_field("system")


# --- sync (write) ----------------------------------------------------------------------


# Items per request: a larger batch is refused whole with 413 (split it).
MAX_AREAS_PER_SYNC = 1000
MAX_CUSTOMERS_PER_SYNC = 1000


class AreaSyncItemSerializer(StrictSerializer):
    """One area of an areas sync. Also checks each item (no query); an unknown key is
    refused."""

    code = serializers.CharField(
        max_length=20, validators=[area_code_validator], help_text=_("Area code")
    )
    name = serializers.CharField(max_length=100, help_text=_("Area name"))
    parent = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text=_("Code of the parent area; empty or absent for a top-level area"),
    )


# The schema is built once from the code's catalogue, not the administrators' overrides
# (customers.catalogue.effective): the OpenAPI document and the generated clients must not
# change when a version is activated. That holds because the blocks go by storage (`part`),
# which overrides never change, and because an override can only make a field *more*
# required (a field the database needs cannot become optional): a field made required is
# still documented as nullable here and refused per item by the sync service
# (`_prepare` reads the effective "required"), with the field named in the item's errors.
CustomerSyncItemSerializer = _catalogue_serializer(
    "CustomerSyncItem", editable_fields(), for_write=True
)
CustomerSyncItemSerializer.__doc__ = (
    "One customer of a customers sync: catalogue field names; references by natural key "
    "(`area` by code, `account_manager` and `license_officer` by username). Fields left out "
    "keep their value. System-generated fields and unknown keys are refused."
)


# The sync bodies: documentation only. BulkSyncAPIView checks the shape and the count, and
# each item is checked on its own (a bad one is reported, the others stored).


class AreaSyncRequestSerializer(StrictSerializer):
    areas = AreaSyncItemSerializer(
        many=True, max_length=MAX_AREAS_PER_SYNC, help_text=_("At most 1,000 per request")
    )


class CustomerSyncRequestSerializer(StrictSerializer):
    customers = CustomerSyncItemSerializer(
        many=True, max_length=MAX_CUSTOMERS_PER_SYNC, help_text=_("At most 1,000 per request")
    )


class SyncItemErrorSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text=_("Position of the item in the request (from 0)"))
    code = serializers.CharField(allow_null=True, help_text=_("The item's code, as sent"))
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text=_("Messages by field; `non_field_errors` for the item as a whole"),
    )


class SyncReportSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    errors = SyncItemErrorSerializer(many=True)


class CustomerSyncWarningSerializer(serializers.Serializer):
    """A customer stored but worth a word: today, one whose phone or address another customer
    of the company has too (compared normalised: digits without the country prefix; the
    address without spaces, punctuation, full-width or traditional forms). The item is
    stored as sent all the same; the duplicates page lists the pair."""

    index = serializers.IntegerField(help_text=_("Position of the item in the request (from 0)"))
    customer_code = serializers.CharField(help_text=_("The item's customer_code, as sent"))
    code = serializers.CharField(
        help_text=_("What it is: possible_duplicate (more codes may be added)")
    )
    field = serializers.CharField(help_text=_("The field compared: phone or address"))
    message = serializers.CharField()
    matches = serializers.ListField(
        child=serializers.CharField(),
        help_text=_("The codes of the customers with the same value (at most 5)"),
    )


class CustomerSyncReportSerializer(SyncReportSerializer):
    warnings = CustomerSyncWarningSerializer(many=True)
