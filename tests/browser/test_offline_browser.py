"""The offline route on a phone (390×844): the account manager's day with the network cut. The
agenda, loaded online, keeps today's and tomorrow's shops on the phone (service worker); with no
network the customer page and the visit form still open, a visit logged with a photo waits in
IndexedDB and the page says so; once the network returns it is sent, and stored once."""

import datetime as dt
import io

import pytest
from django.utils import timezone
from PIL import Image

from crm.choices import Role
from tests.browser.test_customer_page_browser import above_the_fold
from tests.browser.test_visit_browser import SHOP, sign_in
from tests.customers.factories import make_customer
from visits.models import PlannedVisit, Visit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CONTROLLED = "() => !!(navigator.serviceWorker && navigator.serviceWorker.controller)"


@pytest.fixture
def road(live_server, page, make_user, areas, tmp_path):
    """An account manager with a shop planned today and one tomorrow, signed in on a phone
    that shares its position (about 100 m from today's shop), and a photo to take."""
    manager = make_user(Role.ACCOUNT_MANAGER, [areas["TH"]], username="am")
    today_shop = make_customer(
        areas["TH"],
        manager,
        store_name="街角烟酒店",
        latitude=f"{SHOP['latitude']:.6f}",
        longitude=f"{SHOP['longitude']:.6f}",
    )
    tomorrow_shop = make_customer(areas["TH"], manager, store_name="明天便利店")
    today = timezone.localdate()
    plan = PlannedVisit.objects.create(customer=today_shop, planned_for=today, cycle_days=30)
    PlannedVisit.objects.create(
        customer=tomorrow_shop, planned_for=today + dt.timedelta(days=1), cycle_days=30
    )
    page.context.grant_permissions(["geolocation"], origin=live_server.url)
    page.context.set_geolocation({"latitude": SHOP["latitude"] + 0.0009, "longitude": 113.32})
    photo = tmp_path / "shelf.png"
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 40, 40)).save(buffer, format="PNG")
    photo.write_bytes(buffer.getvalue())
    sign_in(page, live_server.url, "am")
    return {
        "manager": manager,
        "today": today_shop,
        "tomorrow": tomorrow_shop,
        "plan": plan,
        "photo": photo,
    }


def load_agenda_online(page, base):
    """Today's agenda, once the service worker controls the page and has kept the pages."""
    page.goto(f"{base}/visits/")
    page.wait_for_function(CONTROLLED)
    kept = page.get_by_test_id("offline-kept")
    kept.wait_for()
    # today's and tomorrow's agenda, and per shop its page and two visit-form addresses
    assert kept.get_attribute("data-kept") == "8"


def kept_with_a_photo(page):
    """After "Save the visit" with no network: the page says the visit waits on the phone, the
    outbox lists it with its photo, the server has nothing yet. Returns the outbox panel."""
    page.get_by_test_id("send-status").get_by_text("the visit is kept on this phone").wait_for()
    outbox = page.get_by_test_id("outbox")
    outbox.get_by_text("1 visit is waiting to be sent.").wait_for()
    assert "with a photo" in page.get_by_test_id("outbox-waiting").inner_text()
    assert not Visit.objects.exists()
    return outbox


def test_the_account_managers_day_with_the_network_cut(live_server, page, road):
    base = live_server.url
    shop = road["today"]

    # Home → agenda (online): the day's pages are kept on the phone.
    page.goto(f"{base}/")
    page.get_by_test_id("home-title").wait_for()
    load_agenda_online(page, base)
    assert "街角烟酒店" in page.get_by_test_id("agenda-planned").inner_text()

    # → the customer page, then the network goes.
    page.get_by_test_id("plan-customer").click()
    page.wait_for_url(f"**/customers/{shop.customer_code}/")
    # its summary (who, grade, last visit, call, log a visit) is on the first screen
    for testid in ("customer-name", "summary-facts", "summary-actions"):
        assert above_the_fold(page, testid), testid
    page.context.set_offline(True)
    assert page.evaluate("navigator.onLine") is False

    # The kept copy is the whole customer page (online, its other tabs load on demand): a tab
    # opens with no network.
    page.goto(f"{base}/customers/{shop.customer_code}/")
    page.get_by_role("tab", name="Visits").click()
    page.get_by_test_id("visit-timeline").wait_for()

    # The visit form opens from the phone (the worker answers with the kept copy) ...
    page.locator(f'a[href="/visits/log/?customer={shop.customer_code}"]').first.click()
    page.get_by_test_id("visit-customer").wait_for()
    assert page.get_by_test_id("visit-customer").inner_text() == "街角烟酒店"
    # ... and tomorrow's agenda and shop too; a page that was not kept says so.
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    page.goto(f"{base}/visits/?day={tomorrow}")
    assert "明天便利店" in page.get_by_test_id("agenda-planned").inner_text()
    page.goto(f"{base}/visits/all/")
    page.get_by_text("This page was not kept on this phone.").wait_for()
    page.go_back()
    page.go_back()
    page.get_by_test_id("visit-customer").wait_for()

    # A visit with a photo, checked in and out with a tap.
    page.get_by_test_id("check-in").click()
    page.get_by_test_id("check-status").get_by_text("Checked in at").wait_for()
    page.fill("#id_purpose", "Offline round")
    page.set_input_files("#id_photo", str(road["photo"]))
    page.get_by_test_id("check-out").click()
    assert page.input_value("#id_ended_at")
    page.get_by_test_id("save-visit").click()

    # The page says it waits on the phone: 1 visit, with its photo.
    outbox = kept_with_a_photo(page)

    # The network returns: the visit is sent, stored once with its photo, and the page says so.
    page.context.set_offline(False)
    outbox.get_by_text("1 visit logged without a connection was sent.").wait_for()
    page.get_by_test_id("send-status").get_by_text("The visit was sent").wait_for()
    visit = Visit.objects.get()
    assert visit.purpose == "Offline round"
    assert visit.photo and visit.photo_thumbnail
    assert visit.ended_at is not None and visit.latitude is not None
    # the taps' times are the site's wall-clock time, whatever the phone's zone
    assert abs(visit.visited_at - timezone.now()) < dt.timedelta(minutes=5)
    road["plan"].refresh_from_db()
    assert road["plan"].visit_id == visit.pk

    # Another page after: still one visit, the sent one listed with a link to it.
    page.goto(f"{base}/visits/")
    page.get_by_test_id("offline-kept").wait_for()  # the day's pages kept again
    sent = page.get_by_test_id("outbox-sent")
    assert "街角烟酒店" in sent.inner_text()
    assert sent.locator("a").get_attribute("href") == f"/visits/{visit.pk}/"
    assert Visit.objects.count() == 1


def queue_a_visit(page, base, shop, purpose, photo=None):
    """With the day's pages kept, the network cut: a visit saved on the form (kept copy), which
    waits in the outbox. Returns the outbox panel."""
    load_agenda_online(page, base)
    page.context.set_offline(True)
    page.goto(f"{base}/visits/log/?customer={shop.customer_code}")
    page.fill("#id_purpose", purpose)
    if photo is not None:
        page.set_input_files("#id_photo", str(photo))
    page.get_by_test_id("save-visit").click()
    outbox = page.get_by_test_id("outbox")
    outbox.get_by_text("1 visit is waiting to be sent.").wait_for()
    return outbox


def test_a_queued_visit_sent_twice_is_stored_once(live_server, page, road):
    base = live_server.url
    # given: a visit queued with no network, and the same draft queued a second time (as if
    # the phone had stopped between a sending and the item's removal)
    outbox = queue_a_visit(page, base, road["today"], "Queued twice", road["photo"])
    page.evaluate("() => window.crmOutbox.add(document.getElementById('visit-form'), 'again')")
    outbox.get_by_text("2 visits are waiting to be sent.").wait_for()

    # when: the network returns, and two sendings are asked for at once
    page.context.set_offline(False)
    page.evaluate("() => Promise.all([window.crmOutbox.flush(), window.crmOutbox.flush()])")

    # then: both items are sent (the second answered "saved already"), one visit is stored
    outbox.get_by_text("1 visit logged without a connection was sent.").wait_for()
    assert page.get_by_test_id("outbox-waiting").count() == 0
    visit = Visit.objects.get()
    assert visit.purpose == "Queued twice" and visit.photo


def test_a_queued_visit_waits_while_the_session_has_ended(live_server, page, road):
    base = live_server.url
    outbox = queue_a_visit(page, base, road["today"], "After sign-in")

    # when: the session ends on the server, then the network returns
    page.context.clear_cookies()
    page.context.set_offline(False)

    # then: the visit stays, and the page says to sign in again
    outbox.get_by_text("Your session has ended").wait_for()
    assert not Visit.objects.exists()

    # once signed in again, it goes from the first page (with the new session's CSRF token)
    sign_in(page, base, "am")
    page.get_by_test_id("outbox").get_by_text(
        "1 visit logged without a connection was sent."
    ).wait_for()
    assert Visit.objects.get().purpose == "After sign-in"


def test_each_opening_of_the_kept_form_is_a_draft_of_its_own(live_server, page, road):
    # The kept copy of the form carries the draft id and time of the moment it was kept: two
    # visits logged from it must not be taken for one sent twice.
    base = live_server.url
    load_agenda_online(page, base)
    page.context.set_offline(True)
    url = f"{base}/visits/log/?customer={road['today'].customer_code}"
    page.goto(url)
    first = page.input_value("#id_client_id")
    page.goto(url)
    second = page.input_value("#id_client_id")
    kept = page.evaluate(
        """async (url) => {
            const html = await (await (await caches.open("crm-pages")).match(url)).text();
            return html.match(/name="client_id" value="([^"]+)"/)[1];
        }""",
        url,
    )
    assert len({first, second, kept}) == 3
