"""Publishing a grade month on the grading overview, through Django's test client: the
month's state for everyone, the buttons for administrators and supervisors, the unlock by a
second person, and the runs page refusing a published month."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from grading.choices import PublicationStatus
from grading.models import GradePublication
from tests.grading.test_overview_pages import grade

MAR = dt.date(2025, 3, 1)
OVERVIEW = reverse("grading:overview")


def action_url(action: str) -> str:
    return reverse("grading:publication", args=[action])


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def graded(customer_world):
    grade(customer_world["c_th"], MAR, 3)
    grade(customer_world["c_yx"], MAR, 5)
    return customer_world


def overview(client, user):
    client.force_login(user)
    response = client.get(OVERVIEW, {"month": "2025-03"})
    assert response.status_code == 200
    return response


def test_a_supervisor_publishes_the_month_from_the_overview(client, graded):
    page = overview(client, graded["sup_th"])
    assert 'data-state="none"' in page.text
    assert page.context["publication_actions"] == ["publish"]
    assert 'data-action="publish"' in page.text and "data-confirm=" in page.text
    # when
    response = client.post(
        action_url("publish"), {"month": "2025-03", "note": "Reviewed"}, follow=True
    )
    # then
    assert response.redirect_chain[-1][0] == f"{OVERVIEW}?month=2025-03"
    assert any("are published" in m for m in messages_of(response))
    publication = GradePublication.objects.get()
    assert (publication.month, publication.published_by, publication.note) == (
        MAR,
        graded["sup_th"],
        "Reviewed",
    )
    assert 'data-state="published"' in response.text
    assert 'data-action="request_unlock"' in response.text


@pytest.mark.parametrize("who", ["am_th", "lo_th"])
def test_account_managers_and_licence_officers_see_the_state_but_no_button(client, graded, who):
    GradePublication.objects.create(month=MAR, published_by=graded["admin"])
    page = overview(client, graded[who])
    assert 'data-state="published"' in page.text
    assert page.context["publication_actions"] == []
    assert 'data-testid="publication-actions"' not in page.text
    # and the services refuse them when they post anyway
    response = client.post(action_url("request_unlock"), {"month": "2025-03", "reason": "x"})
    assert response.status_code == 302
    assert GradePublication.objects.get().status == PublicationStatus.PUBLISHED


def test_publishing_twice_shows_the_refusal(client, graded):
    GradePublication.objects.create(month=MAR, published_by=graded["admin"])
    client.force_login(graded["sup_th"])
    response = client.post(action_url("publish"), {"month": "2025-03"}, follow=True)
    assert any("published already" in m for m in messages_of(response))
    assert GradePublication.objects.count() == 1


def test_unlock_asked_on_the_page_and_approved_by_another_person(client, graded):
    GradePublication.objects.create(month=MAR, published_by=graded["admin"])
    client.force_login(graded["sup_th"])
    # a reason is required
    response = client.post(action_url("request_unlock"), {"month": "2025-03"}, follow=True)
    assert any("Say why" in m for m in messages_of(response))
    response = client.post(
        action_url("request_unlock"), {"month": "2025-03", "reason": "Late orders"}, follow=True
    )
    assert 'data-state="unlock_req"' in response.text
    assert "Late orders" in response.text
    # the asker may only withdraw; approving their own request is refused
    assert response.context["publication_actions"] == ["withdraw_unlock"]
    response = client.post(action_url("approve_unlock"), {"month": "2025-03"}, follow=True)
    assert any("second person" in m for m in messages_of(response))
    # another supervisor approves
    page = overview(client, graded["sup_th2"])
    assert page.context["publication_actions"] == ["approve_unlock", "reject_unlock"]
    response = client.post(action_url("approve_unlock"), {"month": "2025-03"}, follow=True)
    assert any("unlocked" in m for m in messages_of(response))
    assert GradePublication.objects.get().status == PublicationStatus.UNLOCKED
    assert 'data-state="none"' in response.text


def test_a_rejected_unlock_on_the_page_keeps_the_month_published(client, graded):
    GradePublication.objects.create(
        month=MAR,
        status=PublicationStatus.UNLOCK_REQUESTED,
        unlock_reason="Late orders",
        unlock_requested_by=graded["sup_th"],
    )
    client.force_login(graded["admin"])
    response = client.post(
        action_url("reject_unlock"), {"month": "2025-03", "note": "Too late"}, follow=True
    )
    assert any("rejected" in m for m in messages_of(response))
    assert GradePublication.objects.get().status == PublicationStatus.PUBLISHED


def test_the_runs_page_refuses_a_published_month(client, graded):
    GradePublication.objects.create(month=MAR, published_by=graded["admin"])
    client.force_login(graded["admin"])
    response = client.post(reverse("grading:runs"), {"month": "2025-03"}, follow=True)
    assert any("are published (locked)" in m for m in messages_of(response))
    assert not response.context["runs"]


def test_an_unknown_action_is_not_found_and_a_month_is_asked_for(client, graded):
    client.force_login(graded["admin"])
    assert client.post(action_url("explode"), {"month": "2025-03"}).status_code == 404
    response = client.post(action_url("publish"), {"month": "March"}, follow=True)
    assert messages_of(response) == ["Choose a graded month."]
    assert client.get(action_url("publish")).status_code == 405
