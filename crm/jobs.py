"""The steps every recorded job run shares (`crm.models.JobRun`: grading and valuation runs):
abandon stale runs, claim a queued run, record a failure. Each takes the run model, so the
rules are written once."""

from __future__ import annotations

import datetime as dt
import logging
from typing import TypeVar

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.choices import RunStatus
from crm.models import JobRun

logger = logging.getLogger(__name__)

R = TypeVar("R", bound=JobRun)


def runs_abandon_stale(model: type[JobRun], **filters) -> int:
    """Marks failed the live runs (matching `filters`) older than the task time limit: their
    worker died, and they would otherwise block the next start for ever."""
    limit = timezone.now() - dt.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    return model.objects.filter(
        status__in=RunStatus.live(), created_at__lt=limit, **filters
    ).update(
        status=RunStatus.FAILED,
        finished_at=timezone.now(),
        error=_("Abandoned: the run did not finish within the task time limit."),
    )


def run_claim(model: type[R], run_id: int, *, related: tuple[str, ...] = ()) -> R | None:
    """Marks a queued run running and returns it (with `related` joined); None if it is not
    queued, e.g. a redelivered task."""
    with transaction.atomic():
        run = model.objects.select_for_update(of=("self",)).select_related(*related).get(pk=run_id)
        if run.status != RunStatus.QUEUED:
            return None
        run.status = RunStatus.RUNNING
        run.started_at = timezone.now()
        run.save(update_fields=["status", "started_at"])
    return run


def run_fail(model: type[JobRun], run_id: int, error: BaseException) -> None:
    """Records `error` on a live run (a finished run keeps its outcome)."""
    logger.exception("%s %s failed", model._meta.verbose_name, run_id, exc_info=error)
    model.objects.filter(pk=run_id, status__in=RunStatus.live()).update(
        status=RunStatus.FAILED,
        finished_at=timezone.now(),
        error=f"{type(error).__name__}: {error}"[:2000],
    )
