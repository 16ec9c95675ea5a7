"""An account manager on a phone raises a customer's request, resolves it, closes it with the
customer's satisfaction, and finds it closed in the queue."""

import pytest

from crm.choices import Role
from services.models import ServiceRequest
from tests.browser.test_visit_browser import sign_in
from tests.customers.factories import make_customer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_request_from_raising_to_closing(live_server, page, make_user, areas):
    manager = make_user(Role.ACCOUNT_MANAGER, [areas["TH"]], username="am")
    customer = make_customer(areas["TH"], manager, store_name="街角烟酒店")
    sign_in(page, live_server.url, "am")

    # From the customer's page to the form, which says when each type is due.
    page.goto(f"{live_server.url}/customers/{customer.customer_code}/")
    page.get_by_test_id("summary-raise-request").click()  # a primary action of the summary
    page.wait_for_url("**/services/requests/new/?customer=*")
    assert page.get_by_test_id("request-form-customer").inner_text() == "街角烟酒店"
    assert "Delivery: due in 24 h" in page.get_by_test_id("request-sla").inner_text()
    page.select_option("#id_request_type", label="Delivery")
    page.select_option("#id_priority", label="High")
    page.fill("#id_description", "The Tuesday delivery did not come")
    page.get_by_test_id("submit-request").click()

    page.wait_for_url("**/services/requests/*/")
    request = ServiceRequest.objects.get()
    page.get_by_text(f"{request.number} was raised").wait_for()
    assert page.get_by_test_id("request-status").inner_text() == "Open"
    assert "The Tuesday delivery" in page.get_by_test_id("request-description").inner_text()

    # Resolving needs a note.
    resolve = page.get_by_test_id("action-resolve")
    resolve.locator("textarea").fill("Delivered on Wednesday with an apology")
    resolve.get_by_role("button").click()
    page.get_by_text(f"{request.number} is resolved.").wait_for()
    assert page.get_by_test_id("request-status").inner_text() == "Resolved"

    # Closing: the customer gives 4 stars.
    close = page.get_by_test_id("action-close")
    close.get_by_test_id("satisfaction-4").click()
    close.get_by_role("button", name="Close").click()
    page.get_by_text(f"{request.number} is closed.").wait_for()
    assert page.get_by_test_id("request-status").inner_text() == "Closed"
    assert "4 of 5" in page.get_by_test_id("request-satisfaction").inner_text()
    assert "Delivered on Wednesday" in page.get_by_test_id("request-history").inner_text()
    request.refresh_from_db()
    assert (request.status, request.satisfaction) == ("closed", 4)

    # The queue leaves closed requests out until asked for them (phone: cards, filters folded).
    page.get_by_role("link", name="Service requests").first.click()
    page.wait_for_url("**/services/")
    assert page.get_by_test_id("request-empty").is_visible()
    page.locator("[aria-controls=more-filters]").click()
    page.check("#status_closed")
    page.locator("#more-filters button[type=submit]").click()
    card = page.get_by_test_id("request-card")
    card.wait_for()
    assert request.number in card.inner_text() and "Closed" in card.inner_text()
    assert not page.get_by_test_id("request-table").is_visible()
