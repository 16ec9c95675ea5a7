"""A web process made ready before its first request, then kept out of the garbage collector's way.

A Django process holds about 200,000 objects the cyclic garbage collector tracks (models, forms,
URL patterns, compiled templates, the translation catalogues). A request allocates enough
objects that every few requests CPython runs a full collection, which walks all of them: 80-210 ms
on this project's 2-core machine, paid by whichever request happens to trigger it. Under load
that was the pages' p95 (bench/README.md, the load test).

`prepare()` loads at start what the first requests would otherwise load (the URL resolver, each
language's catalogue, every project template compiled into the cached loader), collects once,
then `gc.freeze()`s what is there: those objects move to the permanent generation, which no
collection walks. Objects made later are collected as before. It is what the Python
documentation advises for long-running forked servers (`gc.freeze`).

It also makes the young generation collect every 20,000 new containers instead of 700: an
order-sync request's decoded body alone is ~25,000 dicts and lists, alive until the response,
and was walked by ~55 young and ~5 middle collections and promoted for the full ones (~8 ms of
CPU per request; 2.4 ms now, bench/README.md). A request's cyclic garbage waits a little longer;
the memory it holds is small.

crm/wsgi.py calls it, so gunicorn's workers (and a `--preload` master before it forks) start
prepared.
"""

from __future__ import annotations

import gc
from pathlib import Path

from django.conf import settings
from django.template import engines
from django.urls import get_resolver
from django.utils import translation


def project_templates() -> list[str]:
    """The names of the templates in the project's template directories."""
    names = []
    for directory in engines["django"].engine.dirs:
        root = Path(directory)
        names += sorted(str(path.relative_to(root)) for path in root.rglob("*.html"))
    return names


def warm_up() -> int:
    """Load what the first requests would; returns how many templates were compiled."""
    resolver = get_resolver()
    resolver.reverse_dict  # noqa: B018  (populates the resolver's look-up tables)
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            translation.gettext("Home")
    engine = engines["django"]
    names = project_templates()
    for name in names:
        engine.get_template(name)
    return len(names)


YOUNG_THRESHOLD = 20_000


def prepare() -> int:
    """`warm_up()`, one full collection, freeze what is left and collect the young generation
    every `YOUNG_THRESHOLD` new containers; returns the frozen count."""
    warm_up()
    gc.collect()
    gc.freeze()
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
    return gc.get_freeze_count()
