"""Customer services (create, update, batch upsert, direct edits, proposals) and the selectors
that read customers through the scope rule."""

import datetime as dt
from decimal import Decimal

import pytest
from django.http import Http404

from crm.choices import AuditAction, AuditSource, Role
from crm.exceptions import DomainError
from crm.models import AuditEntry
from customers.choices import ChangeRequestStatus
from customers.models import ChangeRequest, Customer
from customers.selectors import (
    customer_duplicates,
    customer_get,
    customer_history,
    customer_list,
)
from customers.services import (
    customer_create,
    customer_edit,
    customer_propose,
    customer_update,
    customer_upsert_many,
)
from customers.validators import normalise_address, normalise_phone
from tests.customers.factories import make_customer

# Codes outside the ranges tests.customers.factories hands out (4401…, 9901…).
MINIMAL = {
    "customer_code": "310100000001",
    "store_name": "天河便利店",
    "license_number": "310106000001",
    "business_format": "B",
    "market_type": "C",
    "area": "TH",
}


def row(**fields):
    """A valid create row; keyword arguments override or add fields."""
    return {**MINIMAL, **fields}


def reload(customer):
    return Customer.objects.with_parts().get(pk=customer.pk)


def field_audit(customer):
    """(field, old, new, source) of the customer's field-level audit rows, oldest first."""
    return [
        (e.field, e.old_value, e.new_value, e.source)
        for e in reversed(list(customer_history(customer=customer)))
        if e.action == AuditAction.UPDATE
    ]


# --- create ------------------------------------------------------------------------------


def test_create_with_only_the_six_required_fields(areas, system_actor):
    customer = customer_create(data=MINIMAL, actor=system_actor)

    assert customer.customer_code == "310100000001"
    assert customer.area == areas["TH"]
    assert customer.account_manager is None
    assert customer.dynamic.status == "active"
    assert customer.dynamic.phone == ""
    assert customer.system.grade is None
    [entry] = customer_history(customer=customer)
    assert entry.action == AuditAction.CREATE
    assert entry.source == AuditSource.COMMAND
    assert entry.actor_label == "tests"
    assert entry.new_value == MINIMAL


def test_create_stores_fields_of_the_static_and_dynamic_parts(customer_world, system_actor):
    customer = customer_create(
        data=row(
            account_manager="am_th",
            registered_capital="50000",
            floor_area_m2="35.5",
            license_issue_date="2024-01-01",
            license_expiry_date="2028-12-31",
            is_monitored="是",
            phone="020-87654321",
            order_cycle="Weekly",
            latitude="23.129110",
        ),
        actor=system_actor,
    )

    assert customer.account_manager == customer_world["am_th"]
    assert customer.registered_capital == Decimal("50000")
    assert customer.floor_area_m2 == Decimal("35.5")
    assert customer.license_expiry_date == dt.date(2028, 12, 31)
    assert customer.is_monitored is True
    assert customer.dynamic.phone == "020-87654321"
    assert customer.dynamic.order_cycle == "weekly"
    assert customer.dynamic.latitude == Decimal("23.129110")


def test_create_reports_every_missing_required_field(areas, system_actor):
    with pytest.raises(DomainError) as exc:
        customer_create(data={"customer_code": "310100000001"}, actor=system_actor)

    assert exc.value.errors == {
        name: ["This field is required."]
        for name in ("store_name", "license_number", "business_format", "market_type", "area")
    }
    assert not Customer.objects.exists()


def test_create_without_a_code_says_the_code_is_required(areas, system_actor):
    with pytest.raises(DomainError) as exc:
        customer_create(data=row(customer_code="  "), actor=system_actor)
    assert exc.value.errors == {"customer_code": ["This field is required."]}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("customer_code", "31010000001", "does not have the required format"),
        ("customer_code", "31010000000A", "does not have the required format"),
        ("license_number", "ABC", "does not have the required format"),
        ("phone", "call me maybe", "Enter a phone number"),
        ("phone", "123", "Enter a phone number"),
        ("registered_capital", "-0.01", "greater than or equal to 0"),
        ("floor_area_m2", "0", "greater than or equal to 0.01"),
        ("floor_area_m2", "-12", "greater than or equal to 0.01"),
        ("business_format", "K", "not a valid choice"),
        ("market_type", "Town", "not a valid choice"),
        ("license_issue_date", "2024-02-30", "invalid date"),
        ("latitude", "91", "less than or equal to 90"),
        ("area", "XX", "Unknown Management area: XX."),
        ("account_manager", "nobody", "Unknown Account manager: nobody."),
        ("nonsense", "x", "Unknown field."),
        ("grade", "1", "System-generated: only the system writes this field."),
        ("purchase_amount", "100", "System-generated: only the system writes this field."),
    ],
)
def test_create_refuses_a_bad_value_naming_the_field(areas, system_actor, field, value, message):
    with pytest.raises(DomainError) as exc:
        customer_create(data=row(**{field: value}), actor=system_actor)

    assert list(exc.value.errors) == [field]
    assert message in exc.value.errors[field][0]
    assert not Customer.objects.exists()
    assert not AuditEntry.objects.exists()


def test_create_reports_all_faults_of_a_row_at_once(areas, system_actor):
    with pytest.raises(DomainError) as exc:
        customer_create(
            data=row(customer_code="1", phone="x", area="XX", grade=1), actor=system_actor
        )
    assert set(exc.value.errors) == {"customer_code", "phone", "area", "grade"}


def test_expiry_date_cannot_be_before_issue_date(areas, system_actor):
    with pytest.raises(DomainError) as exc:
        customer_create(
            data=row(license_issue_date="2024-06-01", license_expiry_date="2024-05-31"),
            actor=system_actor,
        )
    assert exc.value.errors == {
        "license_expiry_date": ["The expiry date cannot be before the issue date."]
    }


def test_expiry_date_may_equal_issue_date(areas, system_actor):
    customer = customer_create(
        data=row(license_issue_date="2024-06-01", license_expiry_date="2024-06-01"),
        actor=system_actor,
    )
    assert customer.license_expiry_date == customer.license_issue_date


def test_an_update_cannot_move_the_expiry_before_the_issue_date(areas, system_actor):
    customer = make_customer(
        "TH", license_issue_date="2024-06-01", license_expiry_date="2029-06-01"
    )
    with pytest.raises(DomainError) as exc:
        customer_update(
            customer=customer, data={"license_expiry_date": "2020-01-01"}, actor=system_actor
        )
    assert "license_expiry_date" in exc.value.errors
    assert reload(customer).license_expiry_date == dt.date(2029, 6, 1)


def test_registered_capital_may_be_zero(areas, system_actor):
    customer = customer_create(data=row(registered_capital="0"), actor=system_actor)
    assert customer.registered_capital == Decimal("0")


def test_the_smallest_positive_floor_area_is_accepted(areas, system_actor):
    customer = customer_create(data=row(floor_area_m2="0.01"), actor=system_actor)
    assert customer.floor_area_m2 == Decimal("0.01")


def test_code_pattern_comes_from_settings(areas, system_actor, settings):
    settings.CRM_CODE_PATTERN = r"^[A-Z]{2}\d{6}$"

    customer = customer_create(
        data=row(customer_code="GZ000001", license_number="LN000001"), actor=system_actor
    )
    with pytest.raises(DomainError) as exc:
        customer_create(data=row(), actor=system_actor)  # the 12-digit default

    assert customer.customer_code == "GZ000001"
    assert set(exc.value.errors) == {"customer_code", "license_number"}
    assert "^[A-Z]{2}\\d{6}$" in exc.value.errors["customer_code"][0]


# --- uniqueness --------------------------------------------------------------------------


def test_create_refuses_an_existing_code(areas, system_actor):
    customer_create(data=MINIMAL, actor=system_actor)
    with pytest.raises(DomainError) as exc:
        customer_create(data=row(license_number="310106000002"), actor=system_actor)
    assert exc.value.errors == {"customer_code": ["A customer with this code already exists."]}
    assert Customer.objects.count() == 1


def test_create_refuses_a_licence_another_customer_holds(areas, system_actor):
    customer_create(data=MINIMAL, actor=system_actor)
    with pytest.raises(DomainError) as exc:
        customer_create(data=row(customer_code="310100000002"), actor=system_actor)
    assert exc.value.errors == {
        "license_number": ["Licence number 310106000001 belongs to customer 310100000001."]
    }
    assert Customer.objects.count() == 1


def test_batch_refuses_a_code_that_appears_twice(areas, system_actor):
    report = customer_upsert_many(
        rows=[row(), row(store_name="同一编码"), row(customer_code="310100000002")],
        actor=system_actor,
    )
    assert [r.outcome for r in report.results] == ["created", "error", "error"]
    assert report.results[1].errors == {"customer_code": ["Appears again: first at index 0."]}
    assert Customer.objects.get().store_name == "天河便利店"


def test_batch_refuses_a_licence_that_appears_twice(areas, system_actor):
    report = customer_upsert_many(
        rows=[row(), row(customer_code="310100000002")], actor=system_actor
    )
    assert [r.outcome for r in report.results] == ["created", "error"]
    assert report.errors() == [
        {
            "index": 1,
            "code": "310100000002",
            "errors": {
                "license_number": ["Licence number 310106000001 belongs to customer 310100000001."]
            },
        }
    ]


def test_batch_refuses_a_licence_held_by_a_stored_customer(areas, system_actor):
    existing = make_customer("TH")
    report = customer_upsert_many(
        rows=[row(license_number=existing.license_number)], actor=system_actor
    )
    assert report.results[0].errors == {
        "license_number": [
            f"Licence number {existing.license_number} belongs to customer "
            f"{existing.customer_code}."
        ]
    }
    assert Customer.objects.count() == 1


def test_update_refuses_a_licence_held_by_another_customer(customer_world, system_actor):
    c_th, c_yx = customer_world["c_th"], customer_world["c_yx"]
    with pytest.raises(DomainError) as exc:
        customer_update(
            customer=c_th, data={"license_number": c_yx.license_number}, actor=system_actor
        )
    assert exc.value.errors == {
        "license_number": [
            f"Licence number {c_yx.license_number} belongs to customer {c_yx.customer_code}."
        ]
    }
    assert reload(c_th).license_number == c_th.license_number


def test_update_refuses_a_code_another_customer_holds(customer_world, system_actor):
    c_th, c_yx = customer_world["c_th"], customer_world["c_yx"]
    with pytest.raises(DomainError) as exc:
        customer_update(
            customer=c_th, data={"customer_code": c_yx.customer_code}, actor=system_actor
        )
    assert c_yx.customer_code in exc.value.errors["customer_code"][0]


# --- batch upsert ------------------------------------------------------------------------


def test_upsert_replay_changes_nothing_and_writes_no_audit(customer_world, system_actor):
    rows = [
        row(
            business_format="Grocery store",  # a label, stored as its code
            area="th",  # any case
            account_manager="AM_TH",
            registered_capital="50000.00",
            floor_area_m2="35.5",
            license_issue_date="2024-01-01",
            is_monitored="是",
            phone="13900000000",
            latitude="23.1291",
        ),
        row(customer_code="310100000002", license_number="310106000002"),
    ]
    first = customer_upsert_many(rows=rows, actor=system_actor)
    audit_rows = AuditEntry.objects.count()

    replay = customer_upsert_many(rows=rows, actor=system_actor)

    assert first.counts() == {"created": 2, "updated": 0, "unchanged": 0, "errors": 0}
    assert replay.counts() == {"created": 0, "updated": 0, "unchanged": 2, "errors": 0}
    assert all(r.changes == {} for r in replay.results)
    assert AuditEntry.objects.count() == audit_rows


def test_upsert_updates_by_code_and_audits_only_changed_fields(customer_world, system_actor):
    customer = make_customer("TH", registered_capital="1000", phone="13900000000")
    before = field_audit(customer)

    report = customer_upsert_many(
        rows=[
            {
                "customer_code": customer.customer_code,
                "store_name": customer.store_name,  # unchanged
                "phone": "13900000000",  # unchanged
                "registered_capital": "2500.50",
                "license_issue_date": "2024-01-02",
                "area": "YX",
                "account_manager": "am_yx",
            }
        ],
        actor=system_actor,
    )

    [result] = report.results
    assert result.outcome == "updated"
    assert result.customer_id == customer.pk
    expected = {
        "registered_capital": ("1000.00", "2500.50"),
        "license_issue_date": (None, "2024-01-02"),
        "area": ("TH", "YX"),
        "account_manager": (None, "am_yx"),
    }
    assert result.changes == expected
    new_rows = field_audit(customer)[len(before) :]
    assert sorted(new_rows) == sorted(
        (name, old, new, AuditSource.COMMAND) for name, (old, new) in expected.items()
    )
    customer = reload(customer)
    assert customer.area.code == "YX"
    assert customer.registered_capital == Decimal("2500.50")


def test_a_bad_row_writes_nothing_of_itself_while_the_others_are_stored(
    customer_world, system_actor
):
    c_th = customer_world["c_th"]
    audit_before = AuditEntry.objects.count()

    report = customer_upsert_many(
        rows=[
            row(),
            # a good dynamic change and a bad static one in the same row
            {
                "customer_code": c_th.customer_code,
                "phone": "13911112222",
                "registered_capital": "-5",
            },
            row(customer_code="310100000002", license_number="310106000002"),
        ],
        actor=system_actor,
    )

    assert report.counts() == {"created": 2, "updated": 0, "unchanged": 0, "errors": 1}
    [error] = report.errors()
    assert error["index"] == 1
    assert error["code"] == c_th.customer_code
    assert list(error["errors"]) == ["registered_capital"]
    assert reload(c_th).dynamic.phone == "13800000001"
    assert Customer.objects.filter(customer_code__in=["310100000001", "310100000002"]).count() == 2
    assert AuditEntry.objects.count() == audit_before + 2  # one create row per new customer
    assert not AuditEntry.objects.filter(object_id=str(c_th.pk), field="phone").exists()


def test_dry_run_reports_and_writes_nothing(customer_world, system_actor):
    c_th = customer_world["c_th"]
    customers, audit_rows = Customer.objects.count(), AuditEntry.objects.count()

    report = customer_upsert_many(
        rows=[
            row(),
            {"customer_code": c_th.customer_code, "store_name": "改名"},
            {"customer_code": customer_world["c_yx"].customer_code, "phone": "bad"},
        ],
        actor=system_actor,
        dry_run=True,
    )

    assert report.counts() == {"created": 1, "updated": 1, "unchanged": 0, "errors": 1}
    assert report.results[1].changes == {"store_name": ("天河一号店", "改名")}
    assert Customer.objects.count() == customers
    assert AuditEntry.objects.count() == audit_rows
    assert reload(c_th).store_name == "天河一号店"


def test_upsert_never_writes_system_fields(customer_world, system_actor):
    c_th = customer_world["c_th"]
    report = customer_upsert_many(
        rows=[{"customer_code": c_th.customer_code, "grade": "1", "phone": "13911112222"}],
        actor=system_actor,
    )
    assert report.results[0].errors == {
        "grade": ["System-generated: only the system writes this field."]
    }
    c_th = reload(c_th)
    assert c_th.system.grade is None
    assert c_th.dynamic.phone == "13800000001"


# --- update ------------------------------------------------------------------------------


def test_update_returns_and_audits_changes_in_external_form(customer_world, system_actor):
    c_th = customer_world["c_th"]

    changes = customer_update(
        customer=c_th,
        data={
            "store_name": "天河一号店",  # unchanged
            "license_expiry_date": "2030-06-30",
            "floor_area_m2": "40",
            "is_model_outlet": "yes",
            "phone": "13800000002",
        },
        actor=system_actor,
        reason="annual check",
    )

    assert changes == {
        "license_expiry_date": (None, "2030-06-30"),
        "floor_area_m2": (None, "40.00"),
        "is_model_outlet": (None, True),  # nobody had entered it: unknown
        "phone": ("13800000001", "13800000002"),
    }
    entries = [e for e in customer_history(customer=c_th) if e.action == AuditAction.UPDATE]
    assert {(e.field, e.old_value, e.new_value) for e in entries} == {
        (name, old, new) for name, (old, new) in changes.items()
    }
    assert {e.reason for e in entries} == {"annual check"}
    assert {e.actor_label for e in entries} == {"tests"}


def test_update_without_a_difference_returns_nothing_and_writes_no_audit(
    customer_world, system_actor
):
    c_th = customer_world["c_th"]
    audit_rows = AuditEntry.objects.count()
    assert customer_update(customer=c_th, data={"phone": "13800000001"}, actor=system_actor) == {}
    assert AuditEntry.objects.count() == audit_rows


def test_update_refuses_a_system_field_and_never_writes_it(customer_world, system_actor):
    c_th = customer_world["c_th"]
    with pytest.raises(DomainError) as exc:
        customer_update(
            customer=c_th, data={"grade": 1, "phone": "13911112222"}, actor=system_actor
        )
    assert list(exc.value.errors) == ["grade"]
    c_th = reload(c_th)
    assert c_th.system.grade is None
    assert c_th.dynamic.phone == "13800000001"


def test_update_refuses_an_unknown_field(customer_world, system_actor):
    with pytest.raises(DomainError) as exc:
        customer_update(customer=customer_world["c_th"], data={"nonsense": "x"}, actor=system_actor)
    assert exc.value.errors == {"nonsense": ["Unknown field."]}


def test_update_refuses_an_unknown_area_or_user(customer_world, system_actor):
    with pytest.raises(DomainError) as exc:
        customer_update(
            customer=customer_world["c_th"],
            data={"area": "XX", "account_manager": "nobody"},
            actor=system_actor,
        )
    assert exc.value.errors == {
        "area": ["Unknown Management area: XX."],
        "account_manager": ["Unknown Account manager: nobody."],
    }


# --- direct edits from a page ------------------------------------------------------------


def test_assigned_manager_edits_direct_fields_with_page_history(customer_world):
    am_th, c_th = customer_world["am_th"], customer_world["c_th"]

    changes = customer_edit(
        customer=c_th,
        user=am_th,
        data={"phone": "13800000009", "contact_person": "王老板", "visit_cycle": "weekly"},
    )

    assert set(changes) == {"phone", "contact_person", "visit_cycle"}
    dynamic = reload(c_th).dynamic
    assert (dynamic.phone, dynamic.contact_person, dynamic.visit_cycle) == (
        "13800000009",
        "王老板",
        "weekly",
    )
    latest = customer_history(customer=c_th)[0]
    assert latest.source == AuditSource.PAGE
    assert latest.actor == am_th


def test_edit_refuses_fields_that_need_approval(customer_world):
    c_th = customer_world["c_th"]
    with pytest.raises(DomainError) as exc:
        customer_edit(
            customer=c_th,
            user=customer_world["am_th"],
            data={"store_name": "新名字", "phone": "13800000009"},
        )
    assert exc.value.errors == {"store_name": ["You may not change this field directly."]}
    c_th = reload(c_th)
    assert c_th.store_name == "天河一号店"
    assert c_th.dynamic.phone == "13800000001"


@pytest.mark.parametrize("field", ["grade", "account_manager", "nonsense"])
def test_manager_may_not_edit_system_supervisor_or_unknown_fields(customer_world, field):
    with pytest.raises(DomainError) as exc:
        customer_edit(
            customer=customer_world["c_th"], user=customer_world["am_th"], data={field: "x"}
        )
    assert list(exc.value.errors) == [field]


def test_edit_refuses_another_managers_customer(customer_world):
    c_th = customer_world["c_th"]
    with pytest.raises(DomainError, match="outside your areas"):
        customer_edit(customer=c_th, user=customer_world["am_th2"], data={"phone": "13800000009"})
    assert reload(c_th).dynamic.phone == "13800000001"


def test_supervisor_reassigns_a_customer_directly(customer_world):
    c_th, am_th, am_th2 = customer_world["c_th"], customer_world["am_th"], customer_world["am_th2"]

    customer_edit(customer=c_th, user=customer_world["sup_th"], data={"account_manager": "am_th2"})

    assert reload(c_th).account_manager == am_th2
    assert list(customer_list(user=am_th2)) == [c_th, customer_world["c_th2"]]
    assert list(customer_list(user=am_th)) == []


# --- proposals: direct fields saved, approval fields requested --------------------------


def test_propose_saves_direct_fields_and_requests_approval_fields(customer_world):
    am_th, c_th = customer_world["am_th"], customer_world["c_th"]

    outcome = customer_propose(
        customer=c_th,
        user=am_th,
        data={
            "phone": "13800000009",  # direct
            "store_name": "天河旗舰店",  # needs approval
            "registered_capital": "80000",  # needs approval
            "contact_person": "",  # unchanged
        },
        reason="Shop renamed after renovation",
    )

    assert outcome.applied == {"phone": ("13800000001", "13800000009")}
    request = outcome.change_request
    assert request.requested_by == am_th
    assert request.reason == "Shop renamed after renovation"
    assert request.status == ChangeRequestStatus.PENDING
    assert request.changes == [
        {"field": "store_name", "old": "天河一号店", "new": "天河旗舰店"},
        {"field": "registered_capital", "old": None, "new": "80000.00"},
    ]
    c_th = reload(c_th)
    assert c_th.dynamic.phone == "13800000009"
    assert c_th.store_name == "天河一号店"
    assert c_th.registered_capital is None
    [entry] = [e for e in customer_history(customer=c_th) if e.action == AuditAction.UPDATE]
    assert (entry.field, entry.source, entry.actor) == ("phone", AuditSource.PAGE, am_th)


def test_propose_needs_a_reason_for_approval_fields_and_then_saves_nothing(customer_world):
    c_th = customer_world["c_th"]
    with pytest.raises(DomainError) as exc:
        customer_propose(
            customer=c_th,
            user=customer_world["am_th"],
            data={"phone": "13800000009", "store_name": "天河旗舰店"},
            reason="   ",
        )
    assert exc.value.field == "reason"
    assert exc.value.message == "Give a reason for the change request."
    assert reload(c_th).dynamic.phone == "13800000001"
    assert not ChangeRequest.objects.exists()


def test_propose_needs_no_reason_for_direct_fields_only(customer_world):
    outcome = customer_propose(
        customer=customer_world["c_th"],
        user=customer_world["am_th"],
        data={"contact_person": "王老板"},
    )
    assert outcome.applied == {"contact_person": ("", "王老板")}
    assert outcome.change_request is None


def test_propose_ignores_unchanged_values(customer_world):
    c_th = customer_world["c_th"]
    outcome = customer_propose(
        customer=c_th,
        user=customer_world["am_th"],
        data={
            "store_name": "天河一号店",
            "business_format": "Grocery store",  # the label of the stored "Z"
            "area": "th",
            "legal_representative": "",
            "registered_capital": "",
            "phone": "13800000001",
            "address": "天河路 2 号",
        },
        reason="New address",
    )
    assert outcome.applied == {}
    assert [item["field"] for item in outcome.change_request.changes] == ["address"]


def test_propose_says_nothing_was_changed_when_nothing_differs(customer_world):
    with pytest.raises(DomainError) as exc:
        customer_propose(
            customer=customer_world["c_th"],
            user=customer_world["am_th"],
            data={"store_name": "天河一号店", "phone": "13800000001"},
            reason="no-op",
        )
    assert exc.value.message == "Nothing was changed."
    assert not ChangeRequest.objects.exists()


def test_propose_refuses_fields_the_user_may_not_change_and_saves_nothing(customer_world):
    c_th = customer_world["c_th"]
    with pytest.raises(DomainError) as exc:
        customer_propose(
            customer=c_th,
            user=customer_world["am_th"],
            data={"account_manager": "am_th2", "grade": "1", "phone": "13800000009"},
            reason="handover",
        )
    assert exc.value.errors == {
        "account_manager": ["You may not change this field."],
        "grade": ["You may not change this field."],
    }
    assert reload(c_th).dynamic.phone == "13800000001"


def test_another_manager_may_propose_nothing(customer_world):
    with pytest.raises(DomainError):
        customer_propose(
            customer=customer_world["c_th"],
            user=customer_world["am_th2"],
            data={"store_name": "抢来的店"},
            reason="mine now",
        )
    assert not ChangeRequest.objects.exists()


def test_propose_refuses_an_unknown_field(customer_world):
    with pytest.raises(DomainError) as exc:
        customer_propose(
            customer=customer_world["c_th"],
            user=customer_world["am_th"],
            data={"nonsense": "x"},
            reason="x",
        )
    assert list(exc.value.errors) == ["nonsense"]


def test_propose_validates_requested_values_at_once(customer_world):
    c_th = customer_world["c_th"]
    with pytest.raises(DomainError) as exc:
        customer_propose(
            customer=c_th,
            user=customer_world["am_th"],
            data={"registered_capital": "-1", "phone": "13800000009"},
            reason="typo",
        )
    assert list(exc.value.errors) == ["registered_capital"]
    assert reload(c_th).dynamic.phone == "13800000001"  # the direct part rolled back too
    assert not ChangeRequest.objects.exists()


def test_licence_officer_proposes_management_fields_only(customer_world):
    officer, c_th = customer_world["lo_th"], customer_world["c_th"]

    outcome = customer_propose(
        customer=c_th,
        user=officer,
        data={"license_expiry_date": "2029-12-31", "is_monitored": "是"},
        reason="Licence renewed",
    )
    with pytest.raises(DomainError) as exc:
        customer_propose(customer=c_th, user=officer, data={"store_name": "新名字"}, reason="x")

    assert outcome.applied == {}
    assert outcome.change_request.changes == [
        {"field": "license_expiry_date", "old": None, "new": "2029-12-31"},
        {"field": "is_monitored", "old": False, "new": True},
    ]
    assert list(exc.value.errors) == ["store_name"]


def test_supervisor_edits_direct_fields_and_requests_approval_fields(customer_world):
    sup_th, c_th = customer_world["sup_th"], customer_world["c_th"]
    outcome = customer_propose(
        customer=c_th,
        user=sup_th,
        data={"account_manager": "am_th2", "order_cycle": "monthly", "market_type": "X"},
        reason="Reclassified as rural",
    )
    assert set(outcome.applied) == {"account_manager", "order_cycle"}
    assert outcome.change_request.fields == ["market_type"]


# --- duplicates warning ------------------------------------------------------------------


def _codes(matches) -> list[str]:
    return [match.code for match in matches]


@pytest.mark.parametrize(
    "typed",
    [" 13800000001 ", "138-0000-0001", "138 0000 0001", "+86 138 0000 0001", "008613800000001"],
)
def test_duplicates_find_a_customer_by_normalised_phone(customer_world, typed):
    found = customer_duplicates(user=customer_world["sup_th"], phone=typed)
    assert _codes(found) == [customer_world["c_th"].customer_code]
    assert found[0].visible and found[0].customer == customer_world["c_th"]
    assert found[0].reasons == {"phone"}


@pytest.mark.parametrize(
    "typed",
    ["天河路1号", "天河路 1 号", "天河路１号", " 天河路，1号 ", "天河路1號", "天河路\u30001号"],
)
def test_duplicates_find_a_customer_by_normalised_address(customer_world, typed):
    shop = make_customer("TH", customer_world["am_th"], address="天河路 1 号")
    found = customer_duplicates(user=customer_world["sup_th"], address=typed)
    assert _codes(found) == [shop.customer_code]
    assert found[0].reasons == {"address"}


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("+86 139-0000-0001", "13900000001"),
        ("0086 13900000001", "13900000001"),
        ("8613900000001", "13900000001"),
        ("139 0000 0001", "13900000001"),
        ("+86 20 8888 0000", "02088880000"),
        ("020-8888-0000", "02088880000"),
        ("+82 10-1234-5678", "01012345678"),
        ("010-1234-5678", "01012345678"),
        ("+1 415 555 0100", "14155550100"),
        ("", ""),
    ],
)
def test_phone_normalisation(typed, key):
    assert normalise_phone(typed) == key


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("天河路１號", "天河路1号"),
        ("廣州市 天河區 天河路 1 號 2 樓", "广州市天河区天河路1号2楼"),
        ("No. 1, Tianhe Road", "no1tianheroad"),
        ("ＮＯ．１　Tianhe Rd", "no1tianherd"),
    ],
)
def test_address_normalisation(typed, key):
    assert normalise_address(typed) == key


def test_duplicates_follow_a_phone_and_address_change(customer_world, system_actor):
    c_th = customer_world["c_th"]
    customer_update(
        customer=c_th,
        data={"address": "体育西路 100 号", "phone": "020-3888 0000"},
        actor=system_actor,
    )
    admin = customer_world["admin"]
    assert _codes(customer_duplicates(user=admin, address="体育西路100号")) == [c_th.customer_code]
    assert _codes(customer_duplicates(user=admin, phone="+86 20 3888 0000")) == [c_th.customer_code]
    assert not customer_duplicates(user=admin, phone="13800000001")


def test_duplicates_are_company_wide_but_show_nothing_out_of_scope(customer_world):
    c_th = customer_world["c_th"]
    assert not customer_duplicates(
        user=customer_world["sup_th"], phone="13800000001", exclude_pk=c_th.pk
    )
    for outsider in ("am_th2", "sup_yx"):
        # given a user who may not see c_th
        found = customer_duplicates(user=customer_world[outsider], phone="13800000001")
        # then the match is there, by its code and area only
        assert _codes(found) == [c_th.customer_code]
        assert not found[0].visible and found[0].customer is None
        assert found[0].area == c_th.area.name


def test_duplicates_with_nothing_to_compare_find_nothing(customer_world):
    assert not customer_duplicates(user=customer_world["admin"])
    assert not customer_duplicates(user=customer_world["admin"], phone="13999999999")
    assert not customer_duplicates(user=customer_world["admin"], phone="-", address="，。")


# --- history -----------------------------------------------------------------------------


def test_history_lists_changes_newest_first_with_their_source(customer_world, system_actor):
    am_th, c_th = customer_world["am_th"], customer_world["c_th"]
    customer_edit(customer=c_th, user=am_th, data={"phone": "13800000002"})
    customer_update(customer=c_th, data={"store_name": "天河新店"}, actor=system_actor)
    customer_edit(customer=c_th, user=am_th, data={"phone": "13800000003"})

    history = list(customer_history(customer=c_th))

    assert [(e.action, e.field, e.new_value, e.source) for e in history] == [
        (AuditAction.UPDATE, "phone", "13800000003", AuditSource.PAGE),
        (AuditAction.UPDATE, "store_name", "天河新店", AuditSource.COMMAND),
        (AuditAction.UPDATE, "phone", "13800000002", AuditSource.PAGE),
        (AuditAction.CREATE, "", history[-1].new_value, AuditSource.COMMAND),
    ]
    assert history[0].old_value == "13800000002"
    assert history[-1].new_value["store_name"] == "天河一号店"


def test_history_is_limited_and_only_of_that_customer(customer_world, system_actor):
    c_th = customer_world["c_th"]
    for n in range(3):
        customer_update(customer=c_th, data={"phone": f"1380000001{n}"}, actor=system_actor)
    assert len(customer_history(customer=c_th, limit=2)) == 2
    assert len(customer_history(customer=customer_world["c_th2"])) == 1


# --- scope through the selectors ---------------------------------------------------------


def test_get_returns_a_customer_in_scope_with_its_parts(customer_world, django_assert_num_queries):
    c_th = customer_world["c_th"]
    am_th = customer_world["am_th"]
    with django_assert_num_queries(1):
        customer = customer_get(user=am_th, code=c_th.customer_code)
        assert customer.dynamic.phone == "13800000001"
        assert customer.system.grade is None
        assert customer.area.code == "TH"


@pytest.mark.parametrize("user_key", ["am_th2", "am_yx", "sup_yx"])
def test_get_raises_404_outside_the_users_scope(customer_world, user_key):
    with pytest.raises(Http404):
        customer_get(user=customer_world[user_key], code=customer_world["c_th"].customer_code)


def test_get_raises_404_for_an_unknown_code(customer_world):
    with pytest.raises(Http404):
        customer_get(user=customer_world["admin"], code="000000000000")


@pytest.mark.parametrize(
    ("user_key", "expected"),
    [
        ("am_th", ["c_th"]),
        ("am_th2", ["c_th2"]),
        ("am_yx", ["c_yx"]),
        ("sup_th", ["c_th", "c_th2"]),
        ("sup_yx", ["c_yx"]),
        ("sup_gz", ["c_th", "c_th2", "c_yx"]),
        ("lo_th", ["c_th", "c_th2"]),
        ("admin", ["c_th", "c_th2", "c_yx"]),
    ],
)
def test_list_shows_each_user_their_scope(customer_world, user_key, expected):
    listed = list(customer_list(user=customer_world[user_key]))
    assert listed == [customer_world[key] for key in expected]


def test_list_filters_never_widen_the_scope(customer_world):
    am_th = customer_world["am_th"]
    assert list(customer_list(user=am_th, filters={"area": "GZ"})) == [customer_world["c_th"]]
    assert list(customer_list(user=customer_world["sup_gz"], filters={"area": "TH"})) == [
        customer_world["c_th"],
        customer_world["c_th2"],
    ]


def test_list_of_a_supervisor_in_another_city_is_empty(customer_world, areas, make_user):
    sup_sz = make_user(Role.SUPERVISOR, [areas["SZ"]])
    assert list(customer_list(user=sup_sz)) == []
