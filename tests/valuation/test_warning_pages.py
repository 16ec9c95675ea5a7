"""The early warnings page: who sees which warnings, the words of each episode, the filters,
the last refresh, and the acknowledge / resolve forms (plain posts and htmx row swaps).

The warnings come from the real refresh "as of" 2026-11-20 on hand-made data
(customer_world, as in test_services):
- c_th (am_th, TH) ordered last on 2026-11-01, weekly cycle → no order in two cycles;
- c_th2 (am_th2, TH) bought 100 cartons a month in May-July, 50 in August-October → down 50%;
- c_yx (am_yx, YX) was graded 3 in October and 6 in November → down three grades.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.choices import AuditSource
from crm.services import Actor
from customers.models import CustomerDynamic, CustomerSystem
from tests.grading.factories import make_fact, make_grade
from valuation import services
from valuation.choices import WarningKind, WarningStatus
from valuation.models import EarlyWarning, WarningRefresh

TODAY = dt.date(2026, 11, 20)
URL = "/valuation/warnings/"

NO_ORDERS_WORDS = "Last order 2026-11-01, 19 days ago (order cycle weekly, 2 cycles)"
DROP_WORDS = "Amount 2026-08…10 ¥30,000 against ¥60,000 in 2026-05…07: down 50.0 percent"
DOWNGRADE_WORDS = "Grade 3 → 6 in 2026-11"


@pytest.fixture
def warned(customer_world):
    """One warning per customer of customer_world, by the refresh of TODAY."""
    w = customer_world
    CustomerSystem.objects.filter(customer=w["c_th"]).update(last_order_date=dt.date(2026, 11, 1))
    CustomerDynamic.objects.filter(customer=w["c_th"]).update(order_cycle="weekly")
    CustomerSystem.objects.filter(customer__in=[w["c_th2"], w["c_yx"]]).update(
        last_order_date=dt.date(2026, 11, 18)
    )
    for month in ("2026-05", "2026-06", "2026-07"):
        make_fact(w["c_th2"], month, 100)
    for month in ("2026-08", "2026-09", "2026-10"):
        make_fact(w["c_th2"], month, 50)
    make_grade(w["c_yx"], dt.date(2026, 10, 1), 3)
    make_grade(w["c_yx"], dt.date(2026, 11, 1), 6)
    services.warnings_refresh(today=TODAY)
    return w


def warning_of(customer) -> EarlyWarning:
    return EarlyWarning.objects.get(customer=customer)


def page(client, user, query: str = "") -> str:
    client.force_login(user)
    response = client.get(URL + (f"?{query}" if query else ""))
    assert response.status_code == 200
    return response.content.decode()


def shown(html: str, world) -> set[str]:
    """Which of the world's customers have a row on the page."""
    return {
        key
        for key in ("c_th", "c_th2", "c_yx")
        if f'data-warning="{warning_of(world[key]).pk}"' in html
    }


# --- reading ------------------------------------------------------------------------------


def test_the_page_needs_a_signed_in_person(client, warned):
    response = client.get(URL)
    assert response.status_code == 302
    assert "/login/" in response["Location"]


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("am_th", {"c_th"}),
        ("am_th2", {"c_th2"}),
        ("sup_th", {"c_th", "c_th2"}),
        ("sup_yx", {"c_yx"}),
        ("sup_gz", {"c_th", "c_th2", "c_yx"}),
        ("lo_th", {"c_th", "c_th2"}),
        ("admin", {"c_th", "c_th2", "c_yx"}),
    ],
)
def test_each_person_sees_the_warnings_of_their_scope(client, warned, who, expected):
    assert shown(page(client, warned[who]), warned) == expected


def test_each_episode_is_told_in_words(client, warned):
    html = page(client, warned["admin"])
    assert NO_ORDERS_WORDS in html
    assert DROP_WORDS in html
    assert DOWNGRADE_WORDS in html
    # the kind, the customer (linked to its page), the status
    assert "No order in the last order cycles" in html
    assert "Purchase amount down" in html
    assert "Grade dropped" in html
    assert reverse("customers:detail", args=[warned["c_th"].customer_code]) in html
    assert html.count('data-status="open"') == 3


def test_the_page_says_when_the_warnings_were_last_checked(client, warned):
    html = page(client, warned["am_th"])
    refresh = WarningRefresh.objects.get()
    when = timezone.localtime(refresh.finished_at).strftime("%Y-%m-%d %H:%M")
    assert f"Last checked {when}: 3 opened, 0 resolved." in html


def test_before_any_check_the_page_says_so(client, customer_world):
    html = page(client, customer_world["am_th"])
    assert "Not checked yet" in html
    assert 'data-testid="no-warnings"' in html


def test_a_failed_check_is_shown(client, customer_world):
    WarningRefresh.objects.create(as_of=TODAY, error="boom")
    html = page(client, customer_world["am_th"])
    assert "failed; the warnings shown are from the check before." in html


def test_resolved_warnings_are_hidden_unless_asked_for(client, warned):
    warning = warning_of(warned["c_th2"])
    services.warning_resolve(
        warning=warning, note="Called", actor=Actor.of(warned["sup_th"], AuditSource.PAGE)
    )
    sup = warned["sup_th"]
    assert shown(page(client, sup), warned) == {"c_th"}
    assert shown(page(client, sup, "status=resolved"), warned) == {"c_th2"}
    assert shown(page(client, sup, "status=all"), warned) == {"c_th", "c_th2"}
    assert shown(page(client, sup, "status=open"), warned) == {"c_th"}
    # an unknown status falls back to the default
    assert shown(page(client, sup, "status=nonsense"), warned) == {"c_th"}


def test_status_tabs_count_what_the_other_filters_leave(client, warned):
    services.warning_acknowledge(
        warning=warning_of(warned["c_th"]),
        note="Visit on Monday",
        actor=Actor.of(warned["am_th"], AuditSource.PAGE),
    )
    client.force_login(warned["admin"])
    response = client.get(URL, {"area": "GZ"})
    tabs = {t["key"]: t["count"] for t in response.context["status_tabs"]}
    assert tabs == {"unresolved": 3, "open": 2, "acknowledged": 1, "resolved": 0, "all": 3}
    response = client.get(URL, {"area": "TH", "status": "acknowledged"})
    tabs = {t["key"]: (t["count"], t["active"]) for t in response.context["status_tabs"]}
    assert tabs["acknowledged"] == (1, True)
    assert tabs["unresolved"] == (2, False)
    # the tab links keep the other filters
    [acknowledged] = [t for t in response.context["status_tabs"] if t["key"] == "acknowledged"]
    assert acknowledged["query"] == "status=acknowledged&area=TH"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("kind=no_orders", {"c_th"}),
        ("kind=amount_drop", {"c_th2"}),
        ("area=YX", {"c_yx"}),
        ("area=GZ", {"c_th", "c_th2", "c_yx"}),
        ("account_manager=AM_TH2", {"c_th2"}),
        ("kind=downgrade&area=TH", set()),
        ("kind=bogus", {"c_th", "c_th2", "c_yx"}),  # an invalid filter filters nothing
    ],
)
def test_filters(client, warned, query, expected):
    assert shown(page(client, warned["admin"], query), warned) == expected


def test_customer_filter(client, warned):
    code = warned["c_yx"].customer_code
    assert shown(page(client, warned["admin"], f"customer={code}"), warned) == {"c_yx"}


def test_filters_never_widen_the_scope(client, warned):
    assert shown(page(client, warned["am_th"], "area=YX"), warned) == set()
    assert shown(page(client, warned["am_th"], "account_manager=am_th2"), warned) == set()


def test_actions_are_offered_to_those_who_handle_warnings_only(client, warned):
    warning = warning_of(warned["c_th"])
    acknowledge = reverse("valuation:warning_acknowledge", args=[warning.pk])
    for who in ("am_th", "sup_th", "admin"):
        html = page(client, warned[who])
        assert acknowledge in html
        assert f'data-testid="warning-actions-{warning.pk}"' in html
    html = page(client, warned["lo_th"])
    assert acknowledge not in html
    assert "This page is read-only for you." in html


def test_an_acknowledged_warning_offers_resolve_only(client, warned):
    warning = warning_of(warned["c_th"])
    services.warning_acknowledge(
        warning=warning, note="Visit", actor=Actor.of(warned["am_th"], AuditSource.PAGE)
    )
    html = page(client, warned["am_th"])
    assert reverse("valuation:warning_acknowledge", args=[warning.pk]) not in html
    assert reverse("valuation:warning_resolve", args=[warning.pk]) in html
    assert "Visit" in html  # the note


def test_the_list_pages_and_pins_its_query_count(client, warned, django_assert_num_queries):
    customer = warned["c_th"]
    EarlyWarning.objects.bulk_create(
        EarlyWarning(
            customer=customer,
            kind=WarningKind.DOWNGRADE,
            key=f"2025-{n:02d}",
            details={"month": f"2025-{n:02d}", "previous_grade": 2, "grade": 5},
        )
        for n in range(1, 13)
    )
    EarlyWarning.objects.bulk_create(
        EarlyWarning(customer=customer, kind=WarningKind.AMOUNT_DROP, key=f"2024-{n:02d}")
        for n in range(1, 13)
    )
    client.force_login(warned["sup_th"])
    client.get(URL)  # warm up: session, content types
    # session, user, the user's areas and the area tree (the scope, once), count, status
    # counts, rows, latest refresh, unread notifications, the area and account manager
    # pickers' choices
    with django_assert_num_queries(11):
        response = client.get(URL)
    assert response.context["paginator"].count == 26
    assert len(response.context["rows"]) == 25
    with django_assert_num_queries(11):
        response = client.get(URL, {"page": 2})
    assert len(response.context["rows"]) == 1


# --- acknowledge and resolve ----------------------------------------------------------------


def post(client, user, warning, action: str, **data):
    client.force_login(user)
    return client.post(reverse(f"valuation:warning_{action}", args=[warning.pk]), data)


def test_the_account_manager_acknowledges_with_a_note(client, warned):
    warning = warning_of(warned["c_th"])
    response = post(client, warned["am_th"], warning, "acknowledge", note=" Visit Monday ")
    assert response.status_code == 302
    assert response["Location"] == reverse("valuation:warnings")
    warning.refresh_from_db()
    assert (warning.status, warning.note) == (WarningStatus.ACKNOWLEDGED, "Visit Monday")
    assert warning.acknowledged_by == warned["am_th"]
    html = client.get(response["Location"]).content.decode()
    assert "The warning was acknowledged." in html


def test_acknowledging_needs_a_note(client, warned):
    warning = warning_of(warned["c_th"])
    response = post(client, warned["am_th"], warning, "acknowledge", note="  ")
    html = client.get(response["Location"]).content.decode()
    assert "Say what you will do about it." in html
    warning.refresh_from_db()
    assert warning.status == WarningStatus.OPEN


def test_acknowledging_twice_shows_the_services_error(client, warned):
    warning = warning_of(warned["c_th"])
    post(client, warned["am_th"], warning, "acknowledge", note="Visit")
    response = post(client, warned["am_th"], warning, "acknowledge", note="Again")
    html = client.get(response["Location"]).content.decode()
    assert "Only an open warning can be acknowledged." in html
    warning.refresh_from_db()
    assert warning.note == "Visit"


def test_resolving_takes_an_optional_note_and_goes_back_to_next(client, warned):
    warning = warning_of(warned["c_th2"])
    back = URL + "?status=all&kind=amount_drop"
    response = post(client, warned["sup_th"], warning, "resolve", note="", next=back)
    assert response["Location"] == back
    warning.refresh_from_db()
    assert (warning.status, warning.resolution) == (WarningStatus.RESOLVED, "")
    assert warning.resolved_by == warned["sup_th"]
    # resolving again is refused with the service's words
    response = post(client, warned["sup_th"], warning, "resolve", note="x")
    html = client.get(response["Location"]).content.decode()
    assert "This warning is resolved already." in html


def test_next_must_be_on_this_site(client, warned):
    warning = warning_of(warned["c_th"])
    response = post(client, warned["am_th"], warning, "resolve", next="https://evil.example/phish")
    assert response["Location"] == reverse("valuation:warnings")


def test_a_licence_officer_may_not_act(client, warned):
    warning = warning_of(warned["c_th"])
    assert post(client, warned["lo_th"], warning, "acknowledge", note="x").status_code == 403
    assert post(client, warned["lo_th"], warning, "resolve").status_code == 403
    warning.refresh_from_db()
    assert warning.status == WarningStatus.OPEN


def test_a_warning_outside_the_scope_is_not_found(client, warned):
    warning = warning_of(warned["c_th2"])
    assert post(client, warned["am_th"], warning, "acknowledge", note="x").status_code == 404
    assert post(client, warned["sup_yx"], warning, "resolve").status_code == 404
    warning.refresh_from_db()
    assert warning.status == WarningStatus.OPEN


def test_actions_are_posts(client, warned):
    client.force_login(warned["am_th"])
    url = reverse("valuation:warning_resolve", args=[warning_of(warned["c_th"]).pk])
    assert client.get(url).status_code == 405


def test_htmx_swaps_the_row(client, warned):
    warning = warning_of(warned["c_th"])
    client.force_login(warned["am_th"])
    url = reverse("valuation:warning_acknowledge", args=[warning.pk])
    response = client.post(url, {"note": "Call today", "next": URL}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith("<tr")
    assert f'data-warning="{warning.pk}"' in html
    assert 'data-status="acknowledged"' in html
    assert "The warning was acknowledged." in html
    assert "Call today" in html
    # now only resolve is offered, still swapping the row
    assert url not in html
    assert 'hx-post="{}"'.format(reverse("valuation:warning_resolve", args=[warning.pk])) in html


def test_htmx_shows_the_error_in_the_row(client, warned):
    warning = warning_of(warned["c_th"])
    client.force_login(warned["am_th"])
    url = reverse("valuation:warning_acknowledge", args=[warning.pk])
    response = client.post(url, {"note": ""}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert 'data-testid="warning-errors"' in html
    assert "Say what you will do about it." in html
    assert 'data-status="open"' in html
    # no message is left behind for the next page
    assert "Say what you will do about it." not in page(client, warned["am_th"])


def test_the_notification_links_here(client, warned):
    notification = warned["am_th"].notifications.get()
    assert notification.link == URL


# --- words ----------------------------------------------------------------------------------


def test_words_for_unexpected_details_and_a_short_gap(customer_world):
    from valuation.selectors.warnings import money, month_range, warning_summary

    customer = customer_world["c_th"]
    odd = EarlyWarning(customer=customer, kind=WarningKind.DOWNGRADE, details={"grade": "x"})
    assert warning_summary(odd) == "grade: x"
    one_day = EarlyWarning(
        customer=customer,
        kind=WarningKind.NO_ORDERS,
        details={
            "last_order_date": "2026-11-19",
            "days_since": 1,
            "order_cycle": "monthly",
            "cycles": 2,
        },
    )
    assert warning_summary(one_day) == (
        "Last order 2026-11-19, 1 day ago (order cycle monthly, 2 cycles)"
    )
    assert money(12345.6) == "¥12,345.60"
    assert money("30000.00") == "¥30,000"
    assert month_range("2025-11…2026-01") == "2025-11…2026-01"
