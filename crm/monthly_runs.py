"""The runs of a monthly result (`crm.monthly.MonthlyRules`), written once for every
declaration: create, start, execute in a worker, and the in-process recompute.

A declaration gives what is its own — `compute(month=, scheme=, context=)` (the pure rules
over the month's inputs, nothing saved: the dry run and the first half of a run) and
`write(outcome=, run=, stored=)` (the results, inside the run's transaction); optionally
`stored(outcome=)` (what the write compares with, read just before its transaction),
`run_summary(outcome, run)` (what the run records besides its customers) and
`after_write(outcome=, run=, context=)` (what follows a committed run). The engine does the
rest with `crm.jobs`' steps: refuse a month that has not begun, take the active scheme,
abandon the runs whose process died, one live run per month, hold the month while computing
and writing, record success or the error on the run.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pandas as pd
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from crm import jobs
from crm.chain import ChainContext
from crm.choices import AuditAction, RunStatus, RunTrigger
from crm.dates import month_start
from crm.exceptions import DomainError
from crm.frames import row_digests, stale_rows_delete, stored_digests, write_frame
from crm.services import Actor, audit_record

if TYPE_CHECKING:
    from crm.models import JobRun
    from crm.monthly import MonthlyRules


def run_create(
    rules: MonthlyRules, *, month: dt.date, trigger: str, actor: Actor | None, **fields: Any
) -> JobRun:
    """A queued run of `month` with the active scheme (and the run model's own `fields`);
    refused for a month that has not begun and while another run of that month is live (a
    run whose process died is marked failed first, with the reason), and for a month the
    declaration refuses (`MonthlyRules.run_refusal`, e.g. its results are published)."""
    jobs.month_check(month)
    if rules.run_refusal is not None and (refusal := rules.run_refusal(month)):
        raise DomainError(refusal)
    scheme = rules.services.scheme_active()
    jobs.runs_abandon_dead(rules.run_model, month=month)
    try:
        with transaction.atomic():
            return rules.run_model.objects.create(
                month=month,
                trigger=trigger,
                started_by=actor.user if actor else None,
                scheme=scheme,
                **fields,
            )
    except IntegrityError:
        raise DomainError(rules.texts.run_live % {"m": f"{month:%Y-%m}"}) from None


def run_start(
    rules: MonthlyRules, *, month: dt.date, trigger: str, actor: Actor | None = None
) -> JobRun:
    """Queues a run of `month` with the active scheme and enqueues the declared `run_task`
    after commit; audited when a person starts it. Refused as `run_create` refuses."""
    month = month_start(month)
    with transaction.atomic():
        run = run_create(rules, month=month, trigger=trigger, actor=actor)
        if actor is not None:
            audit_record(
                actor=actor,
                obj=run,
                action=AuditAction.CREATE,
                snapshot={"month": f"{month:%Y-%m}", "scheme": run.scheme.version},
            )
        transaction.on_commit(lambda: rules.run_task.delay(run.pk))
    return run


def run_execute(rules: MonthlyRules, *, run_id: int) -> JobRun:
    """Runs a queued run in this process (a worker): claims it, computes and writes its month
    holding it, then the declared follow-ups. A run that is no longer queued (a redelivered
    task) is left as it is. Any error leaves the month's previous results untouched and is
    recorded on the run. Its reads run at once through a chain context of its own
    (`MonthlyRules.chain_prepare`)."""
    with jobs.run_held(rules.run_model, run_id, related=("scheme",)) as run:
        if run is None:
            return rules.run_model.objects.get(pk=run_id)
        context = _run_context(rules, run.month)
        outcome = rules.compute(month=run.month, scheme=run.scheme, context=context)
        run_write(rules, run, outcome)
    _after_write(rules, outcome, run, context)
    return rules.run_model.objects.get(pk=run_id)


def _run_context(rules: MonthlyRules, month: dt.date) -> ChainContext | None:
    """A chain context of this run alone, its declared reads begun at once (a worker's run
    shares nothing with the chain's other steps, which run in other processes, but its own
    reads — facts, first order dates, customers, last month's results — then run side by side
    instead of one after the other, and its `after_write` reads through it too)."""
    if rules.chain_prepare is None:
        return None
    context = ChainContext(month=month)
    rules.chain_prepare(context=context)
    context.start()
    return context


def run_write(
    rules: MonthlyRules, run: JobRun, outcome: Any, *, also: Callable[[], Any] | None = None
) -> None:
    """Writes `outcome` and records `run` succeeded with its customers and summary, in one
    transaction (what the write compares with — the stored rows' digests — is read just
    before); `also()` runs in the same transaction (e.g. clearing a split run's staged
    parts). Call holding the run's month."""
    started = time.perf_counter()
    stored = rules.stored(outcome=outcome)
    outcome.seconds["compare"] = time.perf_counter() - started
    with transaction.atomic():
        rules.write(outcome=outcome, run=run, stored=stored)
        if also is not None:
            also()
        fields = {
            "status": RunStatus.SUCCEEDED,
            "finished_at": timezone.now(),
            "customers": outcome.customers,
            **rules.run_summary(outcome, run),
        }
        for name, value in fields.items():
            setattr(run, name, value)
        run.save(update_fields=list(fields))


def run_in_process(
    rules: MonthlyRules,
    *,
    month: dt.date,
    trigger: str,
    actor: Actor | None,
    context: ChainContext | None = None,
    follow_up: bool = True,
    **fields: Any,
) -> tuple[JobRun, Any]:
    """Creates a run of `month` and runs it in this process, holding the month from before
    the run exists until it has finished (`crm.jobs.run_started`); then, with `follow_up`,
    the declared `after_write`. The run and its outcome. Without a chain `context` the run
    reads through one of its own (`_run_context`)."""

    def create() -> JobRun:
        return run_create(rules, month=month, trigger=trigger, actor=actor, **fields)

    with jobs.run_started(rules.run_model, month, create, related=("scheme",)) as run:
        if context is None:
            context = _run_context(rules, month)
        outcome = rules.compute(month=month, scheme=run.scheme, context=context)
        run_write(rules, run, outcome)
    if follow_up:
        _after_write(rules, outcome, run, context)
    return run, outcome


def recompute(
    rules: MonthlyRules,
    *,
    month: dt.date,
    dry_run: bool = False,
    actor: Actor | None = None,
    context: ChainContext | None = None,
    follow_up: bool = True,
) -> Any:
    """The in-process recompute (`manage.py recompute`): with `dry_run`, computes with the
    active scheme and reports without saving or recording a run; otherwise records a run and
    writes like a worker. The outcome."""
    month = month_start(month)
    jobs.month_check(month)
    if dry_run:
        return rules.compute(month=month, scheme=rules.services.scheme_active(), context=context)
    _run, outcome = run_in_process(
        rules,
        month=month,
        trigger=RunTrigger.COMMAND,
        actor=actor,
        context=context,
        follow_up=follow_up,
    )
    return outcome


def _after_write(
    rules: MonthlyRules, outcome: Any, run: JobRun, context: ChainContext | None
) -> None:
    if rules.after_write is not None:
        rules.after_write(outcome=outcome, run=run, context=context)


# --- a month's results ------------------------------------------------------------------

# Columns that do not make a stored result differ from a new one: which run wrote it, when
# (and the digest itself). Everything else, the scheme included, goes into a row's digest.
RESULT_UNCOMPARED = ("run_id", "computed_at", "digest")


def month_results_stored(model: type[models.Model], outcome: Any) -> pd.DataFrame:
    """The customers and digests of the stored results (`model`: one row per customer and
    month, with its scheme, run, computed_at and digest) of `outcome.month`, which
    `crm.frames.stale_rows_delete` compares with the digests of `outcome.results`; read
    before the write's transaction (where the fast read is possible)."""
    return stored_digests(model, where={"month": outcome.month})


def month_results_write(
    model: type[models.Model],
    outcome: Any,
    *,
    run: Any,
    stored: pd.DataFrame | None,
    lock_key: int,
    system_update: Callable[[dt.date], None],
) -> None:
    """Brings the stored results of `outcome.month` to `outcome.results`: digests each row
    (`crm.frames.row_digests`: every value but the run and the time, with the scheme), deletes
    the rows of customers no longer in the results or whose digest differs and writes the new
    and changed ones with their digests (COPY on PostgreSQL; elsewhere every row is replaced),
    so a month computed again with the same outcome writes nothing; then, if it is the latest
    month with results not after this one, `system_update(month)` (the customers' fields
    that show the current result). The write phases of one kind of result are serialised by
    the PostgreSQL advisory lock `lock_key` (two months written at once could leave the
    customers' fields showing the older month). Records `outcome.seconds` "write" / "system"
    and `outcome.written`. Call inside `transaction.atomic`."""
    month = outcome.month
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_key])
    started = time.perf_counter()
    digests = row_digests(
        model,
        outcome.results,
        constants={"scheme_id": outcome.scheme.pk},
        ignore=RESULT_UNCOMPARED,
    )
    changed = stale_rows_delete(
        model, outcome.results, digests, where={"month": month}, stored=stored
    )
    write_frame(
        model,
        changed,
        constants={
            "month": month,
            "scheme_id": outcome.scheme.pk,
            "run_id": run.pk if run else None,
            "computed_at": timezone.now(),
        },
    )
    outcome.seconds["write"] = time.perf_counter() - started
    outcome.written = len(changed)
    if jobs.results_month_is_current(model, month):
        system_started = time.perf_counter()
        system_update(month)
        outcome.seconds["system"] = time.perf_counter() - system_started
