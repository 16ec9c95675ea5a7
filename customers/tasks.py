"""Customer jobs. Thin: an id in, one service call; idempotent, so a redelivered task (Redis
redelivers unacknowledged ones) does no harm."""

from celery import shared_task

from customers import imports
from customers.choices import ImportStatus
from customers.models import CustomerImport


@shared_task(name="customers.tasks.customer_import_check_task", acks_late=True)
def customer_import_check_task(import_id: int) -> str:
    """Checks an uploaded file (dry run). Does nothing unless the import waits for a check."""
    customer_import = CustomerImport.objects.select_related("created_by").get(pk=import_id)
    if customer_import.status == ImportStatus.CHECKING:
        imports.customer_import_run_check(customer_import=customer_import)
    return customer_import.status


@shared_task(name="customers.tasks.customer_import_apply_task", acks_late=True)
def customer_import_apply_task(import_id: int) -> str:
    """Applies a claimed import; a replay after a crash re-applies rows idempotently."""
    customer_import = CustomerImport.objects.select_related("applied_by").get(pk=import_id)
    if customer_import.status == ImportStatus.APPLYING:
        imports.customer_import_run_apply(customer_import=customer_import)
    return customer_import.status
