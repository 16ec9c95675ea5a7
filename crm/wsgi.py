"""WSGI entry point (gunicorn crm.wsgi). Production settings unless told otherwise.

The process is prepared before it answers (crm/warmup.py): what the first requests would load is
loaded, and the garbage collector stops walking it on every full collection."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings.production")

application = get_wsgi_application()

from crm.warmup import prepare  # noqa: E402  (needs the settings and apps loaded above)

prepare()
