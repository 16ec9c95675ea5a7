"""The allocation app's panels (crm.panels): on the customer page, the shop's quotas of the plans
in force today with why each is what it is (and a line in the summary header); on an account
manager's home, their shops' quotas per plan with the shops over quota; on a supervisor's home,
the open exceptions of their areas. Registered by AllocationConfig.ready."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from allocation import selectors
from allocation.choices import ExceptionStatus
from crm.choices import Role
from crm.panels import Panel, Surface, Tab, register
from customers.choices import BusinessFormat, MarketType

# Shops over quota an account manager's home names per plan (the rest are counted).
OVER_SHOWN = 5


def _bar(quota: int, ordered: int) -> dict[str, Any]:
    """What a quota's progress bar draws: the share of the quota ordered (capped at 100) and
    by how much the shop is over."""
    if not quota:  # a quota scaled down to nothing
        return {"share": 100.0 if ordered else 0.0, "over_by": ordered}
    share = min(100.0, 100.0 * ordered / quota)
    return {"share": round(share, 1), "over_by": max(ordered - quota, 0)}


def _why(quota) -> dict[str, Any]:
    """`selectors.quota_explanation` with the eligibility codes as the names people read."""
    why = selectors.quota_explanation(quota)
    markets = dict(MarketType.choices)
    formats = dict(BusinessFormat.choices)
    why["market_labels"] = [str(markets.get(code, code)) for code in why["market_types"]]
    why["format_labels"] = [str(formats.get(code, code)) for code in why["business_formats"]]
    why["everyone"] = not (
        why["classes"] or why["market_types"] or why["business_formats"] or why["areas"]
    )
    return why


def customer_allocation_context(request, customer) -> dict[str, Any] | None:
    """The shop's quotas in the plans in force today (one query); left out when it has none."""
    today = timezone.localdate()
    quotas = selectors.customer_quotas(customer=customer, on=today)
    if not quotas:
        return None
    rows = [
        {"quota": q, "plan": q.plan, "why": _why(q), **_bar(q.quota, q.ordered)} for q in quotas
    ]
    return {
        "allocation": {
            "on": today,
            "rows": rows,
            "over": sum(1 for row in rows if row["over_by"]),
        }
    }


def home_quotas_context(request) -> dict[str, Any] | None:
    """An account manager's shops' quotas in the plans in force today, per plan: shops, quota,
    ordered, what is left and the shops over quota (`selectors.plan_totals_on`). Left out when
    no plan is in force or none gives their shops a quota."""
    today = timezone.localdate()
    plans, totals, over = selectors.plan_totals_on(user=request.user, on=today)
    if not totals:
        return None
    lines = []
    for plan in plans:
        total = totals.get(plan.pk)
        if total is None:
            continue
        lines.append(
            {
                "plan": plan,
                "shops": total["shops"],
                "quota": total["quota_total"],
                "ordered": total["ordered_total"],
                "remaining": total["left"],
                "shops_over": total["shops_over"],
                "over": over.get(plan.pk, [])[:OVER_SHOWN],
                **_bar(total["quota_total"], total["ordered_total"]),
            }
        )
    return {"allocation_home": {"on": today, "lines": lines}}


def home_exceptions_context(request) -> dict[str, Any]:
    """A supervisor's open exceptions (orders over a shop's quota) in their areas: the count."""
    return {
        "allocation_exceptions": {
            "open": selectors.exception_list(user=request.user, status=ExceptionStatus.OPEN).count()
        }
    }


def register_all() -> None:
    register(
        Panel(
            key="allocation",
            surface=Surface.CUSTOMER,
            # Beside the grade that decides it (the grading card comes first).
            tab=Tab.GRADE_VALUE,
            template="allocation/inc/customer_allocation.html",
            summary_template="allocation/inc/customer_summary.html",
            context=customer_allocation_context,
            order=45,
        ),
        Panel(
            key="allocation-quotas",
            surface=Surface.HOME,
            template="allocation/inc/home_quotas.html",
            context=home_quotas_context,
            roles=frozenset({Role.ACCOUNT_MANAGER}),
            order=35,
        ),
        Panel(
            key="allocation-exceptions",
            surface=Surface.HOME,
            template="allocation/inc/home_exceptions.html",
            context=home_exceptions_context,
            roles=frozenset({Role.SUPERVISOR}),
            order=35,
            width="col-lg-6",
        ),
    )
