"""The operator commands: `escalate_services` (the escalation job, run now) and `care_due`
(the daily care notice, run now)."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from crm.models import Notification
from services.models import ServiceRequest
from tests.services.factories import hours_ago, mark_care, raise_request


def run(name: str, *args) -> str:
    out = StringIO()
    call_command(name, *args, stdout=out)
    return out.getvalue()


def test_escalate_services_escalates_the_overdue_requests_once(customer_world):
    # given: a delivery problem due six hours ago, and one not due yet
    late = raise_request(customer_world["c_th"], customer_world["am_th"], raised_at=hours_ago(30))
    raise_request(customer_world["c_yx"], customer_world["am_yx"], raised_at=hours_ago(1))

    # when
    output = run("escalate_services")

    # then
    assert output.strip() == "Service requests escalated: 1."
    late.refresh_from_db()
    assert late.escalated_at is not None and late.escalated_to == customer_world["sup_th"]
    assert ServiceRequest.objects.filter(escalated_at__isnull=False).count() == 1
    assert Notification.objects.filter(user=customer_world["sup_th"]).exists()
    # and again: nothing more escalates
    assert run("escalate_services").strip() == "Service requests escalated: 0."


def test_care_due_tells_the_account_managers_with_care_due_once_a_day(customer_world):
    # given: am_th's shop is marked for family service and never served (due at once)
    mark_care(customer_world["c_th"], "elderly")

    # when
    output = run("care_due")

    # then: am_th alone is told, once
    assert output.strip() == "Account managers told of care due: 1."
    notice = Notification.objects.get(link=reverse("services:care"))
    assert notice.user == customer_world["am_th"]
    assert "Family service: 1" in notice.message
    assert run("care_due").strip() == "Account managers told of care due: 0."


def test_care_due_draws_the_week_of_a_given_day(customer_world):
    # given: am_yx's shopkeeper has a birthday in the week of Monday 5 October 2026
    mark_care(customer_world["c_yx"], "", birthday=dt.date(1960, 10, 7))

    # when
    output = run("care_due", "--date", "2026-10-05")

    # then
    assert output.strip() == "Account managers told of care due: 1."
    notice = Notification.objects.get()
    assert notice.user == customer_world["am_yx"]
    assert "Birthday greeting: 1" in notice.message


def test_care_due_refuses_a_bad_date(db):
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        run("care_due", "--date", "5/10/2026")
