"""Quota take-up, allocation's monthly result on the engine (`crm.monthly`): the pure rules on a
hand-made frame, a month computed through the engine's runs, the overview by grade and by area
in a supervisor's scope, and the scheme's validation.

Quotas are stored directly (as a published plan stores them): what the take-up reads."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from django.urls import reverse
from django.utils import timezone

from allocation import computations, takeup
from allocation.choices import PlanStatus
from allocation.models import AllocationPlan, AllocationQuota, AllocationRun, AllocationTakeUp
from allocation.monthly import RULES, _movement
from allocation.tasks import allocation_run_task
from crm import monthly_runs
from crm.choices import RunStatus, RunTrigger, SchemeStatus
from crm.dates import add_months, month_start
from crm.exceptions import DomainError
from crm.services import Actor
from tests.orders.factories import make_product

FEB = dt.date(2025, 2, 1)
MAR = dt.date(2025, 3, 1)
ACTOR = Actor.system("tests")


# --- the pure rules ------------------------------------------------------------------------


def quotas(*rows):
    """(customer, plan, grade, area, quota, ordered) rows as the take-up reads them."""
    return pd.DataFrame(rows, columns=list(computations.TAKEUP_QUOTA_COLUMNS))


def test_takeup_places_each_shop_at_the_edges_of_the_shares():
    # given quotas of 20 cartons (low below 50 %, full from 95 %)
    frame = quotas(
        (1, 10, 1, 7, 20, 0),  # nothing ordered
        (2, 10, 1, 7, 20, 9),  # 45 %: low
        (3, 10, 2, 7, 20, 10),  # 50 %: not low any more, partial
        (4, 10, 2, 8, 20, 18),  # 90 %: partial
        (5, 10, 3, 8, 20, 19),  # 95 %: full
        (6, 10, 3, 8, 20, 20),  # 100 %: full
        (7, 10, 3, 8, 20, 21),  # one carton over
    )
    # when
    result = computations.takeup_frame(frame, low_share=50, full_share=95).set_index("customer_id")
    # then
    assert result["status"].to_dict() == {
        1: "none",
        2: "low",
        3: "partial",
        4: "partial",
        5: "full",
        6: "full",
        7: "over",
    }
    assert result.loc[7, ["quota", "ordered", "used", "over_quota"]].tolist() == [20, 21, 20, 1]
    assert result.loc[2, ["used", "over_quota", "plans"]].tolist() == [9, 0, 1]


def test_takeup_sums_used_and_over_per_quota_and_takes_the_largest_quotas_grade():
    # given a shop over on plan 10 (12 of 10) and short on plan 11 (3 of 30), and a shop with
    # a quota of 0 after scaling that ordered nothing
    frame = quotas(
        (1, 10, 2, 5, 10, 12),
        (1, 11, 3, 5, 30, 3),
        (2, 10, 4, None, 0, 0),
    )
    result = computations.takeup_frame(frame, low_share=50, full_share=95).set_index("customer_id")
    # then the over carton is not offset by plan 11's unused ones
    shop = result.loc[1]
    assert [shop[c] for c in ("plans", "quota", "ordered", "used", "over_quota")] == [
        2,
        40,
        15,
        13,
        2,
    ]
    assert (shop["status"], shop["grade"], shop["area_id"]) == ("over", 3, 5)
    assert result.loc[2, "status"] == "none"
    assert pd.isna(result.loc[2, "area_id"])


def test_takeup_of_no_quotas_is_an_empty_frame():
    result = computations.takeup_frame(quotas(), low_share=50, full_share=95)
    assert result.empty
    assert list(result.columns) == list(computations.TAKEUP_COLUMNS)


def test_movements_go_up_towards_full_and_across_into_over():
    assert _movement(None, "low") == "new"
    assert _movement("low", "low") == "same"
    assert _movement("none", "partial") == "up"
    assert _movement("full", "low") == "down"
    assert _movement("full", "over") == "across"
    assert _movement("over", "none") == "across"


# --- the scheme ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parameters", "fields"),
    [
        ({"low_share": 0, "full_share": 95}, {"low_share"}),
        ({"low_share": 50, "full_share": 101}, {"full_share"}),
        ({"low_share": 95, "full_share": 95}, {"full_share"}),
        ({"low_share": "half", "full_share": None}, {"low_share", "full_share"}),
        ({"low_share": True, "full_share": 95}, {"low_share"}),
    ],
)
def test_the_scheme_refuses_shares_out_of_order_or_range(db, parameters, fields):
    with pytest.raises(DomainError) as refused:
        takeup.scheme_create_draft(name="Strict", parameters=parameters, actor=ACTOR)
    assert set(refused.value.errors) == fields
    assert not takeup.SCHEMES.model.objects.exists()


def test_the_scheme_keeps_valid_shares_and_defaults_to_50_and_95(db):
    draft = takeup.scheme_create_draft(
        name="Strict", parameters={"low_share": 60, "full_share": 100}, actor=ACTOR
    )
    assert draft.parameters == {"low_share": 60, "full_share": 100}
    assert takeup.scheme_active().parameters == {"low_share": 50, "full_share": 95}


def test_the_scheme_page_shows_the_rules_refusal_beside_the_field(customer_world, client):
    client.force_login(customer_world["admin"])
    created = client.post(reverse("allocation:schemes"), {"name": "Strict"})
    scheme = takeup.SCHEMES.model.objects.get(name="Strict")
    assert created.url == reverse("allocation:scheme", args=[scheme.pk])
    refused = client.post(
        created.url, {"name": "Strict", "note": "", "low_share": "96", "full_share": "95"}
    )
    assert 'data-error-for="full_share"' in refused.content.decode()
    client.post(created.url, {"name": "Strict", "note": "", "low_share": "40", "full_share": "90"})
    client.post(reverse("allocation:scheme_activate", args=[scheme.pk]))
    scheme.refresh_from_db()
    assert (scheme.status, scheme.parameters) == (
        SchemeStatus.ACTIVE,
        {"low_share": 40, "full_share": 90},
    )


# --- a month through the engine ------------------------------------------------------------


def plan(code, starts_on, ends_on, *, status=PlanStatus.PUBLISHED, product=None):
    product = product or make_product(f"69{code}")
    return AllocationPlan.objects.create(
        code=code,
        product=product,
        starts_on=starts_on,
        ends_on=ends_on,
        quotas={"1": 30, "2": 20},
        status=status,
    )


def quota(plan, customer, *, grade, quota, ordered):
    return AllocationQuota.objects.create(
        plan=plan, customer=customer, grade=grade, requested=quota, quota=quota, ordered=ordered
    )


@pytest.fixture
def quotas_in_force(customer_world):
    """A plan of February and March, one of March only, a draft and a superseded version."""
    w = customer_world
    spring = plan("SPRING", FEB, dt.date(2025, 3, 31))
    march = plan("MARCH", MAR, dt.date(2025, 3, 31))
    draft = plan("DRAFT", MAR, dt.date(2025, 3, 31), status=PlanStatus.DRAFT)
    old = plan("OLD", MAR, dt.date(2025, 3, 31), status=PlanStatus.SUPERSEDED)
    quota(spring, w["c_th"], grade=1, quota=30, ordered=30)  # full
    quota(spring, w["c_th2"], grade=2, quota=20, ordered=4)  # low
    quota(spring, w["c_yx"], grade=2, quota=20, ordered=25)  # over
    quota(march, w["c_th"], grade=1, quota=10, ordered=0)  # March: 40 quota, 30 used
    for ignored in (draft, old):
        quota(ignored, w["c_th2"], grade=2, quota=100, ordered=100)
    return w


def test_a_plan_spanning_two_months_counts_in_both(quotas_in_force):
    w = quotas_in_force
    scheme = takeup.scheme_active()
    feb = takeup.allocation_compute(month=FEB, scheme=scheme).results.set_index("customer_id")
    mar = takeup.allocation_compute(month=MAR, scheme=scheme).results.set_index("customer_id")
    assert feb["status"].to_dict() == {
        w["c_th"].pk: "full",
        w["c_th2"].pk: "low",
        w["c_yx"].pk: "over",
    }
    # in March the spring plan counts again, with the March plan (the draft and the
    # superseded version do not)
    assert mar.loc[w["c_th"].pk, ["plans", "quota", "used"]].tolist() == [2, 40, 30]
    assert mar.loc[w["c_th"].pk, "status"] == "partial"
    assert mar.loc[w["c_th2"].pk, ["plans", "quota", "status"]].tolist() == [1, 20, "low"]
    assert mar.loc[w["c_yx"].pk, "area_id"] == w["c_yx"].area_id


def test_a_run_computes_the_month_through_the_engine_and_replaces_it(
    quotas_in_force, django_capture_on_commit_callbacks
):
    w = quotas_in_force
    # when March is started (its task enqueued after commit) and a worker executes it
    with django_capture_on_commit_callbacks() as enqueued:
        run = monthly_runs.run_start(RULES, month=MAR, trigger=RunTrigger.PAGE, actor=ACTOR)
    assert (run.status, len(enqueued)) == (RunStatus.QUEUED, 1)
    assert allocation_run_task(run.pk) == RunStatus.SUCCEEDED
    # then the run recorded its shops per status and the rows are stored
    run.refresh_from_db()
    assert run.customers == 3
    assert run.counts == {"none": 0, "low": 1, "partial": 1, "full": 0, "over": 1}
    stored = {r.customer_id: r for r in AllocationTakeUp.objects.filter(month=MAR)}
    assert {c: r.status for c, r in stored.items()} == {
        w["c_th"].pk: "partial",
        w["c_th2"].pk: "low",
        w["c_yx"].pk: "over",
    }
    assert stored[w["c_th"].pk].run_id == run.pk
    assert stored[w["c_th"].pk].unused == 10
    # when an order fills the shop's quota and the month is computed again in process
    AllocationQuota.objects.filter(customer=w["c_th2"]).update(ordered=20)
    monthly_runs.recompute(RULES, month=MAR, actor=ACTOR)
    # then the month's rows are replaced, not added to
    assert AllocationTakeUp.objects.filter(month=MAR).count() == 3
    assert AllocationTakeUp.objects.get(month=MAR, customer=w["c_th2"]).status == "full"
    assert AllocationRun.objects.filter(month=MAR, status=RunStatus.SUCCEEDED).count() == 2


# --- the overview ---------------------------------------------------------------------------


def test_the_overview_shows_take_up_by_grade_and_area_in_the_supervisors_scope(
    quotas_in_force, client, areas, django_assert_num_queries
):
    w = quotas_in_force
    monthly_runs.recompute(RULES, month=FEB, actor=ACTOR)
    monthly_runs.recompute(RULES, month=MAR, actor=ACTOR)
    # when the supervisor of TH opens the overview (the latest month: March)
    client.force_login(w["sup_th"])
    # (the session, the user, the months, the scope's areas twice, the notifications, the
    # statuses against February, by grade, by area)
    with django_assert_num_queries(9):
        response = client.get(reverse("allocation:overview"))
    assert response.status_code == 200
    html = response.content.decode()
    # then only the two TH shops count: one partial, one low; YX's shop over is not seen
    assert 'data-testid="takeup-month">2025-03<' in html
    cards = {card["status"]: card["n"] for card in response.context["takeup_cards"]}
    assert cards == {"none": 0, "low": 1, "partial": 1, "full": 0, "over": 0}
    grades = {row["key"]: row for row in response.context["by_grade"]}
    assert set(grades) == {1, 2}
    assert [grades[1][k] for k in ("shops", "quota", "used", "unused", "over", "share")] == [
        1,
        40,
        30,
        10,
        0,
        75.0,
    ]
    assert [grades[2][k] for k in ("shops", "quota", "used", "unused", "share")] == [
        1,
        20,
        4,
        16,
        20.0,
    ]
    by_area = response.context["by_area"]
    assert [(r["code"], r["shops"], r["quota"], r["used"]) for r in by_area] == [("TH", 2, 60, 34)]
    assert 'data-testid="takeup-by-grade"' in html
    # and the chart's bars of cartons by grade say the same
    chart = {s["key"]: s["values"] for s in response.context["chart"]["series"]}
    assert response.context["chart"]["labels"] == ["1", "2"]
    assert chart == {"used": [30, 4], "unused": [10, 16], "over": [0, 0]}
    assert 'id="takeup-chart-data"' in html
    assert "js/allocation_takeup" in html
    assert 'data-testid="takeup-by-area"' in html
    # and the movement since February: the full shop went down to partial, the low stayed
    rows = {row["value"]: row for row in response.context["transitions"]["rows"]}
    assert next(c["n"] for c in rows["full"]["cells"] if c["value"] == "partial") == 1
    assert next(c["n"] for c in rows["low"]["cells"] if c["value"] == "low") == 1
    # and the city supervisor sees YX's shop over its quota as well
    client.force_login(w["sup_gz"])
    page = client.get(reverse("allocation:overview"), {"month": "2025-03"})
    assert [(r["code"], r["over"]) for r in page.context["by_area"]] == [("TH", 0), ("YX", 5)]
    # and in Chinese the page speaks Chinese
    chinese = client.get(reverse("allocation:overview"), HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    text = chinese.content.decode()
    assert "配额使用情况" in text
    assert "按区域的配额使用" in text
    assert "占商户的 33.3%" in text
    # and a supervisor has no runs tab, an administrator has
    assert 'href="/allocation/runs/"' not in html
    client.force_login(w["admin"])
    assert 'href="/allocation/runs/"' in client.get(reverse("allocation:overview")).content.decode()


def test_the_overview_without_a_computed_month_says_how_to_get_one(customer_world, client):
    client.force_login(customer_world["admin"])
    html = client.get(reverse("allocation:overview")).content.decode()
    assert 'data-testid="no-takeups"' in html
    assert reverse("allocation:runs") in html


def test_computing_a_month_again_writes_only_the_shops_that_changed(postgres, quotas_in_force):
    # given March computed once
    assert monthly_runs.recompute(RULES, month=MAR, actor=ACTOR).written == 3
    # when nothing changed, nothing is written; when one shop ordered more, its row only
    assert monthly_runs.recompute(RULES, month=MAR, actor=ACTOR).written == 0
    AllocationQuota.objects.filter(customer=quotas_in_force["c_th2"]).update(ordered=20)
    assert monthly_runs.recompute(RULES, month=MAR, actor=ACTOR).written == 1
    statuses = dict(AllocationTakeUp.objects.filter(month=MAR).values_list("customer_id", "status"))
    assert statuses[quotas_in_force["c_th2"].pk] == "full"
    assert len(statuses) == 3


def test_the_daily_schedule_runs_this_month_and_on_the_first_the_month_before(db):
    first = month_start(timezone.localdate())
    # on the first: this month, and the month just ended once more
    runs = takeup.takeup_runs_scheduled(today=first)
    assert sorted(run.month for run in runs) == [add_months(first, -1), first]
    assert {run.trigger for run in runs} == {RunTrigger.SCHEDULE}
    # the next day, this month's run is still queued: it is left to finish
    assert takeup.takeup_runs_scheduled(today=first + dt.timedelta(days=1)) == []
