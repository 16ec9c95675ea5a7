"""Change requests: who decides them, what approval applies, stale requests, withdrawal,
rejection, bulk approval, the audit trail of each state change, and two deciders at once."""

import threading
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.urls import reverse
from django.utils import translation

from crm.choices import AuditAction, AuditSource
from crm.exceptions import DomainError
from crm.models import AuditEntry, Notification, User
from customers.choices import ChangeRequestStatus
from customers.models import ChangeRequest, Customer
from customers.selectors import change_request_queue, customer_history
from customers.services import (
    change_request_approve,
    change_request_bulk_approve,
    change_request_create,
    change_request_reject,
    change_request_withdraw,
    customer_propose,
    customer_update,
)
from tests.customers.factories import make_customer

PENDING = ChangeRequestStatus.PENDING


def request_change(world, data, *, by="am_th", customer="c_th", reason="Shop renamed"):
    return change_request_create(customer=world[customer], user=world[by], data=data, reason=reason)


def reload(customer):
    return Customer.objects.with_parts().get(pk=customer.pk)


def status_trail(change_request):
    """(action, field, old, new, who) of every audit row of the request, oldest first."""
    rows = AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(ChangeRequest),
        object_id=str(change_request.pk),
    ).order_by("id")
    return [(e.action, e.field, e.old_value, e.new_value, e.actor_label) for e in rows]


def approval_rows(customer, field):
    return [
        e
        for e in customer_history(customer=customer)
        if e.field == field and e.source == AuditSource.APPROVAL
    ]


def messages_to(user):
    return list(Notification.objects.filter(user=user).values_list("message", flat=True))


# --- creating a request ------------------------------------------------------------------


def test_a_request_records_old_and_new_values_in_external_form(customer_world):
    request = request_change(
        customer_world,
        {"store_name": "天河旗舰店", "registered_capital": "80000.50", "area": "yx"},
    )

    assert request.status == PENDING
    assert request.changes == [
        {"field": "store_name", "old": "天河一号店", "new": "天河旗舰店"},
        {"field": "registered_capital", "old": None, "new": "80000.50"},
        {"field": "area", "old": "TH", "new": "YX"},
    ]
    snapshot = {
        "customer": customer_world["c_th"].customer_code,
        "fields": ["store_name", "registered_capital", "area"],
    }
    assert status_trail(request) == [(AuditAction.CREATE, "", None, snapshot, "am_th")]


def test_a_request_for_values_that_could_never_be_applied_is_refused_at_once(customer_world):
    with pytest.raises(DomainError) as exc:
        request_change(customer_world, {"license_expiry_date": "someday"})
    assert list(exc.value.errors) == ["license_expiry_date"]
    with pytest.raises(DomainError, match="Nothing was changed"):
        request_change(customer_world, {"store_name": "天河一号店"})
    assert not ChangeRequest.objects.exists()


# --- approval ----------------------------------------------------------------------------


def test_approve_applies_every_field_with_approval_history_and_notifies(customer_world):
    sup_th, am_th, c_th = customer_world["sup_th"], customer_world["am_th"], customer_world["c_th"]
    request = request_change(
        customer_world,
        {
            "store_name": "天河旗舰店",
            "address": "天河路 1 号",
            "registered_capital": "80000",
            "license_issue_date": "2024-03-01",
            "status": "suspended",
        },
    )

    change_request_approve(change_request=request, user=sup_th, comment="Checked the licence")

    c_th = reload(c_th)
    assert c_th.store_name == "天河旗舰店"
    assert c_th.address == "天河路 1 号"
    assert c_th.registered_capital == Decimal("80000")
    assert c_th.license_issue_date.isoformat() == "2024-03-01"
    assert c_th.dynamic.status == "suspended"
    history = [e for e in customer_history(customer=c_th) if e.action == AuditAction.UPDATE]
    assert {e.field for e in history} == {item["field"] for item in request.changes}
    assert {(e.source, e.actor, e.actor_label) for e in history} == {
        (AuditSource.APPROVAL, sup_th, "sup_th")
    }
    assert all(f"#{request.pk}" in e.reason and "Shop renamed" in e.reason for e in history)
    request.refresh_from_db()
    assert request.status == ChangeRequestStatus.APPROVED
    assert request.decided_by == sup_th
    assert request.decided_at is not None
    assert request.decision_comment == "Checked the licence"
    [message] = messages_to(am_th)
    assert f"#{request.pk}" in message and "approved" in message
    assert Notification.objects.get(user=am_th).link == reverse(
        "customers:detail", args=[c_th.customer_code]
    )


def test_approval_is_all_or_nothing(customer_world, system_actor):
    # The licence is taken by another customer after the request was made: the request is not
    # stale (this customer's licence did not move), but it cannot be applied either.
    c_th, c_yx = customer_world["c_th"], customer_world["c_yx"]
    request = request_change(
        customer_world, {"store_name": "天河旗舰店", "license_number": "990199999999"}
    )
    customer_update(customer=c_yx, data={"license_number": "990199999999"}, actor=system_actor)

    with pytest.raises(DomainError) as exc:
        change_request_approve(change_request=request, user=customer_world["sup_th"])

    assert "990199999999" in exc.value.message and c_yx.customer_code in exc.value.message
    assert reload(c_th).store_name == "天河一号店"
    assert approval_rows(c_th, "store_name") == []
    request.refresh_from_db()
    assert request.status == PENDING
    assert request.decided_by is None


def test_a_request_for_a_code_another_customer_holds_is_refused_at_once(customer_world):
    c_th, c_yx = customer_world["c_th"], customer_world["c_yx"]

    with pytest.raises(DomainError) as exc:
        request_change(customer_world, {"customer_code": c_yx.customer_code})

    assert c_yx.customer_code in exc.value.message
    assert exc.value.errors.keys() == {"customer_code"}
    assert not ChangeRequest.objects.filter(customer=c_th).exists()


def test_approving_a_code_taken_after_the_request_is_refused_with_a_clear_message(
    customer_world, areas
):
    # given a request for a free code, which another customer takes before approval
    c_th = customer_world["c_th"]
    request = request_change(customer_world, {"customer_code": "440188888888"})
    make_customer(areas["YX"], customer_world["am_yx"], customer_code="440188888888")

    with pytest.raises(DomainError) as exc:
        change_request_approve(change_request=request, user=customer_world["sup_th"])

    assert "440188888888" in exc.value.message
    assert reload(c_th).customer_code != "440188888888"
    request.refresh_from_db()
    assert request.status == PENDING


def test_a_supervisor_of_a_parent_area_approves(customer_world):
    request = request_change(customer_world, {"store_name": "天河旗舰店"})
    change_request_approve(change_request=request, user=customer_world["sup_gz"])
    assert reload(customer_world["c_th"]).store_name == "天河旗舰店"


def test_an_administrator_approves(customer_world):
    request = request_change(customer_world, {"store_name": "天河旗舰店"})
    change_request_approve(change_request=request, user=customer_world["admin"])
    request.refresh_from_db()
    assert request.status == ChangeRequestStatus.APPROVED


def test_nobody_approves_their_own_request(customer_world):
    sup_th, c_th = customer_world["sup_th"], customer_world["c_th"]
    outcome = customer_propose(
        customer=c_th, user=sup_th, data={"store_name": "主任改的名字"}, reason="Seen on site"
    )

    with pytest.raises(DomainError) as exc:
        change_request_approve(change_request=outcome.change_request, user=sup_th)
    with pytest.raises(DomainError):
        change_request_reject(change_request=outcome.change_request, user=sup_th, comment="no")

    assert exc.value.message == "Nobody may decide their own change request."
    assert reload(c_th).store_name == "天河一号店"
    outcome.change_request.refresh_from_db()
    assert outcome.change_request.status == PENDING


@pytest.mark.parametrize("user_key", ["am_th", "am_th2", "lo_th"])
def test_account_managers_and_licence_officers_cannot_approve(customer_world, user_key):
    request = request_change(customer_world, {"license_type": "retail"}, by="sup_th")

    with pytest.raises(DomainError) as exc:
        change_request_approve(change_request=request, user=customer_world[user_key])

    assert exc.value.message == "Only supervisors and administrators decide change requests."
    request.refresh_from_db()
    assert request.status == PENDING


def test_a_supervisor_outside_the_area_cannot_approve(customer_world):
    request = request_change(customer_world, {"store_name": "天河旗舰店"})

    with pytest.raises(DomainError) as exc:
        change_request_approve(change_request=request, user=customer_world["sup_yx"])

    assert exc.value.message == "This customer is outside your areas."
    assert reload(customer_world["c_th"]).store_name == "天河一号店"
    request.refresh_from_db()
    assert request.status == PENDING
    assert status_trail(request)[1:] == []


def test_the_queue_shows_requests_of_the_supervisors_areas(customer_world):
    on_th = request_change(customer_world, {"store_name": "天河旗舰店"})
    on_yx = request_change(
        customer_world, {"store_name": "越秀旗舰店"}, by="am_yx", customer="c_yx"
    )

    assert list(change_request_queue(user=customer_world["sup_th"])) == [on_th]
    assert list(change_request_queue(user=customer_world["sup_yx"])) == [on_yx]
    assert list(change_request_queue(user=customer_world["sup_gz"])) == [on_th, on_yx]


# --- stale requests ----------------------------------------------------------------------


def test_a_request_whose_field_changed_meanwhile_is_stale(customer_world, system_actor):
    am_th, sup_th, c_th = customer_world["am_th"], customer_world["sup_th"], customer_world["c_th"]
    request = request_change(customer_world, {"store_name": "天河旗舰店", "business_scope": "卷烟"})
    customer_update(customer=c_th, data={"store_name": "另一个名字"}, actor=system_actor)

    with translation.override("en"), pytest.raises(DomainError) as exc:
        change_request_approve(change_request=request, user=sup_th)

    assert "Store name changed after this request was made" in exc.value.message
    assert "Business scope" not in exc.value.message
    assert "marked stale" in exc.value.message
    c_th = reload(c_th)
    assert c_th.store_name == "另一个名字"
    assert c_th.business_scope == ""
    assert approval_rows(c_th, "store_name") == approval_rows(c_th, "business_scope") == []
    request.refresh_from_db()
    assert request.status == ChangeRequestStatus.STALE
    assert request.decided_by == sup_th
    assert request.decision_comment == "Stale: Store name changed since the request."
    with translation.override("zh-hans"):
        assert request.decision_comment_text == "已失效：提交申请后 店铺名称 已发生变化。"
    [message] = messages_to(am_th)
    assert f"#{request.pk}" in message and "stale" in message


def test_the_stale_message_names_the_field_in_the_users_language(customer_world, system_actor):
    request = request_change(customer_world, {"store_name": "天河旗舰店"})
    customer_update(
        customer=customer_world["c_th"], data={"store_name": "另一个名字"}, actor=system_actor
    )
    with translation.override("zh-hans"), pytest.raises(DomainError) as exc:
        change_request_approve(change_request=request, user=customer_world["sup_th"])
    assert "店铺名称" in exc.value.message


def test_a_change_to_another_field_does_not_make_a_request_stale(customer_world, system_actor):
    c_th = customer_world["c_th"]
    request = request_change(customer_world, {"store_name": "天河旗舰店"})
    customer_update(customer=c_th, data={"phone": "13800000009"}, actor=system_actor)

    change_request_approve(change_request=request, user=customer_world["sup_th"])

    c_th = reload(c_th)
    assert (c_th.store_name, c_th.dynamic.phone) == ("天河旗舰店", "13800000009")


def test_a_stale_request_cannot_be_approved_later(customer_world, system_actor):
    request = request_change(customer_world, {"store_name": "天河旗舰店"})
    customer_update(
        customer=customer_world["c_th"], data={"store_name": "另一个名字"}, actor=system_actor
    )
    with pytest.raises(DomainError):
        change_request_approve(change_request=request, user=customer_world["sup_th"])

    with pytest.raises(DomainError, match="no longer pending: it is stale"):
        change_request_approve(
            change_request=ChangeRequest.objects.get(pk=request.pk), user=customer_world["sup_gz"]
        )


# --- withdrawal --------------------------------------------------------------------------


def test_the_author_withdraws_a_pending_request(customer_world):
    request = request_change(customer_world, {"store_name": "天河旗舰店"})

    change_request_withdraw(change_request=request, user=customer_world["am_th"])

    request.refresh_from_db()
    assert request.status == ChangeRequestStatus.WITHDRAWN
    assert reload(customer_world["c_th"]).store_name == "天河一号店"


@pytest.mark.parametrize("user_key", ["am_th2", "sup_th", "admin"])
def test_only_the_author_withdraws(customer_world, user_key):
    request = request_change(customer_world, {"store_name": "天河旗舰店"})

    with pytest.raises(DomainError) as exc:
        change_request_withdraw(change_request=request, user=customer_world[user_key])

    assert exc.value.message == "Only the author may withdraw a change request."
    request.refresh_from_db()
    assert request.status == PENDING


def test_a_decided_request_cannot_be_withdrawn(customer_world):
    request = request_change(customer_world, {"store_name": "天河旗舰店"})
    change_request_approve(change_request=request, user=customer_world["sup_th"])

    with pytest.raises(DomainError) as exc:
        change_request_withdraw(change_request=request, user=customer_world["am_th"])

    assert exc.value.message == "This request is no longer pending: it is approved."
    request.refresh_from_db()
    assert request.status == ChangeRequestStatus.APPROVED


# --- rejection ---------------------------------------------------------------------------


@pytest.mark.parametrize("comment", ["", "   "])
def test_rejecting_needs_a_comment(customer_world, comment):
    request = request_change(customer_world, {"store_name": "天河旗舰店"})

    with pytest.raises(DomainError) as exc:
        change_request_reject(
            change_request=request, user=customer_world["sup_th"], comment=comment
        )

    assert exc.value.field == "comment"
    request.refresh_from_db()
    assert request.status == PENDING


def test_reject_records_the_comment_and_notifies_the_requester(customer_world):
    sup_th, am_th = customer_world["sup_th"], customer_world["am_th"]
    request = request_change(customer_world, {"store_name": "天河旗舰店"})

    change_request_reject(
        change_request=request, user=sup_th, comment="  The licence still shows the old name  "
    )

    request.refresh_from_db()
    assert request.status == ChangeRequestStatus.REJECTED
    assert request.decided_by == sup_th
    assert request.decision_comment == "The licence still shows the old name"
    assert reload(customer_world["c_th"]).store_name == "天河一号店"
    [message] = messages_to(am_th)
    assert "rejected" in message and "The licence still shows the old name" in message


def test_a_supervisor_outside_the_area_cannot_reject(customer_world):
    request = request_change(customer_world, {"store_name": "天河旗舰店"})
    with pytest.raises(DomainError, match="outside your areas"):
        change_request_reject(change_request=request, user=customer_world["sup_yx"], comment="x")


# --- decided requests stay decided ---------------------------------------------------------


@pytest.mark.parametrize(
    ("decide", "status"),
    [
        (
            lambda w, r: change_request_reject(change_request=r, user=w["sup_th"], comment="no"),
            "rejected",
        ),
        (lambda w, r: change_request_withdraw(change_request=r, user=w["am_th"]), "withdrawn"),
        (lambda w, r: change_request_approve(change_request=r, user=w["sup_th"]), "approved"),
    ],
)
def test_approving_an_already_decided_request_is_refused(customer_world, decide, status):
    request = request_change(customer_world, {"store_name": "天河旗舰店"})
    decide(customer_world, request)
    stored_name = reload(customer_world["c_th"]).store_name

    with pytest.raises(DomainError) as exc:
        change_request_approve(
            change_request=ChangeRequest.objects.get(pk=request.pk), user=customer_world["sup_gz"]
        )

    assert exc.value.message == f"This request is no longer pending: it is {status}."
    assert reload(customer_world["c_th"]).store_name == stored_name


def test_rejecting_an_approved_request_is_refused(customer_world):
    request = request_change(customer_world, {"store_name": "天河旗舰店"})
    change_request_approve(change_request=request, user=customer_world["sup_th"])

    with pytest.raises(DomainError, match="no longer pending: it is approved"):
        change_request_reject(
            change_request=ChangeRequest.objects.get(pk=request.pk),
            user=customer_world["sup_gz"],
            comment="too late",
        )
    request.refresh_from_db()
    assert request.status == ChangeRequestStatus.APPROVED
    assert request.decided_by == customer_world["sup_th"]


def test_approving_twice_applies_once(customer_world):
    c_th = customer_world["c_th"]
    request = request_change(customer_world, {"store_name": "天河旗舰店"})
    second_copy = ChangeRequest.objects.get(pk=request.pk)  # what a second browser tab holds

    change_request_approve(change_request=request, user=customer_world["sup_th"])
    with pytest.raises(DomainError, match="no longer pending: it is approved"):
        change_request_approve(change_request=second_copy, user=customer_world["sup_th2"])

    assert len(approval_rows(c_th, "store_name")) == 1
    assert [row[2:4] for row in status_trail(request)[1:]] == [(PENDING, "approved")]
    request.refresh_from_db()
    assert request.decided_by == customer_world["sup_th"]


# --- bulk approval -----------------------------------------------------------------------


def test_bulk_approve_approves_the_valid_ones_and_reports_the_others(customer_world, system_actor):
    sup_th = customer_world["sup_th"]
    valid = request_change(customer_world, {"store_name": "天河旗舰店"})
    own = request_change(
        customer_world, {"store_name": "二号旗舰店"}, by="sup_th", customer="c_th2"
    )
    outside = request_change(
        customer_world, {"store_name": "越秀旗舰店"}, by="am_yx", customer="c_yx"
    )
    stale = request_change(customer_world, {"business_scope": "卷烟"})
    customer_update(
        customer=customer_world["c_th"], data={"business_scope": "卷烟、雪茄"}, actor=system_actor
    )

    outcomes = change_request_bulk_approve(
        change_requests=[valid, own, outside, stale], user=sup_th, comment="weekly review"
    )

    assert [(request.pk, refused) for request, refused in outcomes[:3]] == [
        (valid.pk, None),
        (own.pk, "Nobody may decide their own change request."),
        (outside.pk, "This customer is outside your areas."),
    ]
    assert outcomes[3][0].pk == stale.pk and "stale" in outcomes[3][1]
    statuses = dict(ChangeRequest.objects.values_list("pk", "status"))
    assert statuses == {
        valid.pk: ChangeRequestStatus.APPROVED,
        own.pk: PENDING,
        outside.pk: PENDING,
        stale.pk: ChangeRequestStatus.STALE,
    }
    assert reload(customer_world["c_th"]).store_name == "天河旗舰店"
    assert reload(customer_world["c_th2"]).store_name == "天河二号店"
    assert reload(customer_world["c_yx"]).store_name == "越秀店"


# --- the audit trail of a request --------------------------------------------------------


def test_every_state_change_is_audited_with_old_and_new_status_and_actor(
    customer_world, system_actor
):
    approved = request_change(customer_world, {"store_name": "天河旗舰店"})
    change_request_approve(change_request=approved, user=customer_world["sup_th"], comment="ok")
    rejected = request_change(customer_world, {"business_scope": "卷烟"})
    change_request_reject(change_request=rejected, user=customer_world["sup_gz"], comment="no")
    withdrawn = request_change(customer_world, {"business_scope": "卷烟"})
    change_request_withdraw(change_request=withdrawn, user=customer_world["am_th"])
    stale = request_change(customer_world, {"address": "天河路 1 号"})
    customer_update(
        customer=customer_world["c_th"], data={"address": "天河路 2 号"}, actor=system_actor
    )
    with pytest.raises(DomainError):
        change_request_approve(change_request=stale, user=customer_world["admin"])

    expected = {
        approved: ("approved", "sup_th", "ok"),
        rejected: ("rejected", "sup_gz", "no"),
        withdrawn: ("withdrawn", "am_th", ""),
        stale: ("stale", "admin_x", None),
    }
    for request, (status, who, reason) in expected.items():
        create, *changes = status_trail(request)
        assert create[0] == AuditAction.CREATE and create[4] == "am_th"
        assert changes == [(AuditAction.UPDATE, "status", PENDING, status, who)], status
        entry = AuditEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(ChangeRequest),
            object_id=str(request.pk),
            field="status",
        ).get()
        assert entry.actor == User.objects.get(username=who)
        if reason is not None:
            assert entry.reason == reason


# --- two deciders at the same moment -----------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_supervisors_approving_at_once_apply_the_request_once(customer_world):
    # Needs two real concurrent transactions; SQLite serialises whole-database writes and its
    # in-memory test database is not shared between threads.
    if connection.vendor != "postgresql":
        if settings.CRM_REQUIRE_SERVICES:
            pytest.fail(f"CRM_REQUIRE_SERVICES is set but the database is {connection.vendor}")
        pytest.skip("needs PostgreSQL for truly concurrent transactions")
    c_th = customer_world["c_th"]
    request = request_change(customer_world, {"store_name": "天河旗舰店"})
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def approve(username: str) -> None:
        try:
            user = User.objects.get(username=username)
            change_request = ChangeRequest.objects.get(pk=request.pk)
            barrier.wait(timeout=10)
            change_request_approve(change_request=change_request, user=user)
            outcomes[username] = "approved"
        except DomainError as exc:
            outcomes[username] = exc.message
        except Exception as exc:  # reported by the assertion below
            outcomes[username] = f"unexpected: {exc!r}"
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(name,)) for name in ("sup_th", "sup_th2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes.values()) == [
        "This request is no longer pending: it is approved.",
        "approved",
    ]
    assert reload(c_th).store_name == "天河旗舰店"
    assert len(approval_rows(c_th, "store_name")) == 1
    assert [row[2:4] for row in status_trail(request)[1:]] == [(PENDING, "approved")]
    assert len(messages_to(customer_world["am_th"])) == 1
