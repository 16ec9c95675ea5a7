"""Visit jobs. Thin: one service call; safe to redeliver (planning twice on a day changes
nothing the second time)."""

from celery import shared_task

from visits import services


@shared_task(name="visits.tasks.visits_plan_task", acks_late=True)
def visits_plan_task() -> int:
    """Daily: plans the coming days' visits of every account manager."""
    return services.plan_refresh().pk
