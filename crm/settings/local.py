"""Settings for a developer's machine and the quick start: SQLite, eager Celery, DEBUG."""

import os

# A fixed key is acceptable only because local settings never serve real data.
os.environ.setdefault("SECRET_KEY", "local-development-only-not-secret")
os.environ.setdefault("DJANGO_DEBUG", "true")

from .base import *  # noqa: E402,F403
from .base import ALLOWED_HOSTS, EMAIL_ENABLED, VAR_DIR  # noqa: E402

if not ALLOWED_HOSTS:
    ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]

VAR_DIR.mkdir(parents=True, exist_ok=True)

# Static files come straight from the finders (no collectstatic on a developer's machine).
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True

# No mail server on a developer's machine: unless EMAIL_URL names one, mails (password reset
# links) are printed in the server's console.
if not EMAIL_ENABLED:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    EMAIL_ENABLED = True
