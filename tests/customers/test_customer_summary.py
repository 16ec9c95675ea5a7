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


# Each tab and a card it holds.
TAB_CARDS = {
    "overview": ("key-facts", "customer-change-requests"),
    "information": ("section-management",),
    "sales": ("customer-sales",),
    "grade-value": ("customer-grading", "customer-value"),
    "visits": ("visit-timeline",),
    "services": ("service-timeline",),
    "history": ("history",),
}


def panes(html: str) -> dict[str, str]:
    """Each tab pane's HTML, by its key."""
    return {
        key: html[html.index(f'id="tab-{key}"') :].split('role="tabpanel"')[1] for key in TAB_CARDS
    }


def fragment(client, customer, tab: str):
    return client.get(
        reverse("customers:tab", args=[customer.customer_code, tab]), HTTP_HX_REQUEST="true"
    )


def test_the_seven_tabs_are_there_the_overview_is_drawn_and_the_others_load_on_demand(client, shop):
    html = page(client, shop["am_th"], shop["c_th"])
    tabs = re.findall(r'data-tab="([\w-]+)"', html)
    assert tabs == [tab.value for tab in Tab] == list(TAB_CARDS)
    assert html.count('aria-selected="true"') == 1
    assert 'class="nav-link active" id="tab-overview-link"' in html
    code = shop["c_th"].customer_code
    for key, pane in panes(html).items():
        if key == "overview":
            assert "hx-get" not in pane.split(">")[0]
            assert all(f'data-testid="{card}"' in pane for card in TAB_CARDS[key])
        else:
            # Empty, saying it loads, with the address it loads from when first opened.
            assert f'hx-get="/customers/{code}/tab/{key}/" hx-trigger="crm:open once"' in pane
            assert "Loading…" in pane and "data-tab-failed hidden" in pane
            assert not any(f'data-testid="{card}"' in pane for card in TAB_CARDS[key])


@pytest.mark.parametrize("tab", list(TAB_CARDS))
def test_a_tab_loaded_on_demand_holds_its_cards_and_no_page(client, shop, tab):
    client.force_login(shop["am_th"])
    response = fragment(client, shop["c_th"], tab)
    assert response.status_code == 200
    html = response.content.decode()
    assert all(f'data-testid="{card}"' in html for card in TAB_CARDS[tab])
    others = {card for key, cards in TAB_CARDS.items() if key != tab for card in cards}
    assert not any(f'data-testid="{card}"' in html for card in others)
    assert "<html" not in html and 'data-testid="customer-summary"' not in html


def test_the_summary_says_the_same_whichever_tab_is_open(client, shop):
    """The header reads the cards' own data when their tab is drawn and the cards' summaries
    (Panel.summary) when it is not: both say the same."""
    facts = (
        "summary-grade",
        "summary-structure-class",
        "summary-tier",
        "summary-last-visit",
        "summary-last-order",
        "summary-warnings",
        "summary-requests",
    )
    seen = {
        tab: [fact(page(client, shop["am_th"], shop["c_th"], tab=tab), f) for f in facts]
        for tab in TAB_CARDS
    }
    assert len({tuple(v) for v in seen.values()}) == 1, seen
    assert seen["overview"][-1] == "Open requests 2"


def test_a_tab_asked_for_as_a_page_is_the_customer_page_with_it_open(client, shop):
    client.force_login(shop["am_th"])
    code = shop["c_th"].customer_code
    response = client.get(reverse("customers:tab", args=[code, "visits"]))
    assert response.status_code == 302
    assert response["Location"] == f"/customers/{code}/?tab=visits"


def test_a_tab_of_someone_elses_customer_or_no_tab_at_all_is_not_found(client, shop):
    client.force_login(shop["am_th2"])  # the same area, not the same portfolio
    assert fragment(client, shop["c_th"], "visits").status_code == 404
    client.force_login(shop["am_th"])
    assert fragment(client, shop["c_th"], "nonsense").status_code == 404


def test_the_page_kept_for_the_road_holds_every_tab(client, shop):
    """offline.js asks for the whole page (the phone's copy has no network to load a tab);
    the page drawn with tabs on demand says so, so the service worker does not keep it."""
    client.force_login(shop["am_th"])
    url = detail_url(shop["c_th"])
    whole = client.get(url, HTTP_X_CRM_WHOLE_PAGE="1")
    assert whole.status_code == 200
    assert "X-CRM-Tabs-On-Demand" not in whole
    assert "X-CRM-Whole-Page" in whole["Vary"]
    html = whole.content.decode()
    assert "data-on-demand" not in html
    for key, pane in panes(html).items():
        assert all(f'data-testid="{card}"' in pane for card in TAB_CARDS[key])
    partial = client.get(url)
    assert partial["X-CRM-Tabs-On-Demand"] == "1"
    assert "X-CRM-Whole-Page" in partial["Vary"]


def test_a_tab_with_nothing_to_show_says_so(client, shop):
    """A tab whose cards all answer None (a shop with no quota and never audited would leave
    only such cards in a tab): opened, it says there is nothing yet."""
    from crm import panels as crm_panels

    empty = crm_panels.Panel(
        key="test-empty",
        surface=crm_panels.Surface.CUSTOMER,
        tab=Tab.HISTORY,
        template="customers/inc/customer_history.html",
        context=lambda request, customer: None,
        order=1,
    )
    history = next(
        p for p in crm_panels.registered(crm_panels.Surface.CUSTOMER) if p.key == "history"
    )
    crm_panels.unregister(crm_panels.Surface.CUSTOMER, "history")
    crm_panels.register(empty)
    try:
        client.force_login(shop["am_th"])
        html = fragment(client, shop["c_th"], "history").content.decode()
        assert 'data-testid="tab-empty"' in html and "Nothing to show here yet." in html
        html = page(client, shop["am_th"], shop["c_th"], tab="history")
        assert 'data-testid="tab-empty"' in panes(html)["history"]
    finally:
        crm_panels.unregister(crm_panels.Surface.CUSTOMER, "test-empty")
        crm_panels.register(history)


def test_the_customer_page_and_a_tab_take_few_queries(client, shop, django_assert_num_queries):
    """The overview: session, user, the customer, its change requests, the summary header's
    figures of the cards not drawn (7: the last order, the grade, the value tier and the open
    warnings, the last visit, the open requests, the quotas), unread notifications: 12 (it was
    22 with every tab drawn). A tab alone: session, user, the customer and its cards (the
    history: 1)."""
    client.force_login(shop["am_th"])
    url = detail_url(shop["c_th"])
    client.get(url)  # warm up: content types
    fragment(client, shop["c_th"], "history")
    with django_assert_num_queries(12):
        client.get(url)
    with django_assert_num_queries(4):
        fragment(client, shop["c_th"], "history")


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
