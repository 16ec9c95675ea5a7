"""The licence officer's workspace on the home page (issue 20), on hand-made data.

lo_th looks after TH (areas GZ ⊃ TH, YX). Today is T:

    shop              area  licence expires   annual review   compliance records
    expiring          TH    T + 10            —               counterfeit, T − 5
    at the horizon    TH    T + 60            T + 60          —
    beyond            TH    T + 61            T + 61          —
    expired           TH    T − 1 (past)      T − 1           —
    due today         TH    T + 200           T               price, T − 100 (too old);
                                                              inspection passed, T − 2
    voided            TH    —                 —               minors, T − 3, voided
    closed            TH    T + 5 (closed)    T + 5           —
    elsewhere         YX    T + 3             T + 3           smuggled, T − 1 (not lo_th's)

Expiring in the next 60 days: expiring (10), at the horizon (60). Reviews due: due today,
at the horizon. Recent violations (90 days, not voided): expiring's counterfeit only.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.choices import AuditSource, Role
from crm.services import Actor
from customers.selectors import licence_due_panel
from tests.customers.factories import make_customer
from valuation import services as valuation_services
from valuation.choices import RecordType
from valuation.selectors.warnings import recent_violations_panel

T = timezone.localdate()


def day(offset: int) -> str:
    return (T + dt.timedelta(days=offset)).isoformat()


def shop(area, name, *, expires=None, review=None, **fields):
    data = {"store_name": name, "license_issue_date": day(-400), **fields}
    if expires is not None:
        data["license_expiry_date"] = day(expires)
    if review is not None:
        data["annual_review_date"] = day(review)
    return make_customer(area, **data)


@pytest.fixture
def licences(customer_world, areas, make_user):
    w = customer_world
    lo = w["lo_th"]
    lo_yx = make_user(Role.LICENSE_OFFICER, [areas["YX"]], username="lo_yx")
    s = {
        "expiring": shop(areas["TH"], "将到期店", expires=10),
        "horizon": shop(areas["TH"], "六十天店", expires=60, review=60),
        "beyond": shop(areas["TH"], "六十一天店", expires=61, review=61),
        "expired": shop(areas["TH"], "已过期店", expires=-1, review=-1),
        "today": shop(areas["TH"], "今日年审店", expires=200, review=0),
        "voided": shop(areas["TH"], "作废记录店"),
        "closed": shop(areas["TH"], "已关闭店", expires=5, review=5, status="closed"),
        "elsewhere": shop(areas["YX"], "越秀到期店", expires=3, review=3),
    }

    def record(key, record_type, days_ago, by=lo):
        return valuation_services.compliance_record_add(
            customer=s[key],
            date=T - dt.timedelta(days=days_ago),
            record_type=record_type,
            note="Found on the shelf",
            actor=Actor.of(by, AuditSource.PAGE),
        )

    record("expiring", RecordType.COUNTERFEIT, 5)
    record("today", RecordType.PRICE, 100)
    record("today", RecordType.INSPECTION_PASSED, 2)
    valuation_services.compliance_record_void(
        record=record("voided", RecordType.MINORS, 3),
        reason="Wrong shop",
        actor=Actor.of(lo, AuditSource.PAGE),
    )
    record("elsewhere", RecordType.SMUGGLED, 1, by=lo_yx)
    return {**w, **s, "lo_yx": lo_yx}


def names(panel) -> list[str]:
    return [row["customer"].store_name for row in panel["rows"]]


def test_licences_expiring_in_the_next_60_days_of_their_areas(licences):
    panel = licence_due_panel(user=licences["lo_th"], field="license_expiry_date")
    assert names(panel) == ["将到期店", "六十天店"]
    assert panel["total"] == 2
    assert [row["days"] for row in panel["rows"]] == [10, 60]


def test_annual_reviews_due_in_the_next_60_days_of_their_areas(licences):
    panel = licence_due_panel(user=licences["lo_th"], field="annual_review_date")
    assert names(panel) == ["今日年审店", "六十天店"]


def test_a_full_list_counts_the_rest(licences):
    panel = licence_due_panel(user=licences["lo_th"], field="license_expiry_date", limit=1)
    assert names(panel) == ["将到期店"] and panel["total"] == 2


def test_recent_violations_leave_out_voided_old_passed_and_other_areas(licences):
    panel = recent_violations_panel(user=licences["lo_th"])
    assert [(r.customer.store_name, r.record_type) for r in panel["rows"]] == [
        ("将到期店", RecordType.COUNTERFEIT)
    ]
    # The YX officer sees the YX shop's only.
    panel = recent_violations_panel(user=licences["lo_yx"])
    assert [r.customer.store_name for r in panel["rows"]] == ["越秀到期店"]


def card(html: str, testid: str) -> str:
    start = html.index(f'data-testid="{testid}"')
    end = html.find('<div class="card shadow-sm', start + 1)
    return html[start : end if end != -1 else len(html)]


def test_the_licence_officers_home_shows_the_three_panels_first(client, licences):
    client.force_login(licences["lo_th"])
    html = client.get(reverse("home")).content.decode()
    order = re.findall(r'data-panel="([\w-]+)"', html)
    assert order[:3] == ["licence-expiry", "annual-reviews", "violations"]
    expiring = card(html, "home-licence-expiry")
    assert 'data-testid="home-licence-expiry-total">2<' in expiring
    code = licences["expiring"].customer_code
    # Each row opens the customer's licence information.
    assert f'href="/customers/{code}/?tab=information#management">将到期店</a>' in expiring
    assert "越秀到期店" not in expiring and "已过期店" not in expiring
    reviews = card(html, "home-annual-reviews")
    assert "今日年审店" in reviews and "today" in reviews
    violations = card(html, "home-violations")
    assert f'href="/customers/{code}/?tab=grade-value#value-compliance">将到期店</a>' in violations
    assert "Selling counterfeit cigarettes" in violations
    assert "作废记录店" not in violations


def test_empty_panels_say_so(client, customer_world):
    client.force_login(customer_world["lo_th"])
    html = client.get(reverse("home")).content.decode()
    assert 'data-testid="home-licence-expiry-empty"' in html
    assert 'data-testid="home-annual-reviews-empty"' in html
    assert 'data-testid="home-no-violations"' in html


def test_other_roles_do_not_get_the_licence_panels(client, licences):
    for who in ("am_th", "sup_th", "admin"):
        client.force_login(licences[who])
        html = client.get(reverse("home")).content.decode()
        assert 'data-testid="home-licence-expiry"' not in html
        assert 'data-testid="home-violations"' not in html
