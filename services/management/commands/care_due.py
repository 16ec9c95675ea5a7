import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from services import services


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"Not a date: {value!r} (use YYYY-MM-DD).") from exc


class Command(BaseCommand):
    help = (
        "Runs the daily care notice now (the schedule runs it every morning): tells each "
        "account manager how many care services (family service, birthday and holiday "
        "greetings) are due this week. Safe to run again: no one is told twice a day."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--date",
            type=str,
            default=None,
            help="Draw the week holding this day (YYYY-MM-DD) instead of today's.",
        )

    def handle(self, *args, date, **options):
        today = _date(date) if date else None
        told = services.care_due_notify(today=today)
        self.stdout.write(f"Account managers told of care due: {told}.")
