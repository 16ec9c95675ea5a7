"""Supply allocation on the customer page, the home pages and the exceptions list, through
Django's test client.

This month's grades are published for four shops, and two plans are in force:

    shop    manager  area  grade  class   ZH: 9/6/3 per grade, supply 20  LQ: classes 1-2, urban, 4
    c_th    am_th    TH    1      1       9 × 20/24 = 7.5 → 7, +1 = 8    4
    c_th2   am_th2   TH    2      2       6 × 20/24 = 5                  4
    c_yx    am_yx    YX    2      5       5                              — (class 5)
    c_th3   am_th    TH    3      2       3 × 20/24 = 2.5 → 2            4

Demand 24 > supply 20: scaled ×0.83, the rounded quotas add up to 19, and the carton left goes
to the highest grade (c_th). c_th then orders 10 cartons of ZH (over by 2: an exception), c_th2
orders 3 (2 left).
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from allocation import panels as allocation_panels
from allocation import services
from allocation.choices import ExceptionStatus
from allocation.models import AllocationException
from crm.choices import AuditSource
from crm.dates import add_months, month_start
from crm.services import Actor
from orders.services import order_sync_many
from tests.allocation.factories import publish
from tests.customers.factories import make_customer
from tests.grading.test_overview_pages import grade
from tests.orders.factories import ACTOR, make_product, order_payload

HOME = reverse("home")
EXCEPTIONS = reverse("allocation:exceptions")
ZH, LQ = "6901000000001", "6901000000002"


def detail_url(customer) -> str:
    """The customer page with the card's tab open."""
    return reverse("customers:detail", args=[customer.customer_code]) + "?tab=grade-value"


def order(customer, cartons: int, external_id: str):
    today = timezone.localdate()
    return order_sync_many(
        rows=[
            order_payload(external_id, customer, [(ZH, cartons, "600.00")], order_date=str(today))
        ],
        source="erp",
        actor=ACTOR,
    )


@pytest.fixture
def allocated(customer_world, areas):
    w = customer_world
    month = month_start(timezone.localdate())
    end = add_months(month, 1) - dt.timedelta(days=1)
    w["c_th3"] = make_customer(areas["TH"], w["am_th"], store_name="天河三号店")
    grade(w["c_th"], month, 1, structure=1)
    grade(w["c_th2"], month, 2, structure=2)
    grade(w["c_yx"], month, 2, structure=5)
    grade(w["c_th3"], month, 3, structure=2)
    publish(month, user=w["admin"])
    make_product(ZH, "600.00", name="中华(软)")
    make_product(LQ, "200.00", name="利群(休闲细支)")
    admin = Actor.of(w["admin"], AuditSource.PAGE)
    period = {"starts_on": month, "ends_on": end, "quotas": {"1": 9, "2": 6, "3": 3}}
    zh = services.plan_create_draft(
        data={"code": "ZH-1", "product_code": ZH, "supply": 20, **period}, actor=admin
    )
    w["zh"] = services.plan_publish(plan=zh, actor=admin)
    lq = services.plan_create_draft(
        data={
            "code": "LQ-1",
            "product_code": LQ,
            "structure_classes": [1, 2],
            "market_types": ["C"],
            **period,
            "quotas": {"1": 4, "2": 4, "3": 4},
        },
        actor=admin,
    )
    w["lq"] = services.plan_publish(plan=lq, actor=admin)
    report = order(w["c_th"], 10, "A-1")
    assert [x["code"] for x in report.warnings] == ["over_allocation"]
    order(w["c_th2"], 3, "A-2")
    return w


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def section(page: str, testid: str) -> str:
    start = page.index(f'data-testid="{testid}"')
    return page[start : start + 6000]


# --- the customer page ------------------------------------------------------------------------


def test_customer_page_shows_quota_ordered_remaining_and_why_scaled_with_the_remainder(
    client, allocated
):
    w = allocated
    client.force_login(w["am_th"])
    response = client.get(detail_url(w["c_th"]))
    assert response.status_code == 200
    rows = {row["plan"].code: row for row in response.context["allocation"]["rows"]}
    assert set(rows) == {"ZH-1", "LQ-1"}
    zh = rows["ZH-1"]
    assert (zh["quota"].quota, zh["quota"].ordered, zh["over_by"]) == (8, 10, 2)
    assert (zh["why"]["rounded_down"], zh["why"]["remainder_bonus"]) == (7, 1)

    page = text(response)
    card = section(page, "customer-allocation")
    zh_item = card[card.index('data-plan="ZH-1"') :]
    assert 'data-figure="quota">8<' in zh_item
    assert 'data-figure="ordered">10<' in zh_item
    assert 'data-figure="remaining">0<' in zh_item
    assert "over by 2" in zh_item
    assert "Grade 1 in " + f"{w['zh'].grade_month:%Y-%m}" + " (structure class 1)." in zh_item
    assert "The plan gives grade 1 9 cartons for the period." in zh_item
    assert "Every graded shop is eligible." in zh_item
    assert (
        "Scaled to the supply: 20 cartons for a demand of 24 (×0.83), rounded down to 7" in zh_item
    )
    assert "+1 carton of the remainder (highest grades first)" in zh_item
    lq_item = card[card.index('data-plan="LQ-1"') :]
    assert (
        "Eligible: <span>structure classes 1, 2</span>; <span>market types: Urban</span>."
        in lq_item
    )
    assert "The plan sets no supply limit: not scaled." in lq_item
    assert 'data-figure="remaining">4<' in lq_item
    # the summary header: two plans, one over
    summary = section(page, "summary-allocation")
    assert "1 of 2 over" in summary


def test_a_quota_rounded_down_without_a_carton_of_the_remainder(client, allocated):
    w = allocated
    client.force_login(w["am_th"])
    page = text(client.get(detail_url(w["c_th3"])))
    item = section(page, "customer-allocation")
    item = item[item.index('data-plan="ZH-1"') :]
    assert 'data-figure="quota">2<' in item
    assert "rounded down to 2." in item
    assert "of the remainder" not in item.split('data-plan="LQ-1"')[0]


def test_a_shop_without_a_quota_has_no_card(client, allocated, areas):
    w = allocated
    client.force_login(w["am_yx"])
    page = text(client.get(detail_url(w["c_yx"])))
    assert 'data-plan="ZH-1"' in page and 'data-plan="LQ-1"' not in page  # class 5
    new = make_customer(areas["YX"], w["am_yx"], store_name="越秀新店")
    page = text(client.get(detail_url(new)))
    assert 'data-testid="customer-allocation"' not in page
    assert 'data-testid="summary-allocation"' not in page


def test_the_card_adds_one_query_to_the_customer_page(client, allocated, monkeypatch):
    w = allocated
    client.force_login(w["am_th"])
    url = detail_url(w["c_th"])
    client.get(url)  # warm up: content types, the session
    from django.db import connection

    with CaptureQueriesContext(connection) as with_card:
        client.get(url)
    monkeypatch.setattr(allocation_panels.selectors, "customer_quotas", lambda **kw: [])
    with CaptureQueriesContext(connection) as without_card:
        client.get(url)
    assert len(with_card) - len(without_card) == 1


# --- home pages ---------------------------------------------------------------------------


def test_account_managers_home_shows_their_shops_quotas_per_plan(client, allocated):
    w = allocated
    client.force_login(w["am_th"])
    response = client.get(HOME)
    lines = {line["plan"].code: line for line in response.context["allocation_home"]["lines"]}
    zh = lines["ZH-1"]
    # c_th (8, ordered 10) and c_th3 (2, nothing ordered): 2 left, c_th's 2 over count as 0
    assert (zh["shops"], zh["quota"], zh["ordered"], zh["remaining"]) == (2, 10, 10, 2)
    assert [q.customer for q in zh["over"]] == [w["c_th"]]
    assert (lines["LQ-1"]["shops"], lines["LQ-1"]["quota"]) == (2, 8)
    panel = section(text(response), "home-allocation")
    assert "1 shop over quota:" in panel
    assert f'href="{detail_url(w["c_th"])}#allocation"' in panel


def test_the_home_panel_is_scoped_to_the_account_managers_shops(client, allocated):
    w = allocated
    client.force_login(w["am_th2"])
    response = client.get(HOME)
    lines = {line["plan"].code: line for line in response.context["allocation_home"]["lines"]}
    assert (lines["ZH-1"]["shops"], lines["ZH-1"]["quota"], lines["ZH-1"]["ordered"]) == (1, 5, 3)
    assert lines["ZH-1"]["over"] == []
    assert w["c_th"].store_name not in section(text(response), "home-allocation")
    # no plan in force: no panel
    client.force_login(w["am_yx"])
    services.plan_close(plan=w["zh"], actor=Actor.of(w["admin"], AuditSource.PAGE))
    assert 'data-testid="home-allocation"' not in text(client.get(HOME))


def test_supervisors_home_counts_the_open_exceptions_of_their_areas(client, allocated):
    w = allocated
    client.force_login(w["sup_th"])
    panel = section(text(client.get(HOME)), "home-allocation-exceptions")
    assert "1 open" in panel and f'href="{EXCEPTIONS}"' in panel
    client.force_login(w["sup_yx"])
    assert "0 open" in section(text(client.get(HOME)), "home-allocation-exceptions")
    client.force_login(w["am_th"])
    assert 'data-testid="home-allocation-exceptions"' not in text(client.get(HOME))


def test_the_home_panels_query_counts(client, allocated, django_assert_num_queries):
    w = allocated
    am, sup = (type("Request", (), {"user": w[name]})() for name in ("am_th", "sup_th"))
    allocation_panels.home_exceptions_context(sup)  # the user's scope, read once a request
    # the plans in force, the totals per plan, the shops over
    with django_assert_num_queries(3):
        allocation_panels.home_quotas_context(am)
    with django_assert_num_queries(1):
        allocation_panels.home_exceptions_context(sup)


# --- the exceptions list ------------------------------------------------------------------------


def test_supervisors_see_the_exceptions_of_their_areas(client, allocated):
    w = allocated
    exception = AllocationException.objects.get()
    client.force_login(w["sup_th"])
    response = client.get(EXCEPTIONS)
    assert response.status_code == 200
    page = text(response)
    row = page[page.index(f'data-exception="{exception.pk}"') :]
    assert w["c_th"].store_name in row and "ZH-1" in row and "A-1" in row
    assert 'data-figure="cartons">10<' in row
    assert 'data-figure="ordered">10<' in row and 'data-figure="quota">8<' in row
    assert "over by 2" in row
    assert 'data-testid="review-form"' in row
    client.force_login(w["sup_yx"])
    assert 'data-testid="no-exceptions"' in text(client.get(EXCEPTIONS))


def test_account_managers_read_their_own_shops_exceptions_and_licence_officers_none(
    client, allocated
):
    w = allocated
    client.force_login(w["am_th"])
    page = text(client.get(EXCEPTIONS))
    assert "A-1" in page and 'data-testid="review-form"' not in page
    assert "read-only" in page
    client.force_login(w["am_th2"])
    assert 'data-testid="no-exceptions"' in text(client.get(EXCEPTIONS))
    client.force_login(w["lo_th"])
    assert client.get(EXCEPTIONS).status_code == 403


def test_a_review_needs_a_note_and_moves_the_exception_to_reviewed(client, allocated):
    w = allocated
    exception = AllocationException.objects.get()
    url = reverse("allocation:exception_review", args=[exception.pk])
    client.force_login(w["sup_th"])
    response = client.post(url, {"note": "  "}, follow=True)
    assert "Say what was done about it." in text(response)
    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.OPEN

    response = client.post(url, {"note": "已提醒店主 / told the owner", "next": EXCEPTIONS})
    assert response.status_code == 302 and response["Location"] == EXCEPTIONS
    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.REVIEWED
    assert exception.reviewed_by == w["sup_th"] and exception.review_note.startswith("已提醒")
    # gone from the open ones, listed under reviewed with its note
    assert 'data-testid="no-exceptions"' in text(client.get(EXCEPTIONS))
    page = text(client.get(EXCEPTIONS + "?status=reviewed"))
    assert "已提醒店主" in page and 'data-count="reviewed">1<' in page
    # a second review is refused
    response = client.post(url, {"note": "again"}, follow=True)
    assert "This exception has been reviewed already." in text(response)


def test_only_supervisors_in_scope_and_administrators_review(client, allocated):
    w = allocated
    exception = AllocationException.objects.get()
    url = reverse("allocation:exception_review", args=[exception.pk])
    client.force_login(w["am_th"])
    assert client.post(url, {"note": "x"}).status_code == 403
    client.force_login(w["sup_yx"])
    assert client.post(url, {"note": "x"}).status_code == 404
    client.force_login(w["admin"])
    assert client.post(url, {"note": "ok"}).status_code == 302
    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.REVIEWED


def test_the_exceptions_page_pins_its_query_count(client, allocated, django_assert_num_queries):
    w = allocated
    client.force_login(w["sup_gz"])
    client.get(EXCEPTIONS)  # warm up
    # session, user, the user's scope (areas, the area tree), the page count, the counts per
    # status, the rows (with shop, plan and order) and the base template's unread notifications
    with django_assert_num_queries(8):
        client.get(EXCEPTIONS)
    order(w["c_th2"], 5, "A-3")  # c_th2 now 8 of 5: a second exception
    assert AllocationException.objects.count() == 2
    with django_assert_num_queries(8):
        response = client.get(EXCEPTIONS)
    assert len(response.context["exceptions"]) == 2
