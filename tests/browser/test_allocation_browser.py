"""An administrator makes a plan on a 360 px phone: the list, the editor with a mistake the
service reports beside its field, the preview with its chart, publishing (confirmed) and the
version's page with its quotas. No page is wider than the screen, the chart is drawn, and
nothing breaks the Content-Security-Policy (the `journey` fixture watches).

With CRM_SCREENSHOTS set, each screen is kept in test-artifacts/allocation-*.png to look at.
"""

from __future__ import annotations

import datetime as dt
import os

import pytest

from crm.choices import Role
from tests.allocation.factories import publish
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_csp_browser import sign_in_as
from tests.browser.test_phone_widths import MEASURE, TARGETS
from tests.customers.factories import make_customer
from tests.grading.test_overview_pages import grade
from tests.orders.factories import make_product

# A phone walk through pages whose SQL is the same on both databases: run once, in CI's SQLite
# pass ("walk").
pytestmark = [pytest.mark.browser, pytest.mark.walk, pytest.mark.django_db(transaction=True)]

WIDTH = 360
DEC = dt.date(2026, 12, 1)


def looked_at(page, name: str) -> None:
    """The page is no wider than the phone, no row's link or button lies off the screen, every
    target is 44 px high (test_phone_widths' measure), and the screen is kept when asked."""
    found = page.evaluate(MEASURE, [WIDTH, TARGETS])
    assert found["scrollWidth"] <= WIDTH, name
    assert not found["outside"], (name, found["outside"])
    assert not found["small"], (name, found["small"])
    if os.environ.get("CRM_SCREENSHOTS"):
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"allocation-{name}.png"), full_page=True)


def test_a_plan_is_made_previewed_and_published_on_a_phone(
    live_server, page, journey, make_user, areas
):
    admin = make_user(Role.ADMINISTRATOR, username="admin")
    manager = make_user(Role.ACCOUNT_MANAGER, [areas["TH"]], username="am")
    make_product("6901028001", name="中华（硬）")
    for n, g in enumerate((1, 2, 2, 3)):
        grade(make_customer(areas["TH"], manager, store_name=f"天河{n}号店"), DEC, g)
    publish(DEC, user=admin)
    base = live_server.url
    page.set_viewport_size({"width": WIDTH, "height": 780})
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in_as(page, {"admin": admin, "base": base}, "admin")

    journey.step("the list")
    page.goto(f"{base}/allocation/plans/")
    looked_at(page, "list-empty")
    page.get_by_test_id("new-plan").click()

    journey.step("the editor, with a mistake")
    page.fill("#id_code", "2026-12-ZHZ")
    page.select_option("#id_product_code", "6901028001")
    page.fill("#id_starts_on", "2026-12-01")
    page.fill("#id_ends_on", "2026-11-30")
    page.fill("#id_quota_1", "30")
    page.fill("#id_quota_2", "20")
    page.fill("#id_quota_3", "lots")
    page.fill("#id_supply", "50")
    page.get_by_label("1", exact=True).check()  # structure class 1 …
    page.get_by_test_id("save").click()
    page.get_by_test_id("form-invalid").wait_for()
    assert (
        "The period ends before it starts." in page.locator("[data-error-for=ends_on]").inner_text()
    )
    assert "Grade 3" in page.locator("[data-error-for=quotas]").inner_text()
    looked_at(page, "edit-errors")

    journey.step("the editor, corrected")
    page.fill("#id_ends_on", "2026-12-31")
    page.fill("#id_quota_3", "10")
    page.get_by_label("1", exact=True).uncheck()  # … every class after all
    page.get_by_test_id("save").click()
    page.get_by_text("was created").wait_for()
    looked_at(page, "draft")

    journey.step("the preview")
    page.get_by_test_id("preview").click()
    page.get_by_test_id("preview-table").wait_for()
    # 30 + 2 × 20 + 10 = 80 cartons asked for a supply of 50: scaled
    assert "80" in page.locator("[data-testid=preview-totals] [data-figure=demand]").inner_text()
    assert "scaled down" in page.get_by_test_id("scaling").inner_text()
    page.wait_for_function(
        "() => { const c = document.getElementById('allocation-preview-chart');"
        " return c && c.width > 0 && window.Chart && window.Chart.getChart(c); }"
    )
    looked_at(page, "preview")

    journey.step("publishing")
    page.get_by_test_id("publish").click()
    page.get_by_text("was published").wait_for()
    assert page.get_by_test_id("quota-count").inner_text() == "4"
    looked_at(page, "published")

    journey.step("the list again")
    page.goto(f"{base}/allocation/plans/")
    assert "50 / 50" in page.get_by_test_id("plan-table").inner_text()
    looked_at(page, "list")
    journey.check()
