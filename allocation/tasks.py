"""Allocation jobs. Thin: ids in, one service call each; safe to redeliver (a run that is no
longer queued is not run again, and computing a month's take-up twice stores the same rows)."""

from celery import shared_task

from crm import monthly_runs


@shared_task(name="allocation.tasks.allocation_run_task", acks_late=True)
def allocation_run_task(run_id: int) -> str:
    """Computes the quota take-up of a queued run's month (`crm.monthly_runs`)."""
    from allocation.monthly import RULES

    return monthly_runs.run_execute(RULES, run_id=run_id).status


@shared_task(name="allocation.tasks.takeup_daily_task")
def takeup_daily_task() -> list[int]:
    """The daily take-up runs (`allocation.takeup.takeup_runs_scheduled`); each run is then
    executed by `allocation_run_task`."""
    from django.utils import timezone

    from allocation.takeup import takeup_runs_scheduled

    return [run.pk for run in takeup_runs_scheduled(today=timezone.localdate())]
