from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from crm.demo import seed_all


class Command(BaseCommand):
    help = "Loads demo areas and a user of every role (idempotent) and prints the demo logins."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even with DEBUG off (the demo users have a published password).",
        )

    def handle(self, *args, force, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo creates users with a published password; it runs only with DEBUG on. "
                "Use --force if this really is a demo site."
            )
        with transaction.atomic():
            report = seed_all()
        for line in report.lines:
            self.stdout.write(line)
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS("Demo logins:"))
        width = max(len(login[0]) for login in report.logins)
        for username, password, role, areas in report.logins:
            self.stdout.write(f"  {username:<{width}}  {password}  {role} [{areas}]")
