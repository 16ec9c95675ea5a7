"""Settings for a developer's machine and the quick start: SQLite, eager Celery, DEBUG."""

import os

# A fixed key is acceptable only because local settings never serve real data.
os.environ.setdefault("SECRET_KEY", "local-development-only-not-secret")
os.environ.setdefault("DJANGO_DEBUG", "true")

from .base import *  # noqa: E402,F403
from .base import ALLOWED_HOSTS, VAR_DIR  # noqa: E402

if not ALLOWED_HOSTS:
    ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]

VAR_DIR.mkdir(parents=True, exist_ok=True)

# Static files come straight from the finders (no collectstatic on a developer's machine).
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
