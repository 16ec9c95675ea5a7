"""Mail and password reset settings come from the environment: the quick start prints mails
to the console, production sends nothing until EMAIL_URL names a server (so no page claims a
delivery that cannot happen), and the reset links' lifetime is configurable.

Each case starts a fresh interpreter, because settings are read once per process."""

import json

import pytest

from tests.crm.test_settings import REAL_SECRET, run

PROBE = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({
    "enabled": settings.EMAIL_ENABLED, "backend": settings.EMAIL_BACKEND,
    "host": settings.EMAIL_HOST, "port": settings.EMAIL_PORT, "user": settings.EMAIL_HOST_USER,
    "password": settings.EMAIL_HOST_PASSWORD, "tls": settings.EMAIL_USE_TLS,
    "from": settings.DEFAULT_FROM_EMAIL, "reset_timeout": settings.PASSWORD_RESET_TIMEOUT,
    "address_limit": settings.AXES_ADDRESS_FAILURE_LIMIT, "proxies": settings.TRUSTED_PROXY_COUNT,
}))
"""
PRODUCTION = {"SECRET_KEY": REAL_SECRET, "ALLOWED_HOSTS": "crm.example.com"}
# Variables of the calling environment that would change the answers.
CALLER_VARIABLES = (
    "EMAIL_URL",
    "DEFAULT_FROM_EMAIL",
    "PASSWORD_RESET_TIMEOUT_HOURS",
    "AXES_ADDRESS_FAILURE_LIMIT",
    "TRUSTED_PROXY_COUNT",
)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch):
    for name in CALLER_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def probe(module, **env_vars) -> dict:
    result = run(["-c", PROBE], module, **env_vars)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_quick_start_prints_mails_to_the_console():
    s = probe("crm.settings.local")
    assert (s["enabled"], s["backend"]) == (True, "django.core.mail.backends.console.EmailBackend")


def test_production_sends_no_mail_without_a_server():
    assert probe("crm.settings.production", **PRODUCTION)["enabled"] is False


def test_production_sends_through_the_smtp_server_it_is_given():
    s = probe(
        "crm.settings.production",
        **PRODUCTION,
        EMAIL_URL="smtp+tls://crm%40example.com:p%40ss@mail.example.com:587",
        DEFAULT_FROM_EMAIL="CRM <crm@example.com>",
    )
    assert s == {
        **s,
        "enabled": True,
        "backend": "django.core.mail.backends.smtp.EmailBackend",
        "host": "mail.example.com",
        "port": 587,
        "user": "crm@example.com",
        "password": "p@ss",
        "tls": True,
        "from": "CRM <crm@example.com>",
    }


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, (24 * 3600, 20, 0)),
        (
            {
                "PASSWORD_RESET_TIMEOUT_HOURS": "2",
                "AXES_ADDRESS_FAILURE_LIMIT": "50",
                "TRUSTED_PROXY_COUNT": "1",
            },
            (2 * 3600, 50, 1),
        ),
    ],
)
def test_reset_link_lifetime_and_address_limit_are_configurable(env, expected):
    s = probe("crm.settings.production", **PRODUCTION, **env)
    assert (s["reset_timeout"], s["address_limit"], s["proxies"]) == expected
