"""Quota take-up, allocation's monthly result (declared in allocation/monthly.py on the engine
`crm.monthly`): the scheme services, a month's computation and its write.

A run of a month reads, in one bulk read, the quotas of the plan versions in force during the
month (published or closed, the period overlapping the month) with each shop's area, applies
the pure rules of `allocation.computations.takeup_frame` and replaces the month's rows of
`AllocationTakeUp` inside the run's transaction (`crm.monthly_runs`): a shop's quota, what it
ordered, used and ordered beyond, and its status (none / low / partial / full / over).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from django.utils.translation import gettext_lazy

from allocation import computations
from allocation.choices import PlanStatus
from allocation.models import AllocationQuota, AllocationRun, AllocationScheme, AllocationTakeUp
from crm import monthly_runs, versioning
from crm.chain import ChainContext
from crm.choices import RunTrigger
from crm.dates import add_months, month_start
from crm.exceptions import DomainError
from crm.frames import query_frame
from crm.stored_text import text

logger = logging.getLogger(__name__)

# Serialises the write phase of take-up runs (PostgreSQL advisory lock key).
_WRITE_LOCK_KEY = 0x616C_6F63  # "aloc"

# --- schemes ------------------------------------------------------------------------------


def validate_parameters(scheme: AllocationScheme, parameters: dict[str, Any]) -> dict[str, Any]:
    """The rules' verdict on `parameters` (`low_share`, `full_share`: 0 < low < full ≤ 100):
    the clean parameters, or a DomainError naming the fields."""
    return computations.validate_takeup_parameters(parameters)


def _default_scheme() -> dict[str, Any]:
    return {
        "name": text("allocation.scheme.default_name"),
        "parameters": computations.default_takeup_parameters(),
        "note": text("crm.scheme.default_note"),
    }


SCHEMES = versioning.SchemeServices(
    model=AllocationScheme,
    validate=validate_parameters,
    defaults=computations.default_takeup_parameters,
    default_active=_default_scheme,
    refusal=gettext_lazy("No take-up scheme is active. An administrator must activate one."),
)
# The scheme new runs use (the default until one has ever been activated), and the drafts:
# crm.versioning's, with the take-up rules.
scheme_active = SCHEMES.active
scheme_create_draft = SCHEMES.create_draft
scheme_copy = SCHEMES.copy
scheme_update_draft = SCHEMES.update_draft
scheme_activate = SCHEMES.activate
scheme_delete_draft = SCHEMES.delete_draft


# --- a month's take-up --------------------------------------------------------------------


@dataclass
class TakeUpOutcome:
    """What a take-up computation found: one row per shop with a quota in force during the
    month (`computations.TAKEUP_COLUMNS`), saved or, dry, not."""

    month: dt.date
    scheme: AllocationScheme
    results: pd.DataFrame
    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    written: int | None = None

    @property
    def customers(self) -> int:
        return len(self.results)


def month_quotas_frame(*, month: dt.date) -> pd.DataFrame:
    """The quotas of the plan versions published or closed whose period overlaps `month`, one
    row each with its shop's area (`computations.TAKEUP_QUOTA_COLUMNS`): one bulk read."""
    first = month_start(month)
    last = add_months(first, 1) - dt.timedelta(days=1)
    qs = (
        AllocationQuota.objects.filter(
            plan__status__in=[PlanStatus.PUBLISHED, PlanStatus.CLOSED],
            plan__starts_on__lte=last,
            plan__ends_on__gte=first,
        )
        .order_by()
        .values_list("customer_id", "plan_id", "grade", "customer__area_id", "quota", "ordered")
    )
    return query_frame(
        *qs.query.sql_with_params(),
        columns=computations.TAKEUP_QUOTA_COLUMNS,
        dtypes={
            "customer_id": "int64",
            "plan_id": "int64",
            "grade": "int64",
            "area_id": "Int64",
            "quota": "int64",
            "ordered": "int64",
        },
    )


def allocation_compute(
    *, month: dt.date, scheme: AllocationScheme, context: ChainContext | None = None
) -> TakeUpOutcome:
    """Every shop's take-up of `month` with `scheme`, nothing saved (the dry run and the first
    half of a run). `context` is unused: take-up reads nothing the monthly chain shares."""
    month = month_start(month)
    started = time.perf_counter()
    quotas = month_quotas_frame(month=month)
    read = time.perf_counter()
    results = computations.takeup_frame(
        quotas,
        low_share=scheme.parameters["low_share"],
        full_share=scheme.parameters["full_share"],
    )
    return TakeUpOutcome(
        month=month,
        scheme=scheme,
        results=results,
        counts=computations.takeup_counts(results["status"]),
        seconds={"read": read - started, "compute": time.perf_counter() - read},
    )


def allocation_results_stored(*, outcome: TakeUpOutcome) -> pd.DataFrame:
    """The customers and digests of the stored take-up of `outcome.month`, what the write
    compares with (`crm.monthly_runs`)."""
    return monthly_runs.month_results_stored(AllocationTakeUp, outcome)


def allocation_results_write(
    *, outcome: TakeUpOutcome, run: AllocationRun | None, stored: pd.DataFrame | None = None
) -> None:
    """Brings the stored take-up of `outcome.month` to `outcome.results` (the rows of shops no
    longer with a quota, or whose take-up changed, replaced; COPY on PostgreSQL), through
    `crm.monthly_runs.month_results_write`. No customer field shows take-up, so nothing
    follows the write. Call inside `transaction.atomic` (the run's)."""
    monthly_runs.month_results_write(
        AllocationTakeUp,
        outcome,
        run=run,
        stored=stored,
        lock_key=_WRITE_LOCK_KEY,
        system_update=lambda month: None,
    )


def takeup_runs_scheduled(*, today: dt.date) -> list[Any]:
    """The daily schedule's runs: this month's take-up (orders move it every day), and on the
    first of a month the month just ended once more, with its last days' orders. A month
    whose run is already queued or running is left to it."""
    from allocation.monthly import RULES

    months = [month_start(today)]
    if today.day == 1:
        months.append(add_months(months[0], -1))
    runs = []
    for month in months:
        try:
            runs.append(monthly_runs.run_start(RULES, month=month, trigger=RunTrigger.SCHEDULE))
        except DomainError as exc:
            logger.info("take-up of %s not started: %s", month, exc.message)
    return runs
