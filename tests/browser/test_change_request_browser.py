"""An account manager proposes a static change on a phone; a supervisor approves it in the
queue; the customer page shows the new value and the history entry."""

import pytest

from crm.choices import Role
from tests.crm.factories import TEST_PASSWORD
from tests.customers.factories import make_customer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, base, username):
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", TEST_PASSWORD)
    page.click("main button[type=submit]")
    page.get_by_test_id("home-title").wait_for()


def sign_out(page):
    if page.locator(".navbar-toggler").is_visible():
        page.click(".navbar-toggler")
        # Bootstrap adds `show` when the menu has finished opening; a click during the
        # animation can land on a moving button and be lost (seen once in CI).
        page.locator(".navbar-collapse.show").wait_for()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login/")


def test_proposal_approved_in_the_queue_shows_on_the_customer(live_server, page, make_user, areas):
    manager = make_user(Role.ACCOUNT_MANAGER, [areas["TH"]], username="am")
    make_user(Role.SUPERVISOR, [areas["TH"]], username="sup")
    customer = make_customer(areas["TH"], manager, store_name="老字号烟酒")
    page.on("dialog", lambda dialog: dialog.accept())

    # The account manager proposes a new store name (a static field) with a reason.
    sign_in(page, live_server.url, "am")
    page.goto(f"{live_server.url}/customers/")
    page.get_by_role("link", name=customer.customer_code).click()
    page.get_by_test_id("propose-change").click()
    page.fill("#id_store_name", "老字号烟酒（新店）")
    page.fill("#id_reason", "门头招牌已更换")
    page.get_by_role("button", name="Submit").click()
    page.get_by_text("was sent for approval").wait_for()
    assert page.get_by_test_id("customer-name").inner_text() == "老字号烟酒"
    sign_out(page)

    # The supervisor approves it from the queue.
    sign_in(page, live_server.url, "sup")
    page.goto(f"{live_server.url}/customers/change-requests/")
    queue = page.get_by_test_id("queue")
    assert "老字号烟酒（新店）" in queue.inner_text()
    queue.get_by_role("button", name="Approve").first.click()
    page.get_by_text("approved.").first.wait_for()

    # The customer page shows the new name and who changed it, through which door.
    page.goto(f"{live_server.url}/customers/{customer.customer_code}/")
    assert page.get_by_test_id("customer-name").inner_text() == "老字号烟酒（新店）"
    page.get_by_role("tab", name="History").click()  # loaded when opened
    history = page.get_by_test_id("history").inner_text()
    assert "老字号烟酒 → 老字号烟酒（新店）" in history.replace("\n", " ")
    assert "Approved change request" in history
