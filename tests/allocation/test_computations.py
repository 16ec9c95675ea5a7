"""The pure allocation rules on small tables a reader can check by hand."""

import pandas as pd

from allocation.computations import PlanRule, allocate

QUOTAS = {1: 30, 2: 20, 3: 10}


def shops(rows):
    """(customer_id, grade, structure_class, market_type, business_format, area_id) rows."""
    return pd.DataFrame(
        rows,
        columns=[
            "customer_id",
            "grade",
            "structure_class",
            "market_type",
            "business_format",
            "area_id",
        ],
    )


# A and B grade 1, C and D grade 2, E grade 3: 30 + 30 + 20 + 20 + 10 = 110 cartons asked.
FIVE = shops(
    [
        (1, 1, 1, "C", "Z", 10),
        (2, 1, 2, "C", "Z", 10),
        (3, 2, 3, "X", "B", 11),
        (4, 2, 4, "", "Z", 11),
        (5, 3, 5, "C", "Z", 12),
    ]
)


def quotas(allocation):
    return dict(zip(allocation.quotas["customer_id"], allocation.quotas["quota"], strict=True))


def test_each_grade_gets_its_quota_when_the_supply_is_enough():
    # when
    result = allocate(FIVE, PlanRule(quotas=QUOTAS, supply=110))
    # then
    assert quotas(result) == {1: 30, 2: 30, 3: 20, 4: 20, 5: 10}
    assert (result.demand, result.allocated, result.scale) == (110, 110, None)


def test_no_supply_means_no_scaling():
    result = allocate(FIVE, PlanRule(quotas=QUOTAS))
    assert result.allocated == 110 and not result.scaled


def test_scaled_down_and_rounded_down_with_the_remainder_to_grade_1_first():
    # 100/110 of each quota: 27.27, 27.27, 18.18, 18.18, 9.09 → 27 + 27 + 18 + 18 + 9 = 99;
    # the one carton left goes to grade 1, the lowest customer id of the tie.
    result = allocate(FIVE, PlanRule(quotas=QUOTAS, supply=100))
    assert quotas(result) == {1: 28, 2: 27, 3: 18, 4: 18, 5: 9}
    assert result.allocated == 100
    assert round(result.scale, 4) == round(100 / 110, 4)
    assert dict(zip(result.quotas["customer_id"], result.quotas["bonus"], strict=True)) == {
        1: 1,
        2: 0,
        3: 0,
        4: 0,
        5: 0,
    }


def test_the_remainder_reaches_the_next_grade_once_the_highest_has_one_each():
    # 104/110: 28.36, 28.36, 18.91, 18.91, 9.45 → 28 + 28 + 18 + 18 + 9 = 101, 3 left:
    # A and B (grade 1), then C (grade 2, lower id than D).
    result = allocate(FIVE, PlanRule(quotas=QUOTAS, supply=104))
    assert quotas(result) == {1: 29, 2: 29, 3: 19, 4: 18, 5: 9}
    assert result.allocated == 104


def test_the_sum_never_exceeds_a_small_supply():
    for supply in range(1, 111):
        result = allocate(FIVE, PlanRule(quotas=QUOTAS, supply=supply))
        assert result.allocated == supply


def test_grades_missing_from_the_quotas_get_no_row():
    # grade 3 has no quota: E asks nothing and has no row
    result = allocate(FIVE, PlanRule(quotas={1: 30, 2: 20}))
    assert set(quotas(result)) == {1, 2, 3, 4}
    assert [row["grade"] for row in result.grades] == [1, 2, 3]
    assert result.grades[2] == {
        "grade": 3,
        "shops": 1,
        "per_shop": 0,
        "demand": 0,
        "allocated": 0,
        "min": 0,
        "max": 0,
    }


def test_eligibility_by_structure_class_market_type_format_and_area():
    assert set(quotas(allocate(FIVE, PlanRule(quotas=QUOTAS, structure_classes=[1, 3])))) == {
        1,
        3,
    }
    # D's market type is blank: a filter that is set does not let it through
    assert set(quotas(allocate(FIVE, PlanRule(quotas=QUOTAS, market_types=["C"])))) == {1, 2, 5}
    assert set(quotas(allocate(FIVE, PlanRule(quotas=QUOTAS, business_formats=["B"])))) == {3}
    assert set(quotas(allocate(FIVE, PlanRule(quotas=QUOTAS, area_ids=[11, 12])))) == {3, 4, 5}


def test_the_preview_rows_per_grade():
    result = allocate(FIVE, PlanRule(quotas=QUOTAS, supply=100))
    assert result.grades == [
        {
            "grade": 1,
            "shops": 2,
            "per_shop": 30,
            "demand": 60,
            "allocated": 55,
            "min": 27,
            "max": 28,
        },
        {
            "grade": 2,
            "shops": 2,
            "per_shop": 20,
            "demand": 40,
            "allocated": 36,
            "min": 18,
            "max": 18,
        },
        {"grade": 3, "shops": 1, "per_shop": 10, "demand": 10, "allocated": 9, "min": 9, "max": 9},
    ]


def test_no_eligible_shop():
    result = allocate(FIVE, PlanRule(quotas=QUOTAS, structure_classes=[9], supply=5))
    assert result.quotas.empty and result.demand == 0 and result.allocated == 0
