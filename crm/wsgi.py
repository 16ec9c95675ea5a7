"""WSGI entry point (gunicorn crm.wsgi). Production settings unless told otherwise."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings.production")

application = get_wsgi_application()

# The objects of the loaded code (modules, models, URL patterns, translations: ~150,000)
# live as long as the worker, yet every full collection walked them all again: ~28 ms of
# CPU per order-sync request, whose 1 MB body leaves tens of thousands of new containers
# that trigger one every few requests (bench/bench_order_sync.py). Frozen, a collection
# walks only what was made since. The garbage of loading goes first.
gc.collect()
gc.freeze()
