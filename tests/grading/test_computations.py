"""The grading rules of `grading.computations` on small hand-made frames (no database).

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
from grading import computations as c

NAN = float("nan")
APRIL = dt.date(2024, 4, 1)
# The default window for grading April 2024: January, February and March.
JAN_MAR = [dt.date(2024, 1, 1), dt.date(2024, 2, 1), dt.date(2024, 3, 1)]
STRUCTURE_SPLITS = (
    "low_tar_cartons",
    "class_1_cartons",
    "class_2_cartons",
    "key_brand_cartons",
    "new_product_cartons",
)


# --- builders -----------------------------------------------------------------------------


def fact(customer_id: int, month: str, cartons: float, amount: float | None = None, **splits):
    """One monthly fact row; `month` as "2024-01"; amount defaults to 100 CNY a carton."""
    row = {
        "customer_id": customer_id,
        "month": pd.Timestamp(f"{month}-01"),
        "cartons": float(cartons),
        "amount": float(cartons * 100 if amount is None else amount),
    }
    row.update(
        {name: float(splits.get(name.removesuffix("_cartons"), 0)) for name in STRUCTURE_SPLITS}
    )
    return row


def facts(*rows: dict[str, Any]) -> pd.DataFrame:
    """FACT_COLUMNS frame with the dtypes the database read gives (also when empty)."""
    frame = pd.DataFrame(list(rows), columns=list(c.FACT_COLUMNS))
    return frame.astype(
        {
            "customer_id": "int64",
            "month": "datetime64[ns]",
            **dict.fromkeys(c.FACT_COLUMNS[2:], "float64"),
        }
    )


def customer(
    customer_id: int,
    first_order: str | None = "2023-01-01",
    *,
    market: str = "C",
    fmt: str = "Z",
    floor_area: float = NAN,
    assessment: float = NAN,
) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "market_type": market,
        "business_format": fmt,
        "floor_area_m2": floor_area,
        "first_order_date": pd.Timestamp(first_order) if first_order else pd.NaT,
        "assessment": assessment,
    }


def customers(*rows: dict[str, Any]) -> pd.DataFrame:
    frame = pd.DataFrame(list(rows), columns=list(c.CUSTOMER_COLUMNS))
    return frame.astype(
        {
            "customer_id": "int64",
            "market_type": object,
            "business_format": object,
            "floor_area_m2": "float64",
            "first_order_date": "datetime64[ns]",
            "assessment": "float64",
        }
    )


def graded(
    customer_id: int,
    cartons: float = 0.0,
    *,
    amount: float | None = None,
    price: float | None = None,
    market: str = "C",
    fmt: str = "Z",
    floor_area: float = NAN,
    assessment: float = NAN,
    share: float = NAN,
    basis: str = "window",
) -> dict[str, Any]:
    """One INPUT_COLUMNS row for `grade_frame`: window averages given directly. Amount defaults
    to 100 CNY a carton; no cartons means no price."""
    if price is None:
        price = 100.0 if cartons > 0 else NAN
    return {
        "customer_id": customer_id,
        "market_type": market,
        "business_format": fmt,
        "floor_area_m2": floor_area,
        "assessment": assessment,
        "basis": basis,
        "window": "2024-01 2024-02 2024-03" if basis == "window" else "",
        "months_used": 3 if basis == "window" else 0,
        "avg_cartons": float(cartons),
        "avg_amount": float(cartons * 100 if amount is None else amount),
        "avg_price": float(price),
        "structure_share": share,
    }


def inputs(*rows: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=list(c.INPUT_COLUMNS))


def scheme(kind: str, **changes: Any) -> dict[str, Any]:
    """The default parameters of `kind` with `changes` ("grades__bands"= sets grades.bands),
    checked and normalised by `validate_parameters` as a saved scheme is."""
    return c.validate_parameters(kind, changed(kind, **changes))


def changed(kind: str, **changes: Any) -> dict[str, Any]:
    parameters = c.default_parameters(kind)
    for path, value in changes.items():
        *parents, last = path.split("__")
        node = parameters
        for key in parents:
            node = node[key]
        node[last] = deepcopy(value)
    return parameters


def grade(rows: list[dict[str, Any]], kind: str = "thresholds", **changes: Any) -> pd.DataFrame:
    """`grade_frame` results indexed by customer id."""
    result = c.grade_frame(inputs(*rows), kind=kind, parameters=scheme(kind, **changes))
    return result.set_index("customer_id")


def by_id(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.set_index("customer_id")


# --- 1. thresholds: the edges of the default 8 grades --------------------------------------

# (threshold in cartons per month, the grade it starts)
DEFAULT_THRESHOLDS = [(1500, 1), (1000, 2), (500, 3), (300, 4), (200, 5), (100, 6), (50, 7), (0, 8)]


@pytest.mark.parametrize(("threshold", "expected"), DEFAULT_THRESHOLDS)
def test_an_average_of_exactly_the_threshold_gets_its_grade(threshold, expected):
    result = grade([graded(1, threshold)])

    assert result.loc[1, "computed_grade"] == expected


@pytest.mark.parametrize(("threshold", "expected"), DEFAULT_THRESHOLDS[:-1])
def test_a_cent_below_the_threshold_gets_the_next_grade(threshold, expected):
    result = grade([graded(1, threshold - 0.01)])

    assert result.loc[1, "computed_grade"] == expected + 1


@pytest.mark.parametrize(("threshold", "expected"), DEFAULT_THRESHOLDS[:-1])
def test_threshold_edges_from_three_months_of_facts(threshold, expected):
    # given: exactly 3 × t cartons in the window, and one carton less
    #        (3t − 1) / 3 = t − 0.333… → t − 0.33, the nearest average below t
    facts_frame = facts(fact(1, "2024-01", 3 * threshold), fact(2, "2024-01", 3 * threshold - 1))
    window = c.window_inputs(facts_frame, customers(customer(1), customer(2)), window=JAN_MAR)

    # when
    result = by_id(c.grade_frame(window, kind="thresholds", parameters=scheme("thresholds")))

    # then
    assert result.loc[1, "avg_cartons"] == threshold
    assert result.loc[2, "avg_cartons"] == round(threshold - 1 / 3, 2)
    assert result.loc[1, "computed_grade"] == expected
    assert result.loc[2, "computed_grade"] == expected + 1


def test_no_cartons_at_all_still_gets_the_last_grade():
    # a customer who traded in the window but bought nothing: 0 ≥ 0 → grade 8
    assert grade([graded(1, 0)]).loc[1, "computed_grade"] == 8


# --- 2. reference window -------------------------------------------------------------------


def test_reference_window_is_the_three_full_months_before():
    assert c.reference_window(APRIL, months=3) == JAN_MAR


def test_reference_window_across_a_year_boundary():
    assert c.reference_window(dt.date(2024, 2, 1), months=3) == [
        dt.date(2023, 11, 1),
        dt.date(2023, 12, 1),
        dt.date(2024, 1, 1),
    ]


def test_reference_window_of_other_lengths():
    assert c.reference_window(APRIL, months=1) == [dt.date(2024, 3, 1)]
    assert c.reference_window(APRIL, months=12)[0] == dt.date(2023, 4, 1)


def test_reference_window_leaves_out_peak_months():
    # February (Spring Festival) flagged; December is outside the window anyway
    peaks = [dt.date(2024, 2, 1), dt.date(2023, 12, 1)]

    assert c.reference_window(APRIL, months=3, peak_months=peaks) == [
        dt.date(2024, 1, 1),
        dt.date(2024, 3, 1),
    ]


def test_reference_window_keeps_peak_months_when_the_scheme_does_not_exclude_them():
    peaks = [dt.date(2024, 2, 1)]

    assert c.reference_window(APRIL, months=3, peak_months=peaks, exclude_peaks=False) == JAN_MAR


def test_reference_window_keeps_the_peak_months_when_all_are_peak():
    assert c.reference_window(APRIL, months=3, peak_months=JAN_MAR) == JAN_MAR


def test_window_averages_over_the_window_and_ignores_facts_outside():
    # given: December and April are outside the January–March window
    facts_frame = facts(
        fact(1, "2023-12", 1000, 999_000),
        fact(1, "2024-01", 30, 3000),
        fact(1, "2024-02", 60, 7200),
        fact(1, "2024-03", 90, 9000),
        fact(1, "2024-04", 500, 500_000),
    )

    # when
    row = by_id(c.window_inputs(facts_frame, customers(customer(1)), window=JAN_MAR)).loc[1]

    # then
    assert row["basis"] == "window"
    assert row["months_used"] == 3
    assert row["window"] == "2024-01 2024-02 2024-03"
    assert row["avg_cartons"] == 60  # (30 + 60 + 90) / 3
    assert row["avg_amount"] == 6400  # (3000 + 7200 + 9000) / 3
    assert row["avg_price"] == 106.67  # 19200 / 180 = 106.666…


def test_first_order_inside_the_window():
    # given: customer 1's first order on 15 February: January is before it and does not count;
    #        February counts as the 15 days from the 15th to the 29th of its 29 days, with all
    #        its facts; customer 2's first order on 1 February: February is a full month
    facts_frame = facts(
        fact(1, "2024-02", 40),
        fact(1, "2024-03", 90),
        fact(2, "2024-02", 20),
        fact(2, "2024-03", 40),
    )
    people = customers(customer(1, "2024-02-15"), customer(2, "2024-02-01"))

    # when
    result = by_id(c.window_inputs(facts_frame, people, window=JAN_MAR))

    # then
    assert result.loc[1, "months_used"] == 2
    assert result.loc[1, "window"] == "2024-02 2024-03"
    assert result.loc[1, "avg_cartons"] == 85.68  # (40 + 90) / (15/29 + 1) = 130 / 1.5172…
    assert result.loc[1, "avg_amount"] == 8568.18  # 13000 / 1.5172…
    assert result.loc[1, "avg_price"] == 100
    assert result.loc[2, "months_used"] == 2
    assert result.loc[2, "window"] == "2024-02 2024-03"
    assert result.loc[2, "avg_cartons"] == 30  # (20 + 40) / 2


# Issue 19: a rural convenience store whose only order is 900 cartons in August 2026, graded
# for November 2026 with the default scheme (window August, September, October).
NOVEMBER_2026 = dt.date(2026, 11, 1)
AUG_OCT_2026 = [dt.date(2026, 8, 1), dt.date(2026, 9, 1), dt.date(2026, 10, 1)]


@pytest.mark.parametrize(
    ("first_order", "avg_cartons", "grade"),
    [
        # 08-01: three full months, 900 / 3 = 300 → grade 4 (from 300)
        ("2026-08-01", 300.0, 4),
        # 08-15: 17 of August's 31 days + September + October = 2.548… months;
        #        900 / 2.548… = 353.16 → grade 4
        ("2026-08-15", 353.16, 4),
        # 08-31: 1/31 + 2 = 2.032… months; 900 / 2.032… = 442.86 → grade 4 (below 500)
        ("2026-08-31", 442.86, 4),
    ],
)
def test_the_month_of_the_first_order_counts_with_its_purchases(first_order, avg_cartons, grade):
    # given
    people = customers(customer(1, first_order, market="X", fmt="B"))
    facts_frame = facts(fact(1, "2026-08", 900))

    # when
    window = c.window_inputs(facts_frame, people, window=AUG_OCT_2026)
    result = by_id(c.grade_frame(window, kind="thresholds", parameters=scheme("thresholds")))

    # then: never the average of 0 (grade 8) the part-month used to give
    row = result.loc[1]
    assert row["basis"] == "window"
    assert row["window"] == "2026-08 2026-09 2026-10"
    assert row["months_used"] == 3
    assert row["avg_cartons"] == avg_cartons
    assert row["computed_grade"] == grade


def test_the_first_order_month_counts_only_from_the_first_order_on():
    # given: the first order on 20 October 2026, the last month of the window: October counts
    #        as 12 of its 31 days; August and September are before the first order
    people = customers(customer(1, "2026-10-20"))
    facts_frame = facts(fact(1, "2026-10", 60))

    row = by_id(c.window_inputs(facts_frame, people, window=AUG_OCT_2026)).loc[1]

    assert row["months_used"] == 1
    assert row["window"] == "2026-10"
    assert row["avg_cartons"] == 155  # 60 / (12/31) = 155


def test_a_first_order_in_the_grade_month_itself_still_gets_the_initial_basis():
    # given: the first order on 2 November 2026, the grade month: no window month counts
    people = customers(customer(1, "2026-11-02"))
    facts_frame = facts(fact(1, "2026-11", 900))

    row = by_id(c.window_inputs(facts_frame, people, window=AUG_OCT_2026)).loc[1]

    assert row["basis"] == "initial"
    assert row["months_used"] == 0
    assert row["avg_cartons"] == 0


def test_a_counted_month_without_facts_counts_as_zero():
    # given: an old customer who bought only in January
    facts_frame = facts(fact(1, "2024-01", 100))

    row = by_id(c.window_inputs(facts_frame, customers(customer(1)), window=JAN_MAR)).loc[1]

    assert row["months_used"] == 3
    assert row["avg_cartons"] == 33.33  # (100 + 0 + 0) / 3
    assert row["avg_amount"] == 3333.33  # 10000 / 3
    assert row["avg_price"] == 100  # the price is over the cartons bought: 10000 / 100


def test_an_excluded_peak_month_is_left_out_of_the_average():
    # given: February flagged as peak and left out of the window
    window = c.reference_window(APRIL, months=3, peak_months=[dt.date(2024, 2, 1)])
    facts_frame = facts(fact(1, "2024-01", 30), fact(1, "2024-02", 600), fact(1, "2024-03", 90))

    row = by_id(c.window_inputs(facts_frame, customers(customer(1)), window=window)).loc[1]

    assert row["months_used"] == 2
    assert row["window"] == "2024-01 2024-03"
    assert row["avg_cartons"] == 60  # (30 + 90) / 2; February's 600 ignored


def test_a_customer_without_a_counted_month_gets_the_initial_basis():
    # given: customer 1 never ordered; customer 2's first order is in the grade month itself
    people = customers(customer(1, None), customer(2, "2024-04-03"))
    facts_frame = facts(fact(2, "2024-04", 50))

    result = by_id(c.window_inputs(facts_frame, people, window=JAN_MAR, structure_metric="low_tar"))

    for customer_id in (1, 2):
        row = result.loc[customer_id]
        assert row["basis"] == "initial"
        assert row["months_used"] == 0
        assert row["window"] == ""
        assert row["avg_cartons"] == 0
        assert row["avg_amount"] == 0
        assert math.isnan(row["avg_price"])
        assert math.isnan(row["structure_share"])


@pytest.mark.parametrize(
    ("metric", "expected"),
    [
        ("low_tar", 0.125),  # (20 + 5) / 200
        ("high_class", 0.25),  # (10 + 30 + 0 + 10) / 200
        ("key_brand", 0.6),  # (60 + 60) / 200
        ("new_product", 0.0333),  # (1 + 5.666) / 200 = 0.03333 → 4 decimals
        (None, NAN),
    ],
)
def test_structure_share_of_the_window(metric, expected):
    # given: 200 cartons in the window; the December row is outside and ignored
    facts_frame = facts(
        fact(1, "2023-12", 500, low_tar=500, class_1=500, key_brand=500, new_product=500),
        fact(1, "2024-01", 100, low_tar=20, class_1=10, class_2=30, key_brand=60, new_product=1),
        fact(1, "2024-03", 100, low_tar=5, class_2=10, key_brand=60, new_product=5.666),
    )

    row = by_id(
        c.window_inputs(
            facts_frame, customers(customer(1)), window=JAN_MAR, structure_metric=metric
        )
    ).loc[1]

    if metric is None:
        assert math.isnan(row["structure_share"])
    else:
        assert row["structure_share"] == expected


def test_window_inputs_columns():
    result = c.window_inputs(facts(), customers(customer(1)), window=JAN_MAR)

    assert list(result.columns) == list(c.INPUT_COLUMNS)
    assert result.loc[0, "avg_cartons"] == 0  # three counted months, no facts


# --- 3. each scheme kind through grade_frame -----------------------------------------------

# A small matrix: 3 volume segments (≥100, ≥50, ≥0) × 2 price intervals (≥150, ≥0) = 6 grades.
SMALL_MATRIX = {
    "grades__volume": [100, 50, 0],
    "grades__price": [150, 0],
    "initial__grades": {"C": {"up_to": 6, "above": 5}, "X": {"up_to": 6, "above": 6}},
}


@pytest.mark.parametrize(
    ("cartons", "price", "segment", "interval"),
    [
        (120, 200, 0, 0),
        (100, 150, 0, 0),  # both edges reached
        (120, 149.99, 0, 1),
        (99.99, 200, 1, 0),
        (50, 100, 1, 1),
        (10, 150, 2, 0),
        (49.99, 10, 2, 1),
    ],
)
def test_matrix_grade_is_segment_times_intervals_plus_interval(cartons, price, segment, interval):
    result = grade([graded(1, cartons, price=price)], "matrix", **SMALL_MATRIX)

    # grade = segment × 2 intervals + interval + 1
    assert result.loc[1, "computed_grade"] == segment * 2 + interval + 1


def test_matrix_customer_without_purchases_lands_in_the_lowest_price_interval():
    # given: counted months but nothing bought → no price; segment 2, interval 1
    result = grade([graded(1, 0)], "matrix", **SMALL_MATRIX)

    assert math.isnan(result.loc[1, "avg_price"])
    assert result.loc[1, "computed_grade"] == 6  # 2 × 2 + 1 + 1


def test_default_matrix_has_thirty_grades():
    # top volume, top price → 1; nothing bought → segment 9, interval 2 → 9 × 3 + 2 + 1 = 30
    result = grade([graded(1, 1500, price=180), graded(2, 0)], "matrix")

    assert result["computed_grade"].to_dict() == {1: 1, 2: 30}
    assert c.grade_count("matrix", c.default_parameters("matrix")) == 30


QUARTERS = {
    "grades__bands": [25, 25, 25, 25],
    "initial__grades": {"C": {"up_to": 4, "above": 4}, "X": {"up_to": 4, "above": 4}},
}


def test_score_weights_the_percentiles():
    # given: quantity percentiles 25/50/75/100, amount and structure the other way round
    rows = [
        graded(1, 10, amount=4000, share=0.4),
        graded(2, 20, amount=3000, share=0.3),
        graded(3, 30, amount=2000, share=0.2),
        graded(4, 40, amount=1000, share=0.1),
    ]

    # when: the default weights 0.2 quantity, 0.7 amount, 0.1 structure
    result = grade(rows, "score", **QUARTERS)

    # then: 1: 0.2×25 + 0.7×100 + 0.1×100 = 85      2: 0.2×50 + 0.7×75 + 0.1×75 = 70
    #       3: 0.2×75 + 0.7×50 + 0.1×50 = 55        4: 0.2×100 + 0.7×25 + 0.1×25 = 40
    assert result["score"].to_dict() == {1: 85, 2: 70, 3: 55, 4: 40}
    assert result["computed_grade"].to_dict() == {1: 1, 2: 2, 3: 3, 4: 4}


QUANTITY_ONLY = {
    "grades__weights": {"quantity": 1, "amount": 0, "structure": 0, "assessment": 0},
    "grades__bands": [20, 30, 50],
    "initial__grades": {"C": {"up_to": 3, "above": 3}, "X": {"up_to": 3, "above": 3}},
}


def test_score_bands_are_cut_by_share():
    # given: ten customers, scores 10, 20, … 100; bands 20% / 30% / 50%
    rows = [graded(i, 10 * i) for i in range(1, 11)]

    result = grade(rows, "score", **QUANTITY_ONLY)

    assert result["score"].to_dict() == {i: 10 * i for i in range(1, 11)}
    # the top 2 → grade 1, the next 3 → grade 2, the other 5 → grade 3
    assert result["computed_grade"].to_dict() == {
        10: 1, 9: 1, 8: 2, 7: 2, 6: 2, 5: 3, 4: 3, 3: 3, 2: 3, 1: 3,
    }  # fmt: skip


def test_score_ties_share_a_band():
    # given: customers 2 and 3 tie for second place (both 85 = average rank 8.5 of 10)
    cartons = {1: 100, 2: 90, 3: 90, 4: 70, 5: 60, 6: 50, 7: 40, 8: 30, 9: 20, 10: 10}
    rows = [graded(i, n) for i, n in cartons.items()]

    result = grade(rows, "score", **QUANTITY_ONLY)

    assert result.loc[2, "score"] == result.loc[3, "score"] == 85
    # 1 is first; 2 and 3 have 1 of 10 (10%) above them → grade 1 together, so grade 1 holds
    # three; 4 has 30% above → grade 2; 5 has 40% → grade 2; 6 has 50% → grade 3
    assert result["computed_grade"].to_dict() == {
        1: 1, 2: 1, 3: 1, 4: 2, 5: 2, 6: 3, 7: 3, 8: 3, 9: 3, 10: 3,
    }  # fmt: skip


def test_score_counts_a_missing_structure_share_as_fifty():
    # given: structure weighs everything; customer 2 bought nothing of known share
    rows = [graded(1, 10, share=0.2), graded(2, 10), graded(3, 10, share=0.4)]

    result = grade(
        rows,
        "score",
        **{**QUANTITY_ONLY, "grades__weights": {"quantity": 0, "amount": 0, "structure": 1}},
    )

    # percentiles among the known shares: 0.2 → 50, 0.4 → 100; unknown → 50
    assert result["score"].to_dict() == {1: 50, 2: 50, 3: 100}


def test_score_uses_the_assessment_and_counts_a_missing_one_as_fifty():
    # given: 80% quantity, 20% the account manager's assessment; customer 2 has none
    rows = [
        graded(1, 10, assessment=100),
        graded(2, 20),
        graded(3, 30, assessment=0),
        graded(4, 40, assessment=50),
    ]

    result = grade(
        rows,
        "score",
        **{
            **QUARTERS,
            "grades__weights": {"quantity": 0.8, "amount": 0, "structure": 0, "assessment": 0.2},
        },
    )

    # 1: 0.8×25 + 0.2×100 = 40     2: 0.8×50 + 0.2×50 = 50
    # 3: 0.8×75 + 0.2×0 = 60       4: 0.8×100 + 0.2×50 = 90
    assert result["score"].to_dict() == {1: 40, 2: 50, 3: 60, 4: 90}
    assert result["computed_grade"].to_dict() == {1: 4, 2: 3, 3: 2, 4: 1}


def test_score_ranks_only_customers_graded_on_their_window():
    # given: a new customer (initial basis) next to two window customers
    rows = [graded(1, 10), graded(2, 20), graded(3, basis="initial", floor_area=30)]

    result = grade(rows, "score", **QUANTITY_ONLY)

    # percentiles among 1 and 2 only: 50 and 100 (with 3's 0 cartons ranked: 66.67 and 100)
    assert result.loc[1, "score"] == 50
    assert result.loc[2, "score"] == 100
    assert math.isnan(result.loc[3, "score"])
    assert result.loc[3, "computed_grade"] == 3  # C, ≤ 50 m² → the configured "up_to"


# --- 4. new customers: market type × floor area --------------------------------------------


@pytest.mark.parametrize(
    ("market", "floor_area", "expected"),
    [
        ("C", 30, 6),
        ("C", 50, 6),  # ≤ 50 m² → "up_to"
        ("C", 50.01, 5),  # > 50 m² → "above"
        ("C", NAN, 6),  # unknown → "up_to"
        ("X", 50, 7),
        ("X", 120, 6),
        ("X", NAN, 7),
    ],
)
def test_new_customer_initial_grade(market, floor_area, expected):
    row = graded(1, market=market, floor_area=floor_area, basis="initial")

    result = grade([row])

    assert result.loc[1, "computed_grade"] == expected


def test_initial_grade_follows_the_configured_floor_area():
    rows = [graded(1, floor_area=80, basis="initial"), graded(2, floor_area=120, basis="initial")]

    result = grade(rows, **{"initial__floor_area_m2": 100})

    assert result["computed_grade"].to_dict() == {1: 6, 2: 5}


def test_window_customers_keep_their_computed_grade_whatever_their_floor_area():
    result = grade([graded(1, 1500, floor_area=300), graded(2, 0, floor_area=10)])

    assert result["computed_grade"].to_dict() == {1: 1, 2: 8}


def test_new_customer_end_to_end_from_window_inputs():
    # given: never ordered, urban, 80 m²
    window = c.window_inputs(facts(), customers(customer(1, None, floor_area=80)), window=JAN_MAR)

    result = by_id(c.grade_frame(window, kind="thresholds", parameters=scheme("thresholds")))

    assert result.loc[1, "basis"] == "initial"
    assert result.loc[1, "computed_grade"] == 5  # C, > 50 m² → "above"


# --- 5. business scale and category code ---------------------------------------------------


def ten_shops(market: str = "C", fmt: str = "Z", first_id: int = 1) -> list[dict[str, Any]]:
    """Ten shops of one group; shop k (k = 1…10 from first_id) buys 10k cartons a month at
    100 CNY, so both its percentiles and its scale score are 10k."""
    return [graded(first_id + k - 1, 10 * k, market=market, fmt=fmt) for k in range(1, 11)]


def test_scale_cuts_a_group_of_ten_twenty_thirty_fifty():
    result = grade(ten_shops())

    assert result["scale_score"].to_dict() == {k: 10 * k for k in range(1, 11)}
    assert result["group_size"].eq(10).all()
    # the top 20% (2 shops) large, the next 30% (3) medium, the other 50% (5) small
    assert result["business_scale"].to_dict() == {
        10: "large", 9: "large",
        8: "medium", 7: "medium", 6: "medium",
        5: "small", 4: "small", 3: "small", 2: "small", 1: "small",
    }  # fmt: skip
    assert result["category_code"].to_dict() == {
        10: "CZ1", 9: "CZ1", 8: "CZ2", 7: "CZ2", 6: "CZ2",
        5: "CZ3", 4: "CZ3", 3: "CZ3", 2: "CZ3", 1: "CZ3",
    }  # fmt: skip


def test_scale_score_is_the_mean_of_the_quantity_and_amount_percentiles():
    # quantity percentiles 25, 50, 75, 100; amount 2000, 1000, 4000, 3000 → 50, 25, 100, 75
    rows = [
        graded(1, 10, amount=2000),
        graded(2, 20, amount=1000),
        graded(3, 30, amount=4000),
        graded(4, 40, amount=3000),
    ]

    result = grade(rows)

    assert result["quantity_pct"].to_dict() == {1: 25, 2: 50, 3: 75, 4: 100}
    assert result["amount_pct"].to_dict() == {1: 50, 2: 25, 3: 100, 4: 75}
    assert result["scale_score"].to_dict() == {1: 37.5, 2: 37.5, 3: 87.5, 4: 87.5}
    # 3 and 4 tie first (large); 1 and 2 have 50% above them → small
    assert result["business_scale"].to_dict() == {1: "small", 2: "small", 3: "large", 4: "large"}


def test_each_group_is_ranked_separately():
    # given: ten urban groceries (10 … 100 cartons) and five rural convenience stores that all
    #        buy far more (1000 … 5000)
    rural = [graded(100 + k, 1000 * k, market="X", fmt="B") for k in range(1, 6)]

    result = grade(ten_shops() + rural)

    # the urban groceries are cut as if alone
    assert result.loc[10, "category_code"] == "CZ1"
    assert result.loc[8, "category_code"] == "CZ2"
    assert result.loc[1, "category_code"] == "CZ3"
    # five rural shops: 0%, 20%, 40%, 60%, 80% above them → large, medium ×2, small ×2
    assert result.loc[101:105, "category_code"].to_dict() == {
        105: "XB1", 104: "XB2", 103: "XB2", 102: "XB3", 101: "XB3",
    }  # fmt: skip
    assert result.loc[101, "group_size"] == 5
    assert result.loc[1, "group_size"] == 10


def test_ties_share_a_scale():
    # given: shops 2 and 3 tie for second place in a group of ten
    cartons = {1: 100, 2: 90, 3: 90, 4: 70, 5: 60, 6: 50, 7: 40, 8: 30, 9: 20, 10: 10}

    result = grade([graded(i, n) for i, n in cartons.items()])

    # 2 and 3 have 10% above them → large, so three shops are large; 4 (30% above) and
    # 5 (40%) medium; 6 (50%) small
    assert result["business_scale"].to_dict() == {
        1: "large", 2: "large", 3: "large", 4: "medium", 5: "medium",
        6: "small", 7: "small", 8: "small", 9: "small", 10: "small",
    }  # fmt: skip


def test_scale_cuts_are_configurable():
    result = grade(ten_shops(), **{"scale": {"large": 10, "medium": 10, "small": 80}})

    assert result["business_scale"].value_counts().to_dict() == {
        "large": 1,
        "medium": 1,
        "small": 8,
    }


# --- 6. structure class: price band × scale ------------------------------------------------

# shop 10 of `ten_shops` is large, shop 8 medium, shop 1 small
SHOP_OF_SCALE = {"large": 10, "medium": 8, "small": 1}
# the lowest price of each band: ≥250, 180-250, 130-180, 90-130, <90
BAND_PRICES = [250, 180, 130, 90, 89.99]
DEFAULT_STRUCTURE = {
    "large": [1, 2, 4, 6, 8],
    "medium": [2, 3, 5, 7, 9],
    "small": [3, 4, 6, 8, 10],
}


@pytest.mark.parametrize(
    ("scale", "band", "expected"),
    [
        (scale, band, classes[band - 1])
        for scale, classes in DEFAULT_STRUCTURE.items()
        for band in range(1, 6)
    ],
)
def test_structure_class_of_each_cell(scale, band, expected):
    # given: the shop of `scale` in a group of ten, at the lowest price of `band`
    shop = SHOP_OF_SCALE[scale]
    rows = ten_shops()
    rows[shop - 1]["avg_price"] = BAND_PRICES[band - 1]

    result = grade(rows)

    assert result.loc[shop, "business_scale"] == scale
    assert result.loc[shop, "price_band"] == band
    assert result.loc[shop, "structure_class"] == expected


@pytest.mark.parametrize(
    ("price", "band"),
    [
        (1000, 1),
        (250, 1),
        (249.99, 2),
        (180, 2),
        (179.99, 3),
        (130, 3),
        (129.99, 4),
        (90, 4),
        (89.99, 5),
        (0.01, 5),
        (NAN, 5),  # nothing bought: the lowest band
    ],
)
def test_price_band_edges(price, band):
    result = grade([graded(1, 10, price=price)])

    assert result.loc[1, "price_band"] == band


def test_structure_matrix_is_configurable():
    result = grade(
        [graded(1, 10, price=200), graded(2, 10, price=50)],
        **{
            "structure__price_bands": [100],
            "structure__matrix": {"large": [1, 2], "medium": [3, 4], "small": [5, 6]},
        },
    )

    # both tie first → large; 200 ≥ 100 → band 1, 50 → band 2
    assert result["structure_class"].to_dict() == {1: 1, 2: 2}


# --- 7. validate_parameters ----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["thresholds", "matrix", "score"])
def test_the_defaults_pass(kind):
    defaults = c.default_parameters(kind)

    assert c.validate_parameters(kind, defaults) == defaults


def test_default_parameters_are_a_fresh_copy():
    c.default_parameters("thresholds")["grades"]["thresholds"].append(-1)

    assert c.default_parameters("thresholds")["grades"]["thresholds"][-1] == 0


def errors_of(kind: str, **changes: Any) -> dict[str, list[str]]:
    with pytest.raises(DomainError) as caught:
        c.validate_parameters(kind, changed(kind, **changes))
    return caught.value.errors


@pytest.mark.parametrize(
    ("kind", "changes", "path"),
    [
        # not strictly falling (1000 twice)
        (
            "thresholds",
            {"grades__thresholds": [1500, 1000, 1000, 300, 200, 100, 50, 0]},
            "grades.thresholds",
        ),
        # rising
        (
            "thresholds",
            {"grades__thresholds": [0, 50, 100, 200, 300, 500, 1000, 1500]},
            "grades.thresholds",
        ),
        # not ending at 0
        (
            "thresholds",
            {"grades__thresholds": [1500, 1000, 500, 300, 200, 100, 50, 10]},
            "grades.thresholds",
        ),
        ("matrix", {"grades__price": [180, 100, 10]}, "grades.price"),
        # 2+3+5+10+10+15+15+15+15+9 = 99
        ("score", {"grades__bands": [2, 3, 5, 10, 10, 15, 15, 15, 15, 9]}, "grades.bands"),
        # 0.2 + 0.6 + 0.1 = 0.9
        (
            "score",
            {"grades__weights": {"quantity": 0.2, "amount": 0.6, "structure": 0.1}},
            "grades.weights",
        ),
        (
            "score",
            {
                "grades__weights": {
                    "quantity": 0.2,
                    "amount": 0.8,
                    "structure": 0.1,
                    "assessment": -0.1,
                }
            },
            "grades.weights.assessment",
        ),
        ("score", {"grades__structure_metric": "tar"}, "grades.structure_metric"),
        # 20 + 30 + 40 = 90
        ("thresholds", {"scale": {"large": 20, "medium": 30, "small": 40}}, "scale"),
        ("thresholds", {"initial__grades__C__up_to": 9}, "initial.grades.C.up_to"),  # 8 grades
        ("thresholds", {"initial__grades__C__up_to": 0}, "initial.grades.C.up_to"),
        ("thresholds", {"initial__grades__X__above": 7.5}, "initial.grades.X.above"),
        ("score", {"initial__grades__X__above": 11}, "initial.grades.X.above"),  # 10 bands
        ("thresholds", {"initial__floor_area_m2": -1}, "initial.floor_area_m2"),
        ("thresholds", {"structure__matrix__large": [1, 2, 4, 6]}, "structure.matrix.large"),
        ("thresholds", {"structure__matrix__small": [3, 4, 6, 8, 11]}, "structure.matrix.small"),
        ("thresholds", {"structure__price_bands": [250, 130, 180, 90]}, "structure.price_bands"),
        ("thresholds", {"window__months": 0}, "window.months"),
        ("thresholds", {"window__months": 13}, "window.months"),
        ("thresholds", {"window__months": True}, "window.months"),
    ],
)
def test_faulty_parameters_are_named_by_path(kind, changes, path):
    assert set(errors_of(kind, **changes)) == {path}


def test_a_faulty_entry_is_named_by_its_index():
    # a negative threshold (position 7); the list is then unusable, so the initial grades
    # cannot be checked against it either
    errors = errors_of("thresholds", grades__thresholds=[1500, 1000, 500, 300, 200, 100, 0, -5])

    assert "grades.thresholds.7" in errors


@pytest.mark.parametrize(
    ("section", "value"),
    [
        ("window", 3),
        ("grades", [1500, 1000, 0]),
        ("scale", [20, 30, 50]),
        ("initial", {"floor_area_m2": 50, "grades": {"C": 6, "X": {"up_to": 7, "above": 6}}}),
    ],
)
def test_a_section_that_is_not_an_object_is_a_domain_error(section, value):
    # parameters arrive as JSON from a page or the API: a malformed section must be refused
    # like any other faulty parameter (a DomainError), not crash with AttributeError
    parameters = {**c.default_parameters("thresholds"), section: value}

    with pytest.raises(DomainError):
        c.validate_parameters("thresholds", parameters)


def test_several_faults_are_reported_at_once():
    errors = errors_of(
        "score",
        grades__bands=[50, 40],
        scale={"large": 50, "medium": 50, "small": 50},
        window__months=24,
    )

    # the two bands give 2 grades, so the default initial grades 7…9 are out of range too
    assert {"grades.bands", "scale", "window.months", "initial.grades.C.up_to"} <= set(errors)
    assert all(isinstance(m, str) and m for messages in errors.values() for m in messages)


def test_unknown_kind_and_non_object_parameters():
    with pytest.raises(DomainError) as kind:
        c.validate_parameters("ladder", {})
    with pytest.raises(DomainError) as parameters:
        c.validate_parameters("thresholds", [1, 2, 3])

    assert set(kind.value.errors) == {"kind"}
    assert set(parameters.value.errors) == {"parameters"}


def test_validation_keeps_only_known_keys():
    parameters = {**c.default_parameters("thresholds"), "colour": "blue"}

    assert "colour" not in c.validate_parameters("thresholds", parameters)


# --- 8. summaries and empty frames ---------------------------------------------------------


def test_distribution_counts_customers_per_grade_highest_first():
    result = c.distribution(pd.Series([3, 1, 8, 3, 1, 3]))

    assert result == {1: 2, 3: 3, 8: 1}
    assert list(result) == [1, 3, 8]


def test_movements_against_the_previous_month():
    # given: 1 moved up (3 → 2), 2 down (5 → 6), 3 stayed, 4 is new; 5 is gone (not counted)
    previous = pd.Series({1: 3, 2: 5, 3: 4, 5: 2}, dtype=float)
    current = pd.Series({1: 2, 2: 6, 3: 4, 4: 7})

    assert c.movements(previous, current) == {
        "up": 1,
        "down": 1,
        "same": 1,
        "new": 1,
        "not_comparable": 0,
    }


def test_movements_compare_only_grades_of_the_same_scheme():
    # given: 1 (3 → 2) and 2 (5 → 6) were graded by another scheme version the month before;
    #        3 (4 → 4) by the same one; 4 is new
    previous = pd.Series({1: 3, 2: 5, 3: 4}, dtype=float)
    current = pd.Series({1: 2, 2: 6, 3: 4, 4: 7})
    comparable = pd.Series({1: False, 2: False, 3: True})

    assert c.movements(previous, current, comparable=comparable) == {
        "up": 0,
        "down": 0,
        "same": 1,
        "new": 1,
        "not_comparable": 2,
    }


def test_movements_without_a_previous_month_are_all_new():
    current = pd.Series({1: 2, 2: 6})

    assert c.movements(pd.Series(dtype=float), current) == {
        "up": 0,
        "down": 0,
        "same": 0,
        "new": 2,
        "not_comparable": 0,
    }


def test_empty_series_give_empty_summaries():
    empty = pd.Series(dtype=int)

    assert c.distribution(empty) == {}
    assert c.movements(pd.Series(dtype=float), empty) == {
        "up": 0,
        "down": 0,
        "same": 0,
        "new": 0,
        "not_comparable": 0,
    }


@pytest.mark.parametrize("kind", ["thresholds", "matrix", "score"])
def test_empty_frames_give_empty_results(kind):
    window = c.window_inputs(facts(), customers(), window=JAN_MAR, structure_metric="low_tar")

    result = c.grade_frame(window, kind=kind, parameters=scheme(kind))

    assert window.empty
    assert list(window.columns) == list(c.INPUT_COLUMNS)
    assert result.empty
    assert list(result.columns) == list(c.RESULT_COLUMNS)


def test_grade_frame_result_columns_and_grade_type():
    result = c.grade_frame(
        inputs(graded(1, 60)), kind="thresholds", parameters=scheme("thresholds")
    )

    assert list(result.columns) == list(c.RESULT_COLUMNS)
    assert np.issubdtype(result["computed_grade"].dtype, np.integer)
    assert result.loc[0, "computed_grade"] == 7  # 50 ≤ 60 < 100
