"""An account manager's visit on a phone: from today's agenda to the visit page and the customer's
timeline; and a visit sent without a connection waits in the outbox and is sent once it returns."""

import datetime as dt
import json

import pytest
from django.utils import timezone

from crm.choices import Role
from tests.crm.factories import TEST_PASSWORD
from tests.customers.factories import make_customer
from visits.choices import PlanStatus
from visits.models import FollowUp, PlannedVisit, Visit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOP = {"latitude": 23.13, "longitude": 113.32}


def sign_in(page, base, username):
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", TEST_PASSWORD)
    page.click("main button[type=submit]")
    page.get_by_test_id("home-title").wait_for()


@pytest.fixture
def visit_world(live_server, page, make_user, areas):
    """An account manager with a shop to visit today, signed in on a phone that shares its
    position (about 100 m from the shop)."""
    manager = make_user(Role.ACCOUNT_MANAGER, [areas["TH"]], username="am")
    customer = make_customer(
        areas["TH"],
        manager,
        store_name="街角烟酒店",
        address="天河路 8 号",
        latitude=f"{SHOP['latitude']:.6f}",
        longitude=f"{SHOP['longitude']:.6f}",
    )
    plan = PlannedVisit.objects.create(
        customer=customer, planned_for=timezone.localdate(), cycle_days=30
    )
    page.context.grant_permissions(["geolocation"], origin=live_server.url)
    page.context.set_geolocation({"latitude": SHOP["latitude"] + 0.0009, "longitude": 113.32})
    sign_in(page, live_server.url, "am")
    return {"manager": manager, "customer": customer, "plan": plan}


def draft_of(page, world):
    key = f"crm-visit-draft:{world['manager'].pk}:{world['customer'].customer_code}"
    raw = page.evaluate("key => window.localStorage.getItem(key)", key)
    return json.loads(raw) if raw else None


def test_from_the_agenda_to_the_customer_timeline(live_server, page, visit_world):
    customer = visit_world["customer"]
    due = (timezone.localdate() + dt.timedelta(days=5)).isoformat()

    # Today's agenda: the shop, in the planned section, with its big button.
    page.goto(f"{live_server.url}/visits/")
    planned = page.get_by_test_id("agenda-planned")
    assert "街角烟酒店" in planned.inner_text()
    planned.get_by_test_id("start-visit").click()

    # The form: the position is shown against the shop's.
    page.get_by_test_id("visit-customer").wait_for()
    assert not page.get_by_test_id("draft-notice").is_visible()  # nothing typed before
    assert not page.get_by_test_id("send-status").is_visible()
    location = page.get_by_test_id("visit-location")
    location.get_by_text("Distance to the shop").wait_for()
    assert "flagged" not in location.inner_text()
    page.fill("#id_purpose", "Monthly round")
    page.select_option("#id_price_display", label="Not compliant")
    page.fill("#id_competitor_notes", "A competitor's poster covers the price list")
    page.fill("#id_fu0-action", "Bring new price tags")
    page.fill("#id_fu0-due_date", due)
    assert draft_of(page, visit_world)["fields"]["purpose"] == "Monthly round"
    page.get_by_test_id("save-visit").click()

    # The visit page.
    page.wait_for_url("**/visits/*/")
    page.get_by_text("The visit was saved.").wait_for()
    assert page.get_by_test_id("visit-price-display").inner_text() == "Not compliant"
    assert "Bring new price tags" in page.get_by_test_id("visit-follow-ups").inner_text()
    assert "m from the shop" in page.get_by_test_id("visit-distance").inner_text()
    assert draft_of(page, visit_world) is None  # nothing kept once the server has it

    visit = Visit.objects.get()
    assert visit.price_display == "non_compliant"
    assert visit.latitude is not None and not visit.location_flagged
    assert FollowUp.objects.get().due_date.isoformat() == due
    visit_world["plan"].refresh_from_db()
    assert visit_world["plan"].status == PlanStatus.DONE

    # The customer's page shows it on the visit timeline.
    page.get_by_test_id("visit-customer-link").click()
    page.wait_for_url(f"**/customers/{customer.customer_code}/")
    page.get_by_role("tab", name="Visits").click()  # the customer page's cards are in tabs
    timeline = page.get_by_test_id("visit-timeline")
    timeline.wait_for()
    assert "Monthly round" in timeline.inner_text()


def test_a_visit_sent_without_a_connection_is_kept_and_sent_once(live_server, page, visit_world):
    customer = visit_world["customer"]
    form_url = f"{live_server.url}/visits/log/?customer={customer.customer_code}"

    # What is typed is kept: reopening the form brings it back.
    page.goto(form_url)
    page.fill("#id_purpose", "Stock check")
    page.select_option("#id_stock_level", label="Running low")
    page.goto(form_url)
    page.get_by_test_id("draft-notice").wait_for()
    assert page.input_value("#id_purpose") == "Stock check"
    assert page.input_value("#id_stock_level") == "low"
    client_id = page.input_value("#id_client_id")
    assert client_id == draft_of(page, visit_world)["fields"]["client_id"]

    # The connection drops as the visit is sent: it goes to the phone's outbox.
    page.context.set_offline(True)
    page.get_by_test_id("save-visit").click()
    status = page.get_by_test_id("send-status")
    status.get_by_text("No connection: the visit is kept on this phone").wait_for()
    page.get_by_test_id("outbox").get_by_text("1 visit is waiting to be sent.").wait_for()
    assert draft_of(page, visit_world) is None  # the outbox has it now
    assert not Visit.objects.exists()

    # It is sent when the connection returns, once.
    page.context.set_offline(False)
    page.get_by_test_id("outbox").get_by_text(
        "1 visit logged without a connection was sent."
    ).wait_for()
    visit = Visit.objects.get()
    assert (visit.purpose, visit.stock_level, str(visit.client_id)) == (
        "Stock check",
        "low",
        client_id,
    )
    page.get_by_test_id("outbox-sent").locator("a").click()
    page.wait_for_url(f"**/visits/{visit.pk}/")


def test_a_refused_field_is_shown_and_drafts_are_discarded_and_forgotten_on_sign_out(
    live_server, page, visit_world
):
    customer = visit_world["customer"]
    form_url = f"{live_server.url}/visits/log/?customer={customer.customer_code}"
    page.goto(form_url)

    # The follow-up is due before the visit: the server refuses, the form shows why.
    page.fill("#id_purpose", "Check")
    page.fill("#id_fu0-action", "Call back")
    page.fill("#id_fu0-due_date", "2001-01-01")
    page.get_by_test_id("save-visit").click()
    page.get_by_test_id("error-follow_ups").wait_for()
    assert "due before the visit" in page.get_by_test_id("error-follow_ups").inner_text()
    assert page.input_value("#id_purpose") == "Check"
    assert not Visit.objects.exists()

    # Reopened later, the draft is there; discarding it gives an empty form.
    page.goto(form_url)
    page.get_by_test_id("discard-draft").click()
    page.wait_for_load_state()
    page.get_by_test_id("visit-form").wait_for()
    assert page.input_value("#id_purpose") == ""
    assert draft_of(page, visit_world) is None

    # Signing out forgets the drafts kept in the browser.
    page.fill("#id_purpose", "Half typed")
    assert draft_of(page, visit_world)["fields"]["purpose"] == "Half typed"
    page.click(".navbar-toggler")
    page.locator(".navbar-collapse.show").wait_for()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login/")
    assert draft_of(page, visit_world) is None


def test_a_day_ahead_opens_with_its_shops(live_server, page, visit_world, areas):
    # given: two shops planned in three days
    later = timezone.localdate() + dt.timedelta(days=3)
    for name, batch in (("后街小卖部", "B"), ("路口便利店", "A")):
        shop = make_customer(
            areas["TH"], visit_world["manager"], store_name=name, visit_batch=batch
        )
        PlannedVisit.objects.create(customer=shop, planned_for=later, cycle_days=30)

    # when: the agenda is opened, the day shows its count only
    page.goto(f"{live_server.url}/visits/")
    day = page.get_by_test_id("upcoming-day").filter(has_text=later.isoformat())
    assert "2" in day.locator("summary").inner_text()
    assert "路口便利店" not in day.inner_text()

    # then: opening the day loads its shops in route order (batch A first)
    day.locator("summary").click()
    shops = day.get_by_test_id("coming-day-plans")
    shops.wait_for()
    text = shops.inner_text()
    assert text.index("路口便利店") < text.index("后街小卖部")


def test_a_planned_visit_is_moved_and_skipped_from_its_row(live_server, page, visit_world, areas):
    # given: a second shop planned today
    other = make_customer(areas["TH"], visit_world["manager"], store_name="路口便利店")
    second = PlannedVisit.objects.create(
        customer=other, planned_for=timezone.localdate(), cycle_days=30
    )
    later = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    page.goto(f"{live_server.url}/visits/")
    first_row = page.locator(f"#plan-{visit_world['plan'].pk}")

    # when: its reschedule toggle is opened, the form loads into the row, and is sent
    first_row.get_by_test_id("reschedule-toggle").click()
    form = first_row.get_by_test_id("reschedule-form")
    form.wait_for()
    form.locator("input[name=new_date]").fill(later)
    form.locator("input[name=reason]").fill("Owner away")
    form.get_by_role("button").click()

    # then: the row says where it went, and the plan moved
    page.get_by_test_id("plan-done").get_by_text(f"Moved to {later}.").wait_for()
    visit_world["plan"].refresh_from_db()
    assert visit_world["plan"].planned_for.isoformat() == later

    # when: the other shop's visit is skipped (the browser asks to confirm)
    second_row = page.locator(f"#plan-{second.pk}")
    second_row.get_by_test_id("skip-toggle").click()
    skip = second_row.get_by_test_id("skip-form")
    skip.wait_for()
    skip.locator("input[name=reason]").fill("Closed for a funeral")
    page.once("dialog", lambda dialog: dialog.accept())
    skip.get_by_role("button").click()

    # then
    page.locator(f"#plan-{second.pk}").get_by_test_id("plan-status").wait_for()
    second.refresh_from_db()
    assert (second.status, second.reason) == (PlanStatus.SKIPPED, "Closed for a funeral")


def test_without_javascript_a_planned_visit_is_skipped_on_its_own_page(
    live_server, browser, visit_world
):
    # given: a phone with JavaScript off, signed in
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_in(page, live_server.url, "am")
    page.goto(f"{live_server.url}/visits/")

    # when: the skip toggle is opened, its link leads to the form's page, which is sent
    row = page.locator(f"#plan-{visit_world['plan'].pk}")
    row.get_by_test_id("skip-toggle").click()
    row.get_by_role("link", name="Open the form").click()
    page.get_by_test_id("plan-action-title").wait_for()
    page.fill("input[name=reason]", "Road works")
    page.get_by_test_id("skip-form").get_by_role("button").click()

    # then: back on the agenda, which says so
    page.get_by_test_id("agenda-title").wait_for()
    assert "街角烟酒店: Skipped." in page.content()
    visit_world["plan"].refresh_from_db()
    assert visit_world["plan"].status == PlanStatus.SKIPPED
    context.close()
