"""End-to-end journeys, one per role, through the real pages in headless Chromium: an account
manager on a phone (find a shop, log a visit, propose a change), a supervisor at a desk (approve
the change, read the grades and the values), an administrator (recompute a month), a licence
officer on a phone (record a compliance finding), and a sign-in in Simplified Chinese.

Each journey starts at the sign-in page and goes on by clicking and typing. The `journey`
fixture fails it on any browser console error, uncaught page error or request to another
host than the live server (nothing comes from a CDN), and keeps the screens of its last steps
for test-artifacts/ when it fails. Nothing here depends on the hour of the day.
"""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from crm.choices import AuditSource, RunTrigger
from crm.services import Actor, api_client_create
from customers.services import customer_propose
from grading.services import grading_run_start
from tests.crm.factories import TEST_PASSWORD
from tests.customers.factories import make_customer
from tests.grading.factories import buy_monthly
from visits.models import Visit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}
MONTH = "2025-03"  # graded from the sales of the three months before
WINDOW = ["2024-12", "2025-01", "2025-02"]
NEW_ADDRESS = "天河路 100 号"
# A chart is drawn: Chart.js owns the canvas (by id) and has painted some pixels on it.
CHART_DRAWN = """id => {
    const canvas = document.getElementById(id);
    if (!canvas || !window.Chart || !Chart.getChart(canvas) || !canvas.width) return false;
    const ctx = canvas.getContext("2d");
    const pixels = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 3; i < pixels.length; i += 4) if (pixels[i]) return true;
    return false;
}"""


def sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", TEST_PASSWORD)
    page.press("#id_password", "Enter")  # the first submit button is the language switch
    page.get_by_test_id("home-title").wait_for()


def open_menu(page) -> None:
    """At a phone's width the navigation is folded behind the toggler."""
    if page.locator(".navbar-toggler").is_visible():
        page.click(".navbar-toggler")
        page.locator(".navbar-collapse.show").wait_for()  # a click mid-animation can be lost


def go(page, label: str, url_glob: str) -> None:
    open_menu(page)
    nav = page.get_by_test_id("main-nav")
    # Not exact: the icon's glyph is part of the link's accessible name.
    link = nav.get_by_role("link", name=label)
    if not link.is_visible():  # on a wide screen, some entries are under "More"
        nav.get_by_test_id("nav-more").get_by_role("button").click()
        link = nav.get_by_test_id("nav-more").get_by_role("link", name=label)
    link.click()
    page.wait_for_url(url_glob)


def find_customer(page, text: str) -> None:
    """Searches the customer list and opens the only match."""
    page.fill("#id_q", text)
    page.press("#id_q", "Enter")
    page.wait_for_url("**/customers/?*q=*")
    expect(page.get_by_test_id("customer-count")).to_have_text("1")
    table = page.get_by_test_id("customer-table")
    expect(table).to_contain_text(text)
    table.locator("tbody a").first.click()
    page.wait_for_url("**/customers/4401*/")
    expect(page.get_by_test_id("customer-name")).to_have_text(text)


def field(page, name: str):
    return page.locator(f"[data-field={name}]")


@pytest.fixture
def world(customer_world, live_server, page):
    """customer_world (am_th's 天河一号店, am_th2's 天河二号店 in TH; 越秀店 in YX; their
    supervisors, an administrator, a licence officer in TH) with three months of sales each,
    and a second shop of am_th's whose name shares a word with the first."""
    w = customer_world
    w["c_th_other"] = make_customer(w["c_th"].area, w["am_th"], store_name="天河烟酒行")
    for key, cartons in (("c_th", 600), ("c_th2", 150), ("c_yx", 40)):
        buy_monthly(w[key], WINDOW, cartons)
    page.on("dialog", lambda dialog: dialog.accept())  # the pages' "are you sure?" questions
    w["base"] = live_server.url
    return w


def test_account_manager_finds_a_shop_logs_a_visit_and_proposes_a_change(world, page, journey):
    base = world["base"]

    journey.step("sign in")
    sign_in(page, base, "am_th")
    expect(page.get_by_test_id("home-visits-today")).to_be_visible()

    journey.step("search the customers")
    go(page, "Customers", "**/customers/")
    expect(page.get_by_test_id("customer-count")).to_have_text("2")  # 天河一号店, 天河烟酒行
    find_customer(page, "天河一号店")
    page.get_by_role("tab", name="Visits").click()  # the customer page's cards are in tabs
    expect(page.get_by_test_id("no-visits")).to_be_visible()

    journey.step("log a visit")
    page.get_by_test_id("log-visit").click()
    page.wait_for_url("**/visits/log/?customer=*")
    expect(page.get_by_test_id("visit-customer")).to_have_text("天河一号店")
    checked_in = page.input_value("#id_visited_at")  # the check-in time: now, on this phone
    assert checked_in
    visit_day = checked_in[:10]
    page.select_option("#id_visit_type", label="Routine visit")
    page.fill("#id_purpose", "Monthly round")
    page.select_option("#id_stock_level", label="Running low")
    page.select_option("#id_price_display", label="Partly compliant")
    page.fill("#id_customer_requests", "Wants Zhonghua in soft packs")
    page.fill("#id_fu0-action", "Bring the new price tags")
    page.fill("#id_fu0-due_date", visit_day)  # due on the visit's own day: due "today" on home
    page.get_by_test_id("save-visit").click()
    page.wait_for_url("**/visits/*/")
    page.get_by_text("The visit was saved.").wait_for()
    expect(page.get_by_test_id("visit-price-display")).to_have_text("Partly compliant")

    journey.step("the visit on the customer page")
    page.get_by_test_id("visit-customer-link").click()
    page.wait_for_url("**/customers/4401*/")
    page.get_by_role("tab", name="Visits").click()  # loaded when opened
    timeline = page.get_by_test_id("visit-timeline")
    expect(timeline).to_contain_text("Monthly round")
    expect(timeline).to_contain_text("Running low")
    expect(timeline).to_contain_text("Bring the new price tags")
    expect(page.get_by_test_id("visit-total")).to_have_text("1")

    journey.step("the visit on the home page")
    go(page, "Home", f"{base}/")
    today = page.get_by_test_id("home-visits-today")
    expect(today.get_by_test_id("home-follow-ups")).to_contain_text("Bring the new price tags")
    # "done today" counts the visit while its day is the panel's day (not across midnight).
    visit = Visit.objects.get()
    shown_day = today.locator(".card-header .small").inner_text().strip()
    done = "1" if f"{timezone.localtime(visit.visited_at):%Y-%m-%d}" == shown_day else "0"
    expect(today.get_by_test_id("home-done-today")).to_have_text(done)

    journey.step("propose a change that needs approval")
    today.get_by_role("link", name="天河一号店").click()  # the follow-up links to the shop
    page.wait_for_url("**/customers/4401*/?tab=visits#visits")
    page.get_by_test_id("propose-change").click()
    page.wait_for_url("**/change/")
    page.fill("#id_address", NEW_ADDRESS)
    page.fill("#id_reason", "The shop moved next door")
    page.get_by_role("button", name="Submit").click()
    page.get_by_text("was sent for approval").wait_for()
    requests = page.get_by_test_id("customer-change-requests")
    expect(requests).to_contain_text("Pending")
    expect(requests).to_contain_text("The shop moved next door")
    page.get_by_role("tab", name="Information").click()
    expect(field(page, "address")).to_be_visible()
    expect(field(page, "address")).not_to_have_text(NEW_ADDRESS)  # not before approval
    journey.check()


@pytest.fixture
def graded(world):
    """March graded and valued (the eager tasks run as the run's transaction commits), and
    am_th's pending request to change 天河一号店's address."""
    grading_run_start(
        month=dt.date(2025, 3, 1),
        trigger=RunTrigger.COMMAND,
        actor=Actor.system("tests", AuditSource.COMMAND),
    )
    outcome = customer_propose(
        customer=world["c_th"],
        user=world["am_th"],
        data={"address": NEW_ADDRESS},
        reason="The shop moved next door",
    )
    world["request"] = outcome.change_request
    return world


def test_supervisor_approves_a_change_and_reads_grades_and_values(graded, page, journey):
    base, cr = graded["base"], graded["request"]
    page.set_viewport_size(DESKTOP)

    journey.step("sign in")
    sign_in(page, base, "sup_th")
    coverage = page.get_by_test_id("home-visit-coverage")
    expect(coverage.locator("[data-manager=am_th]")).to_be_visible()
    expect(coverage.locator("[data-manager=am_th2]")).to_be_visible()

    journey.step("the change request queue")
    go(page, "Change requests", "**/customers/change-requests/")
    card = page.get_by_test_id(f"request-{cr.pk}")
    expect(card).to_contain_text("天河一号店")
    expect(card).to_contain_text(NEW_ADDRESS)
    expect(card).to_contain_text("The shop moved next door")
    page.get_by_test_id(f"approve-{cr.pk}").click()  # confirmed in the dialog
    page.get_by_text("approved.").first.wait_for()
    expect(page.get_by_test_id(f"request-{cr.pk}")).to_have_count(0)  # no longer pending

    journey.step("the approved request and its customer")
    page.get_by_role("link", name="Approved", exact=True).click()
    page.wait_for_url("**/change-requests/?status=approved")
    page.get_by_test_id(f"request-{cr.pk}").get_by_role("link", name="天河一号店").click()
    page.wait_for_url("**/customers/4401*/")
    page.get_by_role("tab", name="Information").click()
    expect(field(page, "address")).to_have_text(NEW_ADDRESS)
    page.get_by_role("tab", name="History").click()
    history = page.get_by_test_id("history")
    expect(history).to_contain_text(f"→ {NEW_ADDRESS}")
    expect(history).to_contain_text("Approved change request")

    journey.step("the grading overview")
    go(page, "Grading", "**/grading/")
    expect(page.get_by_test_id("grade-month")).to_have_text(MONTH)
    page.wait_for_function(CHART_DRAWN, arg="grading-grades-chart")
    results = page.get_by_test_id("result-table").locator("tbody tr[data-customer]")
    expect(results).to_have_count(3)  # TH's three shops, not YX's
    expect(page.get_by_test_id("result-count")).to_have_text("3")
    expect(page.locator(f'tr[data-customer="{graded["c_th"].customer_code}"]')).to_contain_text(
        "天河一号店"
    )

    journey.step("the value overview")
    go(page, "Value", "**/valuation/")
    expect(page.get_by_test_id("value-month")).to_have_text(MONTH)
    expect(page.get_by_test_id("value-cards").locator("[data-count=customers]")).to_have_text("3")
    expect(page.get_by_test_id("by-area")).to_contain_text("TH")
    page.wait_for_function(CHART_DRAWN, arg="value-area-chart")
    journey.check()


def test_administrator_recomputes_a_month_and_sees_the_active_scheme(world, page, journey):
    base = world["base"]
    api_client_create(name="erp-bridge", actor=Actor.system("tests", AuditSource.COMMAND))
    page.set_viewport_size(DESKTOP)

    journey.step("sign in")
    sign_in(page, base, "admin_x")
    expect(page.get_by_test_id("api-clients")).to_contain_text("erp-bridge")

    journey.step("start a run")
    go(page, "Grading", "**/grading/")
    expect(page.get_by_test_id("no-grades")).to_be_visible()
    page.get_by_test_id("grading-tabs").get_by_role("link", name="Runs").click()
    page.wait_for_url("**/grading/runs/")
    expect(page.get_by_test_id("no-runs")).to_be_visible()
    page.fill("#id_month", MONTH)
    page.get_by_role("button", name="Start a run").click()  # confirmed in the dialog
    # No broker here (eager Celery): the run has run when the page answers, and says so.
    page.get_by_text(f"The run of {MONTH} finished: 4 customers graded in").wait_for()

    journey.step("the run succeeded")
    row = page.get_by_test_id("run-table").locator("tbody tr[data-run]")
    expect(row).to_have_count(1)
    expect(row).to_have_attribute("data-status", "succeeded")  # a live row polls until then
    expect(row).to_contain_text(MONTH)
    expect(row).to_contain_text("Succeeded")
    expect(row.locator("td").nth(6)).to_have_text("4")  # every customer is graded…
    expect(row).to_contain_text("3: 1")  # …and 600 cartons a month (天河一号店) is grade 3

    journey.step("the active scheme")
    page.get_by_test_id("grading-tabs").get_by_role("link", name="Schemes").click()
    page.wait_for_url("**/grading/schemes/")
    active = page.get_by_test_id("active-scheme")
    expect(active).to_contain_text("Active scheme: v1")
    expect(active.get_by_test_id("active-grade-count")).to_have_text("8")
    journey.check()


def test_licence_officer_records_a_compliance_finding(world, page, journey):
    base = world["base"]

    journey.step("sign in")
    sign_in(page, base, "lo_th")

    journey.step("find the customer")
    go(page, "Customers", "**/customers/")
    find_customer(page, "天河二号店")
    page.get_by_role("tab", name="Grade and value").click()
    expect(page.get_by_test_id("no-customer-records")).to_be_visible()

    journey.step("add a compliance record")
    page.get_by_role("button", name="Add a compliance record").click()
    form = page.get_by_test_id("compliance-add-form")
    expect(form).to_be_visible()
    form.locator("#record-type").select_option(label="Selling counterfeit cigarettes")
    form.locator("#record-note").fill("Two cartons of fake Zhonghua on the shelf")
    form.get_by_role("button", name="Record").click()
    page.get_by_text("Recorded: Selling counterfeit cigarettes at 天河二号店").wait_for()

    journey.step("the record on the customer")
    page.wait_for_url("**/customers/4401*/?tab=grade-value#value-compliance")
    records = page.get_by_test_id("customer-records")
    expect(records).to_contain_text("Selling counterfeit cigarettes")
    expect(records).to_contain_text("Two cartons of fake Zhonghua on the shelf")
    expect(records.get_by_text("Violation", exact=True)).to_be_visible()
    journey.check()


def test_a_supervisor_signs_in_in_simplified_chinese(world, page, journey):
    base = world["base"]

    journey.step("switch the language on the sign-in page")
    page.goto(f"{base}/login/")
    open_menu(page)
    page.get_by_test_id("language-switcher").get_by_text("简体中文").click()
    expect(page.get_by_role("heading", name="登录")).to_be_visible()

    journey.step("sign in")
    page.fill("#id_username", "sup_th")
    page.fill("#id_password", TEST_PASSWORD)
    page.press("#id_password", "Enter")
    page.get_by_test_id("home-title").wait_for()

    journey.step("the change requests in Chinese")
    go(page, "变更申请", "**/customers/change-requests/")
    expect(page.get_by_role("heading", name="变更申请", exact=True)).to_be_visible()
    go(page, "客户", "**/customers/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("客户")
    expect(page.get_by_test_id("customer-table")).to_contain_text("天河一号店")
    journey.check()
