"""The customer page's summary header and tabs (issue 20), through Django's test client on
hand-made data: 天河一号店 (am_th's, phone 138-0000-0001, at 23.131000, 113.320000) graded 4
(computed 6, overridden), structure class 3, valued "value customer", visited on 2026-03-02,
last ordered on 2026-03-05, with one open warning and two open service requests of three."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.panels import Tab
from customers import policies as customer_policies
from orders.models import Order
from services import policies as services_policies
from services.choices import RequestStatus
from services.models import ServiceRequest
from tests.grading.test_overview_pages import grade
from tests.services.factories import raise_request
from tests.valuation.test_overview_pages import value
from tests.visits.test_customer_page import log
from valuation.choices import WarningKind
from valuation.models import EarlyWarning
from visits import policies as visits_policies

MONTH = dt.date(2026, 3, 1)


def detail_url(customer, **query) -> str:
    url = reverse("customers:detail", args=[customer.customer_code])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def page(client, user, customer, **query) -> str:
    client.force_login(user)
    response = client.get(detail_url(customer, **query))
    assert response.status_code == 200
    return response.content.decode()


def summary(html: str) -> str:
    start = html.index('data-testid="customer-summary"')
    return html[start : html.index("</section>", start)]


def fact(html: str, testid: str) -> str:
    """The text of the summary fact `testid` (tags stripped, spaces squeezed)."""
    block = summary(html)
    start = block.index(f'data-testid="{testid}"')
    end = block.index("</div>", start)
    text = re.sub(r"<[^>]+>", " ", block[block.index(">", start) + 1 : end])
    return " ".join(text.split())


@pytest.fixture
def shop(customer_world):
    w = customer_world
    customer = w["c_th"]
    customer.dynamic.latitude = Decimal("23.131000")
    customer.dynamic.longitude = Decimal("113.320000")
    customer.dynamic.phone = "138-0000-0001"
    customer.dynamic.save()
    grade(customer, MONTH, 4, computed=6, structure=3)
    value(customer, MONTH, "value")
    EarlyWarning.objects.create(
        customer=customer,
        kind=WarningKind.NO_ORDERS,
        key="2026-03-05",
        details={
            "last_order_date": "2026-03-05",
            "days_since": 19,
            "order_cycle": "weekly",
            "cycles": 2,
        },
    )
    log(
        customer, w["am_th"], dt.datetime(2026, 3, 2, 10, 0, tzinfo=timezone.get_current_timezone())
    )
    for day in (dt.date(2026, 3, 5), dt.date(2026, 2, 20)):
        Order.objects.create(
            source="tests",
            external_id=f"SO-{day:%m%d}",
            customer=customer,
            order_date=day,
            month=day.replace(day=1),
            status="delivered",
            payment_method="electronic",
            cartons=10,
            amount=Decimal("1000.00"),
            line_count=1,
        )
    raise_request(customer, w["am_th"])
    raise_request(customer, w["am_th"])
    done = raise_request(customer, w["am_th"])
    ServiceRequest.objects.filter(pk=done.pk).update(status=RequestStatus.CLOSED)
    return w


def test_the_summary_says_who_the_shop_is_and_how_it_stands(client, shop):
    html = page(client, shop["am_th"], shop["c_th"])
    head = summary(html)
    assert "天河一号店" in head and shop["c_th"].customer_code in head
    assert fact(html, "summary-grade") == "Grade 4 computed 6"
    assert fact(html, "summary-structure-class") == "Structure class 3"
    assert fact(html, "summary-tier") == "Value tier Value customer"
    assert fact(html, "summary-last-visit") == "Last visit 2026-03-02"
    assert fact(html, "summary-last-order") == "Last order 2026-03-05"
    assert fact(html, "summary-warnings") == "Open warnings 1"
    assert fact(html, "summary-requests") == "Open requests 2"


def test_the_summary_calls_the_shop_and_opens_its_place_in_a_map(client, shop):
    head = summary(page(client, shop["am_th"], shop["c_th"]))
    # Separators dropped from the tel: URI; the coordinates as stored.
    assert 'href="tel:13800000001"' in head
    assert 'href="geo:23.131000,113.320000"' in head


def test_a_shop_without_phone_or_coordinates_has_no_dead_links(client, customer_world):
    head = summary(page(client, customer_world["am_th2"], customer_world["c_th2"]))
    assert 'data-testid="summary-call"' not in head
    assert 'data-testid="summary-map"' not in head
    # Nothing graded, valued, visited or ordered yet: said so, not left blank.
    assert "not graded" in head and "not valued" in head and "none yet" in head


def test_the_assigned_manager_gets_the_three_primary_actions(client, shop):
    head = summary(page(client, shop["am_th"], shop["c_th"]))
    code = shop["c_th"].customer_code
    assert f'href="/visits/log/?customer={code}" data-testid="log-visit"' in head
    assert 'data-testid="propose-change"' in head and "Something is wrong" in head
    assert f'href="/services/requests/new/?customer={code}"' in head


@pytest.mark.parametrize("who", ["am_th", "sup_th", "lo_th", "admin"])
def test_the_actions_follow_each_apps_policy(client, shop, who):
    user, customer = shop[who], shop["c_th"]
    head = summary(page(client, user, customer))
    assert ('data-testid="log-visit"' in head) == visits_policies.can_log_visit(user, customer)
    assert ('data-testid="summary-raise-request"' in head) == services_policies.can_serve(
        user, customer
    )
    assert ('data-testid="propose-change"' in head) == bool(
        customer_policies.changeable_fields(user, customer)
    )


def test_an_action_the_user_may_not_take_is_not_offered(client, shop, monkeypatch):
    monkeypatch.setattr(visits_policies, "can_log_visit", lambda user, customer: False)
    monkeypatch.setattr(services_policies, "can_serve", lambda user, customer: False)
    monkeypatch.setattr(customer_policies, "changeable_fields", lambda user, customer: [])
    head = summary(page(client, shop["am_th"], shop["c_th"]))
    assert 'data-testid="log-visit"' not in head
    assert 'data-testid="summary-raise-request"' not in head
    assert 'data-testid="propose-change"' not in head


def test_the_seven_tabs_hold_every_card_and_the_overview_is_open(client, shop):
    html = page(client, shop["am_th"], shop["c_th"])
    tabs = re.findall(r'data-tab="([\w-]+)"', html)
    assert tabs == [tab.value for tab in Tab]
    assert html.count('aria-selected="true"') == 1
    assert 'class="nav-link active" id="tab-overview-link"' in html
    panes = {
        key: html[html.index(f'id="tab-{key}"') :].split('role="tabpanel"')[1]
        for key in ("overview", "information", "grade-value", "visits", "services", "history")
    }
    assert 'data-testid="key-facts"' in panes["overview"]
    assert 'data-testid="customer-change-requests"' in panes["overview"]
    assert 'data-testid="section-management"' in panes["information"]
    assert 'data-testid="customer-grading"' in panes["grade-value"]
    assert 'data-testid="customer-value"' in panes["grade-value"]
    assert 'data-testid="visit-timeline"' in panes["visits"]
    assert 'data-testid="service-timeline"' in panes["services"]
    assert 'data-testid="history"' in panes["history"]


def test_a_link_opens_a_tab_without_javascript(client, shop):
    html = page(client, shop["am_th"], shop["c_th"], tab="grade-value")
    assert 'class="nav-link active" id="tab-grade-value-link"' in html
    assert 'class="tab-pane active show" id="tab-grade-value"' in html
    assert 'class="tab-pane" id="tab-overview"' in html
    # Tab links are plain links to ?tab=: a click without JavaScript asks the server.
    assert 'href="?tab=visits"' in html
    # An unknown tab opens the overview.
    html = page(client, shop["am_th"], shop["c_th"], tab="nonsense")
    assert 'class="nav-link active" id="tab-overview-link"' in html
