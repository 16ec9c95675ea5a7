"""Writes of the valuation app: schemes, compliance records, early warnings and the monthly
valuation run. Each service is atomic and writes its audit rows itself.

The run reads the monthly sales facts (never the order lines), the customers' shop attributes
and the violation records into pandas, runs the pure rules of `valuation.computations` and
replaces the month's results in one transaction: a crash half way leaves the month as it was,
and valuing a month twice stores the same results. It follows the grading run of the same
month (`GRADING_FOLLOW_UP_TASKS`), and `manage.py recompute` runs both.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audits.selectors import display_compliance_frame
from crm import monthly, monthly_runs, versioning
from crm.chain import ChainContext, shared_read
from crm.choices import AuditAction, RunTrigger
from crm.dates import add_months, month_start
from crm.exceptions import DomainError
from crm.frames import query_frame, write_frame
from crm.models import User
from crm.services import Actor, audit_record, notify
from crm.stored_text import text
from customers.models import Customer, CustomerSystem
from customers.selectors import customer_in_scope, customer_monthly_frame
from customers.services import system_fields_copy
from grading.selectors import grade_pairs_frame
from orders.selectors import (
    facts_wanted,
    first_order_frame,
    first_order_want,
    sales_facts_frame,
    sales_facts_parts,
    sales_facts_want,
)
from valuation import computations, policies
from valuation.choices import RecordType, WarningStatus
from valuation.models import (
    ComplianceRecord,
    EarlyWarning,
    ValuationRun,
    ValuationScheme,
    ValueResult,
    WarningRefresh,
)

logger = logging.getLogger(__name__)

# Serialises the write phase of valuation runs (PostgreSQL advisory lock key).
_WRITE_LOCK_KEY = 0x7661_6C75  # "valu"
# Serialises the refreshes of the early warnings (PostgreSQL advisory lock key).
_WARNINGS_LOCK_KEY = 0x7761_726E  # "warn"
# Rows per statement off PostgreSQL: under SQLite's 32,766 variables (a warning's insert
# takes 9 of them).
_SQLITE_BATCH = 2000


# --- schemes ------------------------------------------------------------------------------


def validate_parameters(scheme: ValuationScheme, parameters: dict[str, Any]) -> dict[str, Any]:
    """The rules' verdict on `parameters` for `scheme` (one set of rules for all): the
    clean parameters, or a DomainError naming the fields."""
    return computations.validate_parameters(parameters)


def _default_scheme() -> dict[str, Any]:
    """The default of the brief: five indicators, 2×2 tiers."""
    return {
        "name": text("valuation.scheme.default_name"),
        "parameters": computations.validate_parameters(computations.default_parameters()),
        "note": text("crm.scheme.default_note"),
    }


SCHEMES = versioning.SchemeServices(
    model=ValuationScheme,
    validate=validate_parameters,
    defaults=computations.default_parameters,
    default_active=_default_scheme,
    refusal=gettext_lazy("No valuation scheme is active. An administrator must activate one."),
)
# The scheme new runs use (the brief's default until one has ever been activated), and the
# drafts: crm.versioning's, with the valuation rules.
scheme_active = SCHEMES.active
scheme_create_draft = SCHEMES.create_draft
scheme_copy = SCHEMES.copy
scheme_update_draft = SCHEMES.update_draft
scheme_activate = SCHEMES.activate
scheme_delete_draft = SCHEMES.delete_draft


# --- compliance records -------------------------------------------------------------------


def _check_compliance_actor(actor: Actor, customer: Customer) -> None:
    user = actor.user
    if (
        user is None
        or not policies.may_record_compliance(user)
        or not customer_in_scope(user=user, customer=customer)
    ):
        raise DomainError(_("Only the customer's licence officer may record its compliance."))


@transaction.atomic
def compliance_record_add(
    *, customer: Customer, date: dt.date, record_type: str, note: str, actor: Actor
) -> ComplianceRecord:
    """A licence officer records a violation or a clean inspection of `customer`. A violation
    lowers the credit score from the next valuation and marks the customer non-compliant now."""
    _check_compliance_actor(actor, customer)
    if record_type not in RecordType.values:
        raise DomainError(_("Choose the type of record."), field="record_type")
    if not isinstance(date, dt.date) or date > timezone.localdate():
        raise DomainError(_("Enter the date it happened (not in the future)."), field="date")
    note = note.strip()
    if record_type in RecordType.violations() and not note:
        raise DomainError(_("Say what was found."), field="note")
    record = ComplianceRecord.objects.create(
        customer=customer, date=date, record_type=record_type, note=note, recorded_by=actor.user
    )
    audit_record(
        actor=actor,
        obj=record,
        action=AuditAction.CREATE,
        snapshot={"date": date.isoformat(), "type": record_type, "note": note},
    )
    compliance_flags_refresh(customer_ids=[customer.pk])
    return record


@transaction.atomic
def compliance_record_void(*, record: ComplianceRecord, reason: str, actor: Actor) -> None:
    """Voids a mistaken record (it stays on file, struck through, with the reason)."""
    locked = (
        ComplianceRecord.objects.select_for_update().select_related("customer").get(pk=record.pk)
    )
    _check_compliance_actor(actor, locked.customer)
    if locked.is_void:
        raise DomainError(_("This record is already void."))
    if not reason.strip():
        raise DomainError(_("Say why the record is void."), field="reason")
    locked.voided_by, locked.voided_at = actor.user, timezone.now()
    locked.void_reason = reason.strip()
    locked.save(update_fields=["voided_by", "voided_at", "void_reason"])
    audit_record(
        actor=actor,
        obj=locked,
        action=AuditAction.UPDATE,
        reason=locked.void_reason,
        changes={"voided": (False, True)},
    )
    compliance_flags_refresh(customer_ids=[locked.customer_id])


def _violations(since: dt.date):
    return ComplianceRecord.objects.filter(
        record_type__in=RecordType.violations(), voided_at__isnull=True, date__gte=since
    )


def compliance_flags_refresh(
    *, customer_ids: list[int] | None = None, today: dt.date | None = None
) -> None:
    """Sets the customers' compliance flag (system field 守法经营): no violation on record in
    the problem window of the active scheme (default the last 6 months)."""
    today = today or timezone.localdate()
    months = scheme_active().parameters["problem"]["violation_months"]
    since = add_months(month_start(today), -months)
    violators = set(_violations(since).values_list("customer_id", flat=True))
    systems = CustomerSystem.objects.all()
    if customer_ids is not None:
        systems = systems.filter(customer_id__in=customer_ids)
    systems.filter(customer_id__in=violators).exclude(compliance_flag=False).update(
        compliance_flag=False
    )
    systems.exclude(customer_id__in=violators).exclude(compliance_flag=True).update(
        compliance_flag=True
    )


# --- early warnings -----------------------------------------------------------------------


def _check_warning_actor(actor: Actor, warning: EarlyWarning) -> None:
    user = actor.user
    if (
        user is None
        or not policies.may_handle_warnings(user)
        or not customer_in_scope(user=user, customer=warning.customer)
    ):
        raise DomainError(_("Only the customer's account manager or supervisor may do this."))


def _locked_warning(warning: EarlyWarning) -> EarlyWarning:
    return (
        EarlyWarning.objects.select_for_update(of=("self",))
        .select_related("customer")
        .get(pk=warning.pk)
    )


@transaction.atomic
def warning_acknowledge(*, warning: EarlyWarning, note: str, actor: Actor) -> EarlyWarning:
    """The account manager (or a supervisor) has seen an open warning and says what they will
    do about it."""
    locked = _locked_warning(warning)
    _check_warning_actor(actor, locked)
    if locked.status != WarningStatus.OPEN:
        raise DomainError(_("Only an open warning can be acknowledged."))
    if not note.strip():
        raise DomainError(_("Say what you will do about it."), field="note")
    locked.status = WarningStatus.ACKNOWLEDGED
    locked.note = note.strip()
    locked.acknowledged_by, locked.acknowledged_at = actor.user, timezone.now()
    locked.save(update_fields=["status", "note", "acknowledged_by", "acknowledged_at"])
    audit_record(
        actor=actor,
        obj=locked,
        action=AuditAction.UPDATE,
        reason=locked.note,
        changes={"status": (WarningStatus.OPEN.value, WarningStatus.ACKNOWLEDGED.value)},
    )
    return locked


@transaction.atomic
def warning_resolve(*, warning: EarlyWarning, note: str, actor: Actor) -> EarlyWarning:
    """Closes an open or acknowledged warning by hand. The refresh does not open it again for
    the same episode (the same last order, month or grade month)."""
    locked = _locked_warning(warning)
    _check_warning_actor(actor, locked)
    if not locked.is_unresolved:
        raise DomainError(_("This warning is resolved already."))
    before = locked.status
    locked.status = WarningStatus.RESOLVED
    locked.resolution = note.strip()
    locked.resolved_by, locked.resolved_at = actor.user, timezone.now()
    locked.save(update_fields=["status", "resolution", "resolved_by", "resolved_at"])
    audit_record(
        actor=actor,
        obj=locked,
        action=AuditAction.UPDATE,
        reason=locked.resolution,
        changes={"status": (before, WarningStatus.RESOLVED.value)},
    )
    return locked


def _warning_months(*, today: dt.date, parameters: dict[str, Any]) -> list[dt.date]:
    k = parameters["warnings"]["drop_months"]
    this_month = month_start(today)
    return [add_months(this_month, -n) for n in range(2 * k, 0, -1)]


_WARNING_FACT_COLUMNS = ("customer_id", "month", "amount")


def warning_signs(
    *, today: dt.date, parameters: dict[str, Any], context: ChainContext | None = None
) -> pd.DataFrame:
    """The churn signs that hold on `today` for every customer that is not closed (three bulk
    reads and one pure step; the customers and facts shared with a chain `context`)."""
    customers = shared_read(context, "customers", customer_monthly_frame)
    this_month = month_start(today)
    months = _warning_months(today=today, parameters=parameters)
    amounts = sales_facts_frame(months=months, columns=_WARNING_FACT_COLUMNS, context=context)
    # Only the grades that fell far enough: warning_frame drops the others.
    fell = parameters["warnings"]["downgrade_steps"]
    grades = grade_pairs_frame(up_to=this_month, fallen_by=fell)
    # Facts and grades are read for everyone; closed customers get no warning.
    live = customers["customer_id"]
    return computations.warning_frame(
        customers[["customer_id", "order_cycle", "last_order_date"]],
        amounts[amounts["customer_id"].isin(live)],
        grades[grades["customer_id"].isin(live)],
        today=today,
        parameters=parameters,
    )


def warnings_refresh(
    *, today: dt.date | None = None, context: ChainContext | None = None
) -> WarningRefresh:
    """Brings the early warnings up to date (daily, and after each valuation run): opens a
    warning for each new episode of a churn sign, updates the figures of the unresolved ones
    whose sign still holds, and resolves those whose sign has gone. Account managers with new
    warnings get one notification each. One transaction; recorded as a WarningRefresh."""
    today = today or timezone.localdate()
    refresh = WarningRefresh.objects.create(as_of=today)
    try:
        # The signs are read before the transaction, so that the bulk reads go through Arrow
        # on connections of their own (which see committed rows only; they read no row the
        # refresh writes).
        signs = warning_signs(today=today, parameters=scheme_active().parameters, context=context)
        with transaction.atomic():
            counts = _warnings_sync(signs)
    except Exception as error:  # noqa: BLE001 (recorded, then re-raised)
        WarningRefresh.objects.filter(pk=refresh.pk).update(
            finished_at=timezone.now(), error=f"{type(error).__name__}: {error}"[:2000]
        )
        raise
    for name, value in counts.items():
        setattr(refresh, name, value)
    refresh.finished_at = timezone.now()
    refresh.save()
    return refresh


def _warnings_sync(signs: pd.DataFrame) -> dict[str, int]:
    """Brings the stored warnings in line with `signs` (WARNING_COLUMNS), inside the caller's
    transaction: opens the episodes never stored, updates the details of the unresolved ones
    that still hold, resolves the unresolved ones that do not. Returns the three counts.

    Two refreshes at once (the daily one and the monthly chain's) take turns on PostgreSQL (a
    transaction advisory lock), so the second finds what the first opened instead of failing
    on the unique episode. The unresolved warnings are read once and locked (a hand
    acknowledgement or resolution waits, or is seen); everything else is compared in sets.
    Each write is one statement whatever the number of warnings (arrays on PostgreSQL, where a
    long IN list or `bulk_update`'s CASE cost seconds at 100,000 customers; batches elsewhere).
    """
    postgres = connection.vendor == "postgresql"
    if postgres:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_WARNINGS_LOCK_KEY])
    found = {
        (int(c), str(k), str(key)): details
        for c, k, key, details in signs.itertuples(index=False, name=None)
    }
    unresolved = {
        (c, k, key): (pk, details)
        for pk, c, k, key, details in EarlyWarning.objects.select_for_update()
        .filter(status__in=WarningStatus.unresolved())
        .values_list("pk", "customer_id", "kind", "key", "details")
    }
    # The current episodes not among the unresolved: new, or resolved already (not reopened).
    others = [ident for ident in found if ident not in unresolved]
    stored = _episodes_stored(others, postgres=postgres) if others else set()
    new = [ident for ident in others if ident not in stored]
    changed = [
        (pk, found[ident])
        for ident, (pk, details) in unresolved.items()
        if ident in found and details != found[ident]
    ]
    gone = [pk for ident, (pk, _details) in unresolved.items() if ident not in found]
    now = timezone.now()
    if new:
        _warnings_insert([(*ident, found[ident]) for ident in new], now=now, postgres=postgres)
    if changed:
        _warnings_details_update(changed, now=now, postgres=postgres)
    if gone:
        EarlyWarning.objects.filter(pk__in=_pks(gone, postgres=postgres)).update(
            status=WarningStatus.RESOLVED,
            resolved_at=now,
            resolution=_("Resolved by the daily check: the sign has gone."),
        )
    _notify_new([c for c, _k, _key in new], postgres=postgres)
    return {"opened": len(new), "updated": len(changed), "resolved": len(gone)}


def _pks(pks: list[int], *, postgres: bool) -> list[int] | RawSQL:
    """`pks` for a `pk__in` filter: on PostgreSQL one array (`IN (SELECT unnest(…))`), since
    psycopg spends about 10 µs on each parameter of a long IN list."""
    return RawSQL("SELECT unnest(%s::bigint[])", [pks]) if postgres else pks


def _episodes_stored(
    episodes: list[tuple[int, str, str]], *, postgres: bool
) -> set[tuple[int, str, str]]:
    """Which of `episodes` (customer, kind, key) have a warning already, of any status."""
    if postgres:
        customers, kinds, keys = (list(column) for column in zip(*episodes, strict=True))
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT w.customer_id, w.kind, w.key FROM valuation_earlywarning w JOIN "
                "unnest(%s::bigint[], %s::text[], %s::text[]) AS e(customer_id, kind, key) "
                "ON w.customer_id = e.customer_id AND w.kind = e.kind AND w.key = e.key",
                [customers, kinds, keys],
            )
            return {(c, k, key) for c, k, key in cursor.fetchall()}
    wanted = set(episodes)
    customers = sorted({c for c, _k, _key in episodes})
    return {
        episode
        for start in range(0, len(customers), _SQLITE_BATCH)
        for episode in EarlyWarning.objects.filter(
            customer_id__in=customers[start : start + _SQLITE_BATCH]
        ).values_list("customer_id", "kind", "key")
        if episode in wanted
    }


def _warnings_insert(
    rows: list[tuple[int, str, str, dict[str, Any]]], *, now: dt.datetime, postgres: bool
) -> None:
    """Opens a warning for each (customer, kind, key, details): COPY on PostgreSQL."""
    if not postgres:
        EarlyWarning.objects.bulk_create(
            (
                EarlyWarning(
                    customer_id=c, kind=k, key=key, details=details, opened_at=now, updated_at=now
                )
                for c, k, key, details in rows
            ),
            batch_size=_SQLITE_BATCH,
        )
        return
    customers, kinds, keys, details = zip(*rows, strict=True)
    frame = pd.DataFrame(
        {
            "customer_id": customers,
            "kind": kinds,
            "key": keys,
            "details": [json.dumps(d, cls=DjangoJSONEncoder) for d in details],
        }
    )
    constants = {"status": WarningStatus.OPEN.value, "note": "", "resolution": ""}
    write_frame(EarlyWarning, frame, constants={**constants, "opened_at": now, "updated_at": now})


def _warnings_details_update(
    changed: list[tuple[int, dict[str, Any]]], *, now: dt.datetime, postgres: bool
) -> None:
    """New details for these warnings (pk, details): one UPDATE … FROM unnest on PostgreSQL."""
    if not postgres:
        EarlyWarning.objects.bulk_update(
            [EarlyWarning(pk=pk, details=details, updated_at=now) for pk, details in changed],
            ["details", "updated_at"],
            batch_size=_SQLITE_BATCH,
        )
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE valuation_earlywarning w SET details = c.details::jsonb, updated_at = %s "
            "FROM unnest(%s::bigint[], %s::text[]) AS c(id, details) WHERE w.id = c.id",
            [
                now,
                [pk for pk, _details in changed],
                [json.dumps(details, cls=DjangoJSONEncoder) for _pk, details in changed],
            ],
        )


def _notify_new(customers: list[int], *, postgres: bool) -> None:
    """One notification per account manager with new warnings (on these customers, one item
    per warning), however many there are."""
    if not customers:
        return
    owners = dict(
        Customer.objects.filter(
            pk__in=_pks(sorted(set(customers)), postgres=postgres), account_manager__isnull=False
        ).values_list("pk", "account_manager_id")
    )
    totals = Counter(owners[c] for c in customers if c in owners)
    for user in User.objects.filter(pk__in=list(totals)):
        n = totals[user.pk]
        notify(
            user=user,
            message=text("valuation.warnings.new", n=n),
            link=reverse("valuation:warnings"),
        )


# --- the monthly valuation ----------------------------------------------------------------


@dataclass
class ValuationOutcome:
    """What a valuation found: the results frame and its summaries (saved or, dry, not)."""

    month: dt.date
    scheme: ValuationScheme
    results: pd.DataFrame
    counts: dict[str, int] = field(default_factory=dict)
    movements: dict[str, dict[str, int]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    written: int | None = None  # result rows written (new or changed), once saved

    @property
    def customers(self) -> int:
        return len(self.results)

    @property
    def core(self) -> int:
        return int(self.results["is_core"].sum())

    @property
    def problem(self) -> int:
        return int(self.results["is_problem"].sum())


def valuation_chain_prepare(*, context: ChainContext) -> None:
    """Declares what a valuation of `context.month` with the active scheme reads (its facts,
    first order dates, customers and last month's tiers) and the facts of the early
    warnings' refresh that follows it, so that the chain reads them once with the other
    steps' and at once (`crm.chain`)."""
    parameters = scheme_active().parameters
    context.want_facts(facts_wanted(**_facts_request(parameters, context.month)))
    today = timezone.localdate()
    context.want_facts(
        facts_wanted(
            months=_warning_months(today=today, parameters=parameters),
            columns=_WARNING_FACT_COLUMNS,
        )
    )
    sales_facts_want(context=context)
    first_order_want(before=month_start(context.month), context=context)
    context.want("customers", customer_monthly_frame)
    window = computations.window_months(parameters, month_start(context.month))
    context.want(("displays", tuple(window)), lambda: display_compliance_frame(months=window))
    before = add_months(month_start(context.month), -1)
    context.want(("tiers", before), lambda: _month_tiers(before))


def valuation_inputs(
    *, month: dt.date, scheme: ValuationScheme, context: ChainContext | None = None
) -> pd.DataFrame:
    """The raw inputs of every customer that is not closed for valuing `month`: five bulk
    reads (customers, first order dates, the facts of the months read, violations, the
    window's display answers of the retail audits) and one pure step; the reads shared with
    a chain `context`."""
    month = month_start(month)
    parameters = scheme.parameters
    customers = shared_read(context, "customers", customer_monthly_frame).merge(
        first_order_frame(before=month, context=context), on="customer_id", how="left"
    )
    facts = sales_facts_parts(**_facts_request(parameters, month), context=context)
    longest = max(
        parameters["credit"]["violation_months"], parameters["problem"]["violation_months"]
    )
    violations = pd.DataFrame.from_records(
        _violations(add_months(month, -longest))
        .filter(date__lt=month)
        .values_list("customer_id", "date"),
        columns=list(computations.VIOLATION_COLUMNS),
    )
    window = computations.window_months(parameters, month)
    displays = shared_read(
        context, ("displays", tuple(window)), lambda: display_compliance_frame(months=window)
    )
    inputs = computations.value_inputs(
        facts, customers, violations, month=month, parameters=parameters, displays=displays
    )
    if context is not None:
        # Only the early warnings' amounts are read after this (about 110 MB freed at
        # 200,000 customers, for the valuation's compare and write).
        del facts
        context.narrow_facts(
            facts_wanted(
                months=_warning_months(today=timezone.localdate(), parameters=parameters),
                columns=_WARNING_FACT_COLUMNS,
            )
        )
    return inputs


def _facts_request(parameters: dict[str, Any], month: dt.date) -> dict[str, Any]:
    """The facts `value_inputs` reads for `month` (`sales_facts_frame`'s arguments): the
    amounts of every month read, the other columns of the window months only."""
    window = computations.window_months(parameters, month)
    return {
        "months": computations.months_read(parameters, month),
        "columns": computations.FACT_COLUMNS,
        "only_in": dict.fromkeys(computations.WINDOW_FACT_COLUMNS, window),
    }


def valuation_compute(
    *, month: dt.date, scheme: ValuationScheme, context: ChainContext | None = None
) -> ValuationOutcome:
    """Values every customer for `month` with `scheme` without saving anything (the dry run and
    the first half of a real run). Movements compare the tiers against the stored ones of the
    month before."""
    month = month_start(month)
    started = time.perf_counter()
    inputs = valuation_inputs(month=month, scheme=scheme, context=context)
    read = time.perf_counter()
    results = computations.value_frame(inputs, parameters=scheme.parameters)
    computed = time.perf_counter()
    before = add_months(month, -1)
    previous = shared_read(context, ("tiers", before), lambda: _month_tiers(before))
    previous = previous.set_index("customer_id")["value_tier"]
    return ValuationOutcome(
        month=month,
        scheme=scheme,
        results=results,
        counts=computations.tier_counts(results["value_tier"]),
        movements=computations.tier_movements(
            previous, results.set_index("customer_id")["value_tier"]
        ),
        seconds={"read": read - started, "compute": computed - read},
    )


def _month_tiers(month: dt.date) -> pd.DataFrame:
    """The stored value tiers of `month` (customer_id, value_tier)."""
    qs = ValueResult.objects.filter(month=month).order_by()
    return query_frame(
        *qs.values_list("customer_id", "value_tier").query.sql_with_params(),
        columns=("customer_id", "value_tier"),
        dtypes={"customer_id": "int64", "value_tier": object},
    )


def valuation_results_stored(*, outcome: ValuationOutcome) -> pd.DataFrame:
    """The customers and digests of the stored results of `outcome.month`, what the
    write compares with (`crm.monthly_runs`)."""
    return monthly_runs.month_results_stored(ValueResult, outcome)


def valuation_results_write(
    *, outcome: ValuationOutcome, run: ValuationRun | None, stored: pd.DataFrame | None = None
) -> None:
    """Brings the stored results of `outcome.month` to `outcome.results`: deletes the rows of
    customers no longer valued or whose result changed and writes the new and changed ones
    (COPY on PostgreSQL; elsewhere every row is replaced), so a month valued again with the
    same outcome writes nothing; then, if it is the latest valued month not after this one,
    the customers' value fields (results of a later month, stored before future months were
    refused, never block them). `stored`: the stored rows' digests read beforehand
    (`valuation_results_stored`). Call inside `transaction.atomic`."""
    monthly_runs.month_results_write(
        ValueResult,
        outcome,
        run=run,
        stored=stored,
        lock_key=_WRITE_LOCK_KEY,
        system_update=_system_fields_update,
    )


_SYSTEM_FIELDS = (
    "value_tier",
    "contribution_score",
    "support_score",
    "credit_score",
    "growth_score",
    "influence_score",
    "current_value",
    "potential_value",
    "is_core",
    "is_problem",
)


def _system_fields_update(month: dt.date) -> None:
    system_fields_copy(results=ValueResult, month=month, fields=_SYSTEM_FIELDS)


# --- runs (`crm.monthly_runs`, with valuation's declaration in valuation/monthly.py) -------


def _rules() -> monthly.MonthlyRules:
    return monthly.rules_for("valuation")


def valuation_run_start(
    *, month: dt.date, trigger: str, actor: Actor | None = None
) -> ValuationRun:
    """Queues a valuation of `month` with the active scheme and enqueues `valuation_run_task`
    after commit (an administrator revaluing a month after changing the scheme). Refused for
    a month that has not begun and while a run of that month is live."""
    return monthly_runs.run_start(_rules(), month=month, trigger=trigger, actor=actor)


def valuation_run_execute(*, run_id: int) -> ValuationRun:
    """Runs a queued run in this process: compute, then write atomically, then refresh the
    early warnings. Any error leaves the month's previous results untouched and is recorded
    on the run."""
    return monthly_runs.run_execute(_rules(), run_id=run_id)


def valuation_after_write(
    *, outcome: ValuationOutcome, run: ValuationRun, context: ChainContext | None = None
) -> None:
    """After a committed run: the compliance flags and the early warnings read the new grades
    and violations; a failure here is logged and recorded on its refresh, never undoes the
    run."""
    started = time.perf_counter()
    try:
        compliance_flags_refresh()
        warnings_refresh(context=context)
    except Exception:  # noqa: BLE001 (the run stands; the daily refresh tries again)
        logger.exception("refreshing the early warnings after valuing %s failed", outcome.month)
    outcome.seconds["warnings"] = time.perf_counter() - started


def valuation_after_grading(
    *, grading_run_id: int, context: ChainContext | None = None
) -> ValuationRun | None:
    """The monthly chain's second step: values the month the grading run `grading_run_id` has
    just graded, in this process. None when a valuation of that month is already live."""
    from grading.models import GradingRun

    grading_run = GradingRun.objects.get(pk=grading_run_id)
    try:
        run, _outcome = monthly_runs.run_in_process(
            _rules(),
            month=grading_run.month,
            trigger=RunTrigger.CHAIN,
            actor=None,
            context=context,
            grading_run_id=grading_run.pk,
        )
    except DomainError:
        logger.warning("valuation of %s already live; chain step skipped", grading_run.month)
        return None
    return run


def valuation_recompute(
    *,
    month: dt.date,
    dry_run: bool = False,
    actor: Actor | None = None,
    context: ChainContext | None = None,
) -> ValuationOutcome:
    """The in-process valuation (`manage.py recompute`, after the grading, with the chain's
    `context`): with `dry_run`, computes and reports without saving or recording a run."""
    return monthly_runs.recompute(
        _rules(), month=month, dry_run=dry_run, actor=actor, context=context
    )
