"""Reads for one customer's value (the customer page's card) and for the home page's value
panels, scoped to the user.

The card explains a result with the parameters of the scheme that made it
(`ValueResult.scheme.parameters`), never the active scheme's, so a past month reads as it
was computed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from crm import jobs
from customers import selectors as customer_selectors
from customers.choices import OutletSize, TradeArea
from customers.models import Customer
from valuation import policies
from valuation.choices import Indicator, PercentileGroup, RecordType, ScoreMethod
from valuation.computations import ANSWERS, CURRENT, INPUTS, POTENTIAL
from valuation.models import ValueResult
from valuation.selectors.warnings import (
    compliance_records_for,
    money,
    warning_count_for,
    warning_home_panel,
    warning_summary,
    warnings_for,
)

if TYPE_CHECKING:
    from crm.models import User

HISTORY_MONTHS = 12
HOME_LIST_LENGTH = 5

_SHARES = (
    "key_brand_share",
    "new_product_share",
    "display_compliance",
    "e_settlement_rate",
    "on_time_rate",
)


def _plain(value: Any) -> Any:
    """A whole float as an int (a cut-off of 50.0 reads "50"); anything else unchanged."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _plain_all(section: dict[str, Any]) -> dict[str, Any]:
    return {key: _plain(value) for key, value in section.items()}


def _number(value: float | None, places: int = 1) -> str:
    return "—" if value is None else f"{value:.{places}f}"


def _percent(value: float | None, *, signed: bool = False) -> str:
    """A share (0.453) as "45.3%"; with `signed`, "+3.2%" / "-1.0%"."""
    if value is None:
        return "—"
    return f"{value * 100:+.1f}%" if signed else f"{value * 100:.1f}%"


def _months(n: float | int) -> str:
    """A number of months; a part month (the month of the first order counts as its share,
    see `computations.value_inputs`) with one decimal: "4.7 months"."""
    if not float(n).is_integer():
        return _("%(n)s months") % {"n": f"{float(n):.1f}"}
    n = int(n)
    return ngettext("%(n)d month", "%(n)d months", n) % {"n": n}


def _label(name: str) -> str:
    """An input's name as the page shows it: the result field's verbose name."""
    return capfirst(str(ValueResult._meta.get_field(name).verbose_name))


def _answer(name: str, value: Any) -> str:
    if name == "outlet_size":
        return OutletSize(value).label if value in OutletSize.values else str(value)
    if name == "trade_area":
        return TradeArea(value).label if value in TradeArea.values else str(value)
    return _("Model outlet") if value in (True, "yes") else _("Not a model outlet")


def _raw_text(result: ValueResult, name: str, parameters: dict[str, Any]) -> str:
    """An input's raw value in readable units, or why it could not be measured."""
    value = getattr(result, name)
    if name == "avg_amount":
        if value is None:
            return _("not measured: no order in the window yet")
        return _("%(amount)s a month over %(months)s (%(total)s in all)") % {
            "amount": money(value),
            "months": _months(result.months_counted),
            "total": money(result.window_amount),
        }
    if name in ("key_brand_share", "new_product_share"):
        return _percent(value) if value is not None else _("not measured: no cartons bought")
    if name == "display_compliance":
        return _percent(value) if value is not None else _("not audited")
    if name == "e_settlement_rate":
        return _percent(value) if value is not None else _("not measured: no purchases")
    if name == "on_time_rate":
        return _percent(value) if value is not None else _("not measured: no payment on record")
    if name == "amount_trend":
        if value is None:
            return _("not measured: fewer than %(months)s of trade in the growth window") % {
                "months": _months(parameters["growth"]["min_months"])
            }
        return _("%(trend)s of the average per month, over %(months)s") % {
            "trend": _percent(value, signed=True),
            "months": _months(result.trend_months),
        }
    if name == "tenure_months":
        return _months(value) if value is not None else _("not measured: no order yet")
    if name in ("outlet_size", "trade_area"):
        return _answer(name, value) if value else _("not measured: not filled in")
    if value is None:  # the model-outlet flag: nobody entered it (unknown, not a "no")
        return _("not measured: not filled in")
    return _answer(name, value)


def _full_text(name: str, full: float) -> str:
    """A scale's full value in the input's units."""
    if name == "avg_amount":
        return _("%(amount)s a month") % {"amount": money(full)}
    if name in _SHARES:
        return f"{full * 100:g}%"
    if name == "amount_trend":
        return _("%(trend)s per month") % {"trend": f"{full * 100:+g}%"}
    if name == "tenure_months":
        return _months(full)
    return _number(full, 2)


def _method_text(name: str, spec: dict[str, Any], group_size: int) -> str:
    if spec["method"] == ScoreMethod.PERCENTILE:
        return ngettext(
            "percentile in its group of %(n)d customer",
            "percentile in its group of %(n)d customers",
            group_size,
        ) % {"n": group_size}
    if spec["method"] == ScoreMethod.SCALE:
        return _("scale: %(full)s or more scores 100") % {"full": _full_text(name, spec["full"])}
    # In the answers' own order: a jsonb column does not keep the keys' order.
    points = " · ".join(
        f"{_answer(name, answer)} {spec['points'][answer]:g}"
        for answer in ANSWERS[name]
        if answer in spec["points"]
    )
    return _("points per answer (%(points)s)") % {"points": points}


def _group_text(group_by: str, customer: Customer) -> str:
    if group_by == PercentileGroup.COMPANY:
        return _("all customers")
    if group_by == PercentileGroup.MARKET_FORMAT:
        return _("customers of the same market type and format (%(market)s × %(format)s)") % {
            "market": customer.get_market_type_display(),
            "format": customer.get_business_format_display(),
        }
    return _("customers of the same market type (%(market)s)") % {
        "market": customer.get_market_type_display()
    }


def value_explanation(*, result: ValueResult, customer: Customer) -> dict[str, Any]:
    """Why the result is what it is, with the parameters of its own scheme: per indicator its
    inputs (raw value, score, method, weight, missing or not), the weighted mean, the neutral
    score where nothing was measured, the violation penalty; then the value weights, the tier
    cut-offs and the core and problem rules. No query."""
    p = result.scheme.parameters
    missing = set(result.missing_inputs)
    indicators = []
    for indicator in Indicator:
        inputs = []
        total = weight_known = 0.0
        for name, feeds in INPUTS.items():
            spec = p["inputs"].get(name)
            if feeds != indicator or spec is None:  # None: an input newer than the scheme
                continue
            score = getattr(result, f"{name}_score")
            counted = spec["weight"] > 0
            if counted and score is not None and name not in missing:
                total += score * spec["weight"]
                weight_known += spec["weight"]
            inputs.append(
                {
                    "name": name,
                    "label": _label(name),
                    "raw": _raw_text(result, name, p),
                    "score": score,
                    "method": spec["method"],
                    "method_text": _method_text(name, spec, result.group_size),
                    "weight": spec["weight"],
                    "counted": counted,
                    "missing": name in missing,
                }
            )
        value_kind = "current" if indicator in CURRENT else "potential"
        item: dict[str, Any] = {
            "key": indicator.value,
            "label": indicator.label,
            "score": getattr(result, f"{indicator.value}_score"),
            "inputs": inputs,
            "neutral": weight_known == 0,
            "base": round(total / weight_known, 1) if weight_known else _plain(p["neutral_score"]),
            "missing": [i["label"] for i in inputs if i["missing"]],
            "value": value_kind,
            "value_weight": p["values"][value_kind][indicator.value],
            "penalty": None,
        }
        if indicator == Indicator.CREDIT:
            each = p["credit"]["violation_penalty"]
            item["penalty"] = {
                "violations": result.violations,
                "each": _plain(each),
                "total": _plain(result.violations * each),
                "months": p["credit"]["violation_months"],
            }
        indicators.append(item)

    by_key = {i["key"]: i for i in indicators}
    values = {
        kind: {
            "value": getattr(result, f"{kind}_value"),
            "terms": [
                {"label": by_key[name]["label"], "weight": weight, "score": by_key[name]["score"]}
                for name, weight in zip(names, (p["values"][kind][n] for n in names), strict=True)
            ],
        }
        for kind, names in (("current", CURRENT), ("potential", POTENTIAL))
    }
    problem = p["problem"]
    problem_reasons = []
    if result.credit_score < problem["credit_below"]:
        problem_reasons.append(
            _("credit score %(score)s below %(cut)s")
            % {"score": _number(result.credit_score), "cut": _plain(problem["credit_below"])}
        )
    if result.recent_violations:
        problem_reasons.append(
            ngettext(
                "%(n)d violation in the last %(months)s",
                "%(n)d violations in the last %(months)s",
                result.recent_violations,
            )
            % {"n": result.recent_violations, "months": _months(problem["violation_months"])}
        )
    return {
        "scheme": result.scheme,
        "group": _group_text(p["group_by"], customer),
        "group_size": result.group_size,
        "neutral_score": _plain(p["neutral_score"]),
        "indicators": indicators,
        "values": values,
        "tiers": _plain_all(p["tiers"]),
        "problem": _plain_all(problem),
        "problem_reasons": problem_reasons,
        "core_top_percent": _plain(p["core"]["top_percent"]),
    }


def _radar(result: ValueResult, previous: ValueResult | None) -> dict[str, Any]:
    """The series the radar chart script reads (json_script): the five indicator scores of
    the result's month, and of the valued month before it when there is one."""
    data: dict[str, Any] = {
        "labels": [str(i.label) for i in Indicator],
        "month": f"{result.month:%Y-%m}",
        "scores": [getattr(result, f"{i.value}_score") for i in Indicator],
        "previous": None,
    }
    if previous is not None:
        data["previous"] = {
            "month": f"{previous.month:%Y-%m}",
            "scores": [getattr(previous, f"{i.value}_score") for i in Indicator],
        }
    return data


def customer_value_card(*, customer: Customer, user: User) -> dict[str, Any]:
    """Everything the customer page's value card shows, for `user` (who reached `customer`
    through the scope rule): the latest result and why, the last 12 valued months, the
    unresolved warnings and the latest compliance records, with what `user` may do. Three
    queries."""
    results = list(
        ValueResult.objects.filter(customer=customer, month__lte=jobs.this_month())
        .select_related("scheme")
        .order_by("-month")[:HISTORY_MONTHS]
    )
    result = results[0] if results else None
    card: dict[str, Any] = {
        "result": result,
        "why": None,
        "chart": None,
        "history": list(reversed(results)),
        "warnings": [
            {"warning": w, "summary": warning_summary(w)} for w in warnings_for(customer=customer)
        ],
        "records": compliance_records_for(customer=customer),
        "may_handle_warnings": policies.may_handle_warnings(user),
        "may_record_compliance": policies.may_record_compliance(user),
        "record_types": RecordType.choices,
    }
    card["warning_count"] = len(card["warnings"])
    if result is not None:
        card["why"] = value_explanation(result=result, customer=customer)
        card["chart"] = _radar(result, results[1] if len(results) > 1 else None)
    return card


def customer_value_summary(*, customer: Customer) -> dict[str, Any]:
    """What the customer page's summary header shows of the value card, read alone: the latest
    result and how many warnings are unresolved (two queries). The caller has checked the
    scope."""
    return {
        "result": ValueResult.objects.filter(customer=customer, month__lte=jobs.this_month())
        .order_by("-month")
        .first(),
        "warning_count": warning_count_for(customer=customer),
    }


# --- the home page ------------------------------------------------------------------------


def value_home_panels(
    *, user: User, limit: int = HOME_LIST_LENGTH, counts: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The home page's value panels for `user`'s customers (an account manager's own, a
    supervisor's areas): the warnings panel, and short lists of the core customers (highest
    current value first) and of the problem customers (lowest credit first) as of the latest
    valuation, with their totals (`counts`: `customers.selectors.customer_portfolio_counts`,
    read here when not given). Four queries: the counts, the warnings, the two lists."""
    if counts is None:
        counts = customer_selectors.customer_portfolio_counts(user=user)
    customers = Customer.objects.visible_to(user)
    # Only what the lists show (a customer row and its system row are some 120 columns).
    listed = customers.select_related("system").only(
        "customer_code",
        "store_name",
        "system__current_value",
        "system__credit_score",
        "system__compliance_flag",
    )
    return {
        "warnings": warning_home_panel(user=user, limit=limit),
        "core": {
            "total": counts["core"],
            "customers": list(
                listed.filter(system__is_core=True).order_by(
                    "-system__current_value", "customer_code"
                )[:limit]
            ),
        },
        "problem": {
            "total": counts["problem"],
            "customers": list(
                listed.filter(system__is_problem=True).order_by(
                    "system__credit_score", "customer_code"
                )[:limit]
            ),
        },
    }
