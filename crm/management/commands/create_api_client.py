from django.core.management.base import BaseCommand, CommandError

from crm.choices import AuditSource
from crm.exceptions import DomainError
from crm.models import User
from crm.services import Actor, api_client_create, api_token_rotate


class Command(BaseCommand):
    help = (
        "Creates an integration client (e.g. the ordering system) and prints its API token as "
        "the last line. With --rotate, revokes an existing client's tokens and issues a new one."
    )

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument(
            "--rotate", action="store_true", help="Issue a new token for an existing client."
        )

    def handle(self, *args, name, rotate, **options):
        actor = Actor.system("create_api_client", AuditSource.COMMAND)
        try:
            if rotate:
                client = User.objects.filter(username__iexact=name).first()
                if client is None:
                    raise CommandError(f"There is no integration client named {name}.")
                key = api_token_rotate(client=client, actor=actor)
                self.stdout.write(f"Revoked the old tokens of {client.username}. New token:")
            else:
                client, key = api_client_create(name=name, actor=actor)
                self.stdout.write(
                    f"Created integration client {client.username}. "
                    "Its token (shown once; send it as 'Authorization: Token <token>'):"
                )
        except DomainError as exc:
            hint = " Use --rotate to issue a new token." if exc.field == "username" else ""
            raise CommandError(exc.message + hint) from exc
        self.stdout.write(key)
