"""The deployment settings pass Django's security checks, and the running product sends the
security headers, an HttpOnly session cookie, and throttles failed sign-ins (django-axes)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from crm.choices import Role
from tests.crm.factories import TEST_PASSWORD

ROOT = Path(__file__).resolve().parents[2]


def test_production_settings_pass_check_deploy(tmp_path):
    """`manage.py check --deploy --fail-level WARNING` with crm.settings.production and the
    environment an operator gives it (no DJANGO_HTTPS: the default, HTTPS behind a proxy)."""
    # Not the test process's own switches: the browser tests set DJANGO_ALLOW_ASYNC_UNSAFE for
    # the session, which check --deploy rightly refuses.
    test_only = ("DJANGO_HTTPS", "DJANGO_DEBUG", "SECURE_HSTS_SECONDS", "DJANGO_ALLOW_ASYNC_UNSAFE")
    env = {key: value for key, value in os.environ.items() if key not in test_only}
    env.update(
        DJANGO_SETTINGS_MODULE="crm.settings.production",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="crm.example.com",
        DATABASE_URL=f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
        CACHE_URL="locmemcache://deploy",
        CRM_VAR_DIR=str(tmp_path),
        STATIC_ROOT=str(tmp_path / "static"),
    )
    result = subprocess.run(  # noqa: S603 (our own manage.py, fixed arguments)
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.fixture
def person(make_user, areas):
    return make_user(Role.ACCOUNT_MANAGER, [areas["TH"]], username="am_sec")


def test_security_headers_on_a_page(client):
    response = client.get(reverse("login"))
    assert (
        response.status_code,
        response["X-Content-Type-Options"],
        response["Referrer-Policy"],
        response["X-Frame-Options"],
    ) == (200, "nosniff", "same-origin", "DENY")


def test_session_cookie_is_http_only(client, person):
    response = client.post(
        reverse("login"), {"username": "am_sec", "password": TEST_PASSWORD}, REMOTE_ADDR="10.0.0.9"
    )
    assert response.status_code == 302
    assert response.cookies[settings.SESSION_COOKIE_NAME]["httponly"] is True


def test_failed_sign_ins_lock_the_username_out(client, person):
    """After AXES_FAILURE_LIMIT wrong passwords, even the right one is refused (django-axes)."""
    login = reverse("login")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(login, {"username": "am_sec", "password": "wrong"}, REMOTE_ADDR="10.0.0.7")
    response = client.post(
        login, {"username": "am_sec", "password": TEST_PASSWORD}, REMOTE_ADDR="10.0.0.7"
    )
    assert (response.status_code, settings.SESSION_COOKIE_NAME in response.cookies) == (429, False)
