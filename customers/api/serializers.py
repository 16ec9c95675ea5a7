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

from django.db import models
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from customers import choices
from customers.catalogue import FIELDS, REFERENCE_KEYS, FieldSpec, block, editable_fields

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
    if field.choices:
        return CatalogueChoiceField(
            enum_name=_enum_name(field),
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


class CatalogueChoiceField(serializers.ChoiceField):
    """A choice field documented as an enum component named after its choices class.

    drf-spectacular names enums after the field, so one choice set under two field names
    (order_cycle and visit_cycle are both `Cycle`) would get two names and a schema warning.
    """

    def __init__(self, *, enum_name: str, **kwargs):
        self.enum_name = enum_name
        super().__init__(**kwargs)


class CatalogueChoiceFieldSchema(OpenApiSerializerFieldExtension):
    target_class = CatalogueChoiceField

    def map_serializer_field(self, auto_schema, direction):
        field = self.target
        values = [*field.choices, *([""] if field.allow_blank else [])]
        described = "\n".join(f"* `{code}` - {label}" for code, label in field.choices.items())
        component = ResolvedComponent(
            name=field.enum_name,
            type=ResolvedComponent.SCHEMA,
            schema={"type": "string", "enum": values, "description": described},
            object=field.enum_name,
        )
        auto_schema.registry.register_on_missing(component)
        return component.ref


_ENUM_VALUES: dict[str, list[str]] = {}


def _enum_name(field: models.Field) -> str:
    """`<ChoicesClass>Enum`; with a `Blank` infix when the class is also used without blank."""
    cls = next(
        (c for c in vars(choices).values() if _is_choices(c) and c.choices == field.choices),
        None,
    )
    base = cls.__name__ if cls else field.name.title().replace("_", "")
    values = [code for code, _label in field.flatchoices] + ([""] if field.blank else [])
    name = f"{base}Enum"
    if _ENUM_VALUES.setdefault(name, values) != values:
        name = f"{base}{'Blank' if field.blank else 'NotBlank'}Enum"
    return name


def _is_choices(obj) -> bool:
    return isinstance(obj, type) and issubclass(obj, models.Choices) and obj is not models.Choices


def _catalogue_serializer(
    name: str, specs: list[FieldSpec], *, for_write: bool = False
) -> type[serializers.Serializer]:
    """A serializer class with one field per catalogue entry (for the schema)."""
    attrs = {spec.name: _schema_field(spec, for_write=for_write) for spec in specs}
    return type(f"{name}Serializer", (serializers.Serializer,), attrs)


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


class AreaSyncItemSerializer(serializers.Serializer):
    """One area of an areas sync. Also checks each item (no query)."""

    code = serializers.CharField(max_length=20, help_text=_("Area code"))
    name = serializers.CharField(max_length=100, help_text=_("Area name"))
    parent = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text=_("Code of the parent area; empty or absent for a top-level area"),
    )


CustomerSyncItemSerializer = _catalogue_serializer(
    "CustomerSyncItem", editable_fields(), for_write=True
)
CustomerSyncItemSerializer.__doc__ = (
    "One customer of a customers sync: catalogue field names; references by natural key "
    "(`area` by code, `account_manager` and `license_officer` by username). Fields left out "
    "keep their value. System-generated fields are refused."
)


@extend_schema_field(AreaSyncItemSerializer(many=True))
class _AreaItemsField(serializers.ListField):
    child = serializers.DictField()


@extend_schema_field(CustomerSyncItemSerializer(many=True))
class _CustomerItemsField(serializers.ListField):
    child = serializers.DictField()


class AreaSyncRequestSerializer(serializers.Serializer):
    areas = _AreaItemsField(allow_empty=True)


class CustomerSyncRequestSerializer(serializers.Serializer):
    customers = _CustomerItemsField(allow_empty=True)


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
