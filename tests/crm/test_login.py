"""Signing in and out, failed-login throttling, CSRF."""

import pytest
from django.test import Client
from django.urls import reverse

from crm.choices import Role
from tests.crm.factories import TEST_PASSWORD


@pytest.fixture
def am(areas, make_user):
    return make_user(Role.ACCOUNT_MANAGER, [areas["TH"]], username="am_test", name="张伟")


def sign_in(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_login_page_renders_form(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert b'name="username"' in response.content
    assert b'name="csrfmiddlewaretoken"' in response.content


def test_anonymous_user_is_sent_to_login(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_correct_password_signs_in_and_lands_on_home(client, am):
    response = sign_in(client, "am_test", TEST_PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    home = client.get(reverse("home"))
    assert "张伟" in home.content.decode()


def test_username_is_case_insensitive(client, am):
    assert sign_in(client, "AM_Test", TEST_PASSWORD).status_code == 302


def test_wrong_password_shows_error_and_stays_signed_out(client, am):
    response = sign_in(client, "am_test", "wrong")
    assert response.status_code == 200
    assert b'data-testid="login-error"' in response.content
    assert client.get(reverse("home")).status_code == 302


def test_integration_client_cannot_sign_in_to_pages(client, make_user):
    make_user(Role.INTEGRATION_CLIENT, username="erp")
    response = sign_in(client, "erp", TEST_PASSWORD)
    assert response.status_code == 200
    assert "API client" in response.content.decode()


def test_repeated_failures_lock_the_account_even_for_the_right_password(client, am, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "am_test", "wrong").status_code == 200
    locked = sign_in(client, "am_test", "wrong")
    assert locked.status_code == 429
    assert b'data-testid="lockout"' in locked.content
    assert sign_in(client, "am_test", TEST_PASSWORD).status_code == 429


def test_lockout_is_per_username_and_address(client, am, make_user, settings):
    other = make_user(Role.ACCOUNT_MANAGER, username="other")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "am_test", "wrong")
    assert sign_in(client, other.username, TEST_PASSWORD).status_code == 302


def test_success_resets_the_failure_count(client, am, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "am_test", "wrong")
    assert sign_in(client, "am_test", TEST_PASSWORD).status_code == 302
    client.post(reverse("logout"))
    assert sign_in(client, "am_test", "wrong").status_code == 200  # not locked yet


def test_logout_needs_post_and_ends_the_session(client, am):
    client.force_login(am)
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 302


def test_forms_are_protected_against_csrf(am):
    strict = Client(enforce_csrf_checks=True)
    assert (
        strict.post(
            reverse("login"), {"username": "am_test", "password": TEST_PASSWORD}
        ).status_code
        == 403
    )
    strict.force_login(am)
    assert strict.post(reverse("logout")).status_code == 403
    assert strict.post(reverse("set_language"), {"language": "zh-hans"}).status_code == 403


def test_login_with_csrf_token_works_under_strict_checks(am):
    strict = Client(enforce_csrf_checks=True)
    page = strict.get(reverse("login"))
    token = page.cookies["csrftoken"].value
    response = strict.post(
        reverse("login"),
        {"username": "am_test", "password": TEST_PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302
