"""The real sign-in page in headless Chromium, at a phone's width."""

import pytest

from crm.choices import Role
from tests.crm.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_in_switch_language_and_sign_out(live_server, page, make_user, areas):
    make_user(Role.SUPERVISOR, [areas["GZ"]], username="sup", name="陈静")
    make_user(Role.ACCOUNT_MANAGER, [areas["TH"]], name="张伟")

    page.goto(f"{live_server.url}/")
    assert "/login/" in page.url

    page.fill("#id_username", "sup")
    page.fill("#id_password", "wrong password")
    page.click("button[type=submit]:has-text('Sign in')")
    # wait_for: is_visible() does not wait for the answer to the POST (flaky under load).
    page.get_by_test_id("login-error").wait_for()

    page.fill("#id_username", "sup")
    page.fill("#id_password", TEST_PASSWORD)
    page.click("button[type=submit]:has-text('Sign in')")
    page.get_by_test_id("home-title").wait_for()
    assert "陈静" in page.get_by_test_id("home-title").inner_text()
    assert "张伟" in page.get_by_test_id("my-team").inner_text()

    # At a phone's width the navigation is collapsed behind the toggler.
    nav = page.get_by_test_id("main-nav")
    assert not nav.is_visible()
    page.click(".navbar-toggler")
    page.locator(".navbar-collapse.show").wait_for()  # menu fully open
    nav.get_by_role("link", name="Areas & team").click()  # the visible entry, not "More"'s
    assert page.get_by_test_id("area-table").is_visible()

    page.click(".navbar-toggler")
    page.locator(".navbar-collapse.show").wait_for()  # menu fully open
    page.get_by_test_id("language-switcher").get_by_text("简体中文").click()
    page.get_by_role("heading", name="区域与团队").wait_for()

    page.click(".navbar-toggler")
    page.locator(".navbar-collapse.show").wait_for()  # menu fully open
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_url("**/login/")
    assert page.get_by_role("heading", name="登录").is_visible()
