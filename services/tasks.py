"""Service jobs. Thin: one service call each; safe to redeliver (a request escalates once, and
the care notice is sent once a day)."""

from celery import shared_task

from services import services


@shared_task(name="services.tasks.service_requests_escalate_task", acks_late=True)
def service_requests_escalate_task() -> int:
    """Every quarter of an hour: escalates overdue service requests to the supervisors."""
    return services.service_requests_escalate()


@shared_task(name="services.tasks.care_due_notify_task", acks_late=True)
def care_due_notify_task() -> int:
    """Daily: tells each account manager how many care services are due this week."""
    return services.care_due_notify()
