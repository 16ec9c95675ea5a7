"""Publishing a grade month on a 360 px phone: a supervisor publishes (confirming first) and
asks to unlock it, an administrator approves; at every step the overview's publication panel
fits the screen, its buttons and fields are large enough to tap, and axe finds no serious
accessibility violation."""

from __future__ import annotations

import pytest

from grading.choices import PublicationStatus
from grading.models import GradePublication
from tests.browser.test_accessibility import axe_problems
from tests.browser.test_csp_browser import sign_in_as
from tests.browser.test_phone_widths import MEASURE, TARGETS, WIDTH
from tests.security.world import MONTH, build_world

# A phone walk through pages whose SQL is the same on both databases: run once, in CI's SQLite
# pass ("walk").
pytestmark = [pytest.mark.browser, pytest.mark.walk, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(live_server):
    w = build_world()
    w["base"] = live_server.url
    return w


def fits(page) -> None:
    found = page.evaluate(MEASURE, [WIDTH, TARGETS])
    assert found["scrollWidth"] <= WIDTH, found
    assert not found["small"], found["small"]
    assert not axe_problems(page, page.url, "en")


def test_unlock_and_publish_again_on_a_phone(world, page):
    # the security world's month is published (supply allocation's plan reads it)
    page.set_viewport_size({"width": WIDTH, "height": 780})
    page.on("dialog", lambda dialog: dialog.accept())
    overview = f"{world['base']}/grading/?month={MONTH:%Y-%m}"
    # a supervisor asks to unlock it, confirming first
    sign_in_as(page, world, "sup_th")
    page.goto(overview)
    assert page.get_by_test_id("publication-state").get_attribute("data-state") == "published"
    fits(page)
    page.get_by_placeholder("Why must the month be unlocked?").fill("Late orders")
    page.locator('[data-action="request_unlock"]').click()
    page.wait_for_selector('[data-state="unlock_req"]')
    assert "Late orders" in page.get_by_test_id("unlock-request").inner_text()
    fits(page)
    # an administrator approves
    sign_in_as(page, world, "admin")
    page.goto(overview)
    fits(page)
    page.locator('[data-action="approve_unlock"]').click()
    page.wait_for_selector('[data-state="none"]')
    fits(page)
    # and publishes the month again, with a note
    page.get_by_placeholder("Note (optional)").fill("Reviewed again")
    page.locator('[data-action="publish"]').click()
    page.wait_for_selector('[data-state="published"]')
    fits(page)
    statuses = sorted(GradePublication.objects.values_list("status", flat=True))
    assert statuses == [PublicationStatus.PUBLISHED, PublicationStatus.UNLOCKED]
