"""`manage.py publish_grades --month YYYY-MM [--user NAME] [--note TEXT]`: publishes (locks)
a grade month; with `--unpublish --reason TEXT` asks to unlock it, and `--approve-unlock`,
`--reject-unlock --note TEXT` or `--withdraw-unlock` decide on that request."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError, CommandParser

from crm.choices import AuditSource
from crm.exceptions import DomainError
from crm.models import User
from crm.services import Actor
from grading import services
from grading.management.commands.recompute import month_argument


class Command(BaseCommand):
    help = (
        "Publishes (locks) the grades of a month after review: supply allocation reads them and "
        "the month is not recomputed. Without --user the publication is recorded as the "
        "command's (how an integration client publishes). Unlocking takes two people: "
        "--unpublish --reason TEXT --user NAME asks for it; then --approve-unlock --user OTHER "
        "(another administrator or supervisor) unlocks the month, --reject-unlock --note TEXT "
        "--user OTHER keeps it published, or --withdraw-unlock --user NAME (the one who asked) "
        "takes the request back."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--month", type=month_argument, required=True, help="YYYY-MM")
        parser.add_argument(
            "--user",
            metavar="USERNAME",
            help="Who does it: an administrator or supervisor (required to unlock).",
        )
        parser.add_argument("--note", default="", help="A note on the publication or decision.")
        actions = parser.add_mutually_exclusive_group()
        actions.add_argument(
            "--unpublish", action="store_true", help="Ask to unlock the month (needs --reason)."
        )
        actions.add_argument(
            "--approve-unlock", action="store_true", help="Approve someone else's request."
        )
        actions.add_argument(
            "--reject-unlock", action="store_true", help="Reject it (needs --note)."
        )
        actions.add_argument(
            "--withdraw-unlock", action="store_true", help="Withdraw your own request."
        )
        parser.add_argument("--reason", default="", help="Why the month must be unlocked.")

    def handle(self, *args, month: dt.date, user: str | None, note: str, reason: str, **options):
        actor = self._actor(user)
        shown = f"{month:%Y-%m}"
        try:
            if options["unpublish"]:
                services.grades_unlock_request(month=month, reason=reason, actor=actor)
                done = f"Unlock of {shown} asked for; another person must approve it."
            elif options["approve_unlock"]:
                services.grades_unlock_approve(month=month, actor=actor, note=note)
                done = f"{shown} is unlocked: it may be graded again."
            elif options["reject_unlock"]:
                services.grades_unlock_reject(month=month, actor=actor, note=note)
                done = f"The unlock of {shown} was rejected: it stays published."
            elif options["withdraw_unlock"]:
                services.grades_unlock_withdraw(month=month, actor=actor)
                done = f"The unlock of {shown} was withdrawn: it stays published."
            else:
                services.grades_publish(month=month, actor=actor, note=note)
                done = f"The grades of {shown} are published (by {actor.label})."
        except DomainError as error:
            raise CommandError(error.message) from None
        self.stdout.write(self.style.SUCCESS(done))

    def _actor(self, username: str | None) -> Actor:
        if not username:
            return Actor.system("publish_grades", AuditSource.COMMAND)
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"There is no active user {username}.")
        return Actor.of(user, AuditSource.COMMAND)
