"""Settings come from the environment; production settings pass `check --deploy`.

Each case starts a fresh interpreter, because settings are read once per process.
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import json, django
from django.conf import settings
django.setup()
db = settings.DATABASES["default"]
print(json.dumps({
    "engine": db["ENGINE"], "name": str(db["NAME"]), "host": db.get("HOST", ""),
    "debug": settings.DEBUG, "allowed_hosts": settings.ALLOWED_HOSTS,
    "eager": settings.CELERY_TASK_ALWAYS_EAGER, "broker": settings.CELERY_BROKER_URL,
    "cache": settings.CACHES["default"]["BACKEND"], "ssl_redirect": settings.SECURE_SSL_REDIRECT,
    "session_secure": settings.SESSION_COOKIE_SECURE,
}))
"""
# Variables that would leak the calling environment's choices into a probe.
CLEARED = [
    "DATABASE_URL",
    "CACHE_URL",
    "CELERY_BROKER_URL",
    "CELERY_RESULT_BACKEND",
    "CELERY_TASK_ALWAYS_EAGER",
    "ALLOWED_HOSTS",
    "DJANGO_DEBUG",
    "SECRET_KEY",
    "DJANGO_HTTPS",
    "DJANGO_SETTINGS_MODULE",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
]
REAL_SECRET = "k3J9-xq7_Zr2vLp0Wm5Ny8Tb4Hc6Fd1Ge3Sa9Qu7Vi2Ox5Ew8Rt0Yk4Uj6Il1Pn3Mb"


def run(args, module, **env_vars):
    env = {k: v for k, v in os.environ.items() if k not in CLEARED}
    env.update(DJANGO_SETTINGS_MODULE=module, CRM_VAR_DIR=tempfile.mkdtemp(), **env_vars)
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def probe(module, **env_vars) -> dict:
    result = run(["-c", PROBE], module, **env_vars)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_local_defaults_need_no_service():
    s = probe("crm.settings.local")
    assert s["engine"] == "django.db.backends.sqlite3"
    assert s["name"].endswith("db.sqlite3")
    assert s["eager"] is True
    assert s["debug"] is True
    assert s["cache"].endswith("LocMemCache")


def test_services_are_chosen_by_the_environment():
    s = probe(
        "crm.settings.local",
        DATABASE_URL="postgres://crm:pw@db.internal:5432/crm",
        CELERY_BROKER_URL="redis://cache.internal:6379/0",
        CACHE_URL="redis://cache.internal:6379/1",
        ALLOWED_HOSTS="crm.example.com,www.crm.example.com",
    )
    assert s["engine"] == "django.db.backends.postgresql"
    assert (s["host"], s["name"]) == ("db.internal", "crm")
    assert s["eager"] is False
    assert s["broker"] == "redis://cache.internal:6379/0"
    assert s["cache"] == "django.core.cache.backends.redis.RedisCache"
    assert s["allowed_hosts"] == ["crm.example.com", "www.crm.example.com"]


def test_production_is_secure_by_default():
    s = probe("crm.settings.production", SECRET_KEY=REAL_SECRET, ALLOWED_HOSTS="crm.example.com")
    assert s["debug"] is False
    assert s["ssl_redirect"] is True and s["session_secure"] is True


def test_production_refuses_to_start_without_a_secret():
    result = run(["-c", PROBE], "crm.settings.production", ALLOWED_HOSTS="crm.example.com")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


@pytest.mark.parametrize("module", ["crm.settings.production"])
def test_check_deploy_reports_no_warning(module):
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        module,
        SECRET_KEY=REAL_SECRET,
        ALLOWED_HOSTS="crm.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


QUICK_START_PROBE = """
import json, django
django.setup()
from django.test import Client
client = Client(HTTP_HOST="127.0.0.1")
missing = client.get("/no-such-page/")
css = client.get("/static/css/crm.css")
print(json.dumps({
    "missing": missing.status_code, "page": missing.content.decode(),
    "css": css.status_code, "css_type": css["Content-Type"],
}))
"""


def test_the_quick_start_shows_the_products_404_and_serves_its_static_files():
    """scripts/run serves with DEBUG off: a missing page is the product's 404 page (not
    Django's debug page, which lists every URL), and WhiteNoise still serves the static files
    from their folders."""
    script = (ROOT / "scripts" / "run").read_text()
    assert "DJANGO_DEBUG=${DJANGO_DEBUG:-false} exec .venv/bin/python manage.py runserver" in script
    result = run(["-c", QUICK_START_PROBE], "crm.settings.local", DJANGO_DEBUG="false")
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["missing"] == 404
    assert "<title>Not found · CRM</title>" in seen["page"]
    assert "/static/css/crm.css" in seen["page"] and "Using the URLconf" not in seen["page"]
    assert (seen["css"], seen["css_type"].split(";")[0]) == (200, "text/css")
