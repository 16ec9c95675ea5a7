"""Order jobs. Thin: one service call each; idempotent, so a redelivered task does no harm."""

from celery import shared_task

from orders import services


@shared_task(name="orders.tasks.sales_facts_rebuild_task", acks_late=True)
def sales_facts_rebuild_task() -> int:
    """Rebuilds every monthly sales fact and purchase figure from the orders."""
    return services.sales_facts_rebuild()


@shared_task(name="orders.tasks.purchase_figures_refresh_task", acks_late=True)
def purchase_figures_refresh_task() -> int:
    """Moves every customer's purchase window to today (daily, and after a settings change)."""
    return services.purchase_figures_refresh()


@shared_task(name="orders.tasks.sales_facts_pending_drain_task", acks_late=True)
def sales_facts_pending_drain_task() -> int:
    """Refreshes the facts an import or a seed marked stale and did not refresh (it was
    stopped before its end and never run again)."""
    return services.sales_facts_pending_drain()
