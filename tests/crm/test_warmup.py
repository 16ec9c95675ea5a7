"""crm/warmup.py: the web process's preparation before its first request."""

from __future__ import annotations

import gc

from django.conf import settings
from django.template import engines

from crm import warmup


def test_every_project_template_is_compiled_into_the_cached_loader():
    on_disk = sorted(
        str(path.relative_to(settings.BASE_DIR / "templates"))
        for path in (settings.BASE_DIR / "templates").rglob("*.html")
    )
    assert warmup.project_templates() == on_disk
    assert len(on_disk) > 100

    (loader,) = engines["django"].engine.template_loaders
    loader.reset()
    assert warmup.warm_up() == len(on_disk)
    # Each one is now in the cached loader: a request's first render compiles nothing.
    assert set(on_disk) <= set(loader.get_template_cache)


def test_prepare_freezes_what_is_loaded_and_later_objects_are_still_collected():
    thresholds = gc.get_threshold()
    try:
        frozen = warmup.prepare()
        assert frozen == gc.get_freeze_count() > 10_000
        assert gc.get_threshold() == (warmup.YOUNG_THRESHOLD, *thresholds[1:])

        class Cycle:
            pass

        made = Cycle()
        made.me = made
        del made
        # The cycle made after freezing is collected; the frozen objects are not walked.
        assert gc.collect() >= 1
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
