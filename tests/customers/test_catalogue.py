"""The field catalogue (customers.catalogue) and the change policies read from it
(customers.policies).

The catalogue checks itself against the models when it is imported; these tests pin the same
facts through its public helpers, plus the conversions every write path relies on.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.utils import translation

from crm.choices import Role
from customers import policies
from customers.catalogue import (
    CATALOGUE,
    FIELDS,
    PARTS,
    Category,
    Maintenance,
    Policy,
    display,
    editable_fields,
    external,
    fields_in,
    reference_lookups,
    to_internal,
)

# --- the catalogue and the three models ------------------------------------------------


def _models_holding(name: str) -> list[str]:
    homes = []
    for part, model in PARTS.items():
        try:
            model._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        homes.append(part)
    return homes


@pytest.mark.parametrize("name", [spec.name for spec in FIELDS])
def test_every_catalogue_field_lives_in_exactly_one_of_the_three_models(name):
    assert _models_holding(name) == [CATALOGUE[name].part]
    assert CATALOGUE[name].model_field.name == name


def test_catalogue_names_are_unique():
    assert len(CATALOGUE) == len(FIELDS)


def test_system_fields_are_exactly_the_customer_system_columns():
    system_policy = {spec.name for spec in FIELDS if spec.policy == Policy.SYSTEM}
    system_class = {spec.name for spec in FIELDS if spec.maintenance == Maintenance.SYSTEM}
    stored_in_system = {spec.name for spec in FIELDS if spec.part == "system"}

    assert system_policy == system_class == stored_in_system
    assert all(CATALOGUE[name].is_system for name in stored_in_system)


def test_every_editable_column_of_the_three_models_is_in_the_catalogue():
    for model in PARTS.values():
        for field in model._meta.concrete_fields:
            if field.editable and not field.primary_key:
                assert field.name in CATALOGUE, f"{model.__name__}.{field.name}"


def test_editable_fields_are_all_but_the_system_generated_ones():
    names = {spec.name for spec in editable_fields()}
    assert names == {spec.name for spec in FIELDS if spec.part != "system"}
    assert "grade" not in names
    assert "phone" in names


@pytest.mark.parametrize(
    ("name", "part"),
    [
        ("customer_code", "static"),
        ("store_name", "static"),
        ("license_number", "static"),
        ("legal_representative", "static"),
        ("business_scope", "static"),
        ("address", "static"),
        ("business_format", "static"),
        ("market_type", "static"),
        ("area", "static"),
        ("floor_area_m2", "static"),
        ("account_manager", "static"),
        ("status", "dynamic"),
        ("phone", "dynamic"),
        ("payment_method", "dynamic"),
        ("order_cycle", "dynamic"),
        ("visit_cycle", "dynamic"),
        ("contact_person", "dynamic"),
        ("latitude", "dynamic"),
        ("longitude", "dynamic"),
        ("grade", "system"),
        ("business_scale", "system"),
        ("category_code", "system"),
        ("structure_class", "system"),
        ("value_tier", "system"),
        ("purchase_quantity", "system"),
        ("purchase_amount", "system"),
        ("average_price", "system"),
        ("last_order_date", "system"),
    ],
)
def test_fields_the_issue_names_exist_in_the_expected_block(name, part):
    assert CATALOGUE[name].part == part


def test_the_six_fields_needed_to_create_a_customer():
    required = {spec.name for spec in FIELDS if spec.required}
    assert required == {
        "customer_code",
        "store_name",
        "license_number",
        "business_format",
        "market_type",
        "area",
    }


def test_business_format_and_market_type_use_the_national_letters():
    formats = [code for code, _label in CATALOGUE["business_format"].model_field.choices]
    markets = [code for code, _label in CATALOGUE["market_type"].model_field.choices]
    assert formats == ["Z", "B", "S", "N", "Y", "F", "Q"]
    assert markets == ["C", "X"]


@pytest.mark.parametrize(
    ("name", "category"),
    [
        ("store_name", Category.BASIC),
        ("customer_code", Category.BASIC),
        ("business_format", Category.NETWORK),
        ("area", Category.NETWORK),
        ("license_expiry_date", Category.MANAGEMENT),
        ("license_officer", Category.MANAGEMENT),
        ("operating_status", Category.BUSINESS),
        ("trade_area", Category.BUSINESS),
        ("phone", Category.PERSONAL),
        ("mailing_address", Category.PERSONAL),
    ],
)
def test_content_categories_follow_the_seed(name, category):
    assert CATALOGUE[name].category == category
    assert CATALOGUE[name] in fields_in(category)


def test_static_fields_are_never_edited_directly():
    for spec in FIELDS:
        if spec.maintenance == Maintenance.STATIC:
            assert spec.policy in (Policy.APPROVAL, Policy.SUPERVISOR), spec.name


@pytest.mark.parametrize("name", ["bank_account", "payment_method", "status"])
def test_sensitive_dynamic_fields_need_approval(name):
    assert CATALOGUE[name].maintenance == Maintenance.DYNAMIC
    assert CATALOGUE[name].policy == Policy.APPROVAL


# --- labels ------------------------------------------------------------------------------


def test_every_field_has_an_english_and_a_chinese_label():
    for spec in FIELDS:
        assert spec.label_en.strip(), spec.name
        assert any("\u4e00" <= char <= "\u9fff" for char in spec.label_zh), spec.name


def test_label_follows_the_active_language():
    spec = CATALOGUE["store_name"]
    with translation.override("zh-hans"):
        assert spec.label == "店铺名称"
    with translation.override("en"):
        assert spec.label == "Store name"


def test_every_label_switches_to_chinese():
    with translation.override("zh-hans"):
        assert [spec.label for spec in FIELDS] == [spec.label_zh for spec in FIELDS]


# --- external form -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("registered_capital", None, None),
        ("license_issue_date", dt.date(2024, 3, 1), "2024-03-01"),
        # Decimals with the column's own decimal places, whatever precision they came with.
        ("registered_capital", Decimal("50000.00"), "50000.00"),
        ("registered_capital", Decimal("50000"), "50000.00"),
        ("registered_capital", Decimal("2500.5"), "2500.50"),
        ("registered_capital", Decimal("0"), "0.00"),
        ("floor_area_m2", Decimal("12.50"), "12.50"),
        ("latitude", Decimal("23.129110"), "23.129110"),
        ("latitude", Decimal("23.1"), "23.100000"),
        ("store_name", "天河一号店", "天河一号店"),
        ("business_format", "Z", "Z"),
        ("is_monitored", True, True),
        ("order_frequency", 4, 4),
    ],
)
def test_external_form_of_plain_values(name, value, expected):
    assert external(name, value) == expected


def test_external_form_of_references_is_their_natural_key(areas, make_user):
    manager = make_user(Role.ACCOUNT_MANAGER, [areas["TH"]], username="am_zhang")
    assert external("area", areas["TH"]) == "TH"
    assert external("account_manager", manager) == "am_zhang"


# --- display -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("legal_representative", None, "—"),
        ("legal_representative", "", "—"),
        ("is_monitored", True, "Yes"),
        ("is_monitored", False, "No"),
        ("business_format", "Z", "Grocery store"),
        ("market_type", "X", "Rural"),
        ("payment_method", "bank_transfer", "Bank transfer"),
        ("business_format", "K", "K"),  # an unknown code is shown as it is
        ("license_expiry_date", dt.date(2026, 12, 31), "2026-12-31"),
        ("registered_capital", Decimal("50000"), "50000.00"),
        ("store_name", "天河一号店", "天河一号店"),
    ],
)
def test_display(name, value, expected):
    with translation.override("en"):
        assert display(name, value) == expected


def test_display_of_a_reference_is_its_name(areas):
    assert display("area", areas["TH"]) == "TH 天河区"


# --- converting input --------------------------------------------------------------------


def _convert(name, value):
    return to_internal(name, value, references={})


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("license_issue_date", "2024-01-31", dt.date(2024, 1, 31)),
        ("license_issue_date", " 2024-01-31 ", dt.date(2024, 1, 31)),
        ("license_issue_date", dt.date(2024, 1, 31), dt.date(2024, 1, 31)),
        ("license_issue_date", "", None),
        ("registered_capital", "50000.50", Decimal("50000.50")),
        ("registered_capital", "", None),
        ("floor_area_m2", 35, Decimal("35")),
        ("latitude", 23.1, Decimal("23.1")),  # a float from JSON, without binary noise
        ("order_frequency", "4", 4),
        ("store_name", "  天河一号店  ", "天河一号店"),
        ("legal_representative", None, ""),
    ],
)
def test_to_internal_converts_text(name, value, expected):
    assert _convert(name, value) == expected


@pytest.mark.parametrize("text", ["1", "true", "TRUE", "yes", "Y", "是"])
def test_to_internal_reads_yes_in_english_and_chinese(text):
    assert _convert("is_monitored", text) is True


@pytest.mark.parametrize("text", ["0", "false", "No", "n", "否"])
def test_to_internal_reads_no_in_english_and_chinese(text):
    assert _convert("is_monitored", text) is False


def test_to_internal_empty_boolean_is_false_or_unknown_when_the_column_allows_null():
    assert _convert("is_monitored", "") is False
    # the model-outlet flag has three states: blank is unknown, not "no" (issue 19)
    assert _convert("is_model_outlet", "") is None
    assert _convert("compliance_flag", "") is None


@pytest.mark.parametrize(
    ("name", "text", "code"),
    [
        ("business_format", "Z", "Z"),
        ("business_format", "Grocery store", "Z"),
        ("business_format", "grocery STORE", "Z"),
        ("business_format", "Tobacco & liquor shop", "Y"),
        ("market_type", "Rural", "X"),
        ("payment_method", "Electronic settlement", "electronic"),
        ("order_cycle", "Fortnightly", "fortnightly"),
    ],
)
def test_to_internal_accepts_a_choice_by_code_or_by_label(name, text, code):
    with translation.override("en"):
        assert _convert(name, text) == code


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("license_issue_date", "31/01/2024", "YYYY-MM-DD"),
        ("license_issue_date", "2024-02-30", "invalid date"),
        ("registered_capital", "lots", "must be a decimal number"),
        ("order_frequency", "weekly", "must be an integer"),
        ("is_monitored", "maybe", "must be either True or False"),
    ],
)
def test_to_internal_refuses_bad_values_with_a_clear_message(name, value, message):
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        _convert(name, value)
    assert message in " ".join(exc.value.messages)
    assert str(value) in " ".join(exc.value.messages)


@pytest.mark.parametrize("value", [["Z"], {"code": "Z"}, ("Z",)])
def test_to_internal_refuses_a_list_or_mapping(value):
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        _convert("business_format", value)
    assert exc.value.messages == ["Enter a single value."]


def test_to_internal_finds_references_by_natural_key_whatever_the_case(areas, make_user):
    manager = make_user(Role.ACCOUNT_MANAGER, [areas["TH"]], username="am_zhang")
    rows = [{"area": " th ", "account_manager": "AM_Zhang"}]
    references = reference_lookups(["area", "account_manager", "store_name"], rows)

    assert to_internal("area", " th ", references=references) == areas["TH"]
    assert to_internal("account_manager", "AM_Zhang", references=references) == manager


def test_to_internal_passes_instances_and_blanks_of_references_through(areas):
    assert to_internal("area", areas["YX"], references={}) == areas["YX"]
    assert to_internal("account_manager", "", references={}) is None
    assert to_internal("account_manager", None, references={}) is None


def test_to_internal_refuses_an_unknown_reference_naming_the_field(areas):
    references = reference_lookups(["area"], [{"area": "XX"}])
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        to_internal("area", "XX", references=references)
    assert exc.value.messages == ["Unknown Management area: XX."]
    assert exc.value.code == "unknown_reference"


def test_unknown_reference_message_uses_the_label_of_the_active_language(areas):
    with translation.override("zh-hans"), pytest.raises(ValidationError) as exc:
        to_internal("area", "XX", references={})
    assert "管理区域" in exc.value.messages[0]


def test_inactive_users_are_not_valid_references(areas, make_user):
    make_user(Role.ACCOUNT_MANAGER, [areas["TH"]], username="gone", is_active=False)
    references = reference_lookups(["account_manager"], [{"account_manager": "gone"}])
    with pytest.raises(ValidationError, match="Unknown"):
        to_internal("account_manager", "gone", references=references)


def test_a_person_reference_must_have_the_fields_role(areas, make_user):
    officer = make_user(Role.LICENSE_OFFICER, [areas["TH"]], username="lo_li")
    make_user(Role.SUPERVISOR, [areas["TH"]], username="sup_wang")
    rows = [{"account_manager": "sup_wang", "license_officer": "lo_li"}]
    references = reference_lookups(["account_manager", "license_officer"], rows)

    assert to_internal("license_officer", "lo_li", references=references) == officer
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        to_internal("account_manager", "sup_wang", references=references)
    assert exc.value.messages == ["Unknown Account manager: sup_wang."]


def test_reference_lookups_read_each_reference_field_in_one_query(
    areas, make_user, django_assert_num_queries
):
    make_user(Role.ACCOUNT_MANAGER, [areas["TH"]], username="am_a")
    make_user(Role.ACCOUNT_MANAGER, [areas["YX"]], username="am_b")
    rows = [
        {"area": "TH", "account_manager": "am_a", "store_name": "x"},
        {"area": "YX", "account_manager": "am_b", "store_name": "y"},
        {"area": "SZ", "account_manager": "", "store_name": "z"},
    ]
    with django_assert_num_queries(2):
        references = reference_lookups(["area", "account_manager", "store_name"], rows)
    assert set(references["area"]) == {"th", "yx", "sz"}
    assert set(references["account_manager"]) == {"am_a", "am_b"}


# --- change policies ---------------------------------------------------------------------

# One field of each kind: DIRECT, SUPERVISOR, APPROVAL (basic and management), SYSTEM.
KINDS = {
    "direct": "phone",
    "supervisor": "account_manager",
    "approval": "store_name",
    "approval_management": "license_expiry_date",
    "system": "grade",
}

# user -> {kind: (can_edit_directly, can_propose)} on c_th, the customer of am_th in TH.
EXPECTED = {
    "am_th": {
        "direct": (True, False),
        "supervisor": (False, False),
        "approval": (False, True),
        "approval_management": (False, True),
        "system": (False, False),
    },
    "am_th2": {
        "direct": (False, False),
        "supervisor": (False, False),
        "approval": (False, False),
        "approval_management": (False, False),
        "system": (False, False),
    },
    "sup_th": {
        "direct": (True, False),
        "supervisor": (True, False),
        "approval": (False, True),
        "approval_management": (False, True),
        "system": (False, False),
    },
    "admin": {
        "direct": (True, False),
        "supervisor": (True, False),
        "approval": (False, True),
        "approval_management": (False, True),
        "system": (False, False),
    },
    "lo_th": {
        "direct": (False, False),
        "supervisor": (False, False),
        "approval": (False, False),
        "approval_management": (False, True),
        "system": (False, False),
    },
}


@pytest.mark.parametrize("user_key", list(EXPECTED))
@pytest.mark.parametrize("kind", list(KINDS))
def test_who_may_change_what(customer_world, user_key, kind):
    user, customer = customer_world[user_key], customer_world["c_th"]
    spec = CATALOGUE[KINDS[kind]]

    allowed = (
        policies.can_edit_directly(user, customer, spec),
        policies.can_propose(user, customer, spec),
    )

    assert allowed == EXPECTED[user_key][kind]


def test_approval_and_system_fields_are_never_edited_directly_by_anyone(customer_world):
    customer = customer_world["c_th"]
    users = [customer_world[key] for key in EXPECTED]
    for spec in FIELDS:
        if spec.policy in (Policy.APPROVAL, Policy.SYSTEM):
            for user in users:
                assert not policies.can_edit_directly(user, customer, spec), (user, spec.name)


def test_system_fields_cannot_even_be_proposed(customer_world):
    customer = customer_world["c_th"]
    for spec in FIELDS:
        if spec.is_system:
            for key in EXPECTED:
                assert not policies.can_propose(customer_world[key], customer, spec)


def test_a_superuser_counts_as_an_administrator(customer_world, make_user):
    root = make_user(Role.ACCOUNT_MANAGER, is_superuser=True)
    customer = customer_world["c_th"]
    assert policies.can_edit_directly(root, customer, CATALOGUE["account_manager"])
    assert policies.can_propose(root, customer, CATALOGUE["store_name"])
    assert policies.can_decide_requests(root)


def test_licence_officer_may_propose_only_management_fields(customer_world):
    officer, customer = customer_world["lo_th"], customer_world["c_th"]
    changeable = policies.changeable_fields(officer, customer)

    assert changeable
    assert {spec.category for spec in changeable} == {Category.MANAGEMENT}
    assert {spec.name for spec in changeable} == {
        spec.name
        for spec in FIELDS
        if spec.category == Category.MANAGEMENT and spec.policy == Policy.APPROVAL
    }


def test_another_managers_customer_offers_nothing_to_change(customer_world):
    assert policies.changeable_fields(customer_world["am_th2"], customer_world["c_th"]) == []


def test_assigned_manager_may_change_every_direct_and_approval_field(customer_world):
    changeable = policies.changeable_fields(customer_world["am_th"], customer_world["c_th"])
    assert {spec.name for spec in changeable} == {
        spec.name for spec in FIELDS if spec.policy in (Policy.DIRECT, Policy.APPROVAL)
    }


@pytest.mark.parametrize(
    ("user_key", "decides", "creates", "imports"),
    [
        ("am_th", False, False, False),
        ("lo_th", False, False, False),
        ("sup_th", True, True, False),
        ("admin", True, True, True),
    ],
)
def test_who_decides_requests_creates_customers_and_imports(
    customer_world, user_key, decides, creates, imports
):
    user = customer_world[user_key]
    assert policies.can_decide_requests(user) is decides
    assert policies.can_create_customers(user) is creates
    assert policies.can_import(user) is imports


def test_integration_client_has_no_page_edit_rights(customer_world, make_user):
    client = make_user(Role.INTEGRATION_CLIENT)
    assert policies.changeable_fields(client, customer_world["c_th"]) == []
    assert not policies.can_decide_requests(client)
