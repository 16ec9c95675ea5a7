"""The bulk reads and writes of `crm.frames`: the Arrow read agrees with the plain one, the
comparison with stored rows sees what PostgreSQL would store, and a month recomputed with the
same outcome writes nothing."""

import datetime as dt
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from django.db import connection, transaction
from django.utils import timezone

from crm import frames
from crm.chain import ChainContext
from crm.services import Actor
from customers.selectors import customer_monthly_frame
from grading import services as grading_services
from orders.models import MonthlySalesFact
from orders.selectors import facts_wanted, first_order_frame, sales_facts_frame
from tests.grading.factories import buy_monthly
from valuation import services as valuation_services

NOV = dt.date(2026, 11, 1)
MONTHS = ["2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]


def test_decimals_compare_as_postgresql_rounds_their_text():
    # numeric input rounds the CSV's shortest text half away from zero: 2.675 is stored as
    # 2.68 although the float is 2.67499999…, and NumPy alone would give 2.67 or 2.68 by
    # binary chance
    values = np.array([2.675, 0.125, -0.125, 1.005, 12.344, 12.346, np.nan, 1e9 + 0.005])
    assert frames._decimal_rounded(values, 2).tolist()[:6] == [
        2.68,
        0.13,
        -0.13,
        1.01,
        12.34,
        12.35,
    ]
    rounded = frames._decimal_rounded(values, 2)
    assert np.isnan(rounded[6])
    assert rounded[7] == 1e9 + 0.01


@pytest.fixture
def world(customer_world):
    buy_monthly(customer_world["c_th"], MONTHS, 600, "260.00")
    buy_monthly(customer_world["c_th2"], MONTHS, 120, "150.00")
    return customer_world


def recompute(context=None):
    actor = Actor.system("tests")
    graded = grading_services.grading_recompute(month=NOV, actor=actor, context=context)
    valued = valuation_services.valuation_recompute(month=NOV, actor=actor, context=context)
    return graded, valued


def test_a_month_recomputed_with_the_same_outcome_writes_nothing(world):
    # given a graded and valued month
    first_grading, first_valuation = recompute()
    assert first_grading.written == first_valuation.written == 3
    # when it is recomputed with nothing changed
    graded, valued = recompute()
    # then PostgreSQL writes no row (elsewhere every row is replaced: the plain path)
    expected = 0 if connection.vendor == "postgresql" else 3
    assert graded.written == valued.written == expected
    # when one shop buys more: on PostgreSQL only the rows that change are written
    MonthlySalesFact.objects.filter(customer=world["c_th2"], month=dt.date(2026, 10, 1)).update(
        cartons=3000, amount=Decimal("450000.00")
    )
    graded, valued = recompute()
    if connection.vendor == "postgresql":
        assert 1 <= graded.written <= 3
        assert 1 <= valued.written <= 3
    stored = dict(
        grading_services.GradeResult.objects.filter(month=NOV).values_list("customer_id", "grade")
    )
    assert stored == dict(zip(graded.results["customer_id"], graded.results["grade"], strict=True))


def test_a_chain_context_gives_the_steps_the_same_inputs(world):
    # given the chain's shared reads
    context = ChainContext(month=NOV)
    grading_services.grading_chain_prepare(context=context)
    valuation_services.valuation_chain_prepare(context=context)
    # when each step reads through it, then it gets what it would read alone
    scheme = grading_services.scheme_active()
    shared = grading_services.grading_inputs(month=NOV, scheme=scheme, context=context)
    alone = grading_services.grading_inputs(month=NOV, scheme=scheme)
    pd.testing.assert_frame_equal(shared, alone)
    value_scheme = valuation_services.scheme_active()
    shared = valuation_services.valuation_inputs(month=NOV, scheme=value_scheme, context=context)
    alone = valuation_services.valuation_inputs(month=NOV, scheme=value_scheme)
    pd.testing.assert_frame_equal(shared, alone)
    # and the chain stores what the steps store run apart
    graded, valued = recompute(context)
    apart_graded, apart_valued = recompute()
    pd.testing.assert_frame_equal(graded.results, apart_graded.results)
    pd.testing.assert_frame_equal(valued.results, apart_valued.results)


def test_after_the_valuation_the_chain_keeps_only_what_the_warnings_read(world):
    # given a chain context whose valuation has read its inputs
    grading_services.grading_recompute(month=NOV, actor=Actor.system("tests"))
    context = ChainContext(month=NOV)
    grading_services.grading_chain_prepare(context=context)
    valuation_services.valuation_chain_prepare(context=context)
    value_scheme = valuation_services.scheme_active()
    valuation_services.valuation_inputs(month=NOV, scheme=value_scheme, context=context)
    # then the shared facts are narrowed to the early warnings' months and columns
    parameters = value_scheme.parameters
    months = valuation_services._warning_months(today=timezone.localdate(), parameters=parameters)
    assert set(context.facts_wanted) == {"amount"}
    assert context.facts_wanted["amount"] <= set(months)
    assert {c for part in context.shared("facts") for c in part.columns} == {"amount"}
    assert context.covers(
        facts_wanted(months=months, columns=valuation_services._WARNING_FACT_COLUMNS)
    )
    # and the warnings read through it find what they find alone, details included
    today = timezone.localdate()
    shared = valuation_services.warning_signs(today=today, parameters=parameters, context=context)
    alone = valuation_services.warning_signs(today=today, parameters=parameters)
    pd.testing.assert_frame_equal(shared, alone)


@pytest.mark.django_db(transaction=True)
def test_the_arrow_read_gives_the_frames_of_the_plain_read(postgres, customer_world):
    # given committed facts and customers (another connection reads them)
    buy_monthly(customer_world["c_th"], MONTHS, 600, "260.05")
    buy_monthly(customer_world["c_th2"], MONTHS[1:], 120, "150.10")
    months = [dt.date(2026, m, 1) for m in range(6, 11)]
    columns = ("customer_id", "month", "cartons", "amount", "electronic_amount")

    def reads():
        return (
            sales_facts_frame(months=months, columns=columns),
            first_order_frame(before=NOV),
            customer_monthly_frame(),
        )

    # when read through Arrow (outside a transaction) and through COPY + CSV (inside one)
    fast = reads()
    with transaction.atomic():
        plain = reads()
    # then the frames are the same, value for value and type for type
    for a, b in zip(fast, plain, strict=True):
        order = list(a.columns[:2]) if "month" in a.columns else ["customer_id"]
        pd.testing.assert_frame_equal(
            a.sort_values(order).reset_index(drop=True),
            b.sort_values(order).reset_index(drop=True),
        )
    assert len(fast[0]) == 9


@pytest.mark.django_db(transaction=True)
def test_a_started_chain_reads_the_facts_in_parts_and_first_orders_from_them(customer_world):
    # given a shop buying since long before the twelve months the valuation reads, and one
    # whose first order falls in the grading window
    buy_monthly(customer_world["c_th"], ["2025-03", "2025-04", *MONTHS], 600, "260.00")
    buy_monthly(customer_world["c_th2"], ["2026-09", "2026-10"], 120, "150.00")
    # when a chain of November starts its reads (at once, in threads, on PostgreSQL)
    context = ChainContext(month=NOV)
    grading_services.grading_chain_prepare(context=context)
    valuation_services.valuation_chain_prepare(context=context)
    context.start()
    # then the facts are read in parts, the months that want the same columns together:
    # the valuation's amounts alone, its window (which holds the grading's) with its
    # columns; no structure column, which the thresholds scheme does not use
    parts = {
        (f"{min(p.months):%Y-%m}", f"{max(p.months):%Y-%m}"): set(p.columns)
        for p in context.shared("facts")
    }
    assert parts[("2025-11", "2026-04")] == {"amount", "first_order_date"}
    assert {"cartons", "key_brand_cartons", "first_order_date"} <= parts[("2026-05", "2026-10")]
    assert not any("low_tar_cartons" in columns for columns in parts.values())
    # and the first order dates taken from them and the older months are those of a read
    # of their own
    shared = first_order_frame(before=NOV, context=context).sort_values("customer_id")
    alone = first_order_frame(before=NOV).sort_values("customer_id")
    pd.testing.assert_frame_equal(shared.reset_index(drop=True), alone.reset_index(drop=True))
    assert shared["first_order_date"].dt.strftime("%Y-%m").tolist() == ["2025-03", "2026-09"]
    # and each step gets the inputs it reads alone
    scheme = grading_services.scheme_active()
    pd.testing.assert_frame_equal(
        grading_services.grading_inputs(month=NOV, scheme=scheme, context=context),
        grading_services.grading_inputs(month=NOV, scheme=scheme),
    )
    value_scheme = valuation_services.scheme_active()
    pd.testing.assert_frame_equal(
        valuation_services.valuation_inputs(month=NOV, scheme=value_scheme, context=context),
        valuation_services.valuation_inputs(month=NOV, scheme=value_scheme),
    )
