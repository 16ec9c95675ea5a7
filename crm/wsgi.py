"""WSGI entry point (gunicorn crm.wsgi). Production settings unless told otherwise."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings.production")

application = get_wsgi_application()

# The objects of the loaded code (modules, models, URL patterns, translations: ~180,000)
# live as long as the worker, yet every full collection walked them all again: ~28 ms of
# CPU per order-sync request, whose 1 MB body leaves tens of thousands of new containers
# that trigger one every few requests (bench/bench_order_sync.py). Frozen, a collection
# walks only what was made since. The garbage of loading goes first.
gc.collect()
gc.freeze()
# A young-generation collection every 700 new containers ran ~55 times per sync request
# (its decoded body alone is ~25,000 dicts and lists, alive until the response), each one
# walking the survivors again, and promoted them into the older generations for the full
# collections to walk: ~8 ms of CPU per request, 2.4 ms with collections every 20,000 (a
# request's cyclic garbage waits a little longer; the memory it holds is small).
gc.set_threshold(20_000, 10, 10)
