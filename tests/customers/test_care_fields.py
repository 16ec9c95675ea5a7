"""The two customer fields services added: the care mark (care_need) and the owner's birthday.
Both are personal, dynamic fields the account manager edits directly, like the phone."""

import datetime as dt

import pytest

from crm.choices import AuditSource
from crm.exceptions import DomainError
from customers.catalogue import CATALOGUE, Category, Maintenance, Policy, fields_in
from customers.models import Customer
from customers.selectors import customer_history
from customers.services import customer_create, customer_edit, customer_propose
from tests.customers.factories import ACTOR, make_customer

NEW_FIELDS = ["care_need", "owner_birthday"]


def reload(customer):
    return Customer.objects.with_parts().get(pk=customer.pk)


@pytest.mark.parametrize("name", NEW_FIELDS)
def test_the_care_fields_are_personal_dynamic_and_edited_directly(name):
    spec = CATALOGUE[name]
    assert (spec.category, spec.maintenance, spec.policy) == (
        Category.PERSONAL,
        Maintenance.DYNAMIC,
        Policy.DIRECT,
    )
    assert spec.part == "dynamic"
    assert not spec.required
    assert spec in fields_in(Category.PERSONAL)


def test_the_care_fields_have_both_labels():
    assert (CATALOGUE["care_need"].label_en, CATALOGUE["care_need"].label_zh) == (
        "Family service (care need)",
        "亲情服务对象",
    )
    assert (CATALOGUE["owner_birthday"].label_en, CATALOGUE["owner_birthday"].label_zh) == (
        "Owner's birthday",
        "店主生日",
    )


def test_a_new_customer_is_neither_marked_nor_has_a_birthday(areas):
    dynamic = make_customer(areas["TH"]).dynamic
    assert (dynamic.care_need, dynamic.owner_birthday) == ("", None)


def test_a_customer_is_created_with_the_care_fields(areas):
    customer = make_customer(areas["TH"], care_need="elderly", owner_birthday="1950-02-28")
    dynamic = reload(customer).dynamic
    assert (dynamic.care_need, dynamic.owner_birthday) == ("elderly", dt.date(1950, 2, 28))


def test_the_account_manager_marks_a_customer_and_records_the_birthday(customer_world):
    am_th, c_th = customer_world["am_th"], customer_world["c_th"]

    changes = customer_edit(
        customer=c_th,
        user=am_th,
        data={"care_need": "special_need", "owner_birthday": "1948-02-29"},
    )

    assert changes == {
        "care_need": ("", "special_need"),
        "owner_birthday": (None, "1948-02-29"),
    }
    dynamic = reload(c_th).dynamic
    assert (dynamic.care_need, dynamic.owner_birthday) == ("special_need", dt.date(1948, 2, 29))
    rows = {e.field: e for e in customer_history(customer=c_th)[:2]}
    assert rows["owner_birthday"].new_value == "1948-02-29"
    assert rows["care_need"].actor == am_th
    assert rows["care_need"].source == AuditSource.PAGE


def test_the_care_mark_is_taken_by_its_label_too(customer_world):
    c_th = customer_world["c_th"]
    customer_edit(customer=c_th, user=customer_world["am_th"], data={"care_need": "Elderly owner"})
    assert reload(c_th).dynamic.care_need == "elderly"


def test_the_mark_and_the_birthday_are_cleared(customer_world):
    c_th, am_th = customer_world["c_th"], customer_world["am_th"]
    customer_edit(
        customer=c_th, user=am_th, data={"care_need": "elderly", "owner_birthday": "1950-01-01"}
    )
    customer_edit(customer=c_th, user=am_th, data={"care_need": "", "owner_birthday": ""})
    dynamic = reload(c_th).dynamic
    assert (dynamic.care_need, dynamic.owner_birthday) == ("", None)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("care_need", "lonely"),
        ("owner_birthday", "1950-02-30"),
        ("owner_birthday", "someday"),
    ],
)
def test_a_bad_value_is_refused_naming_the_field(customer_world, field, value):
    c_th = customer_world["c_th"]
    with pytest.raises(DomainError) as exc:
        customer_edit(customer=c_th, user=customer_world["am_th"], data={field: value})
    assert list(exc.value.errors) == [field]
    dynamic = reload(c_th).dynamic
    assert (dynamic.care_need, dynamic.owner_birthday) == ("", None)


def test_a_proposal_saves_the_care_fields_at_once_without_a_change_request(customer_world):
    outcome = customer_propose(
        customer=customer_world["c_th"],
        user=customer_world["am_th"],
        data={"care_need": "elderly", "owner_birthday": "1952-09-25"},
    )
    assert set(outcome.applied) == {"care_need", "owner_birthday"}
    assert outcome.change_request is None


@pytest.mark.parametrize("who", ["sup_th", "admin"])
def test_supervisors_and_administrators_edit_the_care_fields(customer_world, who):
    c_th = customer_world["c_th"]
    customer_edit(customer=c_th, user=customer_world[who], data={"care_need": "elderly"})
    assert reload(c_th).dynamic.care_need == "elderly"


def test_another_account_manager_does_not_mark_the_customer(customer_world):
    c_th = customer_world["c_th"]
    with pytest.raises(DomainError):
        customer_edit(customer=c_th, user=customer_world["am_th2"], data={"care_need": "elderly"})
    assert reload(c_th).dynamic.care_need == ""


def test_a_licence_officer_does_not_mark_the_customer(customer_world):
    c_th = customer_world["c_th"]
    with pytest.raises(DomainError) as exc:
        customer_edit(customer=c_th, user=customer_world["lo_th"], data={"care_need": "elderly"})
    assert list(exc.value.errors) == ["care_need"]
    assert reload(c_th).dynamic.care_need == ""


def test_the_system_actor_sets_the_fields_on_create_through_the_batch_door(areas):
    customer = customer_create(
        data={
            "customer_code": "310100000077",
            "store_name": "越秀老店",
            "license_number": "310106000077",
            "business_format": "Z",
            "market_type": "C",
            "area": "YX",
            "care_need": "special_need",
        },
        actor=ACTOR,
    )
    assert customer.dynamic.care_need == "special_need"
