"""import_customers FILE [--dry-run] [--user USERNAME]: imports customers from CSV or XLSX."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from crm.choices import AuditSource
from crm.exceptions import DomainError
from crm.models import User
from crm.services import Actor
from customers.io import read_table
from customers.services import customer_upsert_many


class Command(BaseCommand):
    help = (
        "Creates or updates customers by customer_code from a CSV or XLSX file (headers: field "
        "names or their English/Chinese labels). Empty cells never clear a field. A bad row is "
        "reported and the others are stored. A file over the limits (CRM_IMPORT_MAX_ROWS rows, "
        "CRM_IMPORT_MAX_MB MB uncompressed, CRM_IMPORT_MAX_RATIO compression) is refused "
        "before it is parsed."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path to a .csv or .xlsx file.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Report what would happen; write nothing."
        )
        parser.add_argument(
            "--user",
            metavar="USERNAME",
            help="Record the changes as made by this user (default: the import_customers job).",
        )

    def handle(self, *args, file, dry_run, user, **options):
        actor = self._actor(user)
        try:
            with open(file, "rb") as handle:
                table = read_table(handle, file)
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror or exc}") from exc
        except DomainError as exc:
            raise CommandError(f"Cannot read {file}: {exc.message}") from exc
        if table.ignored_columns:
            self.stdout.write(
                "Ignored system-generated columns: " + ", ".join(table.ignored_columns)
            )

        report = customer_upsert_many(rows=table.rows, actor=actor, dry_run=dry_run)
        counts = report.counts()
        summary = ", ".join(f"{counts[key]} {key}" for key in counts)
        prefix = "Dry run (nothing written): " if dry_run else ""
        style = self.style.WARNING if counts["errors"] else self.style.SUCCESS
        self.stdout.write(style(f"{prefix}{len(table.rows)} rows: {summary}."))
        for result in report.results:
            if result.outcome != "error":
                continue
            row = table.row_numbers[result.index]
            for field, messages in result.errors.items():
                for message in messages:
                    self.stdout.write(f"row {row}, code {result.code or '-'}, {field}: {message}")

    def _actor(self, username: str | None) -> Actor:
        if not username:
            return Actor.system("import_customers", AuditSource.IMPORT)
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"There is no active user {username}.")
        return Actor(user=user, source=AuditSource.IMPORT, label=user.username)
