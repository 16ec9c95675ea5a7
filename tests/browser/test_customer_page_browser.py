"""The customer page on a phone (issue 20), in headless Chromium at 390×844: the summary header
(name, code, grade, tier, last visit and order, open warnings and requests, call and map, the
primary actions) is on the first screen without scrolling; the tabs switch by click and by
keyboard, keep the open tab in the address, and a #fragment or ?tab= opens the tab holding it.
"""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.browser.test_journeys import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shop(customer_world, live_server):
    customer = customer_world["c_th"]
    customer.dynamic.latitude = Decimal("23.131000")
    customer.dynamic.longitude = Decimal("113.320000")
    customer.dynamic.save()
    return {**customer_world, "url": f"{live_server.url}/customers/{customer.customer_code}/"}


def above_the_fold(page, testid: str) -> bool:
    """The element is entirely within the first screen (844 px), without scrolling."""
    box = page.get_by_test_id(testid).bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 844


def test_the_summary_is_on_the_first_screen_of_a_phone(shop, page, journey, live_server):
    sign_in(page, live_server.url, "am_th")
    journey.step("open the customer")
    page.goto(shop["url"])
    expect(page.get_by_test_id("customer-name")).to_have_text("天河一号店")
    assert page.evaluate("window.scrollY") == 0
    for testid in (
        "customer-name",
        "summary-code",
        "summary-grade",
        "summary-structure-class",
        "summary-tier",
        "summary-warnings",
        "summary-last-visit",
        "summary-last-order",
        "summary-requests",
        "summary-call",
        "summary-map",
        "log-visit",
        "summary-raise-request",
        "propose-change",
        "customer-tabs",
    ):
        assert above_the_fold(page, testid), f"{testid} is not on the first screen"
    assert page.get_by_test_id("summary-call").get_attribute("href") == "tel:13800000001"
    assert page.get_by_test_id("summary-map").get_attribute("href") == "geo:23.131000,113.320000"
    # Nothing wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    journey.check()


def test_tabs_switch_by_click_and_keyboard_and_stay_in_the_address(
    shop, page, journey, live_server
):
    sign_in(page, live_server.url, "am_th")
    page.goto(shop["url"])
    expect(page.get_by_test_id("key-facts")).to_be_visible()
    expect(page.get_by_test_id("visit-timeline")).to_be_hidden()

    journey.step("click a tab")
    page.get_by_role("tab", name="Visits").click()
    expect(page.get_by_test_id("visit-timeline")).to_be_visible()
    expect(page.get_by_test_id("key-facts")).to_be_hidden()
    assert page.url.endswith("?tab=visits")

    journey.step("the arrow keys move to the next tab")
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("tab", name="Services")).to_be_focused()
    expect(page.get_by_role("tab", name="Services")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_test_id("service-timeline")).to_be_visible()
    assert page.url.endswith("?tab=services")

    journey.step("a reload keeps the tab")
    page.reload()
    expect(page.get_by_test_id("service-timeline")).to_be_visible()

    journey.step("a link to a card opens its tab")
    page.goto(shop["url"] + "#value-warnings")
    expect(page.get_by_test_id("no-customer-warnings")).to_be_visible()
    expect(page.get_by_role("tab", name="Grade and value")).to_have_attribute(
        "aria-selected", "true"
    )

    journey.step("a figure of the summary opens the card behind it")
    page.goto(shop["url"])
    page.get_by_test_id("summary-requests").get_by_role("link").click()
    expect(page.get_by_test_id("service-timeline")).to_be_visible()
    assert "tab=services" in page.url
    journey.check()


def test_a_tab_loads_when_first_opened_and_says_so_when_it_cannot(shop, page, journey, live_server):
    """The page draws its overview; another tab comes from the server when first opened (one
    request, not two), and says so, with a way to open it anyway, when it does not come."""
    sign_in(page, live_server.url, "am_th")
    asked: list[str] = []
    page.on("request", lambda request: "/tab/" in request.url and asked.append(request.url))
    page.goto(shop["url"])
    expect(page.get_by_test_id("key-facts")).to_be_visible()
    assert asked == []

    journey.step("a tab loads when first opened")
    page.get_by_role("tab", name="Grade and value").click()
    expect(page.get_by_test_id("customer-grading")).to_be_visible()
    page.get_by_role("tab", name="Overview").click()
    page.get_by_role("tab", name="Grade and value").click()
    expect(page.get_by_test_id("customer-value")).to_be_visible()
    assert len(asked) == 1 and asked[0].endswith("/tab/grade-value/")

    journey.step("a tab that does not come says so")
    page.route("**/tab/history/", lambda route: route.abort())
    page.get_by_role("tab", name="History").click()
    failed = page.locator("#tab-history [data-tab-failed]")
    expect(failed).to_be_visible()
    expect(failed).to_contain_text("This section could not be loaded.")
    expect(page.locator("#tab-history [data-tab-loading]")).to_be_hidden()
    # The browser and htmx report the failed request in the console: this test failed it.
    journey.forgive("?tab=history: ")
    page.unroute("**/tab/history/")
    failed.get_by_role("link", name="Try again").click()
    expect(page.get_by_test_id("history")).to_be_visible()
    assert page.url.endswith("?tab=history")
    journey.check()
