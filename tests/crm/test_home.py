"""The role home pages (issue 9), through Django's test client on hand-made data.

- account managers: their own pending change requests, their service requests and the care
  due this week, their customers by grade and by value tier (chart data and linked figures);
- supervisors: the change requests to approve in their areas, the overdue services, the grade
  and tier movements of the latest month in their areas (chart data and linked figures):

    customer  area  grade 2025-02 → 2025-03   tier 2025-02 → 2025-03
    c_th      TH    5 → 6  down               low → value        up
    c_th2     TH    6 → 5  up                 value → low        down
    c_th3     TH    4 → 4  same               secondary → potential  across
    c_yx      YX    3 → 1  up (not TH's)      low → low          same

- administrators: job runs (failed ones highlighted), the scheme versions and drafts, the
  settings rows, each integration client's orders of the last days;
- each role's query count is pinned.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.choices import Role, RunStatus, RunTrigger
from customers.choices import ChangeRequestStatus
from customers.models import ChangeRequest, CustomerSystem
from grading import services as grading_services
from grading.choices import SchemeKind, SchemeStatus
from grading.models import GradeResult, GradingRun, GradingScheme
from orders.models import OrdersConfig
from services.models import Holiday, ServiceRequest
from tests.customers.factories import make_customer
from tests.grading.test_overview_pages import grade
from tests.orders.factories import integration_client, make_product, order_payload, url
from tests.services.factories import raise_request
from tests.valuation.test_overview_pages import value
from valuation.models import ValuationRun, ValuationScheme

HOME = reverse("home")
FEB = dt.date(2025, 2, 1)
MAR = dt.date(2025, 3, 1)


def home(client, user) -> str:
    client.force_login(user)
    response = client.get(HOME)
    assert response.status_code == 200
    return response.content.decode()


def panel(html: str, testid: str) -> str:
    """The card holding `data-testid=testid` (up to the next card)."""
    start = html.index(f'data-testid="{testid}"')
    end = html.find('<div class="card shadow-sm', start + 1)
    return html[start : end if end != -1 else len(html)]


def chart_data(html: str) -> dict:
    match = re.search(r'<script id="home-chart-data" type="application/json">(.*?)</script>', html)
    assert match, "no chart data on the page"
    return json.loads(match[1])


def propose(customer, user, status=ChangeRequestStatus.PENDING, **fields) -> ChangeRequest:
    return ChangeRequest.objects.create(
        customer=customer,
        requested_by=user,
        reason=fields.pop("reason", "The sign over the door was changed."),
        changes=[{"field": "store_name", "old": customer.store_name, "new": "新店名"}],
        status=status,
        **fields,
    )


# --- account managers ----------------------------------------------------------------------


def test_account_manager_sees_only_their_own_pending_change_requests(client, customer_world):
    w = customer_world
    mine = propose(w["c_th"], w["am_th"], reason="Mine, pending")
    propose(w["c_th"], w["am_th"], status=ChangeRequestStatus.APPROVED)
    other = propose(w["c_th2"], w["am_th2"])
    card = panel(home(client, w["am_th"]), "home-change-requests")
    assert "My change requests" in card
    assert 'data-testid="home-change-requests-total">1 pending<' in card
    assert f'data-change-request="{mine.pk}"' in card
    assert f'data-change-request="{other.pk}"' not in card
    assert reverse("customers:change_requests") in card


def test_the_change_requests_are_counted_beyond_the_five_listed(client, customer_world):
    w = customer_world
    for n in range(7):
        propose(w["c_th"], w["am_th"], reason=f"Pending {n}")
    propose(w["c_th"], w["am_th"], status=ChangeRequestStatus.APPROVED)
    card = panel(home(client, w["am_th"]), "home-change-requests")
    assert 'data-testid="home-change-requests-total">7 pending<' in card
    assert card.count("data-change-request=") == 5
    assert "See all 7 pending requests" in card


def test_account_manager_without_change_requests_gets_a_helpful_sentence(client, customer_world):
    card = panel(home(client, customer_world["am_th"]), "home-change-requests")
    assert 'data-testid="home-no-change-requests"' in card
    assert "Propose a change from a customer" in card


def test_account_manager_sees_their_customers_by_grade_and_tier(client, customer_world, areas):
    w = customer_world
    second = make_customer(areas["TH"], w["am_th"], store_name="天河四号店")
    third = make_customer(areas["TH"], w["am_th"], store_name="天河五号店")
    CustomerSystem.objects.filter(customer=w["c_th"]).update(grade=3, value_tier="value")
    CustomerSystem.objects.filter(customer=second).update(grade=3, value_tier="low")
    CustomerSystem.objects.filter(customer=third).update(grade=None, value_tier="")
    # Another account manager's customer counts nowhere here.
    CustomerSystem.objects.filter(customer=w["c_th2"]).update(grade=1, value_tier="value")
    html = home(client, w["am_th"])
    card = panel(html, "home-customer-mix")
    assert "3 customers" in card
    assert re.search(r'data-grade="3"><a href="/customers/\?grade=3">Grade 3: <span[^>]*>2<', card)
    # Every grade down to the lowest held, the empty ones at 0 (c_th2's grade 1 is not theirs).
    assert re.search(r'data-grade="1">.*?<span[^>]*>0<', card)
    assert 'data-grade="none"' in card and "Not graded: 1" in card
    assert re.search(
        r'data-tier="value"><a href="/customers/\?value_tier=value">[^:]+: <span[^>]*>1<', card
    )
    assert re.search(r'data-tier="low">.*?<span[^>]*>1<', card)
    assert re.search(r'data-tier="potential">.*?<span[^>]*>0<', card)
    data = chart_data(html)
    assert data["grades"]["labels"] == ["1", "2", "3"]
    assert data["grades"]["counts"] == [0, 0, 2]
    assert data["grades"]["links"][2] == "/customers/?grade=3"
    assert data["tiers"]["counts"] == [1, 0, 0, 1]
    assert 'src="/static/js/home_charts.js"' in html


def test_account_manager_without_customers_gets_a_helpful_sentence(client, make_user, areas):
    am = make_user(Role.ACCOUNT_MANAGER, [areas["SZ"]], username="am_new")
    html = home(client, am)
    assert 'data-testid="home-no-customers"' in html
    assert "No customer is assigned to you yet" in html


def test_account_manager_sees_their_service_requests_and_care_due(client, customer_world):
    w = customer_world
    mine = raise_request(w["c_th"], w["am_th"])
    ServiceRequest.objects.filter(pk=mine.pk).update(due_at=timezone.now() - dt.timedelta(hours=5))
    other = raise_request(w["c_th2"], w["am_th2"])
    card = panel(home(client, w["am_th"]), "home-service-requests")
    assert 'data-testid="home-requests-mine">1<' in card
    assert 'data-testid="home-requests-overdue">1<' in card
    assert 'data-testid="home-care-due">' in card
    assert f'href="{reverse("services:request_detail", args=[mine.pk])}"' in card
    assert f'href="{reverse("services:request_detail", args=[other.pk])}"' not in card
    assert "Overdue by 5 h" in card


# --- supervisors --------------------------------------------------------------------------


@pytest.fixture
def moved(customer_world, areas):
    """The grades and tiers of the module docstring."""
    w = customer_world
    w["c_th3"] = make_customer(areas["TH"], w["am_th"], store_name="天河三号店")
    for customer, before, after in (
        (w["c_th"], 5, 6),
        (w["c_th2"], 6, 5),
        (w["c_th3"], 4, 4),
        (w["c_yx"], 3, 1),
    ):
        grade(customer, FEB, before)
        grade(customer, MAR, after)
    for customer, before, after in (
        (w["c_th"], "low", "value"),
        (w["c_th2"], "value", "low"),
        (w["c_th3"], "secondary", "potential"),
        (w["c_yx"], "low", "low"),
    ):
        value(customer, FEB, before)
        value(customer, MAR, after)
    return w


def movement_cells(html: str) -> dict[tuple[str, str], str]:
    """{(movement, "grade" | "tier"): the figure shown} from the movements table."""
    table = panel(html, "home-movements")
    cells = {}
    for kind, row in re.findall(r'<tr data-movement="(\w+)">(.*?)</tr>', table, re.S):
        for what, figure in re.findall(r'<td data-row="(\w+)">(.*?)</td>', row, re.S):
            cells[(kind, what)] = re.sub(r"<[^>]+>", "", figure).strip()
    return cells


def test_supervisor_sees_the_grade_and_tier_movements_of_their_areas(client, moved):
    html = home(client, moved["sup_th"])
    cells = movement_cells(html)
    assert cells[("up", "grade")] == "1"
    assert cells[("down", "grade")] == "1"
    assert cells[("same", "grade")] == "1"
    assert cells[("new", "grade")] == "0"
    assert cells[("across", "grade")] == "—"  # grades move only up or down
    assert cells[("up", "tier")] == "1"
    assert cells[("down", "tier")] == "1"
    assert cells[("across", "tier")] == "1"
    assert cells[("same", "tier")] == "0"  # c_yx's low → low is not TH's
    assert "2025-03 vs 2025-02" in html
    card = panel(html, "home-movements")
    assert f"{reverse('grading:overview')}?month=2025-03&amp;movement=up" in card
    assert f"{reverse('valuation:overview')}?month=2025-03" in card
    data = chart_data(html)["movements"]
    assert data["labels"] == ["Grade", "Value tier"]
    by_key = {d["key"]: d["data"] for d in data["datasets"]}
    assert by_key == {"up": [1, 1], "down": [1, 1], "across": [0, 1], "same": [1, 0], "new": [0, 0]}


def test_grades_of_another_scheme_are_not_counted_as_moves(client, moved, system_actor):
    # given: March regraded by a new scheme version (the numbers stay as in the docstring)
    draft = grading_services.scheme_create_draft(
        kind=SchemeKind.MATRIX, name="30 grades", actor=system_actor
    )
    grading_services.scheme_activate(scheme=draft, actor=system_actor)
    GradeResult.objects.filter(month=MAR).update(scheme=draft)
    # when
    cells = movement_cells(home(client, moved["sup_th"]))
    # then: TH's three customers are neither up, down nor unchanged
    assert cells[("up", "grade")] == "0"
    assert cells[("down", "grade")] == "0"
    assert cells[("same", "grade")] == "0"
    assert cells[("not_comparable", "grade")] == "3"
    assert cells[("not_comparable", "tier")] == "0"


def test_a_th_supervisor_does_not_see_yx_movements(client, moved):
    cells = movement_cells(home(client, moved["sup_yx"]))
    assert cells[("up", "grade")] == "1"  # c_yx 3 → 1
    assert cells[("down", "grade")] == "0"
    assert cells[("same", "grade")] == "0"
    assert cells[("same", "tier")] == "1"
    assert cells[("up", "tier")] == "0"
    # The city's supervisor sees both districts.
    cells = movement_cells(home(client, moved["sup_gz"]))
    assert cells[("up", "grade")] == "2"


def test_supervisor_without_graded_months_gets_a_helpful_sentence(client, customer_world):
    html = home(client, customer_world["sup_th"])
    assert 'data-testid="home-no-movements"' in html
    assert 'id="home-chart-data"' not in html
    assert "home_charts.js" not in html


def test_supervisor_sees_the_change_requests_of_their_areas_to_approve(client, customer_world):
    w = customer_world
    older = propose(w["c_th"], w["am_th"])
    newer = propose(w["c_th2"], w["am_th2"])
    outside = propose(w["c_yx"], w["am_yx"])
    ChangeRequest.objects.filter(pk=older.pk).update(
        created_at=timezone.now() - dt.timedelta(days=3)
    )
    card = panel(home(client, w["sup_th"]), "home-change-requests")
    assert "Change requests to approve" in card
    assert 'data-testid="home-change-requests-total">2 pending<' in card
    assert card.index(f'data-change-request="{older.pk}"') < card.index(
        f'data-change-request="{newer.pk}"'
    )  # oldest first
    assert f'data-change-request="{outside.pk}"' not in card


def test_supervisor_sees_the_overdue_services_of_their_areas(client, customer_world):
    w = customer_world
    late = raise_request(w["c_th"], w["am_th"])
    later = raise_request(w["c_th2"], w["am_th2"])
    on_time = raise_request(w["c_th"], w["am_th"])
    elsewhere = raise_request(w["c_yx"], w["am_yx"])
    now = timezone.now()
    ServiceRequest.objects.filter(pk=late.pk).update(due_at=now - dt.timedelta(days=3))
    ServiceRequest.objects.filter(pk=later.pk).update(due_at=now - dt.timedelta(hours=2))
    ServiceRequest.objects.filter(pk=elsewhere.pk).update(due_at=now - dt.timedelta(days=1))
    card = panel(home(client, w["sup_th"]), "home-service-requests")
    assert "Overdue services" in card
    assert 'data-testid="home-requests-overdue">2<' in card
    first = reverse("services:request_detail", args=[late.pk])
    second = reverse("services:request_detail", args=[later.pk])
    assert card.index(first) < card.index(second)  # the most overdue first
    assert reverse("services:request_detail", args=[on_time.pk]) not in card
    assert reverse("services:request_detail", args=[elsewhere.pk]) not in card
    assert "?queue=overdue" in card


def test_supervisor_without_overdue_services_gets_a_helpful_sentence(client, customer_world):
    card = panel(home(client, customer_world["sup_th"]), "home-service-requests")
    assert "No service request is overdue in your areas." in card


# --- licence officers ----------------------------------------------------------------------


def test_licence_officer_sees_their_service_requests(client, customer_world):
    w = customer_world
    licence = raise_request(w["c_th"], w["am_th"], request_type="licence", assignee=w["lo_th"])
    html = home(client, w["lo_th"])
    card = panel(html, "home-service-requests")
    assert reverse("services:request_detail", args=[licence.pk]) in card
    assert 'data-testid="home-care-due"' not in card
    assert 'data-testid="my-supervisors"' in html


# --- administrators ------------------------------------------------------------------------


def test_administrator_sees_the_job_runs_with_failures_highlighted(client, customer_world):
    now = timezone.now()
    ok = GradingRun.objects.create(
        month=MAR,
        trigger=RunTrigger.COMMAND,
        status=RunStatus.SUCCEEDED,
        started_at=now - dt.timedelta(seconds=42),
        finished_at=now,
    )
    failed = ValuationRun.objects.create(
        month=MAR,
        trigger=RunTrigger.PAGE,
        status=RunStatus.FAILED,
        started_by=customer_world["admin"],
        error="ValueError: the scheme is broken",
    )
    card = panel(home(client, customer_world["admin"]), "home-job-runs")
    assert re.search(rf'<tr class="" data-run="{ok.pk}" data-status="succeeded">', card)
    assert "42.0 s" in card
    assert re.search(
        rf'<tr class="table-danger" data-run="{failed.pk}" data-status="failed">', card
    )
    assert "ValueError: the scheme is broken" in card
    assert str(customer_world["admin"]) in card  # started by
    assert reverse("grading:runs") in card and reverse("valuation:runs") in card
    assert 'data-testid="job-visit-planning"' in card
    assert 'data-testid="job-warning-refresh"' in card


def test_administrator_sees_the_scheme_versions_and_settings(client, customer_world):
    admin = customer_world["admin"]
    active = GradingScheme.objects.create(
        version=1, name="Eight grades", parameters={}, status=SchemeStatus.ACTIVE
    )
    GradingScheme.objects.create(
        version=2, name="Trial cut-offs", parameters={}, status=SchemeStatus.DRAFT
    )
    GradingScheme.objects.create(version=3, name="Old", parameters={}, status=SchemeStatus.RETIRED)
    config = OrdersConfig.current()
    config.updated_by = admin
    config.save()
    html = home(client, admin)
    card = panel(html, "home-config-versions")
    grading = card[card.index('data-scheme-kind="grading.gradingscheme"') :]
    grading = grading[: grading.index("</li>")]
    assert f"<strong>v{active.version}</strong> Eight grades" in grading
    assert "1 draft waiting" in grading and "Trial cut-offs" in grading
    assert "Old" not in grading
    valuation = card[card.index('data-scheme-kind="valuation.valuationscheme"') :]
    assert "No active version yet" in valuation[: valuation.index("</li>")]
    assert ValuationScheme.objects.count() == 0  # the page reads, never creates
    orders = card[card.index('data-settings="orders.ordersconfig"') :]
    assert f"by {admin}" in orders[: orders.index("</li>")]
    assert reverse("orders:settings") in orders
    visits = card[card.index('data-settings="visits.visitsconfig"') :]
    assert "the defaults, never changed" in visits[: visits.index("</li>")]
    assert reverse("grading:schemes") in card and reverse("services:settings") in card
    audits = card[card.index('data-scheme-kind="audits.auditform"') :]
    audits = audits[: audits.index("</li>")]
    assert reverse("audits:forms") in audits and "0 active" in audits


def test_administrator_sees_each_clients_latest_orders(client, customer_world):
    api, erp = integration_client("erp-north")
    _quiet, idle = integration_client("erp-idle")
    make_product("6901028180566")
    today = timezone.localdate().isoformat()
    response = api.post(
        url("order_sync"),
        {
            "orders": [
                order_payload(
                    "SO-1",
                    customer_world["c_th"],
                    [("6901028180566", 2, "230.00")],
                    order_date=today,
                )
            ]
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    card = panel(home(client, customer_world["admin"]), "api-clients")
    north = card[card.index('data-client="erp-north"') :]
    north = north[: north.index("</tr>")]
    assert re.search(r'data-testid="client-orders">1<', north)
    assert "none recently" not in north
    quiet = card[card.index('data-client="erp-idle"') :]
    quiet = quiet[: quiet.index("</tr>")]
    assert re.search(r'data-testid="client-orders">0<', quiet)
    assert "none recently" in quiet
    assert "1 product in the catalogue" in card
    assert erp.username == "erp-north" and idle.username == "erp-idle"


# --- query counts ---------------------------------------------------------------------------


@pytest.fixture
def busy(moved):
    """Something in every panel: change requests, service requests, movements, runs."""
    w = moved
    propose(w["c_th"], w["am_th"])
    propose(w["c_th2"], w["am_th2"])
    for customer, user in ((w["c_th"], w["am_th"]), (w["c_th2"], w["am_th2"])):
        late = raise_request(customer, user)
        ServiceRequest.objects.filter(pk=late.pk).update(
            due_at=timezone.now() - dt.timedelta(days=1)
        )
    GradingRun.objects.create(month=MAR, trigger=RunTrigger.COMMAND, status=RunStatus.FAILED)
    # The care rule reads each holiday near this week once: none, so the count is the
    # same on every day of the year.
    Holiday.objects.all().delete()
    return w


@pytest.mark.parametrize(
    ("who", "queries"),
    # A licence officer's workspace: + licences expiring, annual reviews due and recent
    # violations, one query each (their totals are counted only when a list is full).
    # An administrator's: + the latest run and the active scheme of each monthly result
    # (grading, valuation, allocation's quota take-up). Supply allocation: + the plans in
    # force for an account manager (no plan: no more), the open exceptions count for a
    # supervisor. Retail audits: + the active and draft audit forms for an administrator.
    # Visits (issue 23): an account manager's day is counted (planned and overdue in one query,
    # done in one) rather than read row by row; a supervisor's team coverage is one aggregate
    # instead of the customers, their last visits and their overdue plans, and without the
    # visits and follow-ups counts the card does not show. Issue 23's third pass: an account
    # manager's warnings are counted with their list (one query; a supervisor's, over many
    # more warnings, in two: valuation.selectors.warnings.warning_home_panel); an account
    # manager's customers are counted by grade, tier, core and problem once for the customer
    # mix and the value panels; the change requests are counted with their list.
    [("am_th", 25), ("sup_th", 24), ("lo_th", 16), ("admin", 20)],
)
def test_each_home_page_pins_its_query_count(client, busy, who, queries, django_assert_num_queries):
    client.force_login(busy[who])
    client.get(HOME)  # warm the session and the content types
    with django_assert_num_queries(queries):
        assert client.get(HOME).status_code == 200
