"""Passwords in headless Chromium at a phone's width: an account manager changes theirs from
the user menu; an administrator makes a reset link, and the user sets a password with it and
signs in. The `journey` fixture fails on console errors and requests to other hosts."""

import pytest

from crm.choices import Role
from tests.browser.test_journeys import sign_in
from tests.crm.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "violet-tangerine-41"


def open_user_menu(page) -> None:
    """At a phone's width the navigation (with the user menu) is folded behind the toggler."""
    page.click(".navbar-toggler")
    page.locator(".navbar-collapse.show").wait_for()  # a click mid-animation can be lost
    page.get_by_test_id("current-user").click()


def test_an_account_manager_changes_their_password_on_a_phone(
    live_server, page, journey, make_user, areas
):
    make_user(Role.ACCOUNT_MANAGER, [areas["TH"]], username="zhangwei", name="张伟")
    base = live_server.url

    journey.step("sign in")
    sign_in(page, base, "zhangwei")

    journey.step("open the user menu")
    open_user_menu(page)
    page.get_by_role("link", name="Change password").wait_for()
    page.screenshot(path=_shot("user-menu-phone.png"))
    page.get_by_role("link", name="Change password").click()
    page.get_by_test_id("password-change-form").wait_for()

    journey.step("a wrong old password")
    page.fill("#id_old_password", "not-mine")
    page.fill("#id_new_password1", NEW_PASSWORD)
    page.fill("#id_new_password2", NEW_PASSWORD)
    page.get_by_test_id("password-change-save").click()
    page.get_by_test_id("error-old_password").wait_for()

    journey.step("a too simple new password")
    page.fill("#id_old_password", TEST_PASSWORD)
    page.fill("#id_new_password1", "12345678")
    page.fill("#id_new_password2", "12345678")
    page.get_by_test_id("password-change-save").click()
    page.get_by_text("This password is entirely numeric.").wait_for()
    page.screenshot(path=_shot("password-change-phone.png"), full_page=True)

    journey.step("a good one")
    page.fill("#id_old_password", TEST_PASSWORD)
    page.fill("#id_new_password1", NEW_PASSWORD)
    page.fill("#id_new_password2", NEW_PASSWORD)
    page.get_by_test_id("password-change-save").click()
    page.get_by_test_id("home-title").wait_for()
    assert "Your password was changed." in page.get_by_role("alert").inner_text()

    journey.step("still signed in")
    page.reload()
    page.get_by_test_id("home-title").wait_for()
    journey.check()


def test_an_administrator_makes_a_reset_link_and_the_user_uses_it(
    live_server, browser, page, journey, make_user, areas
):
    make_user(Role.ADMINISTRATOR, username="admin_b", name="管理员")
    user = make_user(
        Role.LICENSE_OFFICER, [areas["TH"]], username="sunli", name="孙丽", email="sl@example.com"
    )
    base = live_server.url

    journey.step("the administrator opens the user's page")
    sign_in(page, base, "admin_b")
    page.goto(f"{base}/admin/crm/user/{user.pk}/change/")
    page.get_by_test_id("create-reset-link").click()

    journey.step("confirm")
    page.get_by_test_id("reset-link-form").wait_for()
    page.get_by_test_id("reset-link-create").click()
    link = page.get_by_test_id("reset-link").input_value().strip()
    assert "/reset/" in link
    assert "sl@example.com" in page.get_by_test_id("reset-mail").inner_text()
    page.screenshot(path=_shot("password-reset-link-phone.png"), full_page=True)
    journey.check()

    # The user, on their own phone, not signed in.
    context = browser.new_context(locale="en-US", viewport={"width": 390, "height": 844})
    phone = context.new_page()
    try:
        phone.goto(link)
        phone.get_by_test_id("password-reset-form").wait_for()
        assert "/set-password/" in phone.url  # the token left the address bar
        phone.fill("#id_new_password1", NEW_PASSWORD)
        phone.fill("#id_new_password2", NEW_PASSWORD)
        phone.get_by_test_id("password-reset-save").click()
        phone.wait_for_url("**/login/")
        assert "Your new password is set." in phone.get_by_role("alert").inner_text()
        phone.screenshot(path=_shot("password-reset-done-phone.png"), full_page=True)
        phone.fill("#id_username", "sunli")
        phone.fill("#id_password", NEW_PASSWORD)
        phone.press("#id_password", "Enter")
        phone.get_by_test_id("home-title").wait_for()

        phone.goto(link)
        phone.get_by_test_id("invalid-link").wait_for()
    finally:
        context.close()


def _shot(name: str) -> str:
    """Where a screen of a passing run is kept for a person to look at (test-artifacts/)."""
    from tests.browser.conftest import ARTIFACTS

    ARTIFACTS.mkdir(exist_ok=True)
    return str(ARTIFACTS / name)
