"""The compliance records page: who reads which records, the filters, and the add and void
forms (licence officers and administrators only), with the services' errors on the form."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.choices import AuditSource
from crm.services import Actor
from customers.models import CustomerSystem
from valuation import services
from valuation.choices import RecordType
from valuation.models import ComplianceRecord

URL = "/valuation/compliance/"
TODAY = timezone.localdate()


def add(world, customer="c_th", *, by="lo_th", record_type=RecordType.COUNTERFEIT, days=10, **kw):
    return services.compliance_record_add(
        customer=world[customer],
        date=TODAY - dt.timedelta(days=days),
        record_type=record_type,
        note=kw.pop("note", "Found fakes"),
        actor=Actor.of(world[by], AuditSource.PAGE),
    )


@pytest.fixture
def recorded(customer_world):
    """A violation at c_th, a clean inspection at c_th2 (both TH), a violation at c_yx (YX,
    recorded by the administrator), and a voided violation at c_th2."""
    w = customer_world
    w["r_th"] = add(w, "c_th", days=10, note="Fake Zhonghua")
    w["r_th2"] = add(w, "c_th2", record_type=RecordType.INSPECTION_PASSED, days=40, note="")
    w["r_yx"] = add(w, "c_yx", by="admin", record_type=RecordType.MINORS, days=100, note="Sold")
    w["r_void"] = add(w, "c_th2", record_type=RecordType.PRICE, days=5, note="Above the price")
    services.compliance_record_void(
        record=w["r_void"], reason="Wrong shop", actor=Actor.of(w["lo_th"], AuditSource.PAGE)
    )
    return w


def page(client, user, query: str = ""):
    client.force_login(user)
    response = client.get(URL + (f"?{query}" if query else ""))
    assert response.status_code == 200
    return response


def shown(response, world) -> set[str]:
    html = response.content.decode()
    return {
        key
        for key in ("r_th", "r_th2", "r_yx", "r_void")
        if f'data-record="{world[key].pk}"' in html
    }


# --- reading ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("am_th", {"r_th"}),
        ("am_th2", {"r_th2", "r_void"}),
        ("am_yx", {"r_yx"}),
        ("sup_th", {"r_th", "r_th2", "r_void"}),
        ("sup_gz", {"r_th", "r_th2", "r_void", "r_yx"}),
        ("lo_th", {"r_th", "r_th2", "r_void"}),
        ("admin", {"r_th", "r_th2", "r_void", "r_yx"}),
    ],
)
def test_each_person_reads_the_records_of_their_scope(client, recorded, who, expected):
    assert shown(page(client, recorded[who]), recorded) == expected


def test_a_record_shows_its_date_customer_type_note_author_and_state(client, recorded):
    html = page(client, recorded["sup_gz"]).content.decode()
    r_th, r_void = recorded["r_th"], recorded["r_void"]
    assert f"{r_th.date:%Y-%m-%d}" in html
    assert recorded["c_th"].store_name in html
    assert "Selling counterfeit cigarettes" in html
    assert "Fake Zhonghua" in html
    assert str(recorded["lo_th"]) in html
    # violations stand out; a clean inspection does not
    assert f'data-violation="{r_th.pk}"' in html
    assert f'data-violation="{recorded["r_th2"].pk}"' not in html
    assert "Inspection passed" in html
    # the void one is struck through, with who voided it and why
    assert f'data-void="{r_void.pk}"' in html
    assert "Wrong shop" in html
    assert f"<del>{r_void.note}</del>" in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("record_type=counterfeit", {"r_th"}),
        ("record_type=violation", {"r_th", "r_yx", "r_void"}),
        ("record_type=passed", {"r_th2"}),
        ("area=YX", {"r_yx"}),
        ("area=GZ", {"r_th", "r_th2", "r_void", "r_yx"}),
        ("void=yes", {"r_void"}),
        ("void=no", {"r_th", "r_th2", "r_yx"}),
        ("record_type=bogus", {"r_th", "r_th2", "r_void", "r_yx"}),
    ],
)
def test_filters(client, recorded, query, expected):
    assert shown(page(client, recorded["admin"], query), recorded) == expected


def test_date_range_filter(client, recorded):
    since = f"{TODAY - dt.timedelta(days=50):%Y-%m-%d}"
    until = f"{TODAY - dt.timedelta(days=8):%Y-%m-%d}"
    response = page(client, recorded["admin"], f"date_from={since}&date_to={until}")
    assert shown(response, recorded) == {"r_th", "r_th2"}


def test_customer_filter(client, recorded):
    code = recorded["c_th2"].customer_code
    assert shown(page(client, recorded["admin"], f"customer={code}"), recorded) == {
        "r_th2",
        "r_void",
    }


def test_the_forms_are_offered_to_licence_officers_and_administrators_only(client, recorded):
    void_url = reverse("valuation:compliance_void", args=[recorded["r_th"].pk])
    for who in ("lo_th", "admin"):
        html = page(client, recorded[who]).content.decode()
        assert 'data-testid="compliance-add-form"' in html
        assert void_url in html
        # a void record cannot be voided again
        assert reverse("valuation:compliance_void", args=[recorded["r_void"].pk]) not in html
    for who in ("am_th", "sup_th"):
        html = page(client, recorded[who]).content.decode()
        assert 'data-testid="compliance-add-form"' not in html
        assert void_url not in html
        assert "this page is read-only for you" in html


def test_the_list_pins_its_query_count(client, recorded, django_assert_num_queries):
    for n in range(30):
        add(recorded, "c_th", days=n + 1, record_type=RecordType.INSPECTION_PASSED, note="")
    client.force_login(recorded["lo_th"])
    client.get(URL)
    # session, user, the user's areas and the area tree (the scope), count, rows,
    # unread notifications, the area picker's choices
    with django_assert_num_queries(8):
        response = client.get(URL)
    assert response.context["paginator"].count == 33
    assert len(response.context["records"]) == 25
    with django_assert_num_queries(8):
        response = client.get(URL, {"page": 2})
    assert len(response.context["records"]) == 8


# --- adding -------------------------------------------------------------------------------


def post_add(client, user, **data):
    client.force_login(user)
    return client.post(URL, data)


def test_the_licence_officer_adds_a_violation(client, recorded):
    code = recorded["c_th2"].customer_code
    when = TODAY - dt.timedelta(days=2)
    response = post_add(
        client,
        recorded["lo_th"],
        customer=f" {code} ",
        date=f"{when:%Y-%m-%d}",
        record_type=RecordType.SMUGGLED,
        note="Non-local packs",
    )
    assert response.status_code == 302
    assert response["Location"] == URL
    record = ComplianceRecord.objects.get(record_type=RecordType.SMUGGLED)
    assert (record.customer, record.date, record.note) == (
        recorded["c_th2"],
        when,
        "Non-local packs",
    )
    assert record.recorded_by == recorded["lo_th"]
    assert CustomerSystem.objects.get(customer=recorded["c_th2"]).compliance_flag is False
    html = client.get(URL).content.decode()
    assert "Recorded: Selling smuggled or non-local cigarettes at" in html


def test_adding_goes_back_to_the_customer_page_when_asked(client, recorded):
    customer = recorded["c_th"]
    back = reverse("customers:detail", args=[customer.customer_code]) + "#value-compliance"
    response = post_add(
        client,
        recorded["admin"],
        customer=customer.customer_code,
        date=f"{TODAY:%Y-%m-%d}",
        record_type=RecordType.INSPECTION_PASSED,
        note="",
        next=back,
    )
    assert response["Location"] == back


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"note": ""}, "note", "Say what was found."),
        ({"date": "tomorrow"}, "date", "Enter a valid date."),
        ({"date": "future"}, "date", "Enter the date it happened (not in the future)."),
        ({"record_type": "nonsense"}, "record_type", "Select a valid choice."),
        ({"customer": "000"}, "customer", "No customer with this code among your customers."),
        ({"customer": "yx"}, "customer", "No customer with this code among your customers."),
    ],
)
def test_adding_shows_errors_on_the_form(client, recorded, data, field, message):
    values = {
        "customer": recorded["c_th"].customer_code,
        "date": f"{TODAY:%Y-%m-%d}",
        "record_type": RecordType.COUNTERFEIT,
        "note": "Fakes",
        "next": "/customers/",
    }
    values.update(data)
    if values["date"] == "future":
        values["date"] = f"{TODAY + dt.timedelta(days=1):%Y-%m-%d}"
    if values["customer"] == "yx":  # outside the licence officer's areas
        values["customer"] = recorded["c_yx"].customer_code
    before = ComplianceRecord.objects.count()
    response = post_add(client, recorded["lo_th"], **values)
    assert response.status_code == 200
    form = response.context["add_form"]
    assert any(message in error for error in form.errors[field])
    html = response.content.decode()
    assert message in html
    # the form keeps what was typed and where to go back to; the list is still there
    assert 'id="compliance-add"' in html and "collapse show" in html
    assert 'name="next" value="/customers/"' in html
    assert response.context["paginator"].count == 3
    assert ComplianceRecord.objects.count() == before


@pytest.mark.parametrize("who", ["am_th", "sup_th", "sup_gz"])
def test_others_may_not_add(client, recorded, who):
    before = ComplianceRecord.objects.count()
    response = post_add(
        client,
        recorded[who],
        customer=recorded["c_th"].customer_code,
        date=f"{TODAY:%Y-%m-%d}",
        record_type=RecordType.INSPECTION_PASSED,
    )
    assert response.status_code == 403
    assert ComplianceRecord.objects.count() == before


# --- voiding ------------------------------------------------------------------------------


def post_void(client, user, record, **data):
    client.force_login(user)
    return client.post(reverse("valuation:compliance_void", args=[record.pk]), data)


def test_the_licence_officer_voids_a_record_with_a_reason(client, recorded):
    record = recorded["r_th"]
    response = post_void(client, recorded["lo_th"], record, reason="Recorded twice", next=URL)
    assert response["Location"] == URL
    record.refresh_from_db()
    assert record.is_void
    assert (record.void_reason, record.voided_by) == ("Recorded twice", recorded["lo_th"])
    assert CustomerSystem.objects.get(customer=recorded["c_th"]).compliance_flag is True
    assert "The record was voided." in client.get(URL).content.decode()


def test_voiding_needs_a_reason_and_happens_once(client, recorded):
    record = recorded["r_th"]
    response = post_void(client, recorded["lo_th"], record, reason=" ")
    assert "Say why the record is void." in client.get(response["Location"]).content.decode()
    record.refresh_from_db()
    assert not record.is_void
    response = post_void(client, recorded["lo_th"], recorded["r_void"], reason="again")
    assert "This record is already void." in client.get(response["Location"]).content.decode()


def test_others_may_not_void(client, recorded):
    assert post_void(client, recorded["am_th"], recorded["r_th"], reason="x").status_code == 403
    assert post_void(client, recorded["sup_th"], recorded["r_th"], reason="x").status_code == 403
    # outside the scope: not found, even for a licence officer
    assert post_void(client, recorded["lo_th"], recorded["r_yx"], reason="x").status_code == 404
    recorded["r_th"].refresh_from_db()
    assert not recorded["r_th"].is_void
