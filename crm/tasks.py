"""Housekeeping jobs of the project package. Thin: each calls one service."""

from celery import shared_task

from crm import services


@shared_task(name="crm.tasks.system_healthcheck_task")
def system_healthcheck_task() -> dict[str, str]:
    """Answers from a worker that it reaches the database and the cache."""
    return services.system_healthcheck()


@shared_task(name="crm.tasks.sessions_clear_expired_task", acks_late=True)
def sessions_clear_expired_task() -> int:
    """Deletes expired sessions (idempotent)."""
    return services.sessions_clear_expired()


@shared_task(name="crm.tasks.login_attempts_prune_task", acks_late=True)
def login_attempts_prune_task() -> int:
    """Deletes failed-login records past their cool-off and old sign-in logs (idempotent)."""
    return services.login_records_prune()


@shared_task(name="crm.tasks.idempotency_records_prune_task", acks_late=True)
def idempotency_records_prune_task() -> int:
    """Deletes stored responses of idempotent API requests older than a day (idempotent)."""
    return services.idempotency_records_prune()
