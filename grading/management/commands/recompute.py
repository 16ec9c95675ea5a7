"""`manage.py recompute --month YYYY-MM [--dry-run]`: the monthly chain (grading, then
valuation and the early warnings), in this process. A month whose grades are published is
not graded again: the chain skips grading (saying why) and values the month."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from crm.chain import ChainContext
from crm.choices import AuditSource
from crm.dates import month_start, parse_month
from crm.exceptions import DomainError
from crm.services import Actor
from grading import services
from valuation import services as valuation_services


def month_argument(value: str) -> dt.date:
    """A `--month YYYY-MM` argument (the grading commands'): the month's first day."""
    month = parse_month(value)
    if month is None:
        raise CommandError(f"--month must look like 2026-11, not {value!r}.")
    return month


class Command(BaseCommand):
    help = (
        "Grades every customer for a month (grade, business scale, 42-category code, structure "
        "class) from the monthly sales facts, then values them (five indicator scores, value "
        "tier, core and problem lists) and refreshes the early warnings. --dry-run shows the "
        "distributions and the movements against the previous month without saving."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--month", type=month_argument, help="YYYY-MM (default: this month)")
        parser.add_argument("--dry-run", action="store_true", help="compute and report only")

    def handle(self, *args, month: dt.date | None, dry_run: bool, **options) -> None:
        month = month or month_start(timezone.localdate())
        actor = Actor.system("recompute", AuditSource.COMMAND)
        # One chain in this process: the steps share their reads (customers, first order
        # dates, the facts) instead of each reading them again.
        context = ChainContext(month=month)
        # A published month keeps its grades: the chain goes on to value the month with them
        # (why grading was skipped is reported, not raised).
        refusal = None if dry_run else services.grading_run_refusal(month)
        try:
            if not refusal:
                services.grading_chain_prepare(context=context)
            valuation_services.valuation_chain_prepare(context=context)
            context.start()
            if refusal:
                self.stdout.write(f"Grading skipped: {refusal}")
            else:
                outcome = services.grading_recompute(
                    month=month, dry_run=dry_run, actor=actor, context=context
                )
                self._report_grading(outcome, month, dry_run)
            valued = valuation_services.valuation_recompute(
                month=month, dry_run=dry_run, actor=actor, context=context
            )
        except DomainError as error:
            raise CommandError(error.message) from None
        self._report_valuation(valued, month, dry_run)

    def _report_grading(self, outcome, month: dt.date, dry_run: bool) -> None:
        window = ", ".join(f"{m:%Y-%m}" for m in outcome.window)
        self.stdout.write(
            f"{'Dry run: ' if dry_run else ''}graded {outcome.customers} customers for "
            f"{month:%Y-%m} with scheme v{outcome.scheme.version} ({outcome.scheme.label}); "
            f"window {window or '-'}."
        )
        self.stdout.write("grade  customers")
        for grade, n in outcome.distribution.items():
            self.stdout.write(f"{grade:>5}  {n:>9}")
        moves = outcome.movements
        self.stdout.write(
            f"Against the month before: {moves.get('up', 0)} up, {moves.get('down', 0)} down, "
            f"{moves.get('same', 0)} unchanged, {moves.get('new', 0)} without a previous grade, "
            f"{moves.get('not_comparable', 0)} graded by another scheme version before."
        )
        timings = ", ".join(f"{k} {v:.2f}s" for k, v in outcome.seconds.items())
        self.stdout.write(f"Time: {timings}." + ("" if dry_run else " Saved."))

    def _report_valuation(self, outcome, month: dt.date, dry_run: bool) -> None:
        self.stdout.write(
            f"{'Dry run: ' if dry_run else ''}valued {outcome.customers} customers for "
            f"{month:%Y-%m} with valuation scheme v{outcome.scheme.version}: "
            f"{outcome.core} core, {outcome.problem} problem customers."
        )
        self.stdout.write("tier       customers")
        for tier, n in outcome.counts.items():
            self.stdout.write(f"{tier:<9}  {n:>9}")
        moved = sum(
            n
            for before, row in outcome.movements.items()
            for after, n in row.items()
            if before and before != after
        )
        self.stdout.write(f"Against the month before: {moved} changed tier.")
        timings = ", ".join(f"{k} {v:.2f}s" for k, v in outcome.seconds.items())
        self.stdout.write(f"Time: {timings}." + ("" if dry_run else " Saved."))
