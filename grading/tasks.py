"""Grading jobs. Thin: ids in, one service call each; safe to redeliver (a run that is no
longer queued is not run again, and writing a month twice stores the same results)."""

from celery import chord, shared_task
from django.utils import timezone

from crm.dates import month_start
from grading import services


@shared_task(name="grading.tasks.grading_monthly_task")
def grading_monthly_task() -> int:
    """The monthly schedule: grades the month that has just begun (a published month is left
    as it is: its run is recorded as not run, saying why)."""
    run = services.grading_run_scheduled(month=month_start(timezone.localdate()))
    return run.pk


@shared_task(name="grading.tasks.grading_run_task", acks_late=True)
def grading_run_task(run_id: int) -> str:
    """Runs a queued run: in this worker, or, from `GRADING_SPLIT_MIN_CUSTOMERS` customers on,
    split by area into a chord whose parts read and aggregate in parallel and store their
    figures in the database, and whose body grades and writes."""
    parts = services.grading_run_parts(run_id=run_id)
    if not parts:
        return services.grading_run_execute(run_id=run_id).status
    if services.grading_run_claim(run_id=run_id, parts=len(parts)) is None:
        return "already claimed"
    chord(grading_part_task.s(run_id, area_ids) for area_ids in parts)(
        grading_parts_finish_task.s(run_id)
    )
    return "split"


@shared_task(name="grading.tasks.grading_part_task", acks_late=True)
def grading_part_task(run_id: int, area_ids: list[int]) -> dict[str, int]:
    return services.grading_part_compute(run_id=run_id, area_ids=area_ids)


@shared_task(name="grading.tasks.grading_parts_finish_task", acks_late=True)
def grading_parts_finish_task(parts: list[dict[str, int]], run_id: int) -> str:
    return services.grading_parts_finish(run_id=run_id, parts=parts).status
