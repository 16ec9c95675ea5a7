"""Reads of the value overview: the valued months, one month's results (always through the
scope rule), their summaries (the 2×2 matrix, the distributions by area and account manager,
the month-over-month tier movements) and the core and problem lists."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from crm import jobs
from crm.dates import add_months, month_start
from customers.catalogue import CATALOGUE
from customers.choices import ValueTier
from valuation.choices import Indicator
from valuation.computations import INDICATORS, INPUTS
from valuation.filtersets import ValueResultFilterSet
from valuation.models import ValuationScheme, ValueResult

if TYPE_CHECKING:
    from crm.models import User

TIERS: tuple[str, ...] = tuple(ValueTier.values)


def latest_result_month() -> dt.date | None:
    """The latest valued month not after this one (the customers' current values)."""
    return jobs.results_current_month(ValueResult)


def month_scheme(month: dt.date) -> ValuationScheme | None:
    """The scheme that valued `month`. A run replaces the month's results as a whole, so every
    result of a month names the same scheme: one index probe finds it."""
    first = ValueResult.objects.filter(month=month_start(month)).values("scheme_id")[:1]
    return ValuationScheme.objects.filter(pk=Subquery(first)).first()


def value_results(
    *, user: User, month: dt.date, filters: Mapping[str, Any] | None = None
) -> QuerySet[ValueResult]:
    """`month`'s results of the customers `user` may see, with the customer, its area and
    account manager, filtered and sorted by ValueResultFilterSet (default: by customer code).

    The filters are applied once, here (the area filter reads the area tree): derive the
    summaries and the lists from the returned queryset rather than calling this again."""
    qs = (
        ValueResult.objects.visible_to(user)
        .filter(month=month_start(month))
        .select_related("customer", "customer__area", "customer__account_manager")
    )
    filterset = ValueResultFilterSet(filters or {}, queryset=qs)
    qs = filterset.qs if filterset.is_valid() else qs
    return qs.order_by(*qs.query.order_by, "customer__customer_code")


def _tier_row(counts: Mapping[str, int]) -> dict[str, Any]:
    return {"counts": [counts.get(t, 0) for t in TIERS], "total": sum(counts.values())}


def value_overview(*, results: QuerySet[ValueResult], month: dt.date) -> dict[str, Any]:
    """The summaries of `results` (from `value_results`, so already scoped and filtered):

    Returns::

        {"month": date, "previous_month": date, "customers": int,
         "by_tier": {tier: {"n": int, "amount": Decimal}},
         "transitions": {(previous tier or None, tier): n},
         "by_area": [{"code", "name", "counts": [n per tier], "total"}],
         "by_manager": [{"username", "name", "counts": [n per tier], "total"}],
         "core": int, "problem": int}

    Three grouped queries, whatever the number of customers."""
    month = month_start(month)
    previous_month = add_months(month, -1)
    qs = results.order_by()
    previous = (
        ValueResult.objects.filter(customer_id=OuterRef("customer_id"), month=previous_month)
        .order_by()
        .values("value_tier")[:1]
    )
    pairs = (
        qs.annotate(previous_tier=Subquery(previous))
        .values("previous_tier", "value_tier")
        .annotate(
            n=Count("id"),
            amount=Sum("window_amount"),
            core=Count("id", filter=Q(is_core=True)),
            problem=Count("id", filter=Q(is_problem=True)),
        )
    )
    transitions: dict[tuple[str | None, str], int] = {}
    by_tier = {tier: {"n": 0, "amount": Decimal(0)} for tier in TIERS}
    core = problem = 0
    for row in pairs:
        core += row["core"]
        problem += row["problem"]
        transitions[(row["previous_tier"], row["value_tier"])] = row["n"]
        cell = by_tier.setdefault(row["value_tier"], {"n": 0, "amount": Decimal(0)})
        cell["n"] += row["n"]
        cell["amount"] += row["amount"] or 0

    def grouped(*keys: str) -> dict[tuple, dict[str, int]]:
        out: dict[tuple, dict[str, int]] = {}
        rows = qs.values_list(*keys, "value_tier").annotate(n=Count("id")).order_by(*keys)
        for *key, tier, n in rows:
            out.setdefault(tuple(key), {})[tier] = n
        return out

    by_area = [
        {"code": code, "name": name, **_tier_row(counts)}
        for (code, name), counts in grouped("customer__area__code", "customer__area__name").items()
    ]
    managers = grouped(
        "customer__account_manager__username", "customer__account_manager__name"
    ).items()
    by_manager = [
        {"username": username or "", "name": name or username or "", **_tier_row(counts)}
        for (username, name), counts in managers
    ]
    # Customers without an account manager last.
    by_manager.sort(key=lambda row: (not row["username"], row["username"]))
    return {
        "month": month,
        "previous_month": previous_month,
        "customers": sum(cell["n"] for cell in by_tier.values()),
        "by_tier": by_tier,
        "transitions": transitions,
        "by_area": by_area,
        "by_manager": by_manager,
        "core": core,
        "problem": problem,
    }


# The inputs that are shop attributes someone enters, and the customer field holding each.
INPUT_FIELDS: dict[str, str] = {
    "outlet_size": "outlet_size",
    "trade_area": "trade_area",
    "model_outlet": "is_model_outlet",
}


def _missing(name: str) -> Q:
    """Results whose `missing` list (comma-separated input names) names `name`."""
    return (
        Q(missing=name)
        | Q(missing__startswith=f"{name},")
        | Q(missing__endswith=f",{name}")
        | Q(missing__contains=f",{name},")
    )


def missing_inputs_warning(
    *, results: QuerySet[ValueResult], scheme: ValuationScheme | None
) -> list[dict[str, Any]]:
    """The indicators that could not be measured for more than half of `results` (from
    `value_results`: the month shown, scoped and filtered), from the stored `missing` lists:
    an indicator none of whose weighted inputs was known took the scheme's neutral score.
    Each names the customer fields to fill in (outlet size, trade area, model outlet…) and
    the other inputs the orders could not give. One aggregate query; empty when no indicator
    is missing that often.

        [{"indicator": "influence", "label": "Influence", "n": 40, "customers": 40,
          "percent": 100, "neutral": 40, "fields": ["Outlet size", …], "inputs": [...]}]
    """
    if scheme is None:
        return []
    parameters = scheme.parameters
    weighted = {
        indicator: [
            name
            for name, feeds in INPUTS.items()
            if feeds == indicator and parameters["inputs"][name]["weight"] > 0
        ]
        for indicator in INDICATORS
    }
    counts = results.order_by().aggregate(
        customers=Count("id"),
        **{f"input_{name}": Count("id", filter=_missing(name)) for name in INPUTS},
        **{
            f"indicator_{indicator}": Count("id", filter=Q(*(_missing(name) for name in names)))
            for indicator, names in weighted.items()
            if names
        },
    )
    total = counts["customers"]
    warnings = []
    for indicator, names in weighted.items():
        n = counts.get(f"indicator_{indicator}", 0)
        if not names or n * 2 <= total:
            continue
        often = [name for name in names if counts[f"input_{name}"] * 2 > total]
        warnings.append(
            {
                "indicator": indicator,
                "label": Indicator(indicator).label,
                "n": n,
                "customers": total,
                "percent": round(100 * n / total),
                "neutral": plain_number(parameters["neutral_score"]),
                "fields": [CATALOGUE[INPUT_FIELDS[k]].label for k in often if k in INPUT_FIELDS],
                "inputs": [
                    capfirst(str(ValueResult._meta.get_field(k).verbose_name))
                    for k in often
                    if k not in INPUT_FIELDS
                ],
            }
        )
    return warnings


def core_list(results: QuerySet[ValueResult]) -> QuerySet[ValueResult]:
    """The core customers among `results`, highest current value first."""
    return results.filter(is_core=True).order_by("-current_value", "customer__customer_code")


def tier_list(results: QuerySet[ValueResult], tier: str) -> QuerySet[ValueResult]:
    """The customers of one value tier among `results` (a cell of the overview's 2×2 matrix),
    highest current value first."""
    return results.filter(value_tier=tier).order_by("-current_value", "customer__customer_code")


def problem_list(results: QuerySet[ValueResult]) -> QuerySet[ValueResult]:
    """The problem customers among `results`, lowest credit score first."""
    return results.filter(is_problem=True).order_by("credit_score", "customer__customer_code")


def problem_reasons(
    *, credit_score: float, recent_violations: int, parameters: Mapping[str, Any] | None
) -> list[str]:
    """Why a problem customer is on the list, by the rules of the scheme that valued it
    (`parameters`): "credit below 30", "violation in the last 6 months"."""
    rule = (parameters or {}).get("problem") or {}
    reasons = []
    below = rule.get("credit_below")
    if below is not None and credit_score < below:
        reasons.append(_("credit below %(n)s") % {"n": plain_number(below)})
    if recent_violations:
        months = int(rule.get("violation_months") or 0)
        reasons.append(
            ngettext(
                "violation in the last %(n)d month", "violation in the last %(n)d months", months
            )
            % {"n": months}
        )
    return reasons


def plain_number(value: Any) -> Any:
    """500.0 → 500, as people write it."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def tier_transitions(*, user: User, month: dt.date | None = None) -> dict[str, Any] | None:
    """The tiers of the customers `user` sees in `month` (default: the latest valued month)
    against the month before, in the shape of `value_overview` that
    `crm.monthly.transition_matrix` reads:

        {"month": date, "previous_month": date, "customers": n,
         "transitions": {(previous tier or None, tier): n}, "by_tier": {tier: {"n": n}}}

    None when no month is valued. One grouped query (two without `month`):
    `customers.selectors.month_pair_counts`."""
    from customers.selectors import month_pair_counts

    month = month or latest_result_month()
    if month is None:
        return None
    month = month_start(month)
    previous_month = add_months(month, -1)
    transitions = month_pair_counts(
        user=user,
        relation="value_results",
        field="value_tier",
        month=month,
        previous_month=previous_month,
    )
    by_tier: dict[str, dict[str, int]] = {tier: {"n": 0} for tier in TIERS}
    for (_before, after), n in transitions.items():
        by_tier.setdefault(after, {"n": 0})["n"] += n
    return {
        "month": month,
        "previous_month": previous_month,
        "customers": sum(cell["n"] for cell in by_tier.values()),
        "transitions": transitions,
        "by_tier": by_tier,
    }
