"""The valuation rules of `valuation.computations` on small hand-made frames (no database).

Each expected answer is worked out by hand in a comment next to it.
"""

from __future__ import annotations

import datetime as dt
import math
from copy import deepcopy
from typing import Any

import numpy as np
import pandas as pd
import pytest

from crm.exceptions import DomainError
from valuation import computations as c

NAN = float("nan")
# Valuing July 2024 with the defaults: the window is January…June 2024 (6 months), the
# growth window July 2023…June 2024 (12 months); violations count from 2023-07-01 (credit,
# 12 months) and from 2024-01-01 (problem list, 6 months), both up to 2024-06-30.
JULY = dt.date(2024, 7, 1)
# Early warnings on 15 July 2024: the recent months are April…June, the earlier ones
# January…March.
TODAY = dt.date(2024, 7, 15)


# --- builders -----------------------------------------------------------------------------


def fact(
    customer_id: int,
    month: str,
    amount: float = 0.0,
    cartons: int = 0,
    *,
    key_brand: int = 0,
    new_product: int = 0,
    electronic: float = 0.0,
    on_time: int = 0,
    late: int = 0,
) -> dict[str, Any]:
    """One monthly fact row; `month` as "2024-01"."""
    return {
        "customer_id": customer_id,
        "month": pd.Timestamp(f"{month}-01"),
        "cartons": cartons,
        "amount": float(amount),
        "key_brand_cartons": key_brand,
        "new_product_cartons": new_product,
        "electronic_amount": float(electronic),
        "on_time_orders": on_time,
        "late_orders": late,
    }


def facts(*rows: dict[str, Any]) -> pd.DataFrame:
    """FACT_COLUMNS with the dtypes `sales_facts_frame` gives (also when empty)."""
    frame = pd.DataFrame(list(rows), columns=list(c.FACT_COLUMNS))
    return frame.astype(
        {
            **dict.fromkeys(c.FACT_COLUMNS, "int64"),
            "month": "datetime64[ns]",
            "amount": "float64",
            "electronic_amount": "float64",
        }
    )


def customer(
    customer_id: int,
    first_order: str | None = "2023-01-01",
    *,
    market: str = "C",
    fmt: str = "Z",
    outlet_size: str | None = "medium",
    trade_area: str | None = "commercial",
    model_outlet: bool | None = False,
) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "market_type": market,
        "business_format": fmt,
        "first_order_date": pd.Timestamp(first_order) if first_order else pd.NaT,
        "outlet_size": outlet_size,
        "trade_area": trade_area,
        "model_outlet": model_outlet,
    }


def customers(*rows: dict[str, Any]) -> pd.DataFrame:
    frame = pd.DataFrame(list(rows), columns=list(c.CUSTOMER_COLUMNS))
    return frame.astype({"customer_id": "int64", "first_order_date": "datetime64[ns]"})


def violations(*rows: tuple[int, str]) -> pd.DataFrame:
    """VIOLATION_COLUMNS with dates as `datetime.date`, as the ORM gives them."""
    return pd.DataFrame(
        [(customer_id, dt.date.fromisoformat(day)) for customer_id, day in rows],
        columns=list(c.VIOLATION_COLUMNS),
    )


def changed(**changes: Any) -> dict[str, Any]:
    """The default parameters with `changes` ("inputs__avg_amount__full"= sets
    inputs.avg_amount.full)."""
    parameters = c.default_parameters()
    for path, value in changes.items():
        *parents, last = path.split("__")
        node = parameters
        for key in parents:
            node = node[key]
        node[last] = deepcopy(value)
    return parameters


def scheme(**changes: Any) -> dict[str, Any]:
    """The defaults with `changes`, checked and normalised as a saved scheme is."""
    return c.validate_parameters(changed(**changes))


def inputs_of(
    fact_frame: pd.DataFrame,
    customer_frame: pd.DataFrame,
    violation_frame: pd.DataFrame | None = None,
    *,
    month: dt.date = JULY,
    **changes: Any,
) -> pd.DataFrame:
    """`value_inputs` indexed by customer id."""
    result = c.value_inputs(
        fact_frame,
        customer_frame,
        violations() if violation_frame is None else violation_frame,
        month=month,
        parameters=scheme(**changes),
    )
    return result.set_index("customer_id")


# Every measure scored on a scale, so each score is a hand calculation:
#   avg_amount / 30000, key_brand_share / 1, new_product_share / 1, amount_trend / 0.05
#   (the rates and the tenure are scaled by default).
SCALED: dict[str, Any] = {
    "inputs__tenure_months__method": "scale",
    "inputs__avg_amount__method": "scale",
    "inputs__key_brand_share__method": "scale",
    "inputs__new_product_share__method": "scale",
    "inputs__amount_trend__method": "scale",
}
# Current value = avg_amount (full 100), potential value = tenure_months (full 100): the
# tier and list rules on numbers chosen directly.
PLAIN: dict[str, Any] = {
    **SCALED,
    "inputs__avg_amount__full": 100,
    "inputs__amount_trend__weight": 0,
    "inputs__tenure_months__weight": 1,
    "inputs__tenure_months__full": 100,
    "values__current": {"contribution": 1, "support": 0, "credit": 0},
    "values__potential": {"growth": 1, "influence": 0},
}


def valued(
    customer_id: int,
    *,
    market: str = "C",
    fmt: str = "Z",
    avg_amount: float = 15000.0,
    key_brand: float = 0.5,
    new_product: float = 0.25,
    display: float = NAN,
    e_settlement: float = 1.0,
    on_time: float = 0.8,
    violations: int = 0,
    recent: int = 0,
    trend: float = 0.025,
    tenure: float = 18.0,
    outlet_size: str = "medium",
    trade_area: str = "commercial",
    model_outlet: bool = False,
) -> dict[str, Any]:
    """One INPUT_COLUMNS row for `value_frame`.

    With SCALED the defaults score: contribution 15000/30000 = 50; support (never audited:
    display compliance missing) (0.48 × 50 + 0.32 × 25) / 0.8 = 40; credit (100 + 80) / 2 =
    90; growth 0.7 × 50 + 0.3 × 18/36 × 100 = 50; influence 0.4 × 60 + 0.4 × 100 + 0.2 × 0 = 64."""
    return {
        "customer_id": customer_id,
        "market_type": market,
        "business_format": fmt,
        "months_counted": 6,
        "window_amount": avg_amount * 6 if not math.isnan(avg_amount) else 0.0,
        "avg_amount": avg_amount,
        "key_brand_share": key_brand,
        "new_product_share": new_product,
        "display_compliance": display,
        "e_settlement_rate": e_settlement,
        "on_time_rate": on_time,
        "violations": violations,
        "recent_violations": recent,
        "trend_months": 12,
        "amount_trend": trend,
        "tenure_months": tenure,
        "outlet_size": outlet_size,
        "trade_area": trade_area,
        "model_outlet": model_outlet,
    }


def value(rows: list[dict[str, Any]], **changes: Any) -> pd.DataFrame:
    """`value_frame` results indexed by customer id."""
    frame = pd.DataFrame(rows, columns=list(c.INPUT_COLUMNS))
    return c.value_frame(frame, parameters=scheme(**changes)).set_index("customer_id")


def plain(customer_id: int, current: float, potential: float, **more: Any) -> dict[str, Any]:
    """A row whose current and potential values under PLAIN are `current` and `potential`."""
    return valued(customer_id, avg_amount=current, tenure=potential, **more)


# --- 1. validate_parameters ----------------------------------------------------------------


def test_the_defaults_pass():
    defaults = c.default_parameters()

    assert c.validate_parameters(defaults) == defaults


def test_default_parameters_are_a_fresh_copy():
    c.default_parameters()["inputs"]["avg_amount"]["weight"] = 0.3

    assert c.default_parameters()["inputs"]["avg_amount"]["weight"] == 1.0


def errors_of(parameters: Any) -> dict[str, list[str]]:
    with pytest.raises(DomainError) as caught:
        c.validate_parameters(parameters)
    return caught.value.errors


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        # the weights of an indicator's inputs must add up to 1
        ({"inputs__avg_amount__weight": 0.9}, "indicators.contribution"),
        ({"inputs__key_brand_share__weight": 0.5}, "indicators.support"),  # 0.5 + 0.4 = 0.9
        ({"inputs__on_time_rate__weight": 0.6}, "indicators.credit"),  # 0.5 + 0.6 = 1.1
        ({"inputs__tenure_months__weight": 0}, "indicators.growth"),  # 0.7 + 0 = 0.7
        ({"inputs__outlet_size__weight": 0.5}, "indicators.influence"),  # 0.5+0.4+0.2 = 1.1
        # a negative weight is named by itself (the sum is not checked then)
        ({"inputs__key_brand_share__weight": -0.1}, "inputs.key_brand_share.weight"),
        ({"inputs__avg_amount__weight": "1"}, "inputs.avg_amount.weight"),
        # the value weights: 0.5 + 0.2 + 0.2 = 0.9, 0.6 + 0.6 = 1.2
        (
            {"values__current": {"contribution": 0.5, "support": 0.2, "credit": 0.2}},
            "values.current",
        ),
        ({"values__potential": {"growth": 0.6, "influence": 0.6}}, "values.potential"),
        ({"values__potential": {"growth": 1.2, "influence": -0.2}}, "values.potential.influence"),
        # categories are scored only by points, measures only by percentile or scale
        ({"inputs__outlet_size__method": "percentile"}, "inputs.outlet_size.method"),
        ({"inputs__trade_area__method": "scale"}, "inputs.trade_area.method"),
        ({"inputs__model_outlet__method": "percentile"}, "inputs.model_outlet.method"),
        ({"inputs__avg_amount__method": "points"}, "inputs.avg_amount.method"),
        ({"inputs__avg_amount__method": "rank"}, "inputs.avg_amount.method"),
        # a scale needs a full value above 0
        ({"inputs__on_time_rate__full": 0}, "inputs.on_time_rate.full"),
        ({"inputs__tenure_months__full": -36}, "inputs.tenure_months.full"),
        ({"inputs__e_settlement_rate__full": None}, "inputs.e_settlement_rate.full"),
        (
            {"inputs__key_brand_share__method": "scale", "inputs__key_brand_share__full": 0},
            "inputs.key_brand_share.full",
        ),
        # points within 0-100, one for every answer
        ({"inputs__outlet_size__points__large": 101}, "inputs.outlet_size.points.large"),
        ({"inputs__trade_area__points__village": -1}, "inputs.trade_area.points.village"),
        ({"inputs__model_outlet__points": {"yes": 100}}, "inputs.model_outlet.points.no"),
        # months out of range
        ({"window__months": 0}, "window.months"),
        ({"window__months": 13}, "window.months"),
        ({"window__months": True}, "window.months"),
        ({"growth__months": 2}, "growth.months"),
        ({"growth__months": 25}, "growth.months"),
        ({"growth__min_months": 1}, "growth.min_months"),
        ({"credit__violation_months": 0}, "credit.violation_months"),
        ({"credit__violation_months": 37}, "credit.violation_months"),
        ({"problem__violation_months": 37}, "problem.violation_months"),
        ({"warnings__drop_months": 7}, "warnings.drop_months"),
        ({"warnings__no_order_cycles": 0}, "warnings.no_order_cycles"),
        ({"warnings__downgrade_steps": 0}, "warnings.downgrade_steps"),
        # the trend cannot need more months than it reads
        ({"growth__months": 6, "growth__min_months": 7}, "growth.min_months"),
        ({"growth__min_months": 13}, "growth.min_months"),
        # the percentile group and the default order cycle are choices
        ({"group_by": "area"}, "group_by"),
        ({"group_by": None}, "group_by"),
        ({"warnings__default_order_cycle": "daily"}, "warnings.default_order_cycle"),
        ({"warnings__default_order_cycle": ""}, "warnings.default_order_cycle"),
        # scores and percentages within 0-100
        ({"neutral_score": -1}, "neutral_score"),
        ({"neutral_score": 101}, "neutral_score"),
        ({"tiers__current_from": 100.5}, "tiers.current_from"),
        ({"tiers__potential_from": -5}, "tiers.potential_from"),
        ({"problem__credit_below": 101}, "problem.credit_below"),
        ({"credit__violation_penalty": 101}, "credit.violation_penalty"),
        ({"core__top_percent": 0}, "core.top_percent"),
        ({"core__top_percent": 101}, "core.top_percent"),
        ({"warnings__drop_percent": 0}, "warnings.drop_percent"),
        ({"warnings__drop_percent": 100.1}, "warnings.drop_percent"),
    ],
)
def test_faulty_parameters_are_named_by_path(changes, path):
    assert set(errors_of(changed(**changes))) == {path}


def test_an_indicator_weight_message_names_the_indicator_and_the_sum():
    errors = errors_of(changed(inputs__key_brand_share__weight=0.5))

    (message,) = errors["indicators.support"]
    assert "Support" in message
    assert "1.02" in message  # 0.5 + 0.32 + 0.2


@pytest.mark.parametrize(
    "changes",
    [
        # edges that are allowed
        {"window__months": 1},
        {"window__months": 12},
        {"growth__months": 3, "growth__min_months": 3},
        {"growth__months": 24, "growth__min_months": 24},
        {"problem__violation_months": 0},  # no "recent violation" rule
        {"warnings__drop_percent": 100},
        {"core__top_percent": 100},
        {"neutral_score": 0},
        {"group_by": "company"},
        {"group_by": "market_format"},
        {"warnings__default_order_cycle": "monthly"},
        # a percentile needs no full value; a weight of 0 leaves an input out
        {"inputs__amount_trend__full": None},
        {"inputs__amount_trend__weight": 0, "inputs__tenure_months__weight": 1},
        {"values__current": {"contribution": 1}},  # a missing value weight counts as 0
    ],
)
def test_parameters_at_the_edges_pass(changes):
    c.validate_parameters(changed(**changes))


@pytest.mark.parametrize("parameters", [[1, 2, 3], "defaults", None, 42])
def test_non_object_parameters(parameters):
    assert set(errors_of(parameters)) == {"parameters"}


@pytest.mark.parametrize("section", ["window", "growth", "inputs", "values", "warnings"])
def test_a_section_that_is_not_an_object_is_a_domain_error(section):
    # parameters arrive as JSON from a page: a malformed section is refused by path, not a
    # crash with AttributeError
    errors = errors_of({**c.default_parameters(), section: [6]})

    assert section in errors


def test_points_that_are_not_an_object():
    # the list is refused, and then no answer has its points
    errors = errors_of(changed(inputs__outlet_size__points=[100, 60, 30]))

    assert set(errors) == {
        "inputs.outlet_size.points",
        "inputs.outlet_size.points.large",
        "inputs.outlet_size.points.medium",
        "inputs.outlet_size.points.small",
    }


def test_several_faults_are_reported_at_once():
    errors = errors_of(
        changed(
            window__months=0,
            group_by="area",
            inputs__avg_amount__weight=0.5,
            warnings__drop_percent=0,
        )
    )

    assert set(errors) == {
        "window.months",
        "group_by",
        "indicators.contribution",
        "warnings.drop_percent",
    }
    assert all(isinstance(m, str) and m for messages in errors.values() for m in messages)


def test_validation_keeps_only_known_keys():
    parameters = changed(colour="blue", inputs__avg_amount__colour="red")

    result = c.validate_parameters(parameters)

    assert "colour" not in result
    assert result["inputs"]["avg_amount"] == {"weight": 1.0, "method": "percentile", "full": 30000}


def test_months_read_is_the_longer_window_ending_the_month_before():
    assert c.months_read(scheme(), JULY) == [dt.date(2023, m, 1) for m in range(7, 13)] + [
        dt.date(2024, m, 1) for m in range(1, 7)
    ]
    # window 6 > growth 3: the 6 months December…May
    assert c.months_read(scheme(growth__months=3), dt.date(2024, 6, 1)) == [
        dt.date(2023, 12, 1),
        *(dt.date(2024, m, 1) for m in range(1, 6)),
    ]


# --- 2. value_inputs: the window ---------------------------------------------------------


def test_window_months_count_from_the_month_of_the_first_order():
    # given: both buy 400 in February and 1000 a month March…June; customer 1 ordered first
    #        on 1 February (a full month), customer 2 on 10 February: February counts as the
    #        20 days from the 10th to the 29th of its 29 days, with all its purchases
    rows = []
    for customer_id in (1, 2):
        rows.append(fact(customer_id, "2024-02", 400))
        rows += [fact(customer_id, f"2024-0{m}", 1000) for m in range(3, 7)]

    # when
    result = inputs_of(
        facts(*rows), customers(customer(1, "2024-02-01"), customer(2, "2024-02-10"))
    )

    # then: 1: (400 + 4 × 1000) / 5 = 880; 2: 4400 / (20/29 + 4) = 4400 / 4.6897 = 938.24
    assert result.loc[1, "months_counted"] == 5
    assert result.loc[1, "window_amount"] == 4400
    assert result.loc[1, "avg_amount"] == 880
    assert result.loc[2, "months_counted"] == 5
    assert result.loc[2, "window_amount"] == 4400
    assert result.loc[2, "avg_amount"] == 938.24


def test_the_month_of_the_first_order_is_never_dropped_from_the_window():
    # given: the shop: its only order, 900 cartons for 45,000 CNY, on 15 August 2026;
    #        valued for November 2026 with a 3-month window (August, September, October)
    result = inputs_of(
        facts(fact(1, "2026-08", 45000, 900)),
        customers(customer(1, "2026-08-15")),
        month=dt.date(2026, 11, 1),
        window__months=3,
    )

    # then: 45,000 / (17/31 + 2) = 45,000 / 2.5484 = 17,658.23 (not the 0 of two empty months)
    assert result.loc[1, "months_counted"] == 3
    assert result.loc[1, "window_amount"] == 45000
    assert result.loc[1, "avg_amount"] == 17658.23
    assert result.loc[1, "key_brand_share"] == 0  # measured: it bought cartons


def test_a_counted_month_without_facts_counts_as_zero():
    # trading since 2023: all 6 window months count; purchases only in March and May
    result = inputs_of(
        facts(fact(1, "2024-03", 1200), fact(1, "2024-05", 600)), customers(customer(1))
    )

    # (1200 + 600) / 6 = 300
    assert result.loc[1, "months_counted"] == 6
    assert result.loc[1, "window_amount"] == 1800
    assert result.loc[1, "avg_amount"] == 300


def test_facts_outside_the_window_and_of_unknown_customers_are_ignored():
    result = inputs_of(
        facts(
            fact(1, "2023-12", 9999),  # read for the trend, not in the window
            fact(1, "2024-01", 600),
            fact(1, "2024-07", 9999),  # the valuation month itself
            fact(1, "2022-01", 9999),  # long before
            fact(99, "2024-01", 9999),  # not a customer being valued
        ),
        customers(customer(1)),
    )

    # 600 / 6 = 100
    assert list(result.index) == [1]
    assert result.loc[1, "window_amount"] == 600
    assert result.loc[1, "avg_amount"] == 100


def test_average_amount_is_rounded_to_the_cent():
    # 1000 / 6 = 166.666… → 166.67
    result = inputs_of(facts(fact(1, "2024-01", 1000)), customers(customer(1)))

    assert result.loc[1, "avg_amount"] == 166.67


def test_window_of_other_lengths():
    # a 3-month window: April…June
    result = inputs_of(
        facts(fact(1, "2024-03", 900), fact(1, "2024-04", 300), fact(1, "2024-06", 600)),
        customers(customer(1)),
        window__months=3,
    )

    # (300 + 600) / 3 = 300
    assert result.loc[1, "months_counted"] == 3
    assert result.loc[1, "avg_amount"] == 300


def test_shares_and_rates_by_hand():
    # January: 10 cartons (6 key-brand, 2 new), 1000 CNY all electronic, 3 orders on time and
    #          1 late;
    # February: 30 cartons (9 key-brand, 1 new), 3000 CNY, 1500 electronic, 4 on time.
    result = inputs_of(
        facts(
            fact(
                1,
                "2024-01",
                1000,
                10,
                key_brand=6,
                new_product=2,
                electronic=1000,
                on_time=3,
                late=1,
            ),
            fact(1, "2024-02", 3000, 30, key_brand=9, new_product=1, electronic=1500, on_time=4),
        ),
        customers(customer(1)),
    )

    row = result.loc[1]
    assert row["key_brand_share"] == 0.375  # 15 / 40
    assert row["new_product_share"] == 0.075  # 3 / 40
    assert row["e_settlement_rate"] == 0.625  # 2500 / 4000
    assert row["on_time_rate"] == 0.875  # 7 / 8


def test_shares_are_rounded_to_four_places():
    # 1 key-brand carton of 3 → 0.3333; 2 of 3 new → 0.6667; 1 of 3 orders late → 0.6667
    result = inputs_of(
        facts(
            fact(
                1, "2024-06", 300, 3, key_brand=1, new_product=2, electronic=100, on_time=2, late=1
            )
        ),
        customers(customer(1)),
    )

    assert result.loc[1, "key_brand_share"] == 0.3333
    assert result.loc[1, "new_product_share"] == 0.6667
    assert result.loc[1, "e_settlement_rate"] == 0.3333
    assert result.loc[1, "on_time_rate"] == 0.6667


def test_missing_inputs_are_nan():
    # 1: bought 500 CNY but no cartons recorded, paid nothing known;
    # 2: 20 cartons for 0 CNY (a free gift month): no amount to settle electronically;
    # 3: never ordered: nothing is measured, not even the tenure.
    result = inputs_of(
        facts(fact(1, "2024-03", 500, 0), fact(2, "2024-03", 0, 20, key_brand=5, on_time=1)),
        customers(customer(1), customer(2), customer(3, None)),
    )

    assert math.isnan(result.loc[1, "key_brand_share"])
    assert math.isnan(result.loc[1, "new_product_share"])
    assert math.isnan(result.loc[1, "on_time_rate"])
    assert result.loc[1, "e_settlement_rate"] == 0  # 0 of 500 electronic: known, and 0

    assert result.loc[2, "avg_amount"] == 0  # traded (6 months counted), bought for 0
    assert result.loc[2, "key_brand_share"] == 0.25
    assert math.isnan(result.loc[2, "e_settlement_rate"])
    assert result.loc[2, "on_time_rate"] == 1

    never = result.loc[3]
    assert never["months_counted"] == 0
    assert never["window_amount"] == 0
    assert never["trend_months"] == 0
    for name in (
        "avg_amount",
        "key_brand_share",
        "new_product_share",
        "e_settlement_rate",
        "on_time_rate",
        "amount_trend",
        "tenure_months",
    ):
        assert math.isnan(never[name]), name


# --- 3. value_inputs: trend, tenure, violations, shop attributes -----------------------------


def test_amount_trend_of_a_steady_rise():
    # trading since 1 January 2024: 1000, 1100, …, 1500 in January…June
    #   slope +100 a month, mean (1000 + 1500) / 2 = 1250 → 100 / 1250 = 0.08
    rows = [fact(1, f"2024-0{m}", 900 + 100 * m) for m in range(1, 7)]
    # the same series falling: −100 / 1250 = −0.08
    rows += [fact(2, f"2024-0{m}", 1600 - 100 * m) for m in range(1, 7)]

    result = inputs_of(
        facts(*rows), customers(customer(1, "2024-01-01"), customer(2, "2024-01-01"))
    )

    assert result.loc[1, "trend_months"] == 6
    assert result.loc[1, "amount_trend"] == 0.08
    assert result.loc[2, "amount_trend"] == -0.08


def test_amount_trend_over_the_whole_growth_window():
    # July 2023 … June 2024: 100, 200, …, 1200 → slope 100, mean 650 → 0.153846… → 0.1538
    months = [*(f"2023-{m:02d}" for m in range(7, 13)), *(f"2024-{m:02d}" for m in range(1, 7))]
    rows = [fact(1, month, 100 * (k + 1)) for k, month in enumerate(months)]

    whole = inputs_of(facts(*rows), customers(customer(1)))
    # a 6-month growth window: January…June 2024 = 700 … 1200 → 100 / 950 = 0.10526 → 0.1053
    half = inputs_of(facts(*rows), customers(customer(1)), growth__months=6)

    assert whole.loc[1, "trend_months"] == 12
    assert whole.loc[1, "amount_trend"] == 0.1538
    assert half.loc[1, "trend_months"] == 6
    assert half.loc[1, "amount_trend"] == 0.1053


def test_amount_trend_counts_a_month_without_facts_as_zero():
    # January…June 2024 = 0, 0, 0, 0, 0, 600; x = 0…5: x̄ = 2.5, Σ(x − x̄)² = 17.5,
    # Σ(x − x̄)(y − ȳ) = 2.5 × 600 = 1500 → slope 85.714…; mean 100 → 0.857142… → 0.8571
    result = inputs_of(facts(fact(1, "2024-06", 600)), customers(customer(1, "2024-01-01")))

    assert result.loc[1, "amount_trend"] == 0.8571


def test_amount_trend_needs_min_months_and_a_positive_mean():
    # 1: 2 months of trade (May, June) < 3 → NaN
    # 2: exactly 3 (April…June): 1000, 1100, 1200 → 100 / 1100 = 0.0909
    # 3: 12 months of trade without a purchase: mean 0 → NaN
    result = inputs_of(
        facts(
            fact(1, "2024-05", 1000),
            fact(1, "2024-06", 1100),
            fact(2, "2024-04", 1000),
            fact(2, "2024-05", 1100),
            fact(2, "2024-06", 1200),
        ),
        customers(customer(1, "2024-05-01"), customer(2, "2024-04-01"), customer(3)),
    )

    assert result.loc[1, "trend_months"] == 2
    assert math.isnan(result.loc[1, "amount_trend"])
    assert result.loc[2, "trend_months"] == 3
    assert result.loc[2, "amount_trend"] == 0.0909
    assert result.loc[3, "trend_months"] == 12
    assert math.isnan(result.loc[3, "amount_trend"])


def test_amount_trend_reads_the_first_month_at_its_monthly_rate():
    # given: first order on 16 April 2024 (15 of April's 30 days = half a month): 500 in April,
    #        1000 in May and in June. Half a month of 500 is a rate of 1000 a month, the same
    #        as May and June: no trend (counting April as 500 would make a false rise, leaving
    #        it out would leave 2 months, too few for a trend)
    result = inputs_of(
        facts(fact(1, "2024-04", 500), fact(1, "2024-05", 1000), fact(1, "2024-06", 1000)),
        customers(customer(1, "2024-04-16")),
    )

    assert result.loc[1, "trend_months"] == 3
    assert result.loc[1, "amount_trend"] == 0


def test_min_months_is_configurable():
    result = inputs_of(
        facts(fact(1, "2024-05", 1000), fact(1, "2024-06", 1100)),
        customers(customer(1, "2024-05-01")),
        growth__min_months=2,
    )

    # 100 / 1050 = 0.095238… → 0.0952
    assert result.loc[1, "amount_trend"] == 0.0952


@pytest.mark.parametrize(
    ("first_order", "tenure"),
    [
        ("2024-02-01", 5),  # February…June
        ("2024-02-10", 4.69),  # 20/29 of February + March…June = 4.6897
        ("2024-06-30", 0.03),  # 1/30 of June
        ("2024-06-01", 1),
        ("2024-07-01", 0),  # the valuation month itself
        ("2021-07-01", 36),  # three years
        ("2021-07-02", 35.97),  # 30/31 of July 2021 + 35 months
    ],
)
def test_tenure_is_the_months_of_trade_before_the_month(first_order, tenure):
    result = inputs_of(facts(), customers(customer(1, first_order)))

    assert result.loc[1, "tenure_months"] == tenure


def test_violations_in_the_credit_and_the_problem_windows():
    result = inputs_of(
        facts(),
        customers(customer(1), customer(2)),
        violations(
            (1, "2023-06-30"),  # before the 12 months: neither
            (1, "2023-07-01"),  # first day of the credit window: credit only
            (1, "2023-12-31"),  # credit only
            (1, "2024-01-01"),  # first day of the problem window: both
            (1, "2024-06-30"),  # both
            (1, "2024-07-01"),  # the valuation month itself: neither
            (1, "2024-07-20"),  # neither
            (99, "2024-03-01"),  # not a customer being valued
        ),
    )

    assert result.loc[1, "violations"] == 4
    assert result.loc[1, "recent_violations"] == 2
    assert result.loc[2, "violations"] == 0
    assert result.loc[2, "recent_violations"] == 0


def test_violation_windows_are_configurable():
    result = inputs_of(
        facts(),
        customers(customer(1)),
        violations((1, "2024-03-31"), (1, "2024-04-01"), (1, "2024-06-01")),
        credit__violation_months=3,  # from 2024-04-01
        problem__violation_months=1,  # from 2024-06-01
    )

    assert result.loc[1, "violations"] == 2
    assert result.loc[1, "recent_violations"] == 1


def test_blank_shop_attributes():
    result = inputs_of(
        facts(),
        customers(
            customer(1, outlet_size=None, trade_area=None, model_outlet=None),
            customer(2, outlet_size="large", trade_area="school", model_outlet=True),
        ),
    )

    # unknown, not "no": the flag stays None (missing) rather than False
    assert result.loc[1, ["outlet_size", "trade_area", "model_outlet"]].tolist() == [
        "",
        "",
        None,
    ]
    assert result.loc[2, ["outlet_size", "trade_area", "model_outlet"]].tolist() == [
        "large",
        "school",
        True,
    ]


def test_value_inputs_columns_and_an_empty_company():
    some = c.value_inputs(
        facts(), customers(customer(1)), violations(), month=JULY, parameters=scheme()
    )
    empty = c.value_inputs(facts(), customers(), violations(), month=JULY, parameters=scheme())

    assert list(some.columns) == list(c.INPUT_COLUMNS)
    assert list(empty.columns) == list(c.INPUT_COLUMNS)
    assert empty.empty


def test_value_inputs_from_parts_equal_those_from_one_frame():
    # given a shop buying every month from July 2023, with counts in and out of the window
    rows = [
        fact(1, f"{m:%Y-%m}", 1000 + 50 * k, 10 + k, key_brand=3, electronic=400, on_time=2)
        for k, m in enumerate(pd.date_range("2023-07-01", "2024-06-01", freq="MS"))
    ]
    whole = facts(*rows)
    # when the months before the window come as a part with the amounts only (what
    # `sales_facts_parts` gives), the window's months as a part with every column
    window = whole["month"] >= pd.Timestamp("2024-01-01")
    parts = [whole.loc[~window, ["customer_id", "month", "amount"]], whole.loc[window]]
    args = {"month": JULY, "parameters": scheme()}
    apart = c.value_inputs(parts, customers(customer(1)), violations(), **args)
    # then the inputs are those of the one frame, where the counts outside the window are
    # not read at all
    pd.testing.assert_frame_equal(
        apart, c.value_inputs(whole, customers(customer(1)), violations(), **args)
    )
    assert apart.loc[0, "key_brand_share"] == round(6 * 3 / sum(range(16, 22)), 4)
    assert apart.loc[0, "trend_months"] == 12


# --- 4. value_frame: each indicator ---------------------------------------------------------


def test_percentile_ties_share_their_average_rank_within_the_market_type():
    # market C: 100, 200, 200, 300 and one unknown → ranks 1, 2.5, 2.5, 4 of 4 known
    #   → 25, 62.5, 62.5, 100; market X alone → 100
    result = value(
        [
            valued(1, avg_amount=100),
            valued(2, avg_amount=200),
            valued(3, avg_amount=200),
            valued(4, avg_amount=300),
            valued(5, avg_amount=NAN),
            valued(6, avg_amount=50, market="X"),
        ]
    )

    scores = result["avg_amount_score"]
    assert scores.loc[[1, 2, 3, 4, 6]].tolist() == [25, 62.5, 62.5, 100, 100]
    assert math.isnan(scores.loc[5])
    assert result["contribution_score"].loc[[1, 2, 3, 4, 6]].tolist() == [25, 62.5, 62.5, 100, 100]
    assert result["group_size"].to_dict() == {1: 5, 2: 5, 3: 5, 4: 5, 5: 5, 6: 1}


def test_percentile_scores_are_rounded_to_one_decimal():
    # ranks 1, 2, 3 of 3 → 33.3, 66.7, 100
    result = value([valued(1, avg_amount=10), valued(2, avg_amount=20), valued(3, avg_amount=30)])

    assert result["avg_amount_score"].tolist() == [33.3, 66.7, 100]


def test_percentile_over_the_whole_company():
    # 50 (X), 100, 200, 200, 300 ranked together → 1, 2, 3.5, 3.5, 5 of 5 → 20, 40, 70, 70, 100
    result = value(
        [
            valued(1, avg_amount=100),
            valued(2, avg_amount=200),
            valued(3, avg_amount=200),
            valued(4, avg_amount=300),
            valued(6, avg_amount=50, market="X"),
        ],
        group_by="company",
    )

    assert result["avg_amount_score"].to_dict() == {1: 40, 2: 70, 3: 70, 4: 100, 6: 20}
    assert set(result["group_size"]) == {5}


def test_percentile_within_market_type_and_format():
    # C/Z: 100, 300 → 50, 100; C/Y: 200 alone → 100; X/Z: 50 alone → 100
    result = value(
        [
            valued(1, avg_amount=100),
            valued(2, avg_amount=300),
            valued(3, avg_amount=200, fmt="Y"),
            valued(4, avg_amount=50, market="X"),
        ],
        group_by="market_format",
    )

    assert result["avg_amount_score"].to_dict() == {1: 50, 2: 100, 3: 100, 4: 100}
    assert result["group_size"].to_dict() == {1: 2, 2: 2, 3: 1, 4: 1}


def test_every_percentile_input_is_ranked_on_its_own():
    # support: key-brand 0.2 < 0.4 → 50, 100; new products 0.3 > 0.1 → 100, 50
    #   1: 0.6 × 50 + 0.4 × 100 = 70; 2: 0.6 × 100 + 0.4 × 50 = 80
    # growth: trend −0.01 < 0.02 → 50, 100; tenure 18 = 18 → a tie, 75 each
    #   1: 0.7 × 50 + 0.3 × 75 = 57.5; 2: 0.7 × 100 + 0.3 × 75 = 92.5
    result = value(
        [
            valued(1, key_brand=0.2, new_product=0.3, trend=-0.01),
            valued(2, key_brand=0.4, new_product=0.1, trend=0.02),
        ]
    )

    assert result["support_score"].to_dict() == {1: 70, 2: 80}
    assert result["growth_score"].to_dict() == {1: 57.5, 2: 92.5}


@pytest.mark.parametrize(
    ("raw", "score"),
    [
        (15000, 50),  # 15000 / 30000
        (30000, 100),
        (45000, 100),  # capped at 100
        (0, 0),
        (10000, 33.3),
    ],
)
def test_scale_is_a_share_of_the_full_value_capped_at_100(raw, score):
    result = value([valued(1, avg_amount=raw)], **SCALED)

    assert result.loc[1, "avg_amount_score"] == score
    assert result.loc[1, "contribution_score"] == score


@pytest.mark.parametrize(
    ("trend", "score"),
    [
        (0.025, 50),  # 0.025 / 0.05
        (0.1, 100),  # capped
        (-0.02, 0),  # a fall scores 0, not below
    ],
)
def test_a_scaled_trend_is_capped_both_ways(trend, score):
    result = value([valued(1, trend=trend)], **SCALED)

    assert result.loc[1, "amount_trend_score"] == score


def test_credit_rates_are_scaled_by_default_whatever_the_peers_do():
    # e-settlement 1.0 → 100, on time 0.6 → 60: credit (100 + 60) / 2 = 80, for each of two
    # customers in the same group
    result = value([valued(1, on_time=0.6), valued(2, on_time=0.6)])

    assert result["e_settlement_rate_score"].tolist() == [100, 100]
    assert result["on_time_rate_score"].tolist() == [60, 60]
    assert result["credit_score"].tolist() == [80, 80]


@pytest.mark.parametrize(
    ("input_name", "answer", "points"),
    [
        ("outlet_size", "large", 100),
        ("outlet_size", "medium", 60),
        ("outlet_size", "small", 30),
        ("trade_area", "commercial", 100),
        ("trade_area", "transport", 90),
        ("trade_area", "tourist", 80),
        ("trade_area", "school", 60),
        ("trade_area", "residential", 60),
        ("trade_area", "village", 50),
        ("trade_area", "industrial", 40),
        ("trade_area", "other", 40),
        ("model_outlet", True, 100),
        ("model_outlet", False, 0),
    ],
)
def test_points_per_answer(input_name, answer, points):
    result = value([valued(1, **{input_name: answer})])

    assert result.loc[1, f"{input_name}_score"] == points


def test_influence_weights_the_points():
    # large 100 × 0.4 + tourist 80 × 0.4 + model outlet 100 × 0.2 = 40 + 32 + 20 = 92
    result = value([valued(1, outlet_size="large", trade_area="tourist", model_outlet=True)])

    assert result.loc[1, "influence_score"] == 92


def test_points_are_configurable():
    result = value(
        [valued(1, outlet_size="small")],
        inputs__outlet_size__points={"large": 100, "medium": 80, "small": 70},
    )

    # 70 × 0.4 + 100 × 0.4 + 0 × 0.2 = 68
    assert result.loc[1, "outlet_size_score"] == 70
    assert result.loc[1, "influence_score"] == 68


# --- 5. value_frame: missing inputs ---------------------------------------------------------


def test_weights_are_renormalised_over_the_known_inputs():
    # influence without an outlet size: (100 × 0.4 + 0 × 0.2) / 0.6 = 66.666… → 66.7
    # credit without an on-time rate: e-settlement 0.7 → 70 alone = 70
    # support without a new-product share: key brand 0.5 → 50 alone = 50
    result = value(
        [valued(1, outlet_size="", on_time=NAN, e_settlement=0.7, new_product=NAN)], **SCALED
    )

    row = result.loc[1]
    assert math.isnan(row["outlet_size_score"])
    assert row["influence_score"] == 66.7
    assert math.isnan(row["on_time_rate_score"])
    assert row["credit_score"] == 70
    assert row["support_score"] == 50
    assert row["missing"] == "new_product_share,display_compliance,on_time_rate,outlet_size"


def test_an_indicator_without_any_known_input_gets_the_neutral_score():
    result = value(
        [
            valued(
                1,
                avg_amount=NAN,
                key_brand=NAN,
                new_product=NAN,
                e_settlement=NAN,
                on_time=NAN,
                trend=NAN,
                tenure=NAN,
            ),
            valued(2, display=0.75),
        ],
        **SCALED,
    )

    row = result.loc[1]
    for indicator in ("contribution", "support", "credit", "growth"):
        assert row[f"{indicator}_score"] == 40, indicator
    assert row["influence_score"] == 64  # the shop attributes are known
    assert row["missing"] == (
        "avg_amount,key_brand_share,new_product_share,display_compliance,e_settlement_rate,"
        "on_time_rate,amount_trend,tenure_months"
    )
    # 0.5 × 40 + 0.2 × 40 + 0.3 × 40 = 40: below the cut, so missing data lifts no one
    assert row["current_value"] == 40
    assert row["potential_value"] == 49.6  # 0.6 × 40 + 0.4 × 64 = 24 + 25.6
    assert row["value_tier"] == "low"
    assert result.loc[2, "missing"] == ""


def test_an_unknown_model_outlet_flag_is_missing_not_a_no():
    # 1: nothing entered: influence has no known input → the neutral 40
    # 2: "not a model outlet" entered, the rest blank: a measured no → (0 × 0.2) / 0.2 = 0
    result = value(
        [
            valued(1, outlet_size="", trade_area="", model_outlet=None),
            valued(2, outlet_size="", trade_area="", model_outlet=False),
        ]
    )

    assert result.loc[1, "influence_score"] == 40
    assert math.isnan(result.loc[1, "model_outlet_score"])
    assert result.loc[1, "missing"] == "display_compliance,outlet_size,trade_area,model_outlet"
    assert result.loc[2, "influence_score"] == 0
    assert result.loc[2, "missing"] == "display_compliance,outlet_size,trade_area"


def test_tenure_is_a_percentile_within_the_group_by_default():
    # A company with a year of history: tenures 12, 6 and 3 months rank 100, 66.7 and 33.3;
    # on the old 36-month scale the longest would have scored 33.3 (12 / 36)
    result = value([valued(1, tenure=12), valued(2, tenure=6), valued(3, tenure=3)])

    assert result["tenure_months_score"].to_dict() == {1: 100, 2: 66.7, 3: 33.3}
    assert c.default_parameters()["inputs"]["tenure_months"]["method"] == "percentile"


# Issue 19: a district of 40 urban groceries (market type C) with no outlet size, trade area
# or model-outlet flag entered, valued for July 2024 with the default scheme. Everybody first
# ordered on 1 July 2023 (the company's first month in the system: 12 months of tenure each).
#   shop k = 2…39: k × 1,000 CNY every month, half of it settled electronically, no key brand;
#   shop 40, the largest: 40,000 CNY in July 2023 rising 2,000 a month (62,000 in June 2024),
#            half of its cartons key brands, all settled electronically;
#   shop 1, the smallest: 500 CNY in July 2023 rising 100 a month, settled as shops 2…39.
def district() -> tuple[pd.DataFrame, pd.DataFrame]:
    months = [f"2023-{m:02d}" for m in range(7, 13)] + [f"2024-{m:02d}" for m in range(1, 7)]
    rows = []
    for i, month in enumerate(months):
        for k in range(2, 40):
            rows.append(fact(k, month, 1000 * k, 10 * k, electronic=500 * k))
        rows.append(
            fact(40, month, 40000 + 2000 * i, 400, key_brand=200, electronic=40000 + 2000 * i)
        )
        rows.append(fact(1, month, 500 + 100 * i, 5, electronic=(500 + 100 * i) / 2))
    blank = {"outlet_size": None, "trade_area": None, "model_outlet": None}
    shops = customers(*(customer(k, "2023-07-01", **blank) for k in range(1, 41)))
    return facts(*rows), shops


def test_a_district_with_every_shop_attribute_blank_still_has_value_and_potential_shops():
    # given
    fact_frame, shops = district()

    # when
    inputs = c.value_inputs(fact_frame, shops, violations(), month=JULY, parameters=scheme())
    result = c.value_frame(inputs, parameters=scheme()).set_index("customer_id")

    # then: influence is unknown for every shop → the neutral 40 (not a measured 0)
    assert (result["influence_score"] == 40).all()
    # (and no shop was audited: display compliance is missing, support averages the shares)
    assert (
        result["missing"] == "display_compliance,on_time_rate,outlet_size,trade_area,model_outlet"
    ).all()
    # the equal tenures tie: average rank 20.5 of 40 → 51.25 → 51.2 (was 12 / 36 = 33.3)
    assert (result["tenure_months_score"] == 51.2).all()

    # shop 40: contribution 100 (the largest), support 0.6 × 100 + 0.4 × 51.2 = 80.5 (the
    # only key-brand buyer; no shop buys new products: all tie at 51.25 → 51.2), credit 100
    # (all e-settled; no payment record: on time is missing); current = 0.5 × 100 +
    # 0.2 × 80.5 + 0.3 × 100 = 96.1. Trend +2,000 on a mean of 51,000 = 0.0392, second to
    # shop 1's 100 / 1,050 = 0.0952: 39 / 40 → 97.5; growth 0.7 × 97.5 + 0.3 × 51.2 = 83.6;
    # potential 0.6 × 83.6 + 0.4 × 40 = 66.2 → value, and the top current value → core
    largest = result.loc[40]
    assert largest["support_score"] == 80.5
    assert largest["current_value"] == 96.1
    assert largest["amount_trend_score"] == 97.5
    assert largest["growth_score"] == 83.6
    assert largest["potential_value"] == 66.2
    assert largest["value_tier"] == "value"
    assert bool(largest["is_core"])

    # shop 1: contribution 2.5 (the smallest), support 0.6 × 50 + 0.4 × 51.2 = 50.5 (39 shops
    # tie without key brands: rank 20 → 50), credit 50 → current 0.5 × 2.5 + 0.2 × 50.5 +
    # 0.3 × 50 = 26.4 (26.35); the fastest growth: 0.7 × 100 + 0.3 × 51.2 = 85.4 → potential
    # 0.6 × 85.4 + 16 = 67.2 → potential value
    smallest = result.loc[1]
    assert smallest["current_value"] == 26.4
    assert smallest["potential_value"] == 67.2
    assert smallest["value_tier"] == "potential"

    # the steady shops: growth 0.7 × 50 (38 tie: ranks 1…38 → 19.5 / 40 → 48.75 → 48.8) …
    # below the potential cut-off: 39 → secondary, the small ones low
    assert result.loc[39, "value_tier"] == "secondary"
    assert result.loc[2, "value_tier"] == "low"


def test_neutral_score_is_configurable():
    result = value([valued(1, avg_amount=NAN)], neutral_score=0)

    assert result.loc[1, "contribution_score"] == 0


def test_an_input_of_weight_zero_is_neither_counted_nor_named_missing():
    # PLAIN weighs the trend 0: growth is the tenure alone, 30 / 100 = 30
    result = value([valued(1, trend=NAN, tenure=30, display=0.5)], **PLAIN)

    assert result.loc[1, "growth_score"] == 30
    assert result.loc[1, "missing"] == ""


def displays(*rows: tuple[int, int, int]) -> pd.DataFrame:
    """DISPLAY_COLUMNS: (customer, display "yes", display answers) per audit."""
    return pd.DataFrame(list(rows), columns=list(c.DISPLAY_COLUMNS)).astype("int64")


def test_display_compliance_pools_the_window_answers_and_is_missing_without_any():
    # 1: two audits, 3 of 4 then 1 of 2 display answers "yes" → 4 / 6 = 0.6667
    # 2: audited, every display answer "no" → 0 (measured)
    # 3: never audited → missing (NaN), never 0
    # 4: audited on forms without display questions (0 answers) → missing
    shops = customers(customer(1), customer(2), customer(3), customer(4))
    found = displays((1, 3, 4), (1, 1, 2), (2, 0, 3), (4, 0, 0))

    result = c.value_inputs(
        facts(), shops, violations(), month=JULY, parameters=scheme(), displays=found
    ).set_index("customer_id")

    assert result.loc[1, "display_compliance"] == 0.6667
    assert result.loc[2, "display_compliance"] == 0
    assert math.isnan(result.loc[3, "display_compliance"])
    assert math.isnan(result.loc[4, "display_compliance"])
    # without a frame nobody was audited
    assert (
        c.value_inputs(facts(), shops, violations(), month=JULY, parameters=scheme())[
            "display_compliance"
        ]
        .isna()
        .all()
    )


def test_display_compliance_counts_in_support_with_its_weight():
    # SCALED: key brand 0.5 → 50, new product 0.25 → 25, display 0.9 → 90 (scale, full 1)
    # 1 audited: 0.48 × 50 + 0.32 × 25 + 0.2 × 90 = 24 + 8 + 18 = 50
    # 2 never audited: display missing, (24 + 8) / 0.8 = 40, as before the input existed
    #   (0.6 × 50 + 0.4 × 25 = 40), and named missing
    result = value([valued(1, display=0.9), valued(2)], **SCALED)

    assert result.loc[1, "display_compliance_score"] == 90
    assert result.loc[1, "support_score"] == 50
    assert result.loc[1, "missing"] == ""
    assert math.isnan(result.loc[2, "display_compliance_score"])
    assert result.loc[2, "support_score"] == 40
    assert result.loc[2, "missing"] == "display_compliance"
    # current value 0.5 × 50 + 0.2 × 50 + 0.3 × 90 = 62 against 0.5 × 50 + 0.2 × 40 + 27 = 60
    assert result.loc[1, "current_value"] == 62
    assert result.loc[2, "current_value"] == 60


def test_display_compliance_of_weight_zero_changes_nothing():
    # a stored scheme (the migration adds the input with weight 0; shares 0.6 / 0.4):
    # support 0.6 × 50 + 0.4 × 25 = 40 audited or not, and never named missing
    stored = {
        **SCALED,
        "inputs__key_brand_share__weight": 0.6,
        "inputs__new_product_share__weight": 0.4,
        "inputs__display_compliance__weight": 0,
    }

    result = value([valued(1, display=0.9), valued(2)], **stored)

    assert result.loc[1, "display_compliance_score"] == 90  # scored, shown, not counted
    assert result.loc[1, "support_score"] == result.loc[2, "support_score"] == 40
    assert result.loc[1, "missing"] == result.loc[2, "missing"] == ""


# --- 6. value_frame: credit penalty, values, tiers ------------------------------------------


@pytest.mark.parametrize(
    ("count", "credit", "problem"),
    [
        (0, 90, False),
        (1, 65, False),  # 90 − 25
        (2, 40, False),  # 90 − 50
        (3, 15, True),  # 90 − 75 < 30
        (4, 0, True),  # 90 − 100 → clipped at 0
    ],
)
def test_each_violation_takes_the_penalty_off_credit(count, credit, problem):
    # violations in the 12 months but none in the last 6 (the problem list's window)
    result = value([valued(1, violations=count)], **SCALED)

    assert result.loc[1, "credit_score"] == credit
    assert result.loc[1, "is_problem"] == problem


def test_the_penalty_is_configurable_and_applies_to_the_neutral_credit():
    # 90 − 2 × 10 = 70; no rate known: 40 − 2 × 10 = 20
    result = value(
        [valued(1, violations=2), valued(2, violations=2, e_settlement=NAN, on_time=NAN)],
        credit__violation_penalty=10,
        **SCALED,
    )

    assert result["credit_score"].to_dict() == {1: 70, 2: 20}


def test_current_and_potential_values_by_hand():
    # current = 0.5 × 50 + 0.2 × 40 + 0.3 × 90 = 25 + 8 + 27 = 60
    # potential = 0.6 × 50 + 0.4 × 64 = 30 + 25.6 = 55.6
    result = value([valued(1)], **SCALED)

    row = result.loc[1]
    assert row[[f"{name}_score" for name in c.INDICATORS]].tolist() == [50, 40, 90, 50, 64]
    assert row["current_value"] == 60
    assert row["potential_value"] == 55.6
    assert row["value_tier"] == "value"


def test_value_weights_are_configurable():
    # current = 0.2 × 50 + 0.2 × 40 + 0.6 × 90 = 10 + 8 + 54 = 72
    # potential = 0 × 50 + 1 × 64 = 64
    result = value(
        [valued(1)],
        values__current={"contribution": 0.2, "support": 0.2, "credit": 0.6},
        values__potential={"growth": 0, "influence": 1},
        **SCALED,
    )

    assert result.loc[1, "current_value"] == 72
    assert result.loc[1, "potential_value"] == 64


@pytest.mark.parametrize(
    ("current", "potential", "tier"),
    [
        (50, 50, "value"),  # exactly 50 is high
        (100, 100, "value"),
        (50, 49.9, "secondary"),
        (100, 0, "secondary"),
        (49.9, 50, "potential"),
        (0, 100, "potential"),
        (49.9, 49.9, "low"),
        (0, 0, "low"),
    ],
)
def test_each_tier_cell_and_its_edges(current, potential, tier):
    result = value([plain(1, current, potential)], **PLAIN)

    assert result.loc[1, "current_value"] == current
    assert result.loc[1, "potential_value"] == potential
    assert result.loc[1, "value_tier"] == tier


def test_tier_cut_offs_are_configurable():
    # current 60 < 70 → low current; potential 40 ≥ 30 → high potential
    result = value([plain(1, 60, 40)], tiers__current_from=70, tiers__potential_from=30, **PLAIN)

    assert result.loc[1, "value_tier"] == "potential"


def test_tier_is_compared_on_the_rounded_value():
    # 49.96 scores 50.0 once rounded to one decimal: what the page shows is what was compared
    result = value([plain(1, 49.96, 49.96)], **PLAIN)

    assert result.loc[1, "current_value"] == 50
    assert result.loc[1, "value_tier"] == "value"


# --- 7. value_frame: problem and core lists -------------------------------------------------


@pytest.mark.parametrize(
    ("e_settlement", "on_time", "credit", "problem"),
    [
        (0.3, 0.3, 30, False),  # 30 is not below 30
        (0.298, 0.3, 29.9, True),  # (29.8 + 30) / 2 = 29.9
        (0, 0, 0, True),
    ],
)
def test_problem_list_credit_below_30(e_settlement, on_time, credit, problem):
    result = value([valued(1, e_settlement=e_settlement, on_time=on_time)], **SCALED)

    assert result.loc[1, "credit_score"] == credit
    assert result.loc[1, "is_problem"] == problem


def test_problem_list_a_recent_violation_whatever_the_credit():
    # 1: a violation in the last 6 months: credit 90 − 25 = 65, still a problem customer
    # 2: a violation 8 months ago: credit 65, not on the list
    result = value([valued(1, violations=1, recent=1), valued(2, violations=1, recent=0)], **SCALED)

    assert result["credit_score"].to_dict() == {1: 65, 2: 65}
    assert result["is_problem"].to_dict() == {1: True, 2: False}


def test_problem_credit_cut_is_configurable():
    # credit 90 < 95
    result = value([valued(1)], problem__credit_below=95, **SCALED)

    assert bool(result.loc[1, "is_problem"])


def test_core_list_takes_ties_at_the_boundary():
    # 20 customers: 10 percent is 2. 95 has none above; both 90s have one above (< 2): core.
    # 85 has three above: not core. The others (10) are potential customers.
    rows = [plain(1, 95, 60), plain(2, 90, 60), plain(3, 90, 60), plain(4, 85, 60)]
    rows += [plain(n, 10, 60) for n in range(5, 21)]

    result = value(rows, **PLAIN)

    assert set(result.index[result["is_core"]]) == {1, 2, 3}
    assert result.loc[4, "value_tier"] == "value"
    assert result.loc[5, "value_tier"] == "potential"


def test_a_top_customer_outside_the_value_tier_is_not_core():
    # 10 customers: 10 percent is 1. Customer 1 has the top current value but a low potential
    # (secondary); customer 2 is a value customer but has customer 1 above: neither is core.
    rows = [plain(1, 100, 40), plain(2, 90, 90)]
    rows += [plain(n, 20, 90) for n in range(3, 11)]

    result = value(rows, **PLAIN)

    assert result.loc[1, "value_tier"] == "secondary"
    assert result.loc[2, "value_tier"] == "value"
    assert not result["is_core"].any()


def test_core_share_is_configurable():
    # 10 customers, top 30 percent: fewer than 3 above → 100, 90, 80 (70 has 3 above)
    rows = [plain(n, 110 - 10 * n, 80) for n in range(1, 11)]

    result = value(rows, core__top_percent=30, **PLAIN)

    assert set(result.index[result["is_core"]]) == {1, 2, 3}


def test_a_lone_value_customer_is_core():
    # 1 customer × 10 percent = 0.1: none above → core
    result = value([plain(1, 60, 60)], **PLAIN)

    assert bool(result.loc[1, "is_core"])


def test_value_frame_columns_and_types():
    result = c.value_frame(
        pd.DataFrame([valued(1), valued(2)], columns=list(c.INPUT_COLUMNS)),
        parameters=scheme(),
    )

    assert list(result.columns) == list(c.RESULT_COLUMNS)
    assert result["is_core"].dtype == bool
    assert result["is_problem"].dtype == bool
    assert np.issubdtype(result["group_size"].dtype, np.integer)


def test_an_empty_company_gives_an_empty_result():
    empty = c.value_inputs(facts(), customers(), violations(), month=JULY, parameters=scheme())

    result = c.value_frame(empty, parameters=scheme())

    assert result.empty
    assert list(result.columns) == list(c.RESULT_COLUMNS)


def test_from_facts_to_tiers():
    # Two customers of market C (first orders 2021 and 2023), valued for July 2024 (defaults):
    # 1: 2000 a month Jan…Jun, 20 cartons (10 key-brand, 4 new), all electronic, on time;
    #    a rising trend (July 2023 … December 2023 at 1000).
    # 2: 1000 a month Jan…Jun, 10 cartons (2 key-brand, 1 new), nothing electronic, late;
    #    flat at 1000 for the 12 months; one violation on 2024-03-01.
    rows = []
    for m in range(7, 13):
        rows += [fact(1, f"2023-{m:02d}", 1000), fact(2, f"2023-{m:02d}", 1000)]
    for m in range(1, 7):
        rows.append(
            fact(1, f"2024-0{m}", 2000, 20, key_brand=10, new_product=4, electronic=2000, on_time=1)
        )
        rows.append(fact(2, f"2024-0{m}", 1000, 10, key_brand=2, new_product=1, late=1))
    inputs = c.value_inputs(
        facts(*rows),
        customers(
            customer(1, "2021-01-01", outlet_size="large", model_outlet=True),
            customer(2, "2023-01-01", outlet_size="small", trade_area="village"),
        ),
        violations((2, "2024-03-01")),
        month=JULY,
        parameters=scheme(),
    )

    result = c.value_frame(inputs, parameters=scheme()).set_index("customer_id")

    # percentiles of two: the higher 100, the lower 50
    # 1: contribution 100, support 100, credit (100 + 100) / 2 = 100
    #    → current 100; trend > 0 = 100 × 0.7, tenure 42 → 100 × 0.3 → growth 100;
    #    influence 0.4 × 100 + 0.4 × 100 + 0.2 × 100 = 100 → potential 100
    # 2: contribution 50, support 50, credit 0 + 0 − 25 → 0 → current 25 + 10 + 0 = 35;
    #    trend 0 → 50 × 0.7, tenure 18 → 50 × 0.3 → growth 50;
    #    influence 0.4 × 30 + 0.4 × 50 + 0 = 32 → potential 30 + 12.8 = 42.8
    assert result.loc[1, "current_value"] == 100
    assert result.loc[1, "potential_value"] == 100
    assert result.loc[1, "value_tier"] == "value"
    assert result.loc[2, "amount_trend"] == 0
    assert result.loc[2, "current_value"] == 35
    assert result.loc[2, "potential_value"] == 42.8
    assert result.loc[2, "value_tier"] == "low"
    # 2 customers × 10 percent = 0.2: only the top one, a value customer
    assert result["is_core"].to_dict() == {1: True, 2: False}
    # customer 2: credit 0 < 30, and a violation in the last 6 months
    assert result["is_problem"].to_dict() == {1: False, 2: True}


# --- 8. tier summaries ----------------------------------------------------------------------


def test_tier_counts_name_every_tier_in_order():
    result = c.tier_counts(pd.Series(["value", "low", "value", "secondary"]))

    assert result == {"value": 2, "secondary": 1, "potential": 0, "low": 1}
    assert list(result) == ["value", "secondary", "potential", "low"]


def test_tier_counts_of_no_customers():
    assert c.tier_counts(pd.Series(dtype=object)) == {
        "value": 0,
        "secondary": 0,
        "potential": 0,
        "low": 0,
    }


def test_tier_movements_against_the_month_before():
    # 1 stayed value, 2 low → secondary, 3 potential → secondary, 4 is new, 5 is gone
    previous = pd.Series({1: "value", 2: "low", 3: "potential", 5: "low"}, dtype=object)
    current = pd.Series({1: "value", 2: "secondary", 3: "secondary", 4: "low"}, dtype=object)

    assert c.tier_movements(previous, current) == {
        "value": {"value": 1},
        "low": {"secondary": 1},
        "potential": {"secondary": 1},
        "": {"low": 1},
    }


def test_tier_movements_without_a_month_before_are_all_new():
    current = pd.Series({1: "value", 2: "low", 3: "low"}, dtype=object)

    assert c.tier_movements(pd.Series(dtype=object), current) == {"": {"value": 1, "low": 2}}


# --- 9. warning_frame -----------------------------------------------------------------------


def ordering(*rows: tuple[int, str, str | None]) -> pd.DataFrame:
    """customer_id, order_cycle ("" if unknown), last_order_date (None if never)."""
    return pd.DataFrame(
        [
            (customer_id, cycle, pd.Timestamp(last) if last else pd.NaT)
            for customer_id, cycle, last in rows
        ],
        columns=["customer_id", "order_cycle", "last_order_date"],
    ).astype({"customer_id": "int64", "last_order_date": "datetime64[ns]"})


def amounts(*rows: tuple[int, str, float]) -> pd.DataFrame:
    """customer_id, month ("2024-01"), amount."""
    return pd.DataFrame(
        [(customer_id, pd.Timestamp(f"{month}-01"), float(a)) for customer_id, month, a in rows],
        columns=["customer_id", "month", "amount"],
    ).astype({"customer_id": "int64", "month": "datetime64[ns]", "amount": "float64"})


def grades(*rows: tuple[int, str, int, int | None]) -> pd.DataFrame:
    """customer_id, month ("2024-07"), grade, previous_grade (None if none)."""
    return pd.DataFrame(
        [
            (customer_id, pd.Timestamp(f"{month}-01"), grade, NAN if before is None else before)
            for customer_id, month, grade, before in rows
        ],
        columns=["customer_id", "month", "grade", "previous_grade"],
    ).astype({"customer_id": "int64", "grade": "int64", "previous_grade": "float64"})


def warnings_of(
    customer_frame: pd.DataFrame | None = None,
    amount_frame: pd.DataFrame | None = None,
    grade_frame: pd.DataFrame | None = None,
    *,
    today: dt.date = TODAY,
    **changes: Any,
) -> pd.DataFrame:
    return c.warning_frame(
        ordering() if customer_frame is None else customer_frame,
        amounts() if amount_frame is None else amount_frame,
        grades() if grade_frame is None else grade_frame,
        today=today,
        parameters=scheme(**changes),
    )


def hits(frame: pd.DataFrame, kind: str) -> dict[int, str]:
    """customer id → key of the warnings of `kind`."""
    rows = frame[frame["kind"] == kind]
    return dict(zip(rows["customer_id"], rows["key"], strict=True))


def test_no_orders_in_two_weekly_cycles():
    # 15 July − 1 July = 14 days = 2 × 7 → warning; 2 July: 13 days → none
    result = warnings_of(ordering((1, "weekly", "2024-07-01"), (2, "weekly", "2024-07-02")))

    assert hits(result, "no_orders") == {1: "2024-07-01"}


@pytest.mark.parametrize(
    ("cycle", "warned", "quiet"),
    [
        ("fortnightly", "2024-06-17", "2024-06-18"),  # 28 and 27 days; 2 × 14 = 28
        ("monthly", "2024-05-16", "2024-05-17"),  # 60 and 59 days; 2 × 30 = 60
        ("", "2024-07-01", "2024-07-02"),  # unknown: the default, weekly
    ],
)
def test_no_orders_per_order_cycle(cycle, warned, quiet):
    result = warnings_of(ordering((1, cycle, warned), (2, cycle, quiet)))

    assert hits(result, "no_orders") == {1: warned}


def test_no_orders_default_cycle_and_cycle_count_are_configurable():
    # blank cycle → monthly: 14 days is no warning now; 60 days is
    result = warnings_of(
        ordering((1, "", "2024-07-01"), (2, "", "2024-05-16")),
        warnings__default_order_cycle="monthly",
    )
    # weekly × 3 cycles: 21 days
    three = warnings_of(
        ordering((1, "weekly", "2024-06-24"), (2, "weekly", "2024-06-25")),
        warnings__no_order_cycles=3,
    )

    assert hits(result, "no_orders") == {2: "2024-05-16"}
    assert hits(three, "no_orders") == {1: "2024-06-24"}


def test_a_customer_that_never_ordered_has_no_warning():
    result = warnings_of(ordering((1, "weekly", None), (2, "", None)))

    assert result.empty


def test_no_orders_details():
    result = warnings_of(ordering((7, "", "2024-06-01")))

    (row,) = result.to_dict("records")
    assert row == {
        "customer_id": 7,
        "kind": "no_orders",
        "key": "2024-06-01",
        "details": {
            "last_order_date": "2024-06-01",
            "days_since": 44,  # 1 June → 1 July: 30 days, → 15 July: 14 more
            "order_cycle": "weekly",  # the default stood in for the blank cycle
            "cycles": 2,
        },
    }


def test_amount_drop_of_exactly_30_percent_is_a_warning():
    # earlier (January…March) 1000; recent (April…June) 700 → down 30.0 percent
    # customer 2: recent 701 → down 29.9 percent → none
    result = warnings_of(
        amount_frame=amounts(
            (1, "2024-01", 400),
            (1, "2024-02", 300),
            (1, "2024-03", 300),
            (1, "2024-04", 200),
            (1, "2024-05", 250),
            (1, "2024-06", 250),
            (2, "2024-02", 1000),
            (2, "2024-05", 701),
        )
    )

    assert hits(result, "amount_drop") == {1: "2024-06"}


def test_amount_drop_details():
    result = warnings_of(amount_frame=amounts((3, "2024-03", 1000), (3, "2024-06", 700)))

    (row,) = result.to_dict("records")
    assert row == {
        "customer_id": 3,
        "kind": "amount_drop",
        "key": "2024-06",
        "details": {
            "recent_months": "2024-04…2024-06",
            "earlier_months": "2024-01…2024-03",
            "recent_amount": 700.0,
            "earlier_amount": 1000.0,
            "drop_percent": 30.0,
        },
    }


def test_amount_drop_needs_earlier_purchases():
    # 1: nothing in the earlier months (a new customer) → none
    # 2: earlier months at 0 → none
    # 3: bought earlier, nothing since → down 100 percent
    # 4: rising → none
    result = warnings_of(
        amount_frame=amounts(
            (1, "2024-05", 500),
            (2, "2024-02", 0),
            (2, "2024-05", 0),
            (3, "2024-01", 500),
            (4, "2024-01", 500),
            (4, "2024-04", 900),
        )
    )

    assert hits(result, "amount_drop") == {3: "2024-06"}
    (details,) = result["details"]
    assert details["drop_percent"] == 100
    assert details["recent_amount"] == 0


@pytest.mark.parametrize(
    ("today", "key"),
    [
        # months count back from the month of `today`, whatever its day
        (dt.date(2024, 7, 1), "2024-06"),
        (dt.date(2024, 7, 31), "2024-06"),
    ],
)
def test_amount_drop_months_are_relative_to_today(today, key):
    result = warnings_of(
        amount_frame=amounts((1, "2024-03", 1000), (1, "2024-06", 500)), today=today
    )

    assert hits(result, "amount_drop") == {1: key}


def test_amount_drop_ignores_the_current_month():
    # 15 July: earlier (January…March) 1000, recent (April…June) nothing → down 100 percent;
    # the purchase of July (the current, unfinished month) is not read
    result = warnings_of(amount_frame=amounts((1, "2024-02", 1000), (1, "2024-07", 5000)))

    assert hits(result, "amount_drop") == {1: "2024-06"}
    assert result.loc[0, "details"]["recent_amount"] == 0


def test_amount_drop_windows_move_with_the_month():
    # on 1 August 2024: recent May…July (500 + 400), earlier February…April (1000)
    #   → down 10 percent: none
    frame = amounts((1, "2024-03", 1000), (1, "2024-06", 500), (1, "2024-07", 400))
    august = warnings_of(amount_frame=frame, today=dt.date(2024, 8, 1))
    # on 1 October: recent July…September (400), earlier April…June (500): down 20 percent
    october = warnings_of(amount_frame=frame, today=dt.date(2024, 10, 1))
    # across a year: on 10 January 2025 the recent months are October…December 2024 (0), the
    # earlier July…September 2024 (400) → down 100 percent
    january = warnings_of(amount_frame=frame, today=dt.date(2025, 1, 10))

    assert august.empty
    assert october.empty
    assert hits(january, "amount_drop") == {1: "2024-12"}
    assert january.loc[0, "details"]["earlier_months"] == "2024-07…2024-09"


def test_amount_drop_threshold_and_months_are_configurable():
    # 2 months: recent May, June (800); earlier March, April (1000) → down 20 percent ≥ 20
    result = warnings_of(
        amount_frame=amounts((1, "2024-03", 1000), (1, "2024-06", 800)),
        warnings__drop_months=2,
        warnings__drop_percent=20,
    )

    assert hits(result, "amount_drop") == {1: "2024-06"}
    assert result.loc[0, "details"]["recent_months"] == "2024-05…2024-06"


def test_downgrade_by_two_grades_or_more():
    # 1: 3 → 5 (down 2) → warning; 2: 3 → 4 (down 1) → none; 3: 5 → 2 (up) → none;
    # 4: no grade the month before → none; 5: 1 → 8 (down 7) → warning
    result = warnings_of(
        grade_frame=grades(
            (1, "2024-07", 5, 3),
            (2, "2024-07", 4, 3),
            (3, "2024-07", 2, 5),
            (4, "2024-07", 8, None),
            (5, "2024-07", 8, 1),
        )
    )

    assert hits(result, "downgrade") == {1: "2024-07", 5: "2024-07"}


def test_downgrade_details_and_configurable_steps():
    frame = grades((1, "2024-07", 5, 3), (2, "2024-07", 6, 3))

    result = warnings_of(grade_frame=frame)
    three = warnings_of(grade_frame=frame, warnings__downgrade_steps=3)

    assert result.to_dict("records")[0] == {
        "customer_id": 1,
        "kind": "downgrade",
        "key": "2024-07",
        "details": {"month": "2024-07", "previous_grade": 3, "grade": 5},
    }
    assert hits(three, "downgrade") == {2: "2024-07"}


def test_one_customer_can_have_every_warning():
    result = warnings_of(
        ordering((1, "weekly", "2024-06-01")),
        amounts((1, "2024-02", 1000), (1, "2024-05", 100)),
        grades((1, "2024-07", 6, 2)),
    )

    assert list(result["kind"]) == ["no_orders", "amount_drop", "downgrade"]
    assert set(result["customer_id"]) == {1}
    assert result["customer_id"].dtype == np.int64


def test_no_warning_gives_an_empty_frame_with_the_warning_columns():
    quiet = warnings_of(
        ordering((1, "weekly", "2024-07-10")),
        amounts((1, "2024-02", 1000), (1, "2024-05", 1000)),
        grades((1, "2024-07", 3, 3)),
    )
    nothing = warnings_of()
    # grade_pairs_frame gives an untyped empty frame when no month is graded
    untyped = c.warning_frame(
        pd.DataFrame(columns=["customer_id", "order_cycle", "last_order_date"]),
        pd.DataFrame(columns=["customer_id", "month", "amount"]),
        pd.DataFrame(columns=["customer_id", "month", "grade", "previous_grade"]),
        today=TODAY,
        parameters=scheme(),
    )

    for frame in (quiet, nothing, untyped):
        assert frame.empty
        assert list(frame.columns) == list(c.WARNING_COLUMNS)
