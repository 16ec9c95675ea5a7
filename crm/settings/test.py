"""Settings for the test suite: fast hashing, eager Celery unless a test starts a real worker.

The same suite runs on SQLite (default) and on PostgreSQL + Redis when DATABASE_URL,
CACHE_URL and CELERY_BROKER_URL point at them (see .ci/run).
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-not-secret")

from .base import *  # noqa: E402,F403
from .base import CELERY_BROKER_URL, INSTALLED_APPS, env  # noqa: E402

DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Mail is sent; Django's test environment keeps it in django.core.mail.outbox.
EMAIL_ENABLED = True

# Ordinary tests run tasks in-process; the worker test in tests/crm/test_celery.py turns this
# off for itself and talks to the real broker.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = CELERY_BROKER_URL or "memory://"

# Set when CI runs against the real services: a test that needs them fails instead of skipping.
CRM_REQUIRE_SERVICES = env.bool("CRM_REQUIRE_SERVICES", default=False)

# The chaos tests (tests/chaos) kill processes at named points (crm/faults.py).
CRM_FAULT_INJECTION = True

# A model used only by the scope rule's tests (customers arrive in a later issue).
INSTALLED_APPS = [*INSTALLED_APPS, "tests.scope_testapp"]

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# No collectstatic in tests: the live server and WhiteNoise read static files from the finders.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
