"""Changing one's password and administrators' reset links, as people use them: the user
menu, the messages (English and Chinese), the confirmation step, the email, the audit rows.
The attacker's view of the same pages is in tests/security/test_passwords.py."""

from __future__ import annotations

import smtplib

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import translation

from crm import services
from crm.choices import AuditAction, AuditSource, Role
from crm.exceptions import DomainError
from crm.models import AuditEntry
from tests.crm.factories import TEST_PASSWORD, password_reset_path, reset_link_on

NEW_PASSWORD = "violet-tangerine-41"


@pytest.fixture
def am(make_user, areas):
    return make_user(
        Role.ACCOUNT_MANAGER,
        [areas["TH"]],
        username="zhangwei",
        name="张伟",
        email="zw@example.com",
    )


@pytest.fixture
def admin_client(make_user):
    client = Client()
    client.force_login(make_user(Role.ADMINISTRATOR, username="admin_a"))
    return client


@pytest.fixture
def chinese_client(client):
    """A client asking for Chinese. Afterwards the thread speaks the default language again:
    a request leaves its language active, and later tests expect English."""
    client.cookies["django_language"] = "zh-hans"
    yield client
    translation.activate(settings.LANGUAGE_CODE)


# --- the user menu and the change page ---------------------------------------------------------


@pytest.mark.parametrize(
    "role", [Role.ACCOUNT_MANAGER, Role.SUPERVISOR, Role.LICENSE_OFFICER, Role.ADMINISTRATOR]
)
def test_every_person_reaches_the_change_page_from_the_user_menu(client, make_user, areas, role):
    client.force_login(make_user(role, [areas["TH"]]))
    home = client.get(reverse("home")).content.decode()
    menu = home[home.index('data-testid="user-menu"') :]
    assert f'href="{reverse("password_change")}"' in menu[: menu.index("</ul>")]
    page = client.get(reverse("password_change"))
    assert page.status_code == 200
    assert b'name="old_password"' in page.content
    assert b'name="new_password2"' in page.content


def test_a_change_says_so_and_is_audited(client, am):
    client.force_login(am)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": TEST_PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
        follow=True,
    )
    assert "Your password was changed." in response.content.decode()
    row = AuditEntry.objects.get(object_id=str(am.pk), field="password")
    assert (row.actor_id, row.source, row.action, row.old_value, row.new_value, row.reason) == (
        am.pk,
        AuditSource.PAGE,
        AuditAction.UPDATE,
        None,
        None,
        "Changed by the user",
    )


def test_mismatched_new_passwords_are_refused(client, am):
    client.force_login(am)
    response = client.post(
        reverse("password_change"),
        {"old_password": TEST_PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": "other"},
    )
    assert b'data-testid="error-new_password2"' in response.content
    assert not AuditEntry.objects.filter(field="password").exists()


def test_validator_messages_are_in_chinese(chinese_client, am):
    client = chinese_client
    client.force_login(am)
    page = client.get(reverse("password_change")).content.decode()
    assert "修改密码" in page
    response = client.post(
        reverse("password_change"),
        {"old_password": "wrong", "new_password1": "12345678", "new_password2": "12345678"},
    )
    html = response.content.decode()
    assert "密码只包含数字。" in html  # Django's own translation of the numeric validator
    assert "你的旧密码不正确" in html


# --- reset links, from the administrator's side -------------------------------------------------


def test_the_user_admin_page_offers_a_reset_link(admin_client, am):
    page = admin_client.get(reverse("admin:crm_user_change", args=[am.pk])).content.decode()
    assert f'href="{reverse("crm:user_password_reset", args=[am.pk])}"' in page


def test_the_first_step_only_explains(admin_client, am):
    response = admin_client.get(reverse("crm:user_password_reset", args=[am.pk]))
    html = response.content.decode()
    assert "It does not change the password by itself" in html
    assert "zw@example.com" in html
    assert "/reset/" not in html
    assert not AuditEntry.objects.filter(field="password_reset_link").exists()
    assert len(mail.outbox) == 0


def test_creating_a_link_shows_it_mails_it_and_audits_it(admin_client, am):
    response = admin_client.post(reverse("crm:user_password_reset", args=[am.pk]))
    link = reset_link_on(response)
    assert link.startswith("http://testserver/reset/")
    assert b'data-testid="reset-mail"' in response.content
    assert "It was also sent by email to zw@example.com." in response.content.decode()
    (message,) = mail.outbox
    assert message.to == ["zw@example.com"]
    assert message.subject == "Set your CRM password / 设置您的 CRM 密码"
    assert message.body.count(link) == 2  # in English and in Chinese
    assert "zhangwei" in message.body
    row = AuditEntry.objects.get(field="password_reset_link")
    assert (row.actor_label, row.object_id, row.new_value["emailed_to"]) == (
        "admin_a",
        str(am.pk),
        "zw@example.com",
    )
    am.refresh_from_db()
    assert am.check_password(TEST_PASSWORD)  # the link changes nothing by itself


def test_without_an_email_address_the_link_is_only_shown(admin_client, make_user):
    someone = make_user(Role.SUPERVISOR, username="nomail", name="王芳", email="")
    response = admin_client.post(reverse("crm:user_password_reset", args=[someone.pk]))
    reset_link_on(response)
    assert "王芳 has no email address" in response.content.decode()
    assert len(mail.outbox) == 0


def test_without_a_mail_server_nothing_pretends_to_send(admin_client, am, settings):
    settings.EMAIL_ENABLED = False
    confirm = admin_client.get(reverse("crm:user_password_reset", args=[am.pk]))
    assert "also sent by email" not in confirm.content.decode()
    response = admin_client.post(reverse("crm:user_password_reset", args=[am.pk]))
    reset_link_on(response)
    assert "No mail server is configured (EMAIL_URL)" in response.content.decode()
    assert len(mail.outbox) == 0
    assert AuditEntry.objects.get(field="password_reset_link").new_value["emailed_to"] is None


def test_the_console_backend_is_not_called_delivery(admin_client, am, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    response = admin_client.post(reverse("crm:user_password_reset", args=[am.pk]))
    assert "printed in the server's log, not delivered" in response.content.decode()


def test_a_failing_mail_server_still_shows_the_link(admin_client, am, monkeypatch):
    def refuse(*args, **kwargs):
        raise smtplib.SMTPServerDisconnected("gone")

    monkeypatch.setattr(services, "send_mail", refuse)
    response = admin_client.post(reverse("crm:user_password_reset", args=[am.pk]))
    reset_link_on(response)
    assert "could not be sent" in response.content.decode()
    assert AuditEntry.objects.get(field="password_reset_link").new_value["emailed_to"] is None


@pytest.mark.parametrize(
    ("kind", "message"),
    [("inactive", "is deactivated"), ("client", "is an integration client")],
)
def test_no_link_for_a_deactivated_account_or_a_machine(admin_client, make_user, kind, message):
    target = (
        make_user(Role.ACCOUNT_MANAGER, username="gone", is_active=False)
        if kind == "inactive"
        else make_user(Role.INTEGRATION_CLIENT, username="erp_x")
    )
    for response in (
        admin_client.get(reverse("crm:user_password_reset", args=[target.pk])),
        admin_client.post(reverse("crm:user_password_reset", args=[target.pk])),
    ):
        assert message in response.content.decode()
        assert b"reset-link-create" not in response.content
    assert not AuditEntry.objects.filter(field="password_reset_link").exists()


# --- reset links, from the user's side -----------------------------------------------------------


def test_the_user_sets_a_password_and_then_signs_in(admin_client, am):
    link = reset_link_on(admin_client.post(reverse("crm:user_password_reset", args=[am.pk])))
    user = Client()
    form = user.get(link, follow=True)
    assert "zhangwei" in form.content.decode()
    done = user.post(
        form.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )
    assert "Your new password is set. Sign in with it." in done.content.decode()
    signed_in = user.post(reverse("login"), {"username": "zhangwei", "password": NEW_PASSWORD})
    assert signed_in.status_code == 302
    row = AuditEntry.objects.get(object_id=str(am.pk), field="password")
    assert (row.actor_id, row.reason) == (am.pk, "Set with a password reset link")


def test_a_reset_lifts_the_sign_in_lockout(admin_client, am, settings):
    """Locked out after too many wrong passwords, the user gets a link and signs in at once."""
    user = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        user.post(reverse("login"), {"username": "zhangwei", "password": "wrong"})
    link = reset_link_on(admin_client.post(reverse("crm:user_password_reset", args=[am.pk])))
    form_url = user.get(link)["Location"]
    user.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    signed_in = user.post(reverse("login"), {"username": "zhangwei", "password": NEW_PASSWORD})
    assert signed_in.status_code == 302


def test_the_link_page_in_chinese(chinese_client, am):
    user = chinese_client
    html = user.get(password_reset_path(am), follow=True).content.decode()
    assert "设置新密码" in html
    invalid = user.get(password_reset_path(am, "abc-123")).content.decode()
    assert "此链接无效" in invalid


def test_jobs_and_commands_make_no_links(am, system_actor):
    with pytest.raises(DomainError, match="Only administrators"):
        services.password_reset_link_create(
            user=am, actor=system_actor, link_for=lambda uid, token: f"/reset/{uid}/{token}/"
        )
    assert not AuditEntry.objects.filter(field="password_reset_link").exists()
