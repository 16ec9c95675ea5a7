"""A TH user cannot act on the YX customer by naming it in a form or an API body (the URL
matrix covers the URLs that name a row; these forms name the customer, a request or a person
in their data instead). Each case posts as the TH user and checks that nothing was stored,
then posts the same with the TH customer (or person) and checks that it was: the refusal is
the scope's, not a malformed body's."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from customers.choices import ChangeRequestStatus
from services.models import ServiceRequest, TrainingSession
from tests.api_errors import api_error
from tests.security.conftest import client_as
from tests.security.world import YX_CODE
from valuation.models import ComplianceRecord
from visits.models import Visit


def test_bulk_approve_skips_a_yx_change_request(w):
    client = client_as(w, "sup_th")
    url = reverse("customers:change_request_bulk_approve")
    for key, status in (
        ("change_request_yx", ChangeRequestStatus.PENDING),
        ("change_request", ChangeRequestStatus.APPROVED),
    ):
        client.post(url, {"ids": [w[key].pk]})
        w[key].refresh_from_db()
        assert w[key].status == status, key


def test_a_compliance_record_for_a_yx_customer_is_refused(w):
    client = client_as(w, "lo_th")
    for customer, added in ((w["c_yx"], 0), (w["c_th"], 1)):
        before = ComplianceRecord.objects.filter(customer=customer).count()
        client.post(
            reverse("valuation:compliance"),
            {
                "customer": customer.customer_code,
                "date": timezone.localdate().isoformat(),
                "record_type": "counterfeit",
                "note": "Fakes on the shelf",
            },
        )
        assert ComplianceRecord.objects.filter(customer=customer).count() == before + added


def test_a_training_session_cannot_list_a_yx_attendee(w):
    client = client_as(w, "am_th")
    th = w["c_th"].customer_code
    for attendees, added in ((f"{th}\n{YX_CODE}", 0), (th, 1)):
        before = TrainingSession.objects.count()
        client.post(
            reverse("services:training_new"),
            {
                "title": "Display basics",
                "held_on": timezone.localdate().isoformat(),
                "area": w["areas"]["TH"].pk,
                "attendees": attendees,
            },
        )
        assert TrainingSession.objects.count() == before + added, attendees


def test_a_request_cannot_be_handed_to_someone_outside_its_area(w):
    item = w["service_request"]
    client = client_as(w, "sup_th")
    url = reverse("services:request_assign", args=[item.pk])
    for person, taken in (("am_yx", False), ("sup_th2", True)):
        before = ServiceRequest.objects.get(pk=item.pk).assignee_id
        client.post(url, {"assignee": w[person].pk})
        after = ServiceRequest.objects.get(pk=item.pk).assignee_id
        assert (after == w[person].pk, after == before) == (taken, not taken), person


def test_the_api_does_not_log_a_visit_for_a_yx_customer(w):
    client = client_as(w, "am_th")
    for customer, expected in ((w["c_yx"], 404), (w["c_th"], 201)):
        before = Visit.objects.filter(customer=customer).count()
        response = client.post(
            reverse("visits_api:visit_list"),
            {
                "customer_code": customer.customer_code,
                "visited_at": (timezone.now() - dt.timedelta(minutes=5)).isoformat(),
                "visit_type": "routine",
                "purpose": "Shelf check",
            },
            content_type="application/json",
        )
        assert response.status_code == expected, response.content
        if expected == 404:  # the API's error, naming the field and nothing of the customer
            error = api_error(response, 404, "not_found")
            assert list(error["errors"]) == ["customer_code"]
            assert customer.store_name not in response.content.decode()
        stored = Visit.objects.filter(customer=customer).count() - before
        assert stored == (1 if expected == 201 else 0)


def test_the_api_does_not_raise_a_request_for_a_yx_customer(w):
    client = client_as(w, "sup_th")
    for customer, expected in ((w["c_yx"], 404), (w["c_th"], 201)):
        before = ServiceRequest.objects.filter(customer=customer).count()
        response = client.post(
            reverse("services_api:service_request_list"),
            {
                "customer_code": customer.customer_code,
                "request_type": "delivery",
                "priority": "normal",
                "description": "Late again",
            },
            content_type="application/json",
        )
        assert response.status_code == expected, response.content
        if expected == 404:  # the API's error, naming the field and nothing of the customer
            error = api_error(response, 404, "not_found")
            assert list(error["errors"]) == ["customer_code"]
            assert customer.store_name not in response.content.decode()
        stored = ServiceRequest.objects.filter(customer=customer).count() - before
        assert stored == (1 if expected == 201 else 0)
