"""Plans through the services: publication from published grades, versions, the sync, and
orders using the quotas (the order sync's warnings and exceptions)."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from allocation import selectors, services
from allocation.choices import ExceptionStatus, PlanStatus
from allocation.models import AllocationException, AllocationPlan, AllocationQuota
from crm.choices import AuditSource
from crm.exceptions import DomainError
from crm.models import AuditEntry
from crm.services import Actor
from customers.services import customer_update
from orders.services import order_sync_many
from tests.allocation.factories import grade, plan_data, publish, published_plan
from tests.orders.factories import make_product, order_payload


@pytest.fixture
def world(customer_world):
    """Three shops: th grade 1 class 1, th2 grade 2 class 2, yx grade 3 class 3, December
    2026 published; the product 6901028001."""
    w = customer_world
    grade(w["c_th"], "2026-12", 1, 1)
    grade(w["c_th2"], "2026-12", 2, 2)
    grade(w["c_yx"], "2026-12", 3, 3)
    publish("2026-12")
    w["product"] = make_product("6901028001")
    w["actor"] = Actor.of(w["admin"], AuditSource.PAGE)
    return w


def quota_of(plan, customer):
    return AllocationQuota.objects.get(plan=plan, customer=customer)


def sync_orders(world, *orders):
    return order_sync_many(rows=list(orders), source="erp", actor=world["actor"])


def test_publishing_stores_each_eligible_shops_quota(world):
    plan = published_plan(world["product"], world["actor"])
    assert plan.status == PlanStatus.PUBLISHED
    assert plan.grade_month == dt.date(2026, 12, 1)
    assert {q.customer_id: q.quota for q in plan.quota_rows.all()} == {
        world["c_th"].pk: 30,
        world["c_th2"].pk: 20,
        world["c_yx"].pk: 10,
    }
    assert (plan.shops, plan.demand, plan.allocated, plan.scale) == (3, 60, 60, None)
    assert AuditEntry.objects.filter(object_id=str(plan.pk), field="status").exists()


def test_publishing_scales_to_the_supply_and_filters_by_class(world):
    # classes 1 and 2 only: 30 + 20 = 50 asked, 40 supplied → 24 + 16 = 40
    plan = published_plan(world["product"], world["actor"], structure_classes=[1, 2], supply=40)
    assert {q.customer_id: (q.requested, q.quota) for q in plan.quota_rows.all()} == {
        world["c_th"].pk: (30, 24),
        world["c_th2"].pk: (20, 16),
    }
    assert plan.scale == pytest.approx(0.8)
    why = selectors.quota_explanation(quota_of(plan, world["c_th"]))
    assert (why["grade"], why["per_grade"], why["rounded_down"], why["remainder_bonus"]) == (
        1,
        30,
        24,
        0,
    )


def test_a_closed_shop_gets_no_quota(world):
    customer_update(customer=world["c_yx"], data={"status": "closed"}, actor=world["actor"])
    plan = published_plan(world["product"], world["actor"])
    assert world["c_yx"].pk not in {q.customer_id for q in plan.quota_rows.all()}


def test_publishing_is_refused_until_the_start_months_grades_are_published(world):
    plan = services.plan_create_draft(
        data=plan_data(world["product"], code="JAN", starts_on="2027-01-01", ends_on="2027-01-31"),
        actor=world["actor"],
    )
    assert not services.plan_preview(plan=plan).published
    with pytest.raises(DomainError) as refused:
        services.plan_publish(plan=plan, actor=world["actor"])
    assert "2027-01" in refused.value.message and refused.value.field == "starts_on"
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT and not plan.quota_rows.exists()


def test_a_new_version_supersedes_and_the_old_quotas_stay(world):
    v1 = published_plan(world["product"], world["actor"])
    with pytest.raises(DomainError):
        services.plan_update_draft(plan=v1, data=plan_data(world["product"]), actor=world["actor"])
    v2 = services.plan_new_version(plan=v1, actor=world["actor"])
    services.plan_update_draft(
        plan=v2,
        data=plan_data(world["product"], quotas={"1": 5}),
        actor=world["actor"],
    )
    services.plan_publish(plan=v2, actor=world["actor"])
    v1.refresh_from_db()
    assert v1.status == PlanStatus.SUPERSEDED and v1.quota_rows.count() == 3
    assert {q.customer_id: q.quota for q in v2.quota_rows.all()} == {world["c_th"].pk: 5}
    in_force = selectors.plans_in_force(on=dt.date(2026, 12, 15))
    assert [p.version for p in in_force] == [2]


def test_the_preview_saves_nothing(world):
    plan = services.plan_create_draft(
        data=plan_data(world["product"], supply=50), actor=world["actor"]
    )
    preview = services.plan_preview(plan=plan)
    assert preview.published and preview.allocation.allocated == 50
    # 50/60 of 30, 20, 10 is 25, 16.67, 8.33 → 25 + 16 + 8 = 49; the carton left to grade 1
    assert preview.grades_chart == {
        "labels": ["1", "2", "3"],
        "demand": [30, 20, 10],
        "allocated": [26, 16, 8],
    }
    assert not AllocationQuota.objects.exists()


def test_closing_ends_the_plan_and_keeps_its_quotas(world):
    plan = published_plan(world["product"], world["actor"])
    services.plan_close(plan=plan, actor=world["actor"], reason="supply arrived late")
    assert selectors.plans_in_force(on=dt.date(2026, 12, 15)) == []
    assert plan.quota_rows.count() == 3


# --- the sync -----------------------------------------------------------------------


def test_sync_creates_then_replays_unchanged_then_versions(world):
    body = [plan_data(world["product"], status="published", structure_classes=[1, 2, 3])]
    first = services.plan_sync_many(rows=body, actor=world["actor"]).as_dict()
    assert first == {"created": 1, "updated": 0, "unchanged": 0, "errors": []}
    again = services.plan_sync_many(rows=body, actor=world["actor"]).as_dict()
    assert again == {"created": 0, "updated": 0, "unchanged": 1, "errors": []}
    body[0]["supply"] = 30
    changed = services.plan_sync_many(rows=body, actor=world["actor"]).as_dict()
    assert changed["updated"] == 1
    versions = AllocationPlan.objects.filter(code="2026-12-ZHZ").order_by("version")
    assert [(p.version, p.status) for p in versions] == [
        (1, PlanStatus.SUPERSEDED),
        (2, PlanStatus.PUBLISHED),
    ]
    assert versions[1].allocated == 30


def test_sync_refuses_an_item_and_stores_the_others(world):
    body = [
        plan_data(world["product"], code="BAD", product_code="nope", quotas={"x": 1}),
        plan_data(
            world["product"],
            code="LATER",
            starts_on="2027-01-01",
            ends_on="2027-01-31",
            status="published",
        ),
        plan_data(world["product"], code="OK", status="published"),
    ]
    report = services.plan_sync_many(rows=body, actor=world["actor"]).as_dict()
    assert report["created"] == 1
    fields = {(e["index"], e["code"], e["field"]) for e in report["errors"]}
    assert fields == {(0, "BAD", "product_code"), (0, "BAD", "quotas"), (1, "LATER", "starts_on")}
    # the refused plan left nothing behind
    assert list(AllocationPlan.objects.values_list("code", flat=True)) == ["OK"]


def test_sync_closes_a_published_plan(world):
    body = [plan_data(world["product"], status="published")]
    services.plan_sync_many(rows=body, actor=world["actor"])
    body[0]["status"] = "closed"
    assert services.plan_sync_many(rows=body, actor=world["actor"]).updated == 1
    assert AllocationPlan.objects.get().status == PlanStatus.CLOSED
    assert services.plan_sync_many(rows=body, actor=world["actor"]).unchanged == 1


# --- orders using the quotas ------------------------------------------------------------


def test_orders_count_inside_the_period_only(world):
    plan = published_plan(world["product"], world["actor"])
    p = world["product"]
    report = sync_orders(
        world,
        order_payload("before", world["c_th"], [(p, 7, "230")], order_date="2026-11-30"),
        order_payload("first", world["c_th"], [(p, 5, "230")], order_date="2026-12-01"),
        order_payload("last", world["c_th"], [(p, 4, "230")], order_date="2026-12-31"),
        order_payload("after", world["c_th"], [(p, 9, "230")], order_date="2027-01-01"),
    )
    assert report.created == 4 and report.warnings == []
    assert quota_of(plan, world["c_th"]).ordered == 9


def test_an_order_past_the_quota_is_stored_warned_and_listed(world):
    plan = published_plan(world["product"], world["actor"])
    p = world["product"]
    other = make_product("6901028999")
    # th2 (quota 20): 12 fits, then 10 takes it to 22
    report = sync_orders(
        world,
        order_payload(
            "o1", world["c_th2"], [(other, 50, "100"), (p, 12, "230")], order_date="2026-12-03"
        ),
        order_payload(
            "o2", world["c_th2"], [(other, 1, "100"), (p, 10, "230")], order_date="2026-12-04"
        ),
    )
    assert report.created == 2
    assert [(w["index"], w["external_id"], w["code"], w["field"]) for w in report.warnings] == [
        (1, "o2", "over_allocation", "lines.1.quantity")
    ]
    assert "22" in report.warnings[0]["message"] and "20" in report.warnings[0]["message"]
    quota = quota_of(plan, world["c_th2"])
    assert (quota.ordered, quota.remaining) == (22, -2)
    exception = AllocationException.objects.get()
    assert (exception.order.external_id, exception.over_by) == ("o2", 2)
    # a replay warns and lists nothing new
    again = sync_orders(
        world,
        order_payload(
            "o1", world["c_th2"], [(other, 50, "100"), (p, 12, "230")], order_date="2026-12-03"
        ),
        order_payload(
            "o2", world["c_th2"], [(other, 1, "100"), (p, 10, "230")], order_date="2026-12-04"
        ),
    )
    assert again.unchanged == 2 and again.warnings == []
    assert AllocationException.objects.count() == 1


def test_a_cancelled_order_gives_its_quota_back(world):
    plan = published_plan(world["product"], world["actor"])
    p = world["product"]
    sync_orders(world, order_payload("o1", world["c_yx"], [(p, 8, "230")], order_date="2026-12-10"))
    assert quota_of(plan, world["c_yx"]).ordered == 8
    report = sync_orders(
        world,
        order_payload(
            "o1", world["c_yx"], [(p, 8, "230")], order_date="2026-12-10", status="cancelled"
        ),
    )
    assert report.updated == 1 and report.warnings == []
    assert quota_of(plan, world["c_yx"]).ordered == 0


def test_orders_before_publication_count_when_it_is_published(world):
    p = world["product"]
    sync_orders(
        world, order_payload("early", world["c_th"], [(p, 6, "230")], order_date="2026-12-02")
    )
    plan = published_plan(world["product"], world["actor"])
    assert quota_of(plan, world["c_th"]).ordered == 6


def test_no_plan_in_force_costs_the_sync_one_query(world):
    # a plan of another month exists; the sync's check of December orders reads the plans once
    grade(world["c_th"], "2026-11", 1)
    publish("2026-11")
    published_plan(
        world["product"],
        world["actor"],
        code="NOV",
        starts_on="2026-11-01",
        ends_on="2026-11-30",
        quotas={"1": 1},
    )
    p = world["product"]
    with CaptureQueriesContext(connection) as queries:
        report = sync_orders(
            world, order_payload("x", world["c_th"], [(p, 600, "230")], order_date="2026-12-02")
        )
    assert report.created == 1 and report.warnings == []
    assert len([q for q in queries if "allocation_" in q["sql"]]) == 1
    assert not AllocationException.objects.exists()


def test_exception_review_needs_a_note(world):
    published_plan(world["product"], world["actor"])
    p = world["product"]
    sync_orders(
        world, order_payload("big", world["c_yx"], [(p, 15, "230")], order_date="2026-12-05")
    )
    exception = AllocationException.objects.get()
    supervisor = Actor.of(world["sup_yx"], AuditSource.PAGE)
    with pytest.raises(DomainError):
        services.exception_review(exception=exception, note=" ", actor=supervisor)
    services.exception_review(exception=exception, note="called the shop", actor=supervisor)
    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.REVIEWED
    assert list(selectors.exception_list(user=world["sup_yx"])) == []
    assert list(selectors.exception_list(user=world["sup_th"], status=None)) == []


def test_an_order_changed_to_another_product_gives_the_quota_back(world):
    # the replaced order's old lines are counted out too, though the new ones are of another
    # product
    plan = published_plan(world["product"], world["actor"])
    p, other = world["product"], make_product("6901028777")
    sync_orders(world, order_payload("o1", world["c_th"], [(p, 8, "230")], order_date="2026-12-10"))
    assert quota_of(plan, world["c_th"]).ordered == 8
    sync_orders(
        world, order_payload("o1", world["c_th"], [(other, 8, "230")], order_date="2026-12-10")
    )
    assert quota_of(plan, world["c_th"]).ordered == 0
