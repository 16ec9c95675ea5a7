"""The service-request pages: the queues with their tabs, filters and export, raising a request
for a customer (on a visit or not), one request's page with its history, and its actions."""

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from crm.choices import Role
from services import policies, services
from services.models import ServiceRequest, ServicesConfig
from tests.customers.factories import make_customer
from tests.services.factories import act, closed_request, hours_ago, raise_request
from visits.models import Visit

QUEUE = reverse("services:queue")
NEW = reverse("services:request_new")


def detail(request) -> str:
    return reverse("services:request_detail", args=[request.pk])


def act_url(request, action: str) -> str:
    return reverse("services:request_act", args=[request.pk, action])


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def section(html: str, testid: str) -> str:
    """The element marked `data-testid=testid`, roughly: from its marker to the next card."""
    start = html.index(f'data-testid="{testid}"')
    end = html.find('class="card ', start)
    return html[start : end if end != -1 else len(html)]


def visit_of(customer, user) -> Visit:
    return Visit.objects.create(
        customer=customer,
        visited_by=user,
        visited_at=timezone.now() - dt.timedelta(hours=1),
        visit_type="routine",
        purpose="Round",
    )


@pytest.fixture
def world(customer_world):
    return customer_world


# --- the queues ----------------------------------------------------------------------------


def test_anonymous_users_go_to_the_login_page_and_api_clients_are_refused(client, world, make_user):
    request = raise_request(world["c_th"], world["am_th"])
    for url in (QUEUE, NEW, detail(request), reverse("services:queue_export")):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]
    client.force_login(make_user(Role.INTEGRATION_CLIENT, username="erp"))
    for url in (QUEUE, NEW, detail(request), reverse("services:queue_export")):
        assert client.get(url).status_code == 403


def test_an_account_manager_starts_on_their_own_queue(client, world):
    mine = raise_request(world["c_th"], world["am_th"], description="Out of the blue brand")
    other = raise_request(world["c_th2"], world["am_th2"], description="Someone else's")
    client.force_login(world["am_th"])
    response = client.get(QUEUE)
    assert response.status_code == 200
    assert response.context["queue"] == "mine"
    html = response.content.decode()
    assert mine.number in html and other.number not in html
    assert 'data-testid="queue-tab-mine"' in html and 'aria-current="page"' in html
    counts = {tab["key"]: tab["count"] for tab in response.context["tabs"]}
    assert counts == {"mine": 1, "area": 1, "overdue": 0}
    # The customer links to its page; a new request can be raised from the queue.
    assert reverse("customers:detail", args=[world["c_th"].customer_code]) in html
    assert f'href="{NEW}"' in html


def test_a_supervisor_starts_on_the_area_queue_of_their_areas(client, world):
    th = raise_request(world["c_th"], world["am_th"])
    th2 = raise_request(world["c_th2"], world["am_th2"])
    yx = raise_request(world["c_yx"], world["am_yx"])
    client.force_login(world["sup_th"])
    response = client.get(QUEUE)
    assert response.context["queue"] == "area"
    numbers = {row["request"].pk for row in response.context["rows"]}
    assert numbers == {th.pk, th2.pk}
    assert yx.number not in response.content.decode()
    # Their own queue is empty: they neither raised nor hold any.
    response = client.get(QUEUE, {"queue": "mine"})
    assert response.context["rows"] == []
    assert "No open request here." in response.content.decode()
    # A licence officer, like an account manager, starts on their own.
    client.force_login(world["lo_th"])
    assert client.get(QUEUE).context["queue"] == "mine"


def test_overdue_requests_are_highlighted_with_how_late_they_are(client, world):
    late = raise_request(world["c_th"], world["am_th"], raised_at=hours_ago(30))  # due in 24 h
    later = raise_request(world["c_th"], world["am_th"], raised_at=hours_ago(24 + 72))
    on_time = raise_request(world["c_th"], world["am_th"])
    services.service_requests_escalate()
    client.force_login(world["am_th"])
    response = client.get(QUEUE, {"queue": "overdue"})
    rows = {row["request"].pk: row["overdue_by"] for row in response.context["rows"]}
    assert rows == {later.pk: "Overdue by 3 days", late.pk: "Overdue by 6 h"}
    html = response.content.decode()
    assert html.count('data-overdue="true"') == 4  # a table row and a phone card each
    assert 'class="table-danger"' in html
    assert "Overdue by 6 h" in html and "Overdue by 3 days" in html
    assert 'data-testid="request-escalated"' in html
    assert on_time.number not in html
    counts = {tab["key"]: tab["count"] for tab in response.context["tabs"]}
    assert counts["overdue"] == 2

    # The request's page says so too.
    page = client.get(detail(late)).content.decode()
    assert "Overdue by 6 h" in section(page, "request-alert")
    assert "Escalated on" in page and str(world["sup_th"]) in page
    history = section(page, "request-history")
    assert "Escalated" in history and "Automatic" in history and "Overdue since" in history
    assert 'data-testid="request-alert"' not in client.get(detail(on_time)).content.decode()


def test_the_queue_filters(client, world):
    urgent = raise_request(world["c_th"], world["am_th"], priority="urgent", request_type="supply")
    normal = raise_request(world["c_th2"], world["am_th2"])
    done = closed_request(world["c_th"], world["am_th"], satisfaction=5)
    client.force_login(world["sup_th"])

    def shown(**params):
        response = client.get(QUEUE, {"queue": "area", **params})
        assert response.status_code == 200
        return {row["request"].pk for row in response.context["rows"]}

    assert shown() == {urgent.pk, normal.pk}  # closed requests are left out
    assert shown(priority="urgent") == {urgent.pk}
    assert shown(request_type="delivery") == {normal.pk}
    assert shown(status="closed") == {done.pk}
    assert shown(status=["open", "closed"]) == {urgent.pk, normal.pk, done.pk}
    assert shown(customer=world["c_th2"].customer_code) == {normal.pk}
    assert shown(customer="天河一号") == {urgent.pk}
    assert shown(assignee="am_th2") == {normal.pk}
    assert shown(escalated="true") == set()
    assert shown(escalated="false") == {urgent.pk, normal.pk}
    response = client.get(QUEUE, {"queue": "area", "priority": "low"})
    assert "No request matches these filters." in response.content.decode()
    # Switching tab keeps the filters.
    html = client.get(QUEUE, {"queue": "area", "priority": "urgent"}).content.decode()
    assert "?queue=mine&amp;priority=urgent" in html


def test_the_queue_takes_a_bounded_number_of_queries(client, world, django_assert_max_num_queries):
    for n in range(3):
        raise_request(world["c_th"], world["am_th"], description=f"Request {n}")
    client.force_login(world["sup_th"])
    client.get(QUEUE)  # warm the content types and the session
    # (one of them: the assignee picker's choices)
    with django_assert_max_num_queries(9):
        response = client.get(QUEUE)
    assert len(response.context["rows"]) == 3
    for n in range(20):
        customer = make_customer("TH", world["am_th2"])
        request = raise_request(customer, world["am_th2"], raised_at=hours_ago(40))
        if n % 2:
            act(request, world["am_th2"], "start")
    with django_assert_max_num_queries(9):
        response = client.get(QUEUE)
    assert len(response.context["rows"]) == 23
    with django_assert_max_num_queries(9):
        client.get(QUEUE, {"queue": "overdue", "status": ["open", "in_progress"]})


def test_the_queue_pages_long_lists(client, world):
    for n in range(55):
        raise_request(world["c_th"], world["am_th"], description=f"Request {n}")
    client.force_login(world["am_th"])
    first = client.get(QUEUE)
    assert len(first.context["rows"]) == 50 and first.context["is_paginated"]
    second = client.get(QUEUE, {"page": 2})
    assert len(second.context["rows"]) == 5


# --- the export ----------------------------------------------------------------------------


def test_the_csv_export_holds_the_queue_with_its_filters(client, world):
    late = raise_request(
        world["c_th"], world["am_th"], raised_at=hours_ago(30), description="Late truck"
    )
    raise_request(world["c_th2"], world["am_th2"], priority="low")
    raise_request(world["c_yx"], world["am_yx"])
    done = closed_request(world["c_th"], world["am_th"], satisfaction=4)
    client.force_login(world["sup_th"])
    response = client.get(reverse("services:queue_export"), {"queue": "area", "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "service-requests-area-" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["Number", "Customer code", "Store name"]
    assert len(rows) == 3  # the header, TH's two open requests; not YX's, not the closed one
    by_number = {row[0]: row for row in rows[1:]}
    row = dict(zip(rows[0], by_number[late.number], strict=True))
    assert row["Customer code"] == world["c_th"].customer_code
    assert row["Type"] == "Delivery" and row["Status"] == "Open"
    assert row["Description"] == "Late truck" and row["Overdue"] == "yes"
    assert row["Due"] == timezone.localtime(late.due_at).strftime("%Y-%m-%d %H:%M")

    # The filters apply: closed ones when asked, with their satisfaction.
    response = client.get(
        reverse("services:queue_export"), {"queue": "area", "status": "closed", "format": "csv"}
    )
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert [row[0] for row in rows[1:]] == [done.number]
    assert rows[1][rows[0].index("Satisfaction (1-5)")] == "4"


def test_the_xlsx_export_and_an_account_managers_scope(client, world):
    mine = raise_request(world["c_th"], world["am_th"])
    raise_request(world["c_th2"], world["am_th2"])
    client.force_login(world["am_th"])
    response = client.get(reverse("services:queue_export"), {"queue": "area", "format": "xlsx"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.values)
    assert values[0][0] == "Number" and len(values) == 2
    assert values[1][0] == mine.number
    due = values[1][list(values[0]).index("Due")]
    assert isinstance(due, dt.datetime)
    assert due == timezone.localtime(mine.due_at).replace(second=0, microsecond=0, tzinfo=None)


# --- raising a request ---------------------------------------------------------------------


def test_the_new_request_form_shows_the_service_levels_and_the_default_assignee(client, world):
    ServicesConfig.objects.filter(pk=ServicesConfig.current().pk).update(sla_delivery_hours=6)
    client.force_login(world["am_th"])
    response = client.get(NEW, {"customer": world["c_th"].customer_code})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Delivery: due in 6 h" in html and "Licence: due in 120 h" in html
    expected = f"Left blank, the request goes to {world['am_th']} · Account manager."
    assert expected in section(html, "request-default-assignee")
    candidates = dict(response.context["form"].fields["assignee"].choices)
    assert world["sup_th"].pk in candidates and world["am_th2"].pk not in candidates


def test_raising_a_request_through_the_page_stores_the_due_time(client, world):
    ServicesConfig.objects.filter(pk=ServicesConfig.current().pk).update(sla_delivery_hours=6)
    client.force_login(world["am_th"])
    before = timezone.now()
    response = client.post(
        f"{NEW}?customer={world['c_th'].customer_code}",
        {"request_type": "delivery", "priority": "high", "description": "Truck came late"},
        follow=True,
    )
    request = ServiceRequest.objects.get()
    assert response.redirect_chain[-1][0] == detail(request)
    assert request.raised_by == world["am_th"] and request.assignee == world["am_th"]
    assert request.priority == "high" and request.visit is None
    assert request.due_at == request.raised_at + dt.timedelta(hours=6)
    assert before <= request.raised_at <= timezone.now()
    assert any(f"{request.number} was raised" in m for m in messages_of(response))
    html = response.content.decode()
    assert "Truck came late" in html and 'data-testid="history-event"' in html


def test_a_request_raised_on_a_visit_and_given_to_someone(client, world):
    visit = visit_of(world["c_th"], world["am_th"])
    client.force_login(world["am_th"])
    url = f"{NEW}?customer={world['c_th'].customer_code}&visit={visit.pk}"
    html = client.get(url).content.decode()
    assert 'data-testid="request-form-visit"' in html
    response = client.post(
        url,
        {
            "request_type": "licence",
            "priority": "normal",
            "description": "Licence renewal question",
            "assignee": world["lo_th"].pk,
        },
    )
    request = ServiceRequest.objects.get()
    assert response.status_code == 302
    assert request.visit == visit and request.assignee == world["lo_th"]
    assert request.due_at == request.raised_at + dt.timedelta(hours=120)
    assert world["lo_th"].notifications.count() == 1


def test_refused_requests_show_on_the_form_and_nothing_is_stored(client, world):
    client.force_login(world["am_th"])
    url = f"{NEW}?customer={world['c_th'].customer_code}"
    response = client.post(url, {"request_type": "delivery", "priority": "normal"})
    assert response.status_code == 200
    assert "Describe what the customer asks for." in response.content.decode()
    assert response.context["form"].errors["description"]
    # Someone who cannot take the customer's requests is not offered (nor taken).
    response = client.post(
        url,
        {
            "request_type": "delivery",
            "priority": "normal",
            "description": "x",
            "assignee": world["am_yx"].pk,
        },
    )
    assert response.context["form"].errors["assignee"]
    assert not ServiceRequest.objects.exists()


def test_raising_is_scoped(client, world, monkeypatch):
    visit = visit_of(world["c_th2"], world["am_th2"])
    client.force_login(world["am_yx"])
    assert client.get(NEW, {"customer": world["c_th"].customer_code}).status_code == 404
    assert client.post(f"{NEW}?customer={world['c_th'].customer_code}").status_code == 404
    client.force_login(world["am_th"])
    assert client.get(NEW, {"customer": "NOSUCHCODE"}).status_code == 404
    # The visit must be one the user sees, and this customer's.
    url = f"{NEW}?customer={world['c_th'].customer_code}&visit={visit.pk}"
    assert client.get(url).status_code == 404
    client.force_login(world["sup_th"])
    assert client.get(url).status_code == 404  # sees the visit, but it was to another shop
    assert (
        client.get(NEW, {"customer": world["c_th"].customer_code, "visit": "x"}).status_code == 404
    )
    # Whoever sees a customer but may not serve it is refused.
    monkeypatch.setattr(policies, "can_serve", lambda user, customer: False)
    assert client.get(NEW, {"customer": world["c_th"].customer_code}).status_code == 403


def test_without_a_customer_the_form_asks_which(client, world):
    client.force_login(world["am_th"])
    response = client.get(NEW)
    assert response.status_code == 200
    html = response.content.decode()
    assert f"?customer={world['c_th'].customer_code}" in html
    assert world["c_th2"].customer_code not in html  # not theirs
    response = client.get(NEW, {"q": "天河一号"})
    assert [c.pk for c in response.context["customers"]] == [world["c_th"].pk]


# --- one request and its actions -----------------------------------------------------------


def test_the_request_page_is_scoped(client, world):
    request = raise_request(world["c_th"], world["am_th"])
    for name in ("am_th2", "am_yx", "sup_yx"):
        client.force_login(world[name])
        assert client.get(detail(request)).status_code == 404
        assert client.post(act_url(request, "start")).status_code == 404
    for name in ("am_th", "sup_th", "sup_gz", "lo_th", "admin"):
        client.force_login(world[name])
        assert client.get(detail(request)).status_code == 200


def test_a_request_worked_to_the_end_through_the_page(client, world):
    request = raise_request(world["c_th"], world["am_th"], description="Wrong brand delivered")
    client.force_login(world["am_th"])
    html = client.get(detail(request)).content.decode()
    assert 'data-testid="action-start"' in html and 'data-testid="action-resolve"' in html
    assert 'data-testid="action-close"' not in html

    response = client.post(act_url(request, "start"), follow=True)
    request.refresh_from_db()
    assert request.status == "in_progress"
    assert f"{request.number} is in progress." in messages_of(response)

    # Resolving needs a note: refused without, nothing changes.
    response = client.post(act_url(request, "resolve"), {"note": "  "}, follow=True)
    assert "Say how it was resolved." in messages_of(response)
    request.refresh_from_db()
    assert request.status == "in_progress"
    client.post(act_url(request, "resolve"), {"note": "Swapped at the depot"})
    request.refresh_from_db()
    assert (request.status, request.resolution_note) == ("resolved", "Swapped at the depot")

    # Closing needs the customer's satisfaction, 1 to 5.
    html = client.get(detail(request)).content.decode()
    assert 'data-testid="action-close"' in html and 'name="satisfaction"' in html
    response = client.post(act_url(request, "close"), follow=True)
    assert "Record the customer's satisfaction (1-5)." in messages_of(response)
    response = client.post(act_url(request, "close"), {"satisfaction": "9"}, follow=True)
    assert any("valid choice" in m for m in messages_of(response))
    request.refresh_from_db()
    assert request.status == "resolved" and request.satisfaction is None
    client.post(act_url(request, "close"), {"satisfaction": "4"})
    request.refresh_from_db()
    assert (request.status, request.satisfaction) == ("closed", 4)

    # The page shows it closed, with the whole history.
    html = client.get(detail(request)).content.decode()
    assert "4 of 5" in html
    history = section(html, "request-history")
    for title in ("Raised", "Work started", "Resolved", "Closed"):
        assert title in history
    assert "Swapped at the depot" in history
    assert 'data-testid="action-reopen"' in html and "data-confirm=" in html

    # Reopened with a reason, it is due again.
    client.post(act_url(request, "reopen"), {"note": "Wrong brand again"})
    request.refresh_from_db()
    assert request.status == "reopened" and request.satisfaction is None
    assert "Wrong brand again" in section(
        client.get(detail(request)).content.decode(), "request-history"
    )


def test_illegal_moves_show_an_error_and_change_nothing(client, world):
    request = raise_request(world["c_th"], world["am_th"])
    client.force_login(world["am_th"])
    response = client.post(act_url(request, "close"), {"satisfaction": "5"}, follow=True)
    assert response.redirect_chain[-1][0] == detail(request)
    assert any("cannot be moved" in m for m in messages_of(response))
    response = client.post(act_url(request, "reopen"), {"note": "why not"}, follow=True)
    assert any("cannot be moved" in m for m in messages_of(response))
    request.refresh_from_db()
    assert request.status == "open" and request.satisfaction is None
    # An unknown action is not a page; reading an action is not allowed.
    assert client.post(act_url(request, "explode")).status_code == 404
    assert client.get(act_url(request, "start")).status_code == 405
    assert client.get(reverse("services:request_assign", args=[request.pk])).status_code == 405


def test_only_who_may_work_a_request_is_offered_the_actions(client, world):
    # Raised by the account manager, given to the licence officer.
    request = raise_request(world["c_th"], world["am_th"], assignee=world["lo_th"])
    client.force_login(world["am_th"])
    html = client.get(detail(request)).content.decode()
    assert 'data-testid="action-start"' not in html and 'data-testid="action-resolve"' not in html
    assert 'data-testid="action-assign"' in html  # who raised it may hand it on
    response = client.post(act_url(request, "start"), follow=True)
    assert "You may not do this to this request." in messages_of(response)
    request.refresh_from_db()
    assert request.status == "open"
    # The assignee may.
    client.force_login(world["lo_th"])
    html = client.get(detail(request)).content.decode()
    assert 'data-testid="action-start"' in html
    client.post(act_url(request, "start"))
    request.refresh_from_db()
    assert request.status == "in_progress"


def test_handing_a_request_on(client, world):
    request = raise_request(world["c_th"], world["am_th"])
    client.force_login(world["am_th"])
    html = client.get(detail(request)).content.decode()
    assign = section(html, "action-assign")
    assert f'value="{world["sup_th"].pk}"' in assign
    assert f'value="{world["am_th"].pk}"' not in assign  # the current assignee
    url = reverse("services:request_assign", args=[request.pk])
    response = client.post(
        url, {"assignee": world["sup_th"].pk, "reason": "Needs the depot"}, follow=True
    )
    request.refresh_from_db()
    assert request.assignee == world["sup_th"]
    assert f"{request.number} was handed to {world['sup_th']}." in messages_of(response)
    history = section(response.content.decode(), "request-history")
    assert "Handed on" in history and "Needs the depot" in history
    # Someone who cannot take it: an error, nothing changes.
    response = client.post(url, {"assignee": world["am_yx"].pk}, follow=True)
    assert any("cannot take requests" in m for m in messages_of(response))
    response = client.post(url, {"assignee": ""}, follow=True)
    assert messages_of(response)
    request.refresh_from_db()
    assert request.assignee == world["sup_th"]
    # A resolved request is not handed on: no form on the page.
    act(request, world["sup_th"], "resolve", note="Done")
    assert 'data-testid="action-assign"' not in client.get(detail(request)).content.decode()


def test_a_closed_request_past_the_reopening_window_offers_no_reopen(client, world):
    request = closed_request(
        world["c_th"],
        world["am_th"],
        satisfaction=2,
        closed_at=timezone.now() - dt.timedelta(days=40),
    )
    client.force_login(world["am_th"])
    html = client.get(detail(request)).content.decode()
    assert 'data-testid="action-reopen"' not in html
    response = client.post(act_url(request, "reopen"), {"note": "Again"}, follow=True)
    assert any("raise a new request" in m for m in messages_of(response))
    request.refresh_from_db()
    assert request.status == "closed"
