"""The OpenAPI schema as a contract a generated client can trust: enums named once each and
holding the server's choices, one error shape on every error response, request bodies that say
they refuse unknown keys, and the limits the server enforces declared.

(tests/api_client/ generates a client from it and runs an integration; tests/api_fuzz/ fuzzes
the server against it.)"""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.utils import translation
from django.utils.module_loading import import_string
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from rest_framework import serializers

ENUM_NAMES = settings.SPECTACULAR_SETTINGS.get("ENUM_NAME_OVERRIDES", {})
# drf-spectacular's own: the blank and null members of an optional enum field.
BLANK_AND_NULL = {"BlankEnum", "NullEnum"}


def generate(language: str = "en") -> tuple[dict, SchemaGenerator]:
    """The schema /api/v1/schema/ serves (as JSON), and the generator that made it."""
    with translation.override(language):
        generator = SchemaGenerator()
        schema = generator.get_schema(request=None, public=True)
        rendered = OpenApiJsonRenderer().render(schema, renderer_context={})
    return json.loads(rendered), generator


@pytest.fixture(scope="module")
def schema_and_generator():
    return generate()


@pytest.fixture(scope="module")
def schema(schema_and_generator):
    return schema_and_generator[0]


def resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def enum_values(schema: dict, node: dict) -> set:
    """Every value an enum property may take, through $ref, allOf and oneOf."""
    node = resolve(schema, node)
    values = set(node.get("enum", []))
    for key in ("allOf", "oneOf", "anyOf"):
        for part in node.get(key, []):
            values |= enum_values(schema, part)
    return values


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_schema_generates_without_a_warning(language):
    # drf-spectacular warns on an enum name collision ("PaymentMethod3dcEnum") and on a choice
    # set given two names; every other warning is a gap in the schema too.
    GENERATOR_STATS.reset()
    with GENERATOR_STATS.silence():
        generate(language)
    assert not GENERATOR_STATS._warn_cache, list(GENERATOR_STATS._warn_cache)
    assert not GENERATOR_STATS._error_cache, list(GENERATOR_STATS._error_cache)


def test_every_enum_is_named_explicitly_and_holds_its_choices(schema):
    components = schema["components"]["schemas"]
    enums = {name: c["enum"] for name, c in components.items() if "enum" in c}
    assert set(enums) - BLANK_AND_NULL <= set(ENUM_NAMES), set(enums) - set(ENUM_NAMES)
    for name, values in enums.items():
        if name not in BLANK_AND_NULL:
            assert values == import_string(ENUM_NAMES[name]).values, name
    # the two payment-method lists the client mixed up
    assert components["OrderPaymentMethodEnum"]["enum"] == ["electronic", "cash", "other"]
    assert components["CustomerPaymentMethodEnum"]["enum"] == [
        "electronic",
        "cash",
        "bank_transfer",
    ]


def test_every_choice_field_documents_exactly_the_values_the_server_takes(schema_and_generator):
    schema, generator = schema_and_generator
    checked = 0
    for (name, kind), component in generator.registry._components.items():
        serializer = component.object
        if kind != "schemas" or not isinstance(serializer, serializers.BaseSerializer):
            continue
        if name.startswith("Paginated"):  # the page around a serializer, not the serializer
            continue
        properties = resolve(schema, {"$ref": f"#/components/schemas/{name}"})["properties"]
        for field_name, field in serializer.fields.items():
            if isinstance(field, serializers.ListField) and isinstance(
                field.child, serializers.ChoiceField
            ):
                field, node = field.child, properties[field_name]["items"]
            elif isinstance(field, serializers.ChoiceField):
                node = properties[field_name]
            else:
                continue
            expected = set(field.choices)
            expected |= {""} if field.allow_blank else set()
            expected |= {None} if field.allow_null else set()
            assert enum_values(schema, node) == expected, (name, field_name)
            checked += 1
    assert checked > 40


def test_every_error_response_is_the_one_error_shape(schema):
    error = schema["components"]["schemas"]["ApiError"]
    assert set(error["required"]) == {"detail", "code", "errors"}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    content = response["content"]
                    assert list(content) == ["application/json"], (method, path, status)
                    ref = content["application/json"]["schema"]["$ref"]
                    assert ref == "#/components/schemas/ApiError", (method, path, status)


def test_each_operation_declares_the_errors_it_can_give(schema):
    paths = schema["paths"]
    for sync in ("areas", "customers", "products", "orders"):
        responses = paths[f"/api/v1/{sync}/sync/"]["post"]["responses"]
        assert set(responses) == {"200", "400", "401", "403", "409", "413", "415"}, sync
        assert "Idempotent-Replayed" in responses["200"]["headers"], sync
    for create in ("/api/v1/visits/", "/api/v1/visits/with-photo/", "/api/v1/service-requests/"):
        responses = paths[create]["post"]["responses"]
        assert {"201", "400", "401", "403", "404", "413", "415"} <= set(responses), create
        assert "Location" in responses["201"]["headers"], create
    assert "409" in paths["/api/v1/visits/"]["post"]["responses"]
    prices = paths["/api/v1/price-monitoring/"]["get"]
    assert set(prices["responses"]) == {"200", "400", "401", "403"}
    assert [p["name"] for p in prices["parameters"] if p.get("required")] == ["month"]
    assert "WWW-Authenticate" in paths["/api/v1/me/"]["get"]["responses"]["401"]["headers"]


def test_request_bodies_have_one_media_type_and_refuse_unknown_keys(schema):
    def strict(node: dict, where: str) -> None:
        node = resolve(schema, node)
        if node.get("type") == "object" and "properties" in node:
            assert node.get("additionalProperties") is False, where
            for name, prop in node["properties"].items():
                strict(prop, f"{where}.{name}")
        if node.get("type") == "array":
            strict(node["items"], f"{where}[]")

    bodies = 0
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if "requestBody" in operation:
                content = operation["requestBody"]["content"]
                assert len(content) == 1, (method, path, list(content))
                [(media_type, body)] = content.items()
                expected = (
                    "multipart/form-data" if path.endswith("with-photo/") else "application/json"
                )
                assert media_type == expected, (method, path)
                strict(body["schema"], f"{method} {path}")
                bodies += 1
    assert bodies == 8


def test_the_limits_the_server_enforces_are_declared(schema):
    components = schema["components"]["schemas"]
    for request, key in [
        ("OrderSyncRequest", "orders"),
        ("ProductSyncRequest", "products"),
        ("CustomerSyncRequest", "customers"),
        ("AreaSyncRequest", "areas"),
    ]:
        assert components[request]["properties"][key]["maxItems"] == 1000, request
    lines = components["OrderSyncItem"]["properties"]["lines"]
    assert (lines["minItems"], lines["maxItems"]) == (1, 500)
    line = components["OrderLineSync"]["properties"]
    assert (line["quantity"]["minimum"], line["quantity"]["maximum"]) == (1, 1_000_000)
    for price in (
        line["unit_price"],
        line["amount"],
        components["ProductSyncItem"]["properties"]["wholesale_price"],
    ):
        string, number = price["oneOf"]
        assert not string["pattern"].startswith("^-"), price  # no negative
        assert number["minimum"] == 0
    key = next(
        p
        for p in schema["paths"]["/api/v1/orders/sync/"]["post"]["parameters"]
        if p["name"] == "Idempotency-Key"
    )
    assert (key["schema"]["minLength"], key["schema"]["maxLength"]) == (1, 100)
    for body in ("OrderSyncItem", "CustomerSyncItem", "VisitCreate", "ServiceRequestCreate"):
        assert components[body]["properties"]["customer_code"]["pattern"] == r"^\d{12}$", body
    assert components["AreaSyncItem"]["properties"]["code"]["pattern"]


def test_the_code_pattern_follows_the_setting(settings):
    settings.CRM_CODE_PATTERN = r"^[A-Z]{2}\d{6}$"
    schema, _generator = generate()
    item = schema["components"]["schemas"]["OrderSyncItem"]
    assert item["properties"]["customer_code"]["pattern"] == r"^[A-Z]{2}\d{6}$"
