"""Services where they appear outside their own pages: the customer page's service card (with
the family-service fields of the catalogue), the visit page's links, the navigation."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.choices import AuditSource
from crm.services import Actor
from services import services
from tests.services.factories import (
    act,
    actor,
    closed_request,
    hours_ago,
    log_activity,
    mark_care,
    raise_request,
)
from visits.services import visit_log


def detail_url(customer) -> str:
    """The customer page with the card's tab open."""
    return reverse("customers:detail", args=[customer.customer_code]) + "?tab=services"


def card(html: str) -> str:
    start = html.index('data-testid="service-timeline"')
    return html[start:]


def item(html: str, marker: str) -> str:
    """The list item holding `marker`, from its opening tag."""
    start = html.rindex("<li", 0, html.index(marker))
    return html[start : html.index("</li>", start)]


@pytest.fixture
def served(customer_world):
    """c_th (an elderly owner) with an overdue delivery problem, a price request in progress,
    a closed one, a family service, a display guidance and a training session; c_th2 with a
    request of its own (not on c_th's card)."""
    w = customer_world
    am, customer = w["am_th"], w["c_th"]
    overdue = raise_request(customer, am, raised_at=hours_ago(30), description="断货三天")
    working = raise_request(customer, am, request_type="price", priority="urgent")
    act(working, am, "start")
    closed = closed_request(customer, am, 5)
    other = raise_request(w["c_th2"], w["am_th2"], description="别家的请求")
    today = timezone.localdate()
    mark_care(customer)
    family = log_activity(customer, am, "family", today - dt.timedelta(days=2), note="陪老人聊天")
    display = log_activity(customer, am, "display", today - dt.timedelta(days=5))
    session = services.training_session_log(
        title="新品陈列培训",
        held_on=today - dt.timedelta(days=1),
        area=w["c_th"].area,
        attendees=[customer],
        actor=actor(am),
    )
    return {
        **w,
        "overdue": overdue,
        "working": working,
        "closed": closed,
        "other": other,
        "family": family,
        "display": display,
        "session": session,
    }


def test_card_lists_requests_and_services(client, served):
    customer = served["c_th"]
    client.force_login(served["am_th"])
    response = client.get(detail_url(customer))
    assert response.status_code == 200
    html = card(response.content.decode())
    # Two unfinished requests: the overdue one and the one in progress.
    assert 'data-testid="service-open-count">2 open requests<' in html
    overdue = item(html, f'data-request="{served["overdue"].pk}"')
    assert 'data-overdue="true"' in overdue
    assert "list-group-item-danger" in overdue
    assert reverse("services:request_detail", args=[served["overdue"].pk]) in overdue
    assert f">{served['overdue'].number}</a>" in overdue
    assert "Delivery" in overdue
    assert "Overdue since" in overdue
    working = item(html, f'data-request="{served["working"].pk}"')
    assert 'data-overdue="true"' not in working
    assert "Price" in working and "In progress" in working and "Urgent" in working
    due = timezone.localtime(served["working"].due_at).strftime("%Y-%m-%d %H:%M")
    assert f"Due {due}" in working
    closed = item(html, f'data-request="{served["closed"].pk}"')
    assert "Closed" in closed and "Satisfaction 5/5" in closed
    assert f'data-request="{served["other"].pk}"' not in html
    # The services, newest first, with who did them and the training session.
    order = [html.index(f'data-activity="{a.pk}"') for a in (served["family"], served["display"])]
    training = served["session"].attendances.get()
    assert html.index(f'data-activity="{training.pk}"') < order[0] < order[1]
    family = item(html, f'data-activity="{served["family"].pk}"')
    assert "Family service" in family and "陪老人聊天" in family
    assert str(served["am_th"]) in family
    assert "Display guidance" in item(html, f'data-activity="{served["display"].pk}"')
    training_html = item(html, f'data-activity="{training.pk}"')
    assert reverse("services:training_detail", args=[served["session"].pk]) in training_html
    assert "新品陈列培训" in training_html
    # Links to the lists, filtered to the customer.
    assert f"{reverse('services:queue')}?queue=area&amp;customer={customer.customer_code}" in html
    assert f"{reverse('services:activity_list')}?customer={customer.customer_code}" in html


def test_card_lists_the_newest_five_of_each(client, customer_world):
    customer, am = customer_world["c_th"], customer_world["am_th"]
    requests = [raise_request(customer, am, raised_at=hours_ago(10 - n)) for n in range(7)]
    for n in range(7):
        log_activity(customer, am, "display", timezone.localdate() - dt.timedelta(days=n))
    client.force_login(am)
    response = client.get(detail_url(customer))
    timeline = response.context["service_timeline"]
    assert [r.pk for r in timeline["requests"]] == [r.pk for r in reversed(requests)][:5]
    assert len(timeline["activities"]) == 5
    assert timeline["open_count"] == 7


def test_open_count_of_a_customer_with_fewer_requests_than_shown(
    client, customer_world, django_assert_max_num_queries
):
    customer, am = customer_world["c_th"], customer_world["am_th"]
    client.force_login(am)
    client.get(detail_url(customer))  # warm caches
    with django_assert_max_num_queries(21) as none:
        client.get(detail_url(customer))
    # given: three requests, one of them in progress and one closed
    raise_request(customer, am)
    act(raise_request(customer, am), am, "start")
    closed_request(customer, am, satisfaction=4)
    # when: the card lists them all (fewer than five), the open ones are counted from the list
    with django_assert_max_num_queries(len(none)) as three:
        response = client.get(detail_url(customer))
    # then
    timeline = response.context["service_timeline"]
    assert len(timeline["requests"]) == 3
    assert timeline["open_count"] == 2
    assert len(three) == len(none)


@pytest.mark.parametrize("who", ["am_th", "sup_th", "lo_th", "admin"])
def test_buttons_for_those_who_may_serve(client, customer_world, who):
    customer = customer_world["c_th"]
    client.force_login(customer_world[who])
    html = card(client.get(detail_url(customer)).content.decode())
    code = customer.customer_code
    assert f'href="{reverse("services:request_new")}?customer={code}"' in html
    assert f'href="{reverse("services:activity_new")}?customer={code}"' in html
    assert 'data-testid="no-service-requests"' in html
    assert 'data-testid="no-service-activities"' in html
    assert 'data-testid="service-open-count"' not in html


def test_buttons_hidden_from_those_who_may_not(client, served, monkeypatch):
    """The card follows the policy (every person who sees a customer may serve it today)."""
    seen = []

    def refuse(user, customer):
        seen.append((user, customer))
        return False

    monkeypatch.setattr("services.policies.can_serve", refuse)
    client.force_login(served["sup_th"])
    html = card(client.get(detail_url(served["c_th"])).content.decode())
    assert seen == [(served["sup_th"], served["c_th"])]
    assert 'data-testid="raise-request"' not in html
    assert 'data-testid="log-service"' not in html
    assert reverse("services:request_new") not in html
    # The requests and services are still listed.
    assert f'data-request="{served["overdue"].pk}"' in html


def test_query_count_does_not_grow_with_services(client, served, django_assert_max_num_queries):
    customer, am = served["c_th"], served["am_th"]
    url = detail_url(customer)
    client.force_login(am)
    client.get(url)  # warm caches
    # 22: the Visits tab's retail audits card reads the shop's latest audits (one query).
    with django_assert_max_num_queries(22):
        client.get(url)
    for n in range(4):
        raise_request(customer, am, raised_at=hours_ago(n + 1))
        log_activity(customer, am, "renovation", timezone.localdate() - dt.timedelta(days=n))
    with django_assert_max_num_queries(22):
        response = client.get(url)
    assert len(response.context["service_timeline"]["requests"]) == 5


def test_family_service_fields_render_on_the_customer_page(client, customer_world):
    customer = customer_world["c_th"]
    mark_care(customer, "elderly", dt.date(1948, 3, 12))
    client.force_login(customer_world["am_th"])
    html = client.get(f"/customers/{customer.customer_code}/?tab=information").content.decode()
    assert "Family service (care need)" in html
    assert "Elderly owner" in html
    assert "Owner&#x27;s birthday" in html or "Owner's birthday" in html
    assert "1948-03-12" in html


# --- the visit page ----------------------------------------------------------------------


def visit_of(customer, user):
    return visit_log(
        customer=customer,
        data={"visited_at": timezone.now(), "visit_type": "routine", "purpose": "例行巡店"},
        actor=Actor.of(user, AuditSource.PAGE),
    )


def test_visit_page_links_to_raise_a_request_and_log_a_service(client, customer_world):
    customer, am = customer_world["c_th"], customer_world["am_th"]
    visit = visit_of(customer, am)
    client.force_login(am)
    html = client.get(reverse("visits:detail", args=[visit.pk])).content.decode()
    query = f"?customer={customer.customer_code}&amp;visit={visit.pk}"
    assert f'href="{reverse("services:request_new")}{query}"' in html
    assert f'href="{reverse("services:activity_new")}{query}"' in html
    assert "Raise a service request" in html
    assert "Log a care service" in html


def test_visit_page_hides_the_links_from_those_who_may_not(client, customer_world, monkeypatch):
    customer, am = customer_world["c_th"], customer_world["am_th"]
    visit = visit_of(customer, am)
    monkeypatch.setattr("services.policies.can_serve", lambda user, customer: False)
    client.force_login(customer_world["sup_th"])
    html = client.get(reverse("visits:detail", args=[visit.pk])).content.decode()
    assert 'data-testid="visit-raise-request"' not in html
    assert 'data-testid="visit-log-service"' not in html


# --- navigation ------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["am_th", "sup_th", "lo_th", "admin"])
def test_services_in_the_navigation_for_people(client, customer_world, who):
    client.force_login(customer_world[who])
    html = client.get(reverse("home")).content.decode()
    nav = html[html.index('data-testid="main-nav"') :]
    nav = nav[: nav.index("</ul>")]
    assert f'href="{reverse("services:queue")}"' in nav
    assert "Services" in nav
