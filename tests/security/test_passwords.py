"""Passwords as an attacker sees them: the change form needs the old password and is
throttled like the sign-in page, changing it ends the other sessions, only administrators
make reset links, a link works once for its own user and not after it expired, no token
reaches the audit log, and one address spraying a password over many usernames is locked
while other addresses still sign in."""

from __future__ import annotations

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.tokens import PasswordResetTokenGenerator, default_token_generator
from django.core import mail
from django.test import Client
from django.urls import reverse

from crm import services
from crm.choices import Role
from crm.exceptions import DomainError
from crm.models import AuditEntry, User
from tests.crm.factories import TEST_PASSWORD, password_reset_path, reset_link_on

NEW_PASSWORD = "violet-tangerine-41"


@pytest.fixture
def am(make_user, areas):
    return make_user(Role.ACCOUNT_MANAGER, [areas["TH"]], username="am_pw", email="am@example.com")


@pytest.fixture
def admin(make_user):
    return make_user(Role.ADMINISTRATOR, username="admin_pw")


def client_from(address: str, **extra) -> Client:
    return Client(REMOTE_ADDR=address, **extra)


def sign_in(client: Client, username: str, password: str):
    return client.post(reverse("login"), {"username": username, "password": password})


def change(client: Client, old: str, new: str = NEW_PASSWORD, new2: str | None = None):
    return client.post(
        reverse("password_change"),
        {"old_password": old, "new_password1": new, "new_password2": new2 or new},
    )


def use_link(client: Client, url: str, password: str = NEW_PASSWORD):
    """Opens the link (the token moves into the session), then posts the new password."""
    opened = client.get(url)
    assert opened.status_code == 302, opened.status_code
    form_url = opened["Location"]
    return client.post(form_url, {"new_password1": password, "new_password2": password})


def created_link(client: Client, user: User) -> str:
    response = client.post(reverse("crm:user_password_reset", args=[user.pk]))
    assert response.status_code == 200
    return reset_link_on(response)


# --- changing one's own password -----------------------------------------------------------


def test_change_requires_the_old_password(am):
    # given
    client = client_from("10.1.0.1")
    client.force_login(am)
    # when
    response = change(client, "not-my-password")
    # then
    am.refresh_from_db()
    assert response.status_code == 200
    assert b'data-testid="error-old_password"' in response.content
    assert am.check_password(TEST_PASSWORD)


@pytest.mark.parametrize(
    ("new", "message"),
    [
        ("x7!", "This password is too short."),
        ("password123", "This password is too common."),
        ("83920174651", "This password is entirely numeric."),
        ("am_pw_123", "too similar to the username"),
    ],
)
def test_change_enforces_the_password_validators(am, new, message):
    client = client_from("10.1.0.2")
    client.force_login(am)
    response = change(client, TEST_PASSWORD, new)
    am.refresh_from_db()
    assert message in response.content.decode()
    assert am.check_password(TEST_PASSWORD)


def test_change_keeps_this_session_and_ends_the_others(am):
    # given: the user is signed in on a phone and on a computer
    phone, computer = client_from("10.1.0.3"), client_from("10.1.0.4")
    assert sign_in(phone, "am_pw", TEST_PASSWORD).status_code == 302
    assert sign_in(computer, "am_pw", TEST_PASSWORD).status_code == 302
    # when: the password is changed on the phone
    response = change(phone, TEST_PASSWORD)
    # then
    assert response.status_code == 302
    assert phone.get(reverse("home")).status_code == 200
    assert computer.get(reverse("home"))["Location"].startswith(reverse("login"))
    assert sign_in(client_from("10.1.0.5"), "am_pw", NEW_PASSWORD).status_code == 302


def test_wrong_old_passwords_lock_out_like_the_sign_in_page(am, settings):
    """The change form is no password oracle for someone holding a session: its failures
    count as failed sign-ins of that user from that address."""
    client = client_from("10.1.0.6")
    client.force_login(am)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert change(client, "guess").status_code == 200
    assert change(client, "guess").status_code == 429
    # even the right old password is refused now, and so is signing in from that address
    assert change(client, TEST_PASSWORD).status_code == 429
    assert sign_in(client_from("10.1.0.6"), "am_pw", TEST_PASSWORD).status_code == 429
    am.refresh_from_db()
    assert am.check_password(TEST_PASSWORD)


def test_failed_changes_leave_no_password_in_the_sign_in_records(am):
    """django-axes keeps the request data of each failure: the old and new passwords the
    change form posted are masked there, like the sign-in form's password."""
    client = client_from("10.1.0.7")
    client.force_login(am)
    change(client, "my-old-secret-guess", "my-new-secret-value")
    records = AccessAttempt.objects.filter(ip_address="10.1.0.7")
    assert records.exists()
    for record in records:
        assert "my-old-secret-guess" not in record.post_data
        assert "my-new-secret-value" not in record.post_data


def test_integration_clients_and_anonymous_cannot_change_passwords(make_user):
    client_user = make_user(Role.INTEGRATION_CLIENT, username="erp_pw")
    machine = Client()
    machine.force_login(client_user)
    assert change(machine, TEST_PASSWORD).status_code == 403
    anonymous = change(Client(), TEST_PASSWORD)
    assert anonymous["Location"].startswith(reverse("login"))


# --- reset links: who makes them -------------------------------------------------------------


@pytest.mark.parametrize(
    "role", [Role.ACCOUNT_MANAGER, Role.SUPERVISOR, Role.LICENSE_OFFICER, Role.INTEGRATION_CLIENT]
)
def test_only_administrators_create_reset_links(make_user, areas, am, role):
    someone = make_user(role, [areas["TH"]])
    client = Client()
    client.force_login(someone)
    url = reverse("crm:user_password_reset", args=[am.pk])
    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 403
    assert len(mail.outbox) == 0
    assert not AuditEntry.objects.filter(field="password_reset_link").exists()


def test_anonymous_is_sent_to_sign_in_for_reset_links(am):
    response = Client().post(reverse("crm:user_password_reset", args=[am.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert len(mail.outbox) == 0


def test_an_administrator_cannot_make_a_link_for_a_superuser(make_user, admin):
    root = make_user(Role.ADMINISTRATOR, username="root_pw", is_superuser=True)
    client = Client()
    client.force_login(admin)
    response = client.post(reverse("crm:user_password_reset", args=[root.pk]))
    assert b'data-testid="reset-refused"' in response.content
    assert b"/reset/" not in response.content


# --- reset links: what they do -------------------------------------------------------------------


def test_a_link_works_once(am, admin):
    # given
    staff = Client()
    staff.force_login(admin)
    link = created_link(staff, am)
    holder = client_from("10.2.0.1")
    # when
    done = use_link(holder, link)
    # then
    assert done["Location"] == reverse("login")
    am.refresh_from_db()
    assert am.check_password(NEW_PASSWORD)
    again = client_from("10.2.0.2").get(link)
    assert again.status_code == 200
    assert b'data-testid="invalid-link"' in again.content


def test_a_second_submission_of_an_opened_link_is_refused(am):
    """Two tabs opened the link; the first sets the password, the second cannot."""
    link = password_reset_path(am)
    first, second = client_from("10.2.0.3"), client_from("10.2.0.3")
    form_url = first.get(link)["Location"]
    assert second.get(link)["Location"] == form_url
    data = {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    assert first.post(form_url, data).status_code == 302
    other = "another-quince-88"
    refused = second.post(form_url, {"new_password1": other, "new_password2": other})
    assert refused.status_code == 200
    am.refresh_from_db()
    assert am.check_password(NEW_PASSWORD)


def test_a_link_stops_working_after_the_timeout(am, monkeypatch, settings):
    link = password_reset_path(am)
    # naive, like the token generator's own clock
    later = dt.datetime.now() + dt.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 60)  # noqa: DTZ005
    monkeypatch.setattr(PasswordResetTokenGenerator, "_now", lambda self: later)
    response = client_from("10.2.0.4").get(link)
    assert b'data-testid="invalid-link"' in response.content


def test_a_link_stops_working_once_the_password_changed(am):
    link = password_reset_path(am)
    client = client_from("10.2.0.5")
    client.force_login(am)
    assert change(client, TEST_PASSWORD).status_code == 302
    assert b'data-testid="invalid-link"' in client_from("10.2.0.6").get(link).content


def test_a_link_does_not_work_for_another_user(am, make_user):
    other = make_user(Role.ACCOUNT_MANAGER, username="other_pw")
    token_of_am = default_token_generator.make_token(am)
    response = client_from("10.2.0.7").get(password_reset_path(other, token_of_am))
    assert b'data-testid="invalid-link"' in response.content
    other.refresh_from_db()
    assert other.check_password(TEST_PASSWORD)


def test_the_link_page_enforces_the_validators(am):
    response = use_link(client_from("10.2.0.8"), password_reset_path(am), password="12345678")
    assert response.status_code == 200
    assert "This password is entirely numeric." in response.content.decode()
    am.refresh_from_db()
    assert am.check_password(TEST_PASSWORD)


def test_no_token_in_the_audit_log_or_the_link_page_cache(am, admin):
    staff = Client()
    staff.force_login(admin)
    response = staff.post(reverse("crm:user_password_reset", args=[am.pk]))
    link = reset_link_on(response)
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert "no-store" in response["Cache-Control"]
    use_link(client_from("10.2.0.9"), link)
    rows = AuditEntry.objects.filter(object_id=str(am.pk))
    assert {(row.actor_label, row.field) for row in rows} == {
        ("admin_pw", "password_reset_link"),
        ("am_pw", "password"),
    }
    for row in rows:
        assert token not in f"{row.old_value} {row.new_value} {row.reason} {row.object_repr}"


def test_invalid_links_are_throttled_per_address(am, settings):
    """Guessing tokens from one address ends at the lockout page; a valid link from another
    address still works."""
    prober = client_from("10.3.0.1")
    bad = password_reset_path(am, "cbd-0123456789abcdef0123456789abcdef")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert prober.get(bad).status_code == 200
    assert prober.get(bad).status_code == 429
    assert prober.get(password_reset_path(am)).status_code == 429
    assert use_link(client_from("10.3.0.2"), password_reset_path(am)).status_code == 302


# --- password spraying -------------------------------------------------------------------------


def test_spraying_one_address_is_locked_while_another_still_signs_in(make_user, am, settings):
    # given: one address tries one password against many usernames, each under its own limit
    sprayer = client_from("10.4.0.1")
    for n in range(settings.AXES_ADDRESS_FAILURE_LIMIT - 1):
        assert sign_in(sprayer, f"someone{n}", "Spring2024!").status_code == 200
    # when: the limit is reached
    locked = sign_in(sprayer, "someone_else", "Spring2024!")
    # then: the address is refused, even for a real account's right password
    assert locked.status_code == 429
    assert b'data-testid="lockout"' in locked.content
    assert sign_in(client_from("10.4.0.1"), "am_pw", TEST_PASSWORD).status_code == 429
    assert sign_in(client_from("10.4.0.2"), "am_pw", TEST_PASSWORD).status_code == 302


def test_a_success_does_not_clear_the_address_count(make_user, am, settings):
    """A sprayer holding one valid account cannot reset its address's count by signing in."""
    sprayer = client_from("10.4.0.3")
    for n in range(settings.AXES_ADDRESS_FAILURE_LIMIT - 1):
        sign_in(sprayer, f"someone{n}", "Spring2024!")
    assert sign_in(client_from("10.4.0.3"), "am_pw", TEST_PASSWORD).status_code == 302
    assert sign_in(sprayer, "one_more", "Spring2024!").status_code == 429


def test_behind_trusted_proxies_each_client_address_counts_apart(am, settings):
    """With TRUSTED_PROXY_COUNT=1 every request comes from the proxy's address; the client is
    the last X-Forwarded-For entry (the one the proxy wrote), whatever the client put before."""
    settings.TRUSTED_PROXY_COUNT = 1

    def via_proxy(client_ip: str, spoofed: str = "") -> Client:
        forwarded = f"{spoofed}, {client_ip}" if spoofed else client_ip
        return client_from("10.9.9.9", HTTP_X_FORWARDED_FOR=forwarded)

    for n in range(settings.AXES_ADDRESS_FAILURE_LIMIT):
        # a different spoofed entry each time does not make a different client
        sign_in(via_proxy("198.51.100.7", spoofed=f"192.0.2.{n}"), f"someone{n}", "Spring2024!")
    assert sign_in(via_proxy("198.51.100.7"), "am_pw", TEST_PASSWORD).status_code == 429
    assert sign_in(via_proxy("198.51.100.8"), "am_pw", TEST_PASSWORD).status_code == 302


@pytest.mark.parametrize("kind", ["inactive", "client"])
def test_a_valid_token_sets_no_password_of_a_deactivated_account_or_a_machine(make_user, kind):
    """Links are made for active people only; a token for anyone else (made before the account
    was deactivated, or forged with the secret key) opens nothing, on the page or the service."""
    target = (
        make_user(Role.ACCOUNT_MANAGER, username="gone_pw", is_active=False)
        if kind == "inactive"
        else make_user(Role.INTEGRATION_CLIENT, username="erp_link")
    )
    token = default_token_generator.make_token(target)
    page = client_from("10.2.1.1").get(password_reset_path(target, token))
    assert b'data-testid="invalid-link"' in page.content
    with pytest.raises(DomainError, match="already been used or has expired"):
        services.user_password_reset(user=target, token=token, password=NEW_PASSWORD)
    target.refresh_from_db()
    assert not target.check_password(NEW_PASSWORD)
