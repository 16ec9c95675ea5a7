from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from crm.demo import (
    DEFAULT_CUSTOMERS,
    DEFAULT_MONTHS,
    DEFAULT_SEED,
    DemoOptions,
    demo_options_check,
    seed_all,
)


class Command(BaseCommand):
    help = (
        "Loads a demo company (areas, people of every role, customers, orders, grades, values, "
        "visits and services) once, and prints the demo logins. A later run only adds what is "
        "missing: it never changes or replays what exists, whatever people did with the demo."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--customers",
            type=int,
            default=DEFAULT_CUSTOMERS,
            help=f"Number of shops (default {DEFAULT_CUSTOMERS}; 200000 for the benchmarks).",
        )
        parser.add_argument(
            "--months",
            type=int,
            default=DEFAULT_MONTHS,
            help=f"Months of orders, grades and values up to this month (1-36, default "
            f"{DEFAULT_MONTHS}).",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=DEFAULT_SEED,
            help=f"Seed of the generators (default {DEFAULT_SEED}): the same options give the "
            "same data.",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even with DEBUG off (the demo users have a published password).",
        )

    def handle(self, *args, force, customers, months, seed, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo creates users with a published password; it runs only with DEBUG on. "
                "Use --force if this really is a demo site."
            )
        demo = DemoOptions(customers=customers, months=months, seed=seed)
        problems = demo_options_check(demo)
        if problems:
            raise CommandError(" ".join(problems))
        verbosity = options.get("verbosity", 1)

        def progress(line: str) -> None:
            if verbosity >= 1:
                self.stdout.write(line)
                self.stdout.flush()

        progress(
            f"Seeding the demo: {customers:,} customers, {months} months, seed {seed} "
            "(each stage commits; run again to finish an interrupted run)."
        )
        report = seed_all(demo, progress=progress)
        self.stdout.write("")
        for line in report.lines:
            self.stdout.write(line)
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS("Demo logins:"))
        width = max(len(login[0]) for login in report.logins)
        secret = max(len(login[1]) for login in report.logins)
        for username, password, role, areas in report.logins:
            self.stdout.write(f"  {username:<{width}}  {password:<{secret}}  {role} [{areas}]")
