from django.core.management.base import BaseCommand

from services import services


class Command(BaseCommand):
    help = (
        "Runs the escalation job now (the schedule runs it every quarter of an hour): "
        "unfinished service requests past their due time escalate to the supervisor of the "
        "customer's area, who is told. Safe to run again: a request escalates once."
    )

    def handle(self, *args, **options):
        count = services.service_requests_escalate()
        self.stdout.write(f"Service requests escalated: {count}.")
