"""Valuation jobs. Thin: ids in, one service call each; safe to redeliver (a run that is no
longer queued is not run again, valuing a month twice stores the same results, and the
warning refresh opens each episode once)."""

from celery import shared_task

from valuation import services


@shared_task(name="valuation.tasks.valuation_after_grading_task", acks_late=True)
def valuation_after_grading_task(grading_run_id: int) -> str:
    """The monthly chain: values the month a grading run has just graded."""
    run = services.valuation_after_grading(grading_run_id=grading_run_id)
    return run.status if run else "skipped"


@shared_task(name="valuation.tasks.valuation_run_task", acks_late=True)
def valuation_run_task(run_id: int) -> str:
    return services.valuation_run_execute(run_id=run_id).status


@shared_task(name="valuation.tasks.warnings_refresh_task", acks_late=True)
def warnings_refresh_task() -> int:
    """Daily: brings the early warnings up to date with yesterday's orders."""
    return services.warnings_refresh().pk
