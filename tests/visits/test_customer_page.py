"""Visits on the customer page: the timeline card, the "Log a visit" button, and the change
page narrowed to one field from the visit form ("something here is wrong")."""

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from crm.choices import AuditSource
from crm.services import Actor
from customers.models import ChangeRequest
from tests.customers.factories import make_customer
from visits.models import PlannedVisit
from visits.services import visit_log


def detail_url(customer) -> str:
    """The customer page with the card's tab open."""
    return reverse("customers:detail", args=[customer.customer_code]) + "?tab=visits"


def jpeg() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 30, 30)).save(buffer, "JPEG")
    return SimpleUploadedFile("shop.jpg", buffer.getvalue(), content_type="image/jpeg")


def log(customer, user, when, *, follow_ups=(), photo=None, **data):
    return visit_log(
        customer=customer,
        data={"visited_at": when, "visit_type": "routine", "purpose": "例行巡店", **data},
        actor=Actor.of(user, AuditSource.PAGE),
        follow_ups=follow_ups,
        photo=photo,
    )


def timeline(html: str) -> str:
    start = html.index('data-testid="visit-timeline"')
    return html[start:]


@pytest.fixture
def shop(customer_world, areas):
    """A shop of am_th with a recorded position."""
    return make_customer(
        areas["TH"], customer_world["am_th"], latitude="23.120000", longitude="113.320000"
    )


def test_timeline_shows_the_latest_visits_newest_first(client, customer_world, shop):
    am = customer_world["am_th"]
    now = timezone.now()
    today = timezone.localdate()
    older = log(shop, am, now - dt.timedelta(days=10), stock_level="low", stock_notes="中华断货")
    newer = log(
        shop,
        am,
        now - dt.timedelta(hours=2),
        ended_at=now - dt.timedelta(hours=1),
        price_display="non_compliant",
        customer_requests="希望增加配送次数",
        latitude="23.220000",  # about 11 km north of the shop: flagged
        longitude="113.320000",
        photo=jpeg(),
        follow_ups=[
            {"action": "补贴价签", "due_date": today + dt.timedelta(days=2), "owner": am},
        ],
    )
    log(
        shop,
        am,
        now - dt.timedelta(days=20),
        follow_ups=[{"action": "回访投诉", "due_date": today - dt.timedelta(days=5), "owner": am}],
    )
    client.force_login(am)
    html = client.get(detail_url(shop)).content.decode()
    card = timeline(html)
    assert card.index(f'data-visit="{newer.pk}"') < card.index(f'data-visit="{older.pk}"')
    assert 'data-testid="visit-total">3<' in card
    newest = card[card.index(f'data-visit="{newer.pk}"') : card.index(f'data-visit="{older.pk}"')]
    assert "Routine visit" in newest
    assert "例行巡店" in newest
    assert "Not compliant" in newest
    assert "希望增加配送次数" in newest
    assert 'data-testid="visit-flagged"' in newest
    assert "m from the shop" in newest
    assert reverse("visits:photo", args=[newer.pk, "thumb"]) in newest
    assert "补贴价签" in newest
    assert str(am) in newest
    assert reverse("visits:detail", args=[newer.pk]) in newest
    assert "Running low" in card and "中华断货" in card
    # The overdue follow-up is highlighted; the one due later is not.
    overdue = card[card.index("回访投诉") - 300 : card.index("回访投诉")]
    assert 'data-overdue="true"' in overdue
    assert 'data-overdue="true"' not in newest
    # The way to all of the customer's visits.
    assert f"{reverse('visits:list')}?customer_code={shop.customer_code}" in card


def test_timeline_shows_the_next_planned_visit(client, customer_world, shop):
    today = timezone.localdate()
    PlannedVisit.objects.create(
        customer=shop, planned_for=today + dt.timedelta(days=3), cycle_days=7
    )
    client.force_login(customer_world["am_th"])
    card = timeline(client.get(detail_url(shop)).content.decode())
    assert f"Next planned visit: {today + dt.timedelta(days=3):%Y-%m-%d}" in card
    assert 'data-testid="no-visits"' in card
    PlannedVisit.objects.create(
        customer=shop, planned_for=today - dt.timedelta(days=1), cycle_days=7
    )
    card = timeline(client.get(detail_url(shop)).content.decode())
    assert f"Planned visit overdue since {today - dt.timedelta(days=1):%Y-%m-%d}" in card


@pytest.mark.parametrize("who", ["am_th", "sup_th", "lo_th", "admin"])
def test_log_a_visit_buttons_for_those_who_may(client, customer_world, who):
    customer = customer_world["c_th"]
    client.force_login(customer_world[who])
    html = client.get(detail_url(customer)).content.decode()
    url = f"{reverse('visits:log')}?customer={customer.customer_code}"
    assert 'data-testid="log-visit"' in html
    assert 'data-testid="timeline-log-visit"' in html
    assert url in html


# The customer page's queries with its visits tab open: session, user, the customer, the visit
# card (3: the latest visits, their follow-ups with owners, the next planned visit), the audits
# card (1 for a shop never audited: its latest audits), the summary header's figures of the
# cards not drawn (6: the last order, the grade, the value tier and the open warnings, the
# open requests, the quotas), unread notifications.
QUERIES = 14


def test_detail_query_count_does_not_grow_with_visits(
    client, customer_world, shop, django_assert_num_queries
):
    am = customer_world["am_th"]
    today = timezone.localdate()
    log(shop, am, timezone.now() - dt.timedelta(days=1))
    client.force_login(am)
    url = detail_url(shop)
    client.get(url)  # warm caches
    with django_assert_num_queries(QUERIES):
        client.get(url)
    for n in range(4):
        log(
            shop,
            am,
            timezone.now() - dt.timedelta(days=2 + n),
            follow_ups=[{"action": f"跟进{n}", "due_date": today, "owner": am}],
        )
    with django_assert_num_queries(QUERIES):
        response = client.get(url)
    assert len(response.context["visits"]["visits"]) == 5


# --- the change page narrowed to one field ------------------------------------------------


def change_url(customer) -> str:
    return reverse("customers:change", args=[customer.customer_code])


def test_change_page_narrowed_to_one_field_with_a_reason(client, customer_world):
    customer = customer_world["c_th"]
    client.force_login(customer_world["am_th"])
    response = client.get(change_url(customer), {"field": "store_name", "reason": "店名招牌已更换"})
    assert response.status_code == 200
    form = response.context["form"]
    assert [name for name in form.fields if name not in ("reason", "attachment")] == ["store_name"]
    html = response.content.decode()
    assert 'data-testid="only-field"' in html
    assert "店名招牌已更换" in html
    show_all = html[html.index('data-testid="only-field"') :]
    assert f'href="{change_url(customer)}?reason=' in show_all
    assert 'data-testid="show-all-fields"' in show_all


def test_change_page_posts_the_one_field(client, customer_world):
    customer = customer_world["c_th"]
    client.force_login(customer_world["am_th"])
    url = f"{change_url(customer)}?field=store_name&reason=x"
    response = client.post(url, {"store_name": "天河新店名", "reason": "招牌已更换"})
    assert response.status_code == 302
    request = ChangeRequest.objects.get(customer=customer)
    assert request.reason == "招牌已更换"


def test_change_page_ignores_an_unknown_field_and_trims_the_reason(client, customer_world):
    customer = customer_world["c_th"]
    client.force_login(customer_world["am_th"])
    response = client.get(change_url(customer), {"field": "no_such_field", "reason": "长" * 600})
    form = response.context["form"]
    assert len(form.fields) > 3
    assert form.initial["reason"] == "长" * 500
    assert 'data-testid="only-field"' not in response.content.decode()
