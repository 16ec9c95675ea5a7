"""The valuation rules as pure pandas: frames in, frames out, no ORM and no I/O, so they are
tested on small hand-made tables.

Five indicators, each scored 0-100 (seed 001; the split into current and potential value is
published tobacco practice):

- contribution: the monthly average purchase amount over the window;
- support: the key-brand and new-product shares of the window's cartons, and the display
  compliance the retail audits of the window found (share of "yes" on the forms' display
  questions; missing for a shop with no display answer in the window, never 0);
- credit: the e-settlement rate and the on-time payment rate, less a penalty per violation;
- growth: the trend of the monthly amounts over the growth window, and the tenure;
- influence: outlet size, trade-area environment, model-outlet status.

Each indicator is the weighted mean of its inputs' scores. An input is scored by its
`method`: `percentile` (0-100 rank within the customer's percentile group, ties sharing their
average rank), `scale` (100 × raw / full, capped to 0-100) or `points` (a fixed score per
answer). An input that cannot be measured (no purchases in the window, no payment record, a
blank shop attribute) is *missing*: the indicator averages the inputs it has, and an indicator
without any input takes the scheme's neutral score (default 40, below the tier cut-offs). The
result names the missing inputs, so the customer page says which score stood in.

Not measured, for want of data in the product: gross margin (contribution), take-up of
company programmes (support), foot traffic (influence).

current value = weighted contribution + support + credit; potential value = weighted growth +
influence; the tier is the 2×2 of current ≥ cut and potential ≥ cut. Problem list: credit below
a score or a violation in the recent months. Core list: value tier and top share of current
value among all customers.

Scores are rounded to one decimal before any comparison, so what the page shows is what was
compared. The parameters are a plain dict (stored on `ValuationScheme`), checked by
`validate_parameters`; `default_parameters()` gives the defaults.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from copy import deepcopy
from typing import Any

import numpy as np
import pandas as pd
from django.utils.translation import gettext as _

from crm.dates import add_months, trade_shares
from crm.parameters import ParameterErrors
from customers.choices import Cycle, OutletSize, TradeArea, ValueTier
from valuation.choices import Indicator, PercentileGroup, ScoreMethod

INDICATORS: tuple[str, ...] = tuple(Indicator.values)
CURRENT: tuple[str, ...] = ("contribution", "support", "credit")
POTENTIAL: tuple[str, ...] = ("growth", "influence")

# Each input and the indicator it feeds, in the order the page explains them.
INPUTS: dict[str, str] = {
    "avg_amount": "contribution",
    "key_brand_share": "support",
    "new_product_share": "support",
    "display_compliance": "support",
    "e_settlement_rate": "credit",
    "on_time_rate": "credit",
    "amount_trend": "growth",
    "tenure_months": "growth",
    "outlet_size": "influence",
    "trade_area": "influence",
    "model_outlet": "influence",
}
# Answers of the inputs scored by points.
ANSWERS: dict[str, tuple[str, ...]] = {
    "outlet_size": tuple(OutletSize.values),
    "trade_area": tuple(TradeArea.values),
    "model_outlet": ("yes", "no"),
}
# Which methods an input may use: categories only by points; measures by percentile or scale.
NUMERIC_METHODS = (ScoreMethod.PERCENTILE.value, ScoreMethod.SCALE.value)

# Length of an order cycle in days, for the "no order in the last n cycles" warning.
CYCLE_DAYS: dict[str, int] = {Cycle.WEEKLY: 7, Cycle.FORTNIGHTLY: 14, Cycle.MONTHLY: 30}

FACT_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "month",
    "cartons",
    "amount",
    "key_brand_cartons",
    "new_product_cartons",
    "electronic_amount",
    "on_time_orders",
    "late_orders",
)
# The fact columns `value_inputs` reads only in the window months (the amounts are read in
# every month of `months_read`, for the trend).
WINDOW_FACT_COLUMNS: tuple[str, ...] = tuple(
    c for c in FACT_COLUMNS if c not in ("customer_id", "month", "amount")
)
CUSTOMER_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "market_type",
    "business_format",
    "first_order_date",
    "outlet_size",
    "trade_area",
    "model_outlet",
)
VIOLATION_COLUMNS: tuple[str, ...] = ("customer_id", "date")
# The display answers of the retail audits in the window, summed per shop
# (`audits.selectors.display_compliance_frame`).
DISPLAY_COLUMNS: tuple[str, ...] = ("customer_id", "display_yes", "display_answered")
INPUT_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "market_type",
    "business_format",
    "months_counted",
    "window_amount",
    "avg_amount",
    "key_brand_share",
    "new_product_share",
    "display_compliance",
    "e_settlement_rate",
    "on_time_rate",
    "violations",
    "recent_violations",
    "trend_months",
    "amount_trend",
    "tenure_months",
    "outlet_size",
    "trade_area",
    "model_outlet",
)
RESULT_COLUMNS: tuple[str, ...] = (
    *(c for c in INPUT_COLUMNS if c not in ("market_type", "business_format")),
    "group_size",
    *(f"{name}_score" for name in INPUTS),
    *(f"{name}_score" for name in INDICATORS),
    "missing",
    "current_value",
    "potential_value",
    "value_tier",
    "is_core",
    "is_problem",
)
WARNING_COLUMNS: tuple[str, ...] = ("customer_id", "kind", "key", "details")

# --- parameters ---------------------------------------------------------------------------

_DEFAULTS: dict[str, Any] = {
    # Contribution, support and credit read the 6 full months before the valuation month.
    "window": {"months": 6},
    # The amount trend reads 12 months and needs at least 3 months of trade.
    "growth": {"months": 12, "min_months": 3},
    # The brief: percentiles within the customer's market type.
    "group_by": PercentileGroup.MARKET_TYPE.value,
    # The score of an indicator none of whose inputs could be measured: below the 50 cut-offs,
    # so missing data never lifts a customer into a higher tier.
    "neutral_score": 40,
    "inputs": {
        "avg_amount": {"weight": 1.0, "method": "percentile", "full": 30000},
        "key_brand_share": {"weight": 0.48, "method": "percentile", "full": 1},
        "new_product_share": {"weight": 0.32, "method": "percentile", "full": 1},
        # A share with a meaning of its own (all display answers "yes" scores 100). A shop
        # never audited lacks it: support averages the two shares as before (0.48 : 0.32 is
        # the former 0.6 : 0.4).
        "display_compliance": {"weight": 0.2, "method": "scale", "full": 1},
        # Rates have a meaning of their own: 100% e-settled scores 100, whatever the peers do.
        "e_settlement_rate": {"weight": 0.5, "method": "scale", "full": 1},
        "on_time_rate": {"weight": 0.5, "method": "scale", "full": 1},
        "amount_trend": {"weight": 0.7, "method": "percentile", "full": 0.05},
        # Relative to the group: a fixed scale (e.g. "36 months score 100", the `full` kept
        # for a scheme that switches to it) would cap the growth of every customer of a
        # company with less history in the system.
        "tenure_months": {"weight": 0.3, "method": "percentile", "full": 36},
        "outlet_size": {
            "weight": 0.4,
            "method": "points",
            "points": {"large": 100, "medium": 60, "small": 30},
        },
        "trade_area": {
            "weight": 0.4,
            "method": "points",
            "points": {
                "commercial": 100,
                "transport": 90,
                "tourist": 80,
                "school": 60,
                "residential": 60,
                "village": 50,
                "industrial": 40,
                "other": 40,
            },
        },
        "model_outlet": {"weight": 0.2, "method": "points", "points": {"yes": 100, "no": 0}},
    },
    # Each violation in the last 12 months takes 25 points off the credit score.
    "credit": {"violation_penalty": 25, "violation_months": 12},
    "values": {
        "current": {"contribution": 0.5, "support": 0.2, "credit": 0.3},
        "potential": {"growth": 0.6, "influence": 0.4},
    },
    # The brief's 2×2: current ≥ 50 and potential ≥ 50.
    "tiers": {"current_from": 50, "potential_from": 50},
    # The brief: credit score < 30 or a violation in the last 6 months.
    "problem": {"credit_below": 30, "violation_months": 6},
    # The brief: value tier and top 10% current value.
    "core": {"top_percent": 10},
    # Seed 003: no order in 2 order cycles; 3-month amount down ≥ 30%; down ≥ 2 grades.
    "warnings": {
        "no_order_cycles": 2,
        "default_order_cycle": Cycle.WEEKLY.value,
        "drop_months": 3,
        "drop_percent": 30,
        "downgrade_steps": 2,
    },
}


def default_parameters() -> dict[str, Any]:
    return deepcopy(_DEFAULTS)


def _validate_input(errors: ParameterErrors, name: str, given: Any) -> dict[str, Any]:
    path = f"inputs.{name}"
    row = errors.section(path, given)
    out: dict[str, Any] = {"weight": errors.number(f"{path}.weight", row.get("weight", 0))}
    method = row.get("method")
    if name in ANSWERS:
        if method != ScoreMethod.POINTS:
            errors.add(f"{path}.method", _("This input is scored by points per answer."))
        points = errors.section(f"{path}.points", row.get("points"))
        out["method"] = ScoreMethod.POINTS.value
        out["points"] = {
            answer: errors.between(
                f"{path}.points.{answer}", points.get(answer), minimum=0, maximum=100
            )
            for answer in ANSWERS[name]
        }
        return out
    if method not in NUMERIC_METHODS:
        errors.add(f"{path}.method", _("Choose percentile or scale."))
    out["method"] = method
    full = row.get("full")
    if method == ScoreMethod.SCALE or full is not None:
        full = errors.number(f"{path}.full", full)
        if full is not None and full <= 0:
            errors.add(f"{path}.full", _("The full value must be more than 0."))
    out["full"] = full
    return out


def validate_parameters(parameters: Any) -> dict[str, Any]:
    """Checks a valuation scheme's parameters and returns them normalised (only the known
    keys). Raises DomainError naming each faulty parameter, e.g. `inputs.on_time_rate.full`:
    windows and months in range, each input's method allowed for it, the input weights of
    each indicator and the value weights adding up to 1, cut-offs and points within 0-100."""
    errors = ParameterErrors()
    if not isinstance(parameters, Mapping):
        errors.add("parameters", _("The parameters must be an object."))
        errors.raise_if_any()
    sections = ("window", "growth", "inputs", "credit", "values", "tiers", "problem", "core")
    p = {key: errors.section(key, parameters.get(key)) for key in (*sections, "warnings")}
    out: dict[str, Any] = {}
    out["window"] = {
        "months": errors.whole("window.months", p["window"].get("months"), minimum=1, maximum=12)
    }
    growth_months = errors.whole("growth.months", p["growth"].get("months"), minimum=3, maximum=24)
    min_months = errors.whole(
        "growth.min_months", p["growth"].get("min_months"), minimum=2, maximum=24
    )
    if growth_months and min_months and min_months > growth_months:
        errors.add("growth.min_months", _("At most the months of the growth window."))
    out["growth"] = {"months": growth_months, "min_months": min_months}
    group_by = parameters.get("group_by")
    if group_by not in PercentileGroup.values:
        errors.add("group_by", _("Choose a percentile group."))
    out["group_by"] = group_by
    out["neutral_score"] = errors.between(
        "neutral_score", parameters.get("neutral_score"), minimum=0, maximum=100
    )

    out["inputs"] = {name: _validate_input(errors, name, p["inputs"].get(name)) for name in INPUTS}
    for indicator in INDICATORS:
        weights = [out["inputs"][n]["weight"] for n, i in INPUTS.items() if i == indicator]
        if None not in weights and abs(sum(weights) - 1) > 1e-6:
            errors.add(
                f"indicators.{indicator}",
                _(
                    "The weights of the %(indicator)s inputs must add up to 1 (they add up to "
                    "%(sum)s)."
                )
                % {"indicator": Indicator(indicator).label, "sum": round(sum(weights), 6)},
            )

    credit = p["credit"]
    out["credit"] = {
        "violation_penalty": errors.between(
            "credit.violation_penalty", credit.get("violation_penalty"), minimum=0, maximum=100
        ),
        "violation_months": errors.whole(
            "credit.violation_months", credit.get("violation_months"), minimum=1, maximum=36
        ),
    }
    values = p["values"]
    out["values"] = {
        "current": errors.weights("values.current", values.get("current"), CURRENT),
        "potential": errors.weights("values.potential", values.get("potential"), POTENTIAL),
    }
    out["tiers"] = {
        key: errors.between(f"tiers.{key}", p["tiers"].get(key), minimum=0, maximum=100)
        for key in ("current_from", "potential_from")
    }
    problem = p["problem"]
    out["problem"] = {
        "credit_below": errors.between(
            "problem.credit_below", problem.get("credit_below"), minimum=0, maximum=100
        ),
        "violation_months": errors.whole(
            "problem.violation_months", problem.get("violation_months"), minimum=0, maximum=36
        ),
    }
    top = errors.between("core.top_percent", p["core"].get("top_percent"), minimum=0, maximum=100)
    if top == 0:
        errors.add("core.top_percent", _("The core list needs a share above 0."))
    out["core"] = {"top_percent": top}
    warnings = p["warnings"]
    cycle = warnings.get("default_order_cycle")
    if cycle not in Cycle.values:
        errors.add("warnings.default_order_cycle", _("Choose an order cycle."))
    drop = errors.between(
        "warnings.drop_percent", warnings.get("drop_percent"), minimum=0, maximum=100
    )
    if drop == 0:
        errors.add("warnings.drop_percent", _("Enter a drop above 0."))
    out["warnings"] = {
        "no_order_cycles": errors.whole(
            "warnings.no_order_cycles", warnings.get("no_order_cycles"), minimum=1, maximum=12
        ),
        "default_order_cycle": cycle,
        "drop_months": errors.whole(
            "warnings.drop_months", warnings.get("drop_months"), minimum=1, maximum=6
        ),
        "drop_percent": drop,
        "downgrade_steps": errors.whole(
            "warnings.downgrade_steps", warnings.get("downgrade_steps"), minimum=1, maximum=59
        ),
    }
    errors.raise_if_any()
    return out


def months_read(parameters: Mapping[str, Any], month: dt.date) -> list[dt.date]:
    """The months of facts a valuation of `month` reads (first days, oldest first): the longer
    of the window and the growth window, ending with the month before `month`."""
    n = max(parameters["window"]["months"], parameters["growth"]["months"])
    return [add_months(month, -k) for k in range(n, 0, -1)]


def window_months(parameters: Mapping[str, Any], month: dt.date) -> list[dt.date]:
    """The months of the window (the last `window.months` of `months_read`): the only months
    `value_inputs` reads the facts' WINDOW_FACT_COLUMNS of."""
    return months_read(parameters, month)[-parameters["window"]["months"] :]


# --- inputs -------------------------------------------------------------------------------


def _months_between(later: pd.Series, earlier: pd.Series) -> pd.Series:
    return (later.dt.year - earlier.dt.year) * 12 + (later.dt.month - earlier.dt.month)


_TREND_BLOCK = 20_000  # customers per block of the trend's sums


def value_inputs(
    facts: pd.DataFrame | Sequence[pd.DataFrame],
    customers: pd.DataFrame,
    violations: pd.DataFrame,
    *,
    month: dt.date,
    parameters: Mapping[str, Any],
    displays: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per customer, the raw inputs of the valuation of `month` (INPUT_COLUMNS); NaN where an
    input cannot be measured.

    `facts`: FACT_COLUMNS rows (months outside `months_read` are ignored; WINDOW_FACT_COLUMNS
    are read in the `window_months` only, so they may be anything elsewhere), as one frame or
    in parts (`orders.selectors.sales_facts_parts`) whose missing columns count as 0.
    `customers`:
    CUSTOMER_COLUMNS, one row per customer to value. `violations`: VIOLATION_COLUMNS, one row
    per (not voided) violation record. `displays`: DISPLAY_COLUMNS, the window's display
    answers per audited shop (None or absent shops: not audited, the input missing).

    As in grading, the months before the first order do not count; the month of the first
    order counts with all its purchases, as the share of the month from the first order on
    (`crm.dates.trade_shares`: an order on 15 August counts 17/31 of August); a counted month
    without facts counts as 0. So the window average is the window's amount / (full months +
    that share), `months_counted` the number of window months that counted (the first one
    included), the trend reads the first month at its monthly rate (amount / share, weighted
    by the share) and the tenure is the months of trade before `month`, the first month's
    share included (e.g. 4.69).
    """
    start = pd.Timestamp(month)
    read = [pd.Timestamp(m) for m in months_read(parameters, month)]
    window = [pd.Timestamp(m) for m in window_months(parameters, month)]
    trend_months = read[len(read) - parameters["growth"]["months"] :]

    out = customers.loc[:, list(CUSTOMER_COLUMNS)].copy().reset_index(drop=True)
    ids = out["customer_id"]
    first = pd.to_datetime(out["first_order_date"])

    # A customer × month matrix of each fact column over the months read (bincount on the
    # flat cell index: far faster than a pivot table at 200,000 customers), summed over the
    # parts of the facts that have the column.
    parts = [facts] if isinstance(facts, pd.DataFrame) else list(facts)
    shape = (len(ids), len(read))
    at = pd.Index(ids)
    indexed = []
    for part in parts:
        # int32 positions (a company's customers × 12 months fit): half the memory of int64
        # for 2.25 M facts; `keep` is None when every fact is of a customer and month read.
        row = at.get_indexer(part["customer_id"]).astype(np.int32)
        col = pd.DatetimeIndex(read).get_indexer(pd.to_datetime(part["month"])).astype(np.int32)
        keep = (row >= 0) & (col >= 0)
        cell = row * np.int32(len(read)) + col
        del row, col
        if keep.all():
            keep = None
        else:
            cell = cell[keep]
        indexed.append((part, keep, cell))

    def cells(name: str) -> np.ndarray:
        total = None
        for part, keep, cell in indexed:
            if name in part.columns:
                weights = part[name].to_numpy(dtype=float)
                if keep is not None:
                    weights = weights[keep]
                counted = np.bincount(cell, weights=weights, minlength=shape[0] * shape[1])
                counted = counted.astype(float, copy=False)  # int64 when there are no facts
                if total is None:
                    total = counted
                else:
                    total += counted
                del counted
        return (np.zeros(shape[0] * shape[1]) if total is None else total).reshape(shape)

    # Only the amounts are needed month by month (the trend); every other column only as its
    # window sum, so each matrix is built, summed and dropped in turn (at 200,000 customers
    # × 12 months each is 19 MB: all of them at once were the valuation's memory peak).
    amounts = cells("amount")
    starts = np.asarray(read, dtype="datetime64[ns]")
    shares = trade_shares(first, read)
    counted = shares > 0
    window_mask = np.isin(starts, np.asarray(window, dtype="datetime64[ns]"))[None, :]
    in_window = counted & window_mask

    sums: dict[str, np.ndarray] = {}

    def window_sum(name: str) -> np.ndarray:
        if name not in sums:
            if name == "amount":
                sums[name] = (amounts * in_window).sum(axis=1)
            else:
                matrix = cells(name)
                matrix *= in_window  # in place: one customer × month matrix at a time
                sums[name] = matrix.sum(axis=1)
        return sums[name]

    months_counted = in_window.sum(axis=1)
    window_span = (shares * window_mask).sum(axis=1)
    amount = window_sum("amount")
    cartons = window_sum("cartons")
    paid_known = window_sum("on_time_orders") + window_sum("late_orders")
    with np.errstate(divide="ignore", invalid="ignore"):
        out["months_counted"] = months_counted
        out["window_amount"] = np.round(amount, 2)
        out["avg_amount"] = np.where(months_counted > 0, np.round(amount / window_span, 2), np.nan)
        out["key_brand_share"] = np.where(
            cartons > 0, np.round(window_sum("key_brand_cartons") / cartons, 4), np.nan
        )
        out["new_product_share"] = np.where(
            cartons > 0, np.round(window_sum("new_product_cartons") / cartons, 4), np.nan
        )
        out["e_settlement_rate"] = np.where(
            amount > 0, np.round(window_sum("electronic_amount") / amount, 4), np.nan
        )
        out["on_time_rate"] = np.where(
            paid_known > 0, np.round(window_sum("on_time_orders") / paid_known, 4), np.nan
        )

        # Trend: least-squares slope of the monthly amounts over the counted months of the
        # growth window, as a share of their mean (0.05 = +5% of the average each month). The
        # month of the first order enters at its monthly rate (amount / share) with the
        # share as its weight; every other month has weight 1 (plain least squares).
        trend_mask = np.isin(starts, np.asarray(trend_months, dtype="datetime64[ns]"))[None, :]
        x = np.arange(len(read), dtype=float)[None, :]
        n = np.empty(shape[0], dtype=np.int64)
        sw, swx, swy, swxx, swxy = (np.empty(shape[0]) for _ in range(5))
        # Block by block of customers (every sum is along a row, so the figures are the
        # same): the whole-matrix temporaries were the valuation's memory peak.
        for lo in range(0, shape[0], _TREND_BLOCK):
            b = slice(lo, lo + _TREND_BLOCK)
            s = shares[b]
            w = s * trend_mask
            y = np.where(w > 0, amounts[b] / np.where(s > 0, s, 1.0), 0.0)
            n[b] = (w > 0).sum(axis=1)
            sw[b], swx[b], swy[b] = w.sum(axis=1), (w * x).sum(axis=1), (w * y).sum(axis=1)
            swxx[b], swxy[b] = (w * x * x).sum(axis=1), (w * x * y).sum(axis=1)
        slope = (sw * swxy - swx * swy) / (sw * swxx - swx * swx)
        mean = swy / sw
        enough = (n >= parameters["growth"]["min_months"]) & (mean > 0)
        out["trend_months"] = n.astype(int)
        out["amount_trend"] = np.where(enough, np.round(slope / mean, 4), np.nan)

    # Tenure: months of trade before the valuation month; the month of the first order as
    # its share from the first order on (NaN for a customer who never ordered).
    days = first.dt.days_in_month
    first_share = (days - first.dt.day + 1) / days
    tenure = _months_between(pd.Series(start, index=out.index), first) - 1 + first_share
    out["tenure_months"] = tenure.clip(lower=0).round(2).astype(float)

    # Violations in the credit window and in the problem window.
    dates = pd.to_datetime(violations["date"])
    before = violations[dates < start]
    dates = pd.to_datetime(before["date"])
    for column, months in (
        ("violations", parameters["credit"]["violation_months"]),
        ("recent_violations", parameters["problem"]["violation_months"]),
    ):
        since = pd.Timestamp(add_months(month, -months))
        counts = before[dates >= since].groupby("customer_id").size()
        out[column] = ids.map(counts).fillna(0).astype(int).to_numpy()

    # Display compliance: the window's "yes" over its display answers, pooled over the audits
    # (a shop audited 4 times with 2 display questions is 8 answers); missing, not 0, for a
    # shop without a display answer.
    yes = answered = np.zeros(len(ids))
    if displays is not None and len(displays):
        summed = displays.groupby("customer_id")[["display_yes", "display_answered"]].sum()
        yes = ids.map(summed["display_yes"]).fillna(0).to_numpy(dtype=float)
        answered = ids.map(summed["display_answered"]).fillna(0).to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["display_compliance"] = np.where(answered > 0, np.round(yes / answered, 4), np.nan)

    out["outlet_size"] = out["outlet_size"].fillna("").astype(str)
    out["trade_area"] = out["trade_area"].fillna("").astype(str)
    # Three states: True, False, or None when nobody entered it (missing, not a "no").
    flag = out["model_outlet"].astype(object)
    out["model_outlet"] = flag.where(flag.isin([True, False]), None)
    return out.loc[:, list(INPUT_COLUMNS)]


# --- scoring ------------------------------------------------------------------------------


def _group_keys(frame: pd.DataFrame, group_by: str) -> list[pd.Series]:
    if group_by == PercentileGroup.COMPANY:
        return [pd.Series("all", index=frame.index)]
    if group_by == PercentileGroup.MARKET_FORMAT:
        return [frame["market_type"], frame["business_format"]]
    return [frame["market_type"]]


def _input_score(
    frame: pd.DataFrame, name: str, spec: Mapping[str, Any], groups: list[pd.Series]
) -> pd.Series:
    """0-100 score of one input (NaN where the input is missing)."""
    raw = frame[name]
    if spec["method"] == ScoreMethod.POINTS:
        answers = raw.map({True: "yes", False: "no"}) if name == "model_outlet" else raw
        # Each distinct answer looked up once (a text column's `map` goes value by value).
        codes, uniques = pd.factorize(answers)
        points = np.array([spec["points"].get(u, np.nan) for u in uniques] + [np.nan])
        return pd.Series(points[codes], index=raw.index, dtype=float)
    if spec["method"] == ScoreMethod.SCALE:
        return (raw.astype(float) * 100 / spec["full"]).clip(0, 100)
    # Percentile among the group's customers whose input is known (rank skips NaN).
    return raw.astype(float).groupby(groups).rank(method="average", pct=True) * 100


def value_frame(inputs: pd.DataFrame, *, parameters: Mapping[str, Any]) -> pd.DataFrame:
    """Scores, values, tiers and list flags (RESULT_COLUMNS) for the customers of `inputs`
    (from `value_inputs`, the whole company at once: percentiles and the core share rank
    across customers)."""
    frame = inputs.reset_index(drop=True).copy()
    groups = _group_keys(frame, parameters["group_by"])
    frame["group_size"] = frame.groupby(groups)["customer_id"].transform("size").astype(int)
    neutral = float(parameters["neutral_score"])

    # Which weighted inputs each customer lacks, as a bit per input (in INPUTS' order); the
    # names are joined once per distinct combination, not once per customer.
    lacking = np.zeros(len(frame), dtype=np.int64)
    lacked: list[str] = []
    for indicator in INDICATORS:
        total = pd.Series(0.0, index=frame.index)
        known_weight = pd.Series(0.0, index=frame.index)
        for name, feeds in INPUTS.items():
            if feeds != indicator:
                continue
            spec = parameters["inputs"][name]
            score = _input_score(frame, name, spec, groups).round(1)
            frame[f"{name}_score"] = score
            if spec["weight"] <= 0:
                continue
            known = score.notna()
            lacking |= (~known.to_numpy()).astype(np.int64) << len(lacked)
            lacked.append(name)
            total += score.fillna(0) * spec["weight"]
            known_weight += known * spec["weight"]
        with np.errstate(divide="ignore", invalid="ignore"):
            value = (total / known_weight).where(known_weight > 0, neutral)
        if indicator == "credit":
            penalty = parameters["credit"]["violation_penalty"] * frame["violations"]
            value = (value - penalty).clip(lower=0)
        frame[f"{indicator}_score"] = value.round(1)
    combinations, at = np.unique(lacking, return_inverse=True)
    names = [",".join(n for i, n in enumerate(lacked) if bits >> i & 1) for bits in combinations]
    frame["missing"] = pd.Series(np.asarray(names, dtype=object)[at], index=frame.index)

    for value_name, names in (("current_value", CURRENT), ("potential_value", POTENTIAL)):
        weights = parameters["values"][value_name.split("_")[0]]
        frame[value_name] = sum(frame[f"{n}_score"] * weights[n] for n in names).round(1)

    tiers = parameters["tiers"]
    high_current = frame["current_value"] >= tiers["current_from"]
    high_potential = frame["potential_value"] >= tiers["potential_from"]
    frame["value_tier"] = np.select(
        [high_current & high_potential, high_current, high_potential],
        [ValueTier.VALUE.value, ValueTier.SECONDARY.value, ValueTier.POTENTIAL.value],
        default=ValueTier.LOW.value,
    )
    problem = parameters["problem"]
    frame["is_problem"] = (frame["credit_score"] < problem["credit_below"]) | (
        frame["recent_violations"] > 0
    )
    # Top share of current value: fewer than top_percent% of all customers are strictly above.
    above = frame["current_value"].rank(method="min", ascending=False) - 1
    top = above < len(frame) * parameters["core"]["top_percent"] / 100
    frame["is_core"] = (frame["value_tier"] == ValueTier.VALUE) & top
    return frame.loc[:, list(RESULT_COLUMNS)]


def tier_counts(tiers: pd.Series) -> dict[str, int]:
    """Customers per tier, in the order of the tiers (every tier present, 0 if empty)."""
    counts = tiers.value_counts()
    return {tier: int(counts.get(tier, 0)) for tier in ValueTier.values}


def tier_movements(previous: pd.Series, current: pd.Series) -> dict[str, dict[str, int]]:
    """Customers (indexed by id) by tier before → tier now; "" for no tier the month before."""
    joined = pd.concat({"before": previous, "after": current}, axis=1).dropna(subset=["after"])
    joined["before"] = joined["before"].fillna("")
    table = joined.groupby(["before", "after"]).size()
    out: dict[str, dict[str, int]] = {}
    for (before, after), n in table.items():
        out.setdefault(str(before), {})[str(after)] = int(n)
    return out


# --- early warnings -----------------------------------------------------------------------


def warning_frame(
    customers: pd.DataFrame,
    amounts: pd.DataFrame,
    grades: pd.DataFrame,
    *,
    today: dt.date,
    parameters: Mapping[str, Any],
) -> pd.DataFrame:
    """The churn signs that hold on `today` (WARNING_COLUMNS; `key` names the episode, see
    `EarlyWarning`; `details` is a JSON-safe dict for the page).

    `customers`: customer_id, order_cycle ("" if unknown), last_order_date (NaT if never).
    `amounts`: customer_id, month, amount over the 2 × drop_months full months before today's.
    `grades`: customer_id, month (the grade month), grade, previous_grade (NaN if none).

    - no_orders: the last order is at least n order cycles ago (a customer that has never
      ordered is not churning: it has no warning);
    - amount_drop: the amount of the last k full months is down by at least the percentage
      against the k months before (none when the earlier months had no purchases);
    - downgrade: the grade fell by at least the steps against the month before (grade 1 is the
      highest, so a fall is a larger number).
    """
    w = parameters["warnings"]
    rows: list[pd.DataFrame] = []

    last = pd.to_datetime(customers["last_order_date"])
    cycle = customers["order_cycle"].replace("", np.nan).fillna(w["default_order_cycle"])
    limit = cycle.map(CYCLE_DAYS) * w["no_order_cycles"]
    since = (pd.Timestamp(today) - last).dt.days
    hit = last.notna() & (since >= limit)
    if hit.any():
        found = customers[hit]
        keys = last[hit].dt.strftime("%Y-%m-%d").to_numpy()
        cycles = int(w["no_order_cycles"])
        # The details are built from plain Python values (`tolist`), not per-row pandas access.
        rows.append(
            pd.DataFrame(
                {
                    "customer_id": found["customer_id"].to_numpy(),
                    "kind": "no_orders",
                    "key": keys,
                    "details": [
                        {
                            "last_order_date": d,
                            "days_since": int(s),
                            "order_cycle": c,
                            "cycles": cycles,
                        }
                        for d, s, c in zip(
                            keys.tolist(), since[hit].tolist(), cycle[hit].tolist(), strict=True
                        )
                    ],
                }
            )
        )

    k = w["drop_months"]
    this_month = dt.date(today.year, today.month, 1)
    recent = [pd.Timestamp(add_months(this_month, -n)) for n in range(k, 0, -1)]
    earlier = [pd.Timestamp(add_months(this_month, -n)) for n in range(2 * k, k, -1)]
    months = pd.to_datetime(amounts["month"])
    now_sum = amounts[months.isin(recent)].groupby("customer_id")["amount"].sum()
    before_sum = amounts[months.isin(earlier)].groupby("customer_id")["amount"].sum()
    both = pd.concat({"now": now_sum, "before": before_sum}, axis=1).fillna(0)
    both = both[both["before"] > 0]
    drop = ((both["before"] - both["now"]) / both["before"] * 100).round(1)
    hit_drop = drop[drop >= w["drop_percent"]]
    if len(hit_drop):
        label = f"{recent[-1]:%Y-%m}"
        recent_months = f"{recent[0]:%Y-%m}…{recent[-1]:%Y-%m}"
        earlier_months = f"{earlier[0]:%Y-%m}…{earlier[-1]:%Y-%m}"
        hit_both = both.loc[hit_drop.index]
        rows.append(
            pd.DataFrame(
                {
                    "customer_id": hit_drop.index.to_numpy(),
                    "kind": "amount_drop",
                    "key": label,
                    "details": [
                        {
                            "recent_months": recent_months,
                            "earlier_months": earlier_months,
                            "recent_amount": round(n, 2),
                            "earlier_amount": round(b, 2),
                            "drop_percent": p,
                        }
                        for n, b, p in zip(
                            hit_both["now"].astype(float).tolist(),
                            hit_both["before"].astype(float).tolist(),
                            hit_drop.astype(float).tolist(),
                            strict=True,
                        )
                    ],
                }
            )
        )

    fell = grades[
        grades["previous_grade"].notna()
        & (grades["grade"] - grades["previous_grade"] >= w["downgrade_steps"])
    ]
    if len(fell):
        fell_months = pd.to_datetime(fell["month"]).dt.strftime("%Y-%m").to_numpy()
        rows.append(
            pd.DataFrame(
                {
                    "customer_id": fell["customer_id"].to_numpy(),
                    "kind": "downgrade",
                    "key": fell_months,
                    "details": [
                        {"month": m, "previous_grade": int(p), "grade": int(g)}
                        for m, p, g in zip(
                            fell_months.tolist(),
                            fell["previous_grade"].tolist(),
                            fell["grade"].tolist(),
                            strict=True,
                        )
                    ],
                }
            )
        )
    if not rows:
        return pd.DataFrame(columns=list(WARNING_COLUMNS))
    out = pd.concat(rows, ignore_index=True)
    out["customer_id"] = out["customer_id"].astype(int)
    return out.loc[:, list(WARNING_COLUMNS)]
