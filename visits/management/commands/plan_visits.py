import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from visits import services


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"Not a date: {value!r} (use YYYY-MM-DD).") from exc


class Command(BaseCommand):
    help = (
        "Runs the visit planning job now (the daily schedule runs it too): plans every "
        "customer's visits for the coming days, withdraws the ones no longer needed and marks "
        "missed the overdue ones a later one replaced. Safe to run again: a second run on the "
        "same day changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--date",
            type=str,
            default=None,
            help="Plan as of this day (YYYY-MM-DD) instead of today.",
        )

    def handle(self, *args, date, **options):
        today = _date(date) if date else None
        run = services.plan_refresh(today=today)
        self.stdout.write(
            f"Visit plan as of {run.as_of:%Y-%m-%d}: {run.customers} customers, "
            f"{run.planned} visits planned, {run.withdrawn} withdrawn, {run.missed} missed."
        )
