"""Demo valuation: the licence officer's compliance records (two violations, so the problem
list is not empty, and clean inspections), every month of the demo period valued (so the
customer page has a tier history and the overview its movements), the early warnings
refreshed, one acknowledged and one resolved by their account managers, and a draft scheme to
edit.

Seeded once: a later run values only the months some open shop has no value for (a new
month, new shops), and adds the records, the draft and the warning decisions only the first
time — a record voided, a draft deleted or activated, a warning decided stays so.
"""

from __future__ import annotations

import datetime as dt
import time

from django.utils import timezone

from crm.dates import month_start
from crm.demo import SeedReport, demo_months, seed_once
from crm.models import User
from crm.services import Actor
from customers.demo import months_missing
from customers.models import Customer
from valuation import computations, services
from valuation.choices import PercentileGroup, RecordType, WarningStatus
from valuation.models import ComplianceRecord, EarlyWarning, ValuationScheme, ValueResult

DRAFT = "Percentiles within market type and format"

# (days ago, type, note) for the first customers of the officer's areas.
_RECORDS = [
    (20, RecordType.SMUGGLED, "查获非本地烟 6 条 / 6 cartons of non-local cigarettes found."),
    (150, RecordType.PRICE, "未明码标价 / Retail prices not displayed."),
    (40, RecordType.INSPECTION_PASSED, "例行检查合格 / Routine inspection passed."),
    (70, RecordType.INSPECTION_PASSED, "例行检查合格 / Routine inspection passed."),
]


def seed_valuation(report: SeedReport, *, actor: Actor) -> None:
    if seed_once("valuation.records", made=ComplianceRecord.objects.exists):
        _seed_records(actor)
    admin = User.objects.get(username="admin")
    if seed_once("valuation.draft", made=ValuationScheme.objects.filter(name=DRAFT).exists):
        parameters = computations.default_parameters()
        parameters["group_by"] = PercentileGroup.MARKET_FORMAT.value
        services.scheme_create_draft(
            name=DRAFT, parameters=parameters, actor=Actor.of(admin, actor.source)
        )
    today = timezone.localdate()
    this_month, months = month_start(today), report.options.months
    missing = months_missing(ValueResult, demo_months(months, today))
    for month in missing:
        started = time.perf_counter()
        services.valuation_recompute(month=month, actor=actor)
        if report.options.customers > 10_000:
            report.step(f"  valued {month:%Y-%m} in {time.perf_counter() - started:.1f} s")
    if seed_once("valuation.warning_decisions", made=_warnings_decided):
        _seed_warning_decisions(actor)
    latest = ValueResult.objects.filter(month=this_month)
    report.lines.append(
        f"Valuation: {months} months up to {this_month:%Y-%m}, {len(missing)} valued now, "
        f"{months - len(missing)} valued before left as they are "
        f"({latest.filter(is_core=True).count()} core, "
        f"{latest.filter(is_problem=True).count()} problem customers); "
        f"{EarlyWarning.objects.filter(status__in=WarningStatus.unresolved()).count()} "
        "open early warnings."
    )


def _seed_records(actor: Actor) -> None:
    officer = User.objects.get(username="lo_sun")
    customers = Customer.objects.visible_to(officer).order_by("customer_code")[: len(_RECORDS)]
    today = timezone.localdate()
    for customer, (days, record_type, note) in zip(customers, _RECORDS, strict=False):
        services.compliance_record_add(
            customer=customer,
            date=today - dt.timedelta(days=days),
            record_type=record_type,
            note=note,
            actor=Actor.of(officer, actor.source),
        )


def _warnings_decided() -> bool:
    """Whether a demo seeded before its parts were recorded made the warning decisions."""
    return (
        EarlyWarning.objects.filter(customer__account_manager__username="am_zhang")
        .exclude(status=WarningStatus.OPEN)
        .exists()
    )


def _seed_warning_decisions(actor: Actor) -> None:
    """The first open warning of am_zhang acknowledged, the second resolved."""
    manager = User.objects.get(username="am_zhang")
    mine = list(
        EarlyWarning.objects.filter(
            customer__account_manager=manager, status=WarningStatus.OPEN
        ).order_by("customer__customer_code", "kind")[:2]
    )
    by_manager = Actor.of(manager, actor.source)
    if mine:
        services.warning_acknowledge(
            warning=mine[0],
            note="本周上门了解原因 / Visiting this week to ask why.",
            actor=by_manager,
        )
    if len(mine) > 1:
        services.warning_resolve(
            warning=mine[1],
            note="店主外出探亲，已恢复订货 / Owner was away; ordering again.",
            actor=by_manager,
        )
