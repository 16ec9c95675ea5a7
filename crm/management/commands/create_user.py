import secrets

from django.core.management.base import BaseCommand, CommandError

from crm.choices import AuditSource, Role
from crm.exceptions import DomainError
from crm.services import Actor, user_create


class Command(BaseCommand):
    help = "Creates a person who signs in: create_user USERNAME --role ROLE [--area CODE ...]"

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, help=", ".join(r.value for r in Role.people()))
        parser.add_argument(
            "--area",
            action="append",
            default=[],
            dest="areas",
            metavar="CODE",
            help="An area the user works in (repeat for several).",
        )
        parser.add_argument(
            "--password", help="Initial password; a random one is generated and printed if omitted."
        )
        parser.add_argument("--name", default="", help="Display name, e.g. 张伟.")
        parser.add_argument("--email", default="")

    def handle(self, *args, username, role, areas, password, name, email, **options):
        generated = password is None
        if generated:
            password = secrets.token_urlsafe(12)
        try:
            user = user_create(
                username=username,
                role=role,
                area_codes=areas,
                password=password,
                name=name,
                email=email,
                actor=Actor.system("create_user", AuditSource.COMMAND),
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        area_list = ", ".join(sorted(areas)) or "-"
        self.stdout.write(
            self.style.SUCCESS(f"Created {user.username} ({user.role}; areas: {area_list}).")
        )
        if generated:
            self.stdout.write(f"Password: {password}")
