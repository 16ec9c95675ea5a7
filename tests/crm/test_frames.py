"""The bulk reads and writes of `crm.frames`: the Arrow read agrees with the plain one, the
comparison with stored rows sees what PostgreSQL would store, and a month recomputed with the
same outcome writes nothing."""

import datetime as dt
import json
import os
import subprocess
import sys
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
from grading.models import GradeResult
from orders.models import MonthlySalesFact
from orders.selectors import facts_wanted, first_order_frame, sales_facts_frame
from tests.grading.factories import buy_monthly
from valuation import services as valuation_services
from valuation.models import ValueResult

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


# --- the row digests a month's write compares ----------------------------------------------


def digests(frame, **constants):
    """The digests of GradeResult rows (`frame`'s columns), with scheme 1 unless given."""
    constants = {"scheme_id": 1, **constants}
    return frames.row_digests(GradeResult, frame, constants=constants, ignore=("run_id",))


STORED = pd.DataFrame(
    {
        "avg_cartons": [2.675, 10.0, 0.0],  # numeric(12, 2)
        "structure_share": [np.nan, 0.5, 1.0],  # float8, nullable
        "window": ["2026-08,2026-09", "", "x"],  # varchar
        "run_id": [7, 7, 7],
    }
)


def test_rows_stored_alike_have_the_same_digest():
    # given the same values as PostgreSQL would store them, written differently
    alike = pd.DataFrame(
        {
            # 2.675 is stored as 2.68 (its text rounded half away from zero)
            "avg_cartons": pd.Series([Decimal("2.68"), Decimal("10.001"), -0.0], dtype=object),
            "structure_share": pd.Series([None, 0.5, 1.0], dtype=object),
            "window": pd.Series(["2026-08,2026-09", None, "x"], dtype="str"),
            "run_id": [8, 9, 10],  # which run wrote a row is not compared
        }
    )
    # then every row has its stored digest
    assert digests(alike).tolist() == digests(STORED).tolist()
    assert digests(STORED).dtype == np.int64
    assert len(set(digests(STORED).tolist())) == 3


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("avg_cartons", 2.665),  # stored as 2.67, not 2.68
        ("structure_share", 0.0),  # NULL → a value
        ("window", "2026-08"),
    ],
)
def test_a_value_stored_differently_changes_only_its_rows_digest(column, value):
    changed = STORED.copy()
    changed.loc[0, column] = value
    before, after = digests(STORED), digests(changed)
    assert after[0] != before[0]
    assert after[1:].tolist() == before[1:].tolist()


def test_another_scheme_changes_every_digest():
    assert not set(digests(STORED, scheme_id=2).tolist()) & set(digests(STORED).tolist())


def test_digests_are_the_same_in_another_process():
    # given another interpreter with another string-hash seed
    code = (
        "import django, json; django.setup();"
        "from tests.crm.test_frames import digests, STORED;"
        "print(json.dumps(digests(STORED).tolist()))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345", "DJANGO_SETTINGS_MODULE": "crm.settings.test"}
    out = subprocess.run(  # noqa: S603 (our interpreter, our code)
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    # then it computes the same digests
    assert json.loads(out.stdout.strip().splitlines()[-1]) == digests(STORED).tolist()


def rewritten(expected: int) -> int:
    """Rows a recompute of the 3 customers writes: `expected` on PostgreSQL, which compares
    digests; all of them elsewhere (the plain path)."""
    return expected if connection.vendor == "postgresql" else 3


def with_result(monkeypatch, module, function, customer, **values):
    """Makes `module.computations.function` give `customer` the result `values`."""
    compute = getattr(module.computations, function)

    def changed(*args, **kwargs):
        results = compute(*args, **kwargs)
        row = results["customer_id"] == customer.pk
        for name, value in values.items():
            if results[name].dtype != object:
                results[name] = results[name].astype(object)
            results.loc[row, name] = value
        return results

    monkeypatch.setattr(module.computations, function, changed)


@pytest.mark.parametrize(
    ("values", "expected", "stored"),
    [
        ({"avg_cartons": 120.004}, 0, {"avg_cartons": Decimal("120.00")}),  # as before
        ({"avg_cartons": 120.006}, 1, {"avg_cartons": Decimal("120.01")}),  # rounds up
        ({"structure_share": 0.25}, 1, {"structure_share": 0.25}),  # NULL before
        ({"window": "2026-10"}, 1, {"window": "2026-10"}),
    ],
)
def test_a_changed_grade_result_rewrites_only_its_row(world, monkeypatch, values, expected, stored):
    # given a graded month: c_th2 averages 120 cartons, with no structure share
    recompute()
    shop = GradeResult.objects.filter(month=NOV, customer=world["c_th2"])
    assert shop.values("avg_cartons", "structure_share").get() == {
        "avg_cartons": Decimal("120.00"),
        "structure_share": None,
    }
    # when its computed result changes
    with_result(monkeypatch, grading_services, "grade_frame", world["c_th2"], **values)
    graded = grading_services.grading_recompute(month=NOV, actor=Actor.system("tests"))
    # then only its row is written (if PostgreSQL stores something else), with the new value
    assert graded.written == rewritten(expected)
    assert shop.values(*stored).get() == stored
    # and a run with the same outcome writes nothing
    again = grading_services.grading_recompute(month=NOV, actor=Actor.system("tests"))
    assert again.written == rewritten(0)


@pytest.mark.parametrize(
    "values", [{"missing": "trade_area"}, {"model_outlet": True}, {"avg_amount": None}]
)
def test_a_changed_value_result_rewrites_only_its_row(world, monkeypatch, values):
    recompute()
    with_result(monkeypatch, valuation_services, "value_frame", world["c_th"], **values)
    valued = valuation_services.valuation_recompute(month=NOV, actor=Actor.system("tests"))
    assert valued.written == rewritten(1)
    stored = ValueResult.objects.filter(month=NOV, customer=world["c_th"])
    assert stored.values(*values).get() == values
    again = valuation_services.valuation_recompute(month=NOV, actor=Actor.system("tests"))
    assert again.written == rewritten(0)


def test_rows_without_a_digest_are_rewritten_once(world):
    # given a month stored before rows had digests (one row of each result)
    recompute()
    GradeResult.objects.filter(month=NOV, customer=world["c_th"]).update(digest=None)
    ValueResult.objects.filter(month=NOV, customer=world["c_yx"]).update(digest=None)
    # when it is recomputed, those rows are written, with their digests
    graded, valued = recompute()
    assert graded.written == valued.written == rewritten(1)
    assert not GradeResult.objects.filter(digest=None).exists()
    assert not ValueResult.objects.filter(digest=None).exists()
    # and then no more
    graded, valued = recompute()
    assert graded.written == valued.written == rewritten(0)


def test_another_scheme_version_rewrites_every_row(world):
    # given a month graded and valued
    recompute()
    # when each active scheme is replaced by a copy with the same parameters
    actor = Actor.system("tests")
    for services in (grading_services, valuation_services):
        copy = services.scheme_copy(scheme=services.scheme_active(), actor=actor)
        services.scheme_activate(scheme=copy, actor=actor)
    # then the next run rewrites every row with the new version, and the one after none
    graded, valued = recompute()
    assert graded.written == valued.written == 3
    assert set(GradeResult.objects.values_list("scheme", flat=True)) == {graded.scheme.pk}
    graded, valued = recompute()
    assert graded.written == valued.written == rewritten(0)


@pytest.mark.django_db(transaction=True)
def test_committed_digests_read_through_arrow_match_exactly(postgres, customer_world):
    # given a committed month (the stored digests are read by Arrow, outside a transaction)
    buy_monthly(customer_world["c_th"], MONTHS, 600, "260.00")
    first, _valued = recompute()
    assert first.written == 3
    # then the 64-bit digests come back exactly (not through float64) and nothing is written
    stored = frames.stored_digests(GradeResult, where={"month": NOV})
    assert dict(zip(stored["customer_id"], stored["digest"], strict=True)) == dict(
        GradeResult.objects.filter(month=NOV).values_list("customer_id", "digest")
    )
    graded, valued = recompute()
    assert graded.written == valued.written == 0


@pytest.mark.django_db(transaction=True)
def test_a_workers_run_reads_through_a_context_of_its_own(world, monkeypatch):
    # given a worker's grading run and its follow-up valuation (Celery runs them here, on
    # commit), each watched for the context it reads through
    started = []
    start = ChainContext.start
    monkeypatch.setattr(ChainContext, "start", lambda self: started.append(self) or start(self))
    from grading.choices import RunTrigger

    run = grading_services.grading_run_start(month=NOV, trigger=RunTrigger.PAGE)
    # then each run began its own reads at once (threads on PostgreSQL)
    run.refresh_from_db()
    assert run.status == "succeeded"
    assert len(started) == 2
    assert {"customers", "facts"} <= set(started[0]._memo) | set(started[0]._wanted)
    # and stored what the steps compute alone
    graded = grading_services.grading_compute(month=NOV, scheme=grading_services.scheme_active())
    stored = dict(GradeResult.objects.filter(month=NOV).values_list("customer_id", "grade"))
    assert stored == dict(zip(graded.results["customer_id"], graded.results["grade"], strict=True))
    valued = valuation_services.valuation_compute(
        month=NOV, scheme=valuation_services.scheme_active()
    )
    tiers = dict(ValueResult.objects.filter(month=NOV).values_list("customer_id", "value_tier"))
    expected = zip(valued.results["customer_id"], valued.results["value_tier"], strict=True)
    assert tiers == dict(expected)
