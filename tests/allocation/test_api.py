"""The REST contract of supply allocation: the plan sync, the allocations in force on a day
(scoped, paged by keyset), and the order sync's over-allocation warnings.

The world: three shops graded in December 2026 (published) — 天河一号店 grade 1 class 1
(am_th), 天河二号店 grade 2 class 2 (am_th2), 越秀店 grade 3 class 3 (am_yx) — and the
issue's plan: product 6901028001, 2026-12-01 … 2026-12-31, 30 / 20 / 10 cartons for grades
1 / 2 / 3, supply 5,000 (no scaling).
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from allocation.choices import PlanStatus
from allocation.models import AllocationException, AllocationPlan
from crm.choices import Role
from tests.allocation.grades import publish_month
from tests.grading.factories import make_grade
from tests.orders.factories import make_product, order_payload

PRODUCT = "6901028001"
DECEMBER = dt.date(2026, 12, 1)
ISSUE_PLAN = {
    "code": "2026-12-ZHZ",
    "product_code": PRODUCT,
    "starts_on": "2026-12-01",
    "ends_on": "2026-12-31",
    "quotas": {"1": 30, "2": 20, "3": 10},
    "structure_classes": [1, 2, 3],
    "supply": 5000,
    "status": "published",
}


def graded(w, month: dt.date, *, publish: bool = True) -> None:
    make_grade(w["c_th"], month, 1, 1)
    make_grade(w["c_th2"], month, 2, 2)
    make_grade(w["c_yx"], month, 3, 3)
    if publish:
        publish_month(month, by=w["admin"])


@pytest.fixture
def world(customer_world, areas, make_user):
    """customer_world, its December grades published, the product, a supervisor of SZ (no
    shop there) and an integration client."""
    w = dict(customer_world)
    graded(w, DECEMBER)
    make_product(PRODUCT, "450.00", name="中华(硬)")
    w["sup_sz"] = make_user(Role.SUPERVISOR, [areas["SZ"]], username="sup_sz")
    return w


def as_user(user) -> APIClient:
    api = APIClient()
    api.force_login(user)
    return api


def sync_plans(api, plans):
    return api.post(reverse("allocation_api:plan_sync"), {"plans": plans}, format="json")


def report_of(response) -> dict:
    assert response.status_code == 200, (response.status_code, response.content[:500])
    return response.json()


def counts(report: dict) -> tuple[int, int, int]:
    return report["created"], report["updated"], report["unchanged"]


def allocations(api, **params):
    return api.get(reverse("allocation_api:allocation_list"), params)


def quotas_of(response) -> dict[str, tuple[str, int, int, int]]:
    """customer code → (plan, quota, ordered, remaining), of one page."""
    assert response.status_code == 200, (response.status_code, response.content[:500])
    return {
        row["customer_code"]: (row["plan"], row["quota"], row["ordered"], row["remaining"])
        for row in response.json()["results"]
    }


def published(erp, **changes) -> None:
    assert report_of(sync_plans(erp, [{**ISSUE_PLAN, **changes}]))["errors"] == []


# --- the plan sync ---------------------------------------------------------------------------


def test_the_issues_example_publishes_each_eligible_shops_quota_by_grade(world, erp):
    # when the issue's body is sent as it is
    report = report_of(sync_plans(erp, [ISSUE_PLAN]))
    # then
    assert report == {"created": 1, "updated": 0, "unchanged": 0, "errors": []}
    plan = AllocationPlan.objects.get(code="2026-12-ZHZ")
    assert (plan.version, plan.status, plan.grade_month) == (1, PlanStatus.PUBLISHED, DECEMBER)
    response = allocations(erp, on="2026-12-15")
    assert response.json()["results"][0] == {
        "plan": "2026-12-ZHZ",
        "product_code": PRODUCT,
        "customer_code": world["c_th"].customer_code,
        "starts_on": "2026-12-01",
        "ends_on": "2026-12-31",
        "grade": 1,
        "quota": 30,
        "ordered": 0,
        "remaining": 30,
    }
    assert quotas_of(response) == {
        world["c_th"].customer_code: ("2026-12-ZHZ", 30, 0, 30),
        world["c_th2"].customer_code: ("2026-12-ZHZ", 20, 0, 20),
        world["c_yx"].customer_code: ("2026-12-ZHZ", 10, 0, 10),
    }


def test_a_replay_is_unchanged_and_another_rule_is_a_new_version(world, erp):
    assert counts(report_of(sync_plans(erp, [ISSUE_PLAN]))) == (1, 0, 0)
    # a replay
    assert counts(report_of(sync_plans(erp, [ISSUE_PLAN]))) == (0, 0, 1)
    assert AllocationPlan.objects.count() == 1
    # another rule: a new version, published, the old one superseded with its quotas
    changed = {**ISSUE_PLAN, "quotas": {"1": 40, "2": 20, "3": 10}}
    assert counts(report_of(sync_plans(erp, [changed]))) == (0, 1, 0)
    versions = dict(AllocationPlan.objects.values_list("version", "status"))
    assert versions == {1: PlanStatus.SUPERSEDED, 2: PlanStatus.PUBLISHED}
    assert AllocationPlan.objects.get(version=1).quota_rows.count() == 3
    # only the version in force is listed
    got = quotas_of(allocations(erp, on="2026-12-15"))
    assert got[world["c_th"].customer_code] == ("2026-12-ZHZ", 40, 0, 40)
    assert len(got) == 3
    # and the new rule replayed is unchanged
    assert counts(report_of(sync_plans(erp, [changed]))) == (0, 0, 1)


def test_a_retry_under_the_same_idempotency_key_gets_the_first_answer_back(world, erp):
    path = reverse("allocation_api:plan_sync")
    body = {"plans": [ISSUE_PLAN]}
    first = erp.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY="plans-1")
    again = erp.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY="plans-1")
    assert counts(report_of(first)) == (1, 0, 0)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()


def test_a_draft_is_stored_changed_then_published(world, erp):
    draft = {**ISSUE_PLAN, "status": "draft"}
    assert counts(report_of(sync_plans(erp, [draft]))) == (1, 0, 0)
    assert quotas_of(allocations(erp, on="2026-12-15")) == {}  # a draft is in force nowhere
    assert counts(report_of(sync_plans(erp, [draft]))) == (0, 0, 1)
    assert counts(report_of(sync_plans(erp, [ISSUE_PLAN]))) == (0, 1, 0)
    assert AllocationPlan.objects.get().status == PlanStatus.PUBLISHED
    assert len(quotas_of(allocations(erp, on="2026-12-15"))) == 3


def test_refused_plans_are_reported_by_index_code_and_field_and_the_others_are_stored(world, erp):
    def plan(code: str, **changes) -> dict:
        return {**ISSUE_PLAN, "code": code, **changes}

    body = [
        plan("P-UNKNOWN-PRODUCT", product_code="6900000000"),
        plan("P-BAD-QUOTAS", quotas={"1": -5, "2": 20}),
        plan("P-GOOD"),
        plan("P-BACKWARDS", starts_on="2026-12-31", ends_on="2026-12-01"),
        # January's grades are computed but not published; February has none at all
        plan("P-JANUARY", starts_on="2027-01-01", ends_on="2027-01-31"),
        plan("P-FEBRUARY", starts_on="2027-02-01", ends_on="2027-02-28"),
        plan("P-JANUARY-DRAFT", starts_on="2027-01-01", ends_on="2027-01-31", status="draft"),
        "not a plan",
    ]
    graded(world, dt.date(2027, 1, 1), publish=False)

    report = report_of(sync_plans(erp, body))

    assert counts(report) == (2, 0, 0)
    assert [(e["index"], e["code"], e["field"]) for e in report["errors"]] == [
        (0, "P-UNKNOWN-PRODUCT", "product_code"),
        (1, "P-BAD-QUOTAS", "quotas"),
        (3, "P-BACKWARDS", "ends_on"),
        (4, "P-JANUARY", "starts_on"),
        (5, "P-FEBRUARY", "starts_on"),
        (7, None, None),
    ]
    assert all(e["message"] for e in report["errors"])
    assert "2027-01" in report["errors"][3]["message"]
    stored = dict(AllocationPlan.objects.values_list("code", "status"))
    assert stored == {"P-GOOD": PlanStatus.PUBLISHED, "P-JANUARY-DRAFT": PlanStatus.DRAFT}


def test_grades_left_out_of_the_quotas_get_no_row(world, erp):
    published(erp, quotas={"1": 30, "3": 10})
    assert quotas_of(allocations(erp, on="2026-12-15")) == {
        world["c_th"].customer_code: ("2026-12-ZHZ", 30, 0, 30),
        world["c_yx"].customer_code: ("2026-12-ZHZ", 10, 0, 10),
    }


def test_a_closed_plan_is_no_longer_in_force(world, erp):
    published(erp)
    assert counts(report_of(sync_plans(erp, [{**ISSUE_PLAN, "status": "closed"}]))) == (0, 1, 0)
    assert AllocationPlan.objects.get().status == PlanStatus.CLOSED
    assert quotas_of(allocations(erp, on="2026-12-15")) == {}


def test_only_administrators_and_integration_clients_sync_plans(world):
    for person in ("am_th", "sup_th", "lo_th"):
        response = sync_plans(as_user(world[person]), [ISSUE_PLAN])
        assert response.status_code == 403, person
        assert response.json()["code"] == "permission_denied"
    assert sync_plans(APIClient(), [ISSUE_PLAN]).status_code == 401
    assert not AllocationPlan.objects.exists()
    admin = report_of(sync_plans(as_user(world["admin"]), [ISSUE_PLAN]))
    assert counts(admin) == (1, 0, 0)


@pytest.mark.parametrize(
    "body",
    [[ISSUE_PLAN], {"plans": ISSUE_PLAN}, {"plan": [ISSUE_PLAN]}, {"plans": [], "dry_run": True}],
)
def test_a_body_that_is_not_a_list_of_plans_is_refused(world, erp, body):
    response = erp.post(reverse("allocation_api:plan_sync"), body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert set(response.json()["errors"]) & {"plans", "dry_run"}


def test_more_plans_than_a_sync_takes_are_refused(world, erp):
    response = sync_plans(erp, [ISSUE_PLAN] * 201)
    assert response.status_code == 413
    assert not AllocationPlan.objects.exists()


# --- the allocations in force ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "shops"),
    [
        ("admin", {"c_th", "c_th2", "c_yx"}),
        ("erp", {"c_th", "c_th2", "c_yx"}),
        ("sup_gz", {"c_th", "c_th2", "c_yx"}),  # GZ holds TH and YX
        ("sup_th", {"c_th", "c_th2"}),
        ("sup_sz", set()),  # another area: nothing
        ("am_th", {"c_th"}),  # their own shops only
        ("am_yx", {"c_yx"}),
        ("lo_th", {"c_th", "c_th2"}),
    ],
)
def test_the_allocations_are_scoped_like_customers(world, erp, who, shops):
    published(erp)
    api = erp if who == "erp" else as_user(world[who])
    got = quotas_of(allocations(api, on="2026-12-15"))
    assert set(got) == {world[shop].customer_code for shop in shops}


def test_anonymous_callers_are_refused(world, erp):
    published(erp)
    response = allocations(APIClient(), on="2026-12-15")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize(
    ("on", "in_force"),
    [
        ("2026-11-30", False),  # the day before the period
        ("2026-12-01", True),  # its first day
        ("2026-12-31", True),  # its last day
        ("2027-01-01", False),  # the day after
    ],
)
def test_the_day_selects_the_plans_in_force(world, erp, on, in_force):
    published(erp)
    got = quotas_of(allocations(erp, on=on))
    assert len(got) == (3 if in_force else 0)
    assert allocations(erp, on=on).json()["on"] == on


def test_the_day_is_today_by_default_and_a_bad_day_is_refused(world, erp):
    today = timezone.localdate()
    assert allocations(erp).json()["on"] == today.isoformat()
    for bad in ("2026-13-01", "15/12/2026", "tomorrow"):
        response = allocations(erp, on=bad)
        assert response.status_code == 400, bad
        assert list(response.json()["errors"]) == ["on"]


@pytest.mark.parametrize(("name", "value"), [("page_size", "0"), ("cursor", "x")])
def test_a_bad_page_parameter_is_refused_naming_it(world, erp, name, value):
    response = allocations(erp, **{name: value})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [name]


def test_one_customer_and_one_product(world, erp, django_assert_num_queries):
    published(erp)
    make_product("6901028002", "230.00")
    published(erp, code="2026-12-OTHER", product_code="6901028002", quotas={"1": 5})
    shop = world["c_th"].customer_code
    # an index lookup: the token, the plans in force, the shop's quotas
    with django_assert_num_queries(3):
        got = allocations(erp, on="2026-12-15", customer=shop).json()["results"]
    assert sorted((r["plan"], r["quota"]) for r in got) == [
        ("2026-12-OTHER", 5),
        ("2026-12-ZHZ", 30),
    ]
    only = quotas_of(allocations(erp, on="2026-12-15", customer=shop, product="6901028002"))
    assert only == {shop: ("2026-12-OTHER", 5, 0, 5)}
    # a shop outside the caller's scope, or unknown, has no rows
    am = as_user(world["am_yx"])
    assert quotas_of(allocations(am, on="2026-12-15", customer=shop)) == {}
    assert quotas_of(allocations(erp, on="2026-12-15", customer="449999999999")) == {}


def test_the_pages_walk_every_row_exactly_once(world, erp, django_assert_num_queries):
    # given two plans in force: 6 rows
    published(erp)
    make_product("6901028002", "230.00")
    published(erp, code="2026-12-OTHER", product_code="6901028002")
    # when the client follows `next`, four rows a page
    seen, pages = [], 0
    url = reverse("allocation_api:allocation_list") + "?on=2026-12-15&page_size=4"
    while url:
        # the token, the plans in force, one page of rows: whatever the page's size
        with django_assert_num_queries(3):
            page = erp.get(url).json()
        seen += [(r["plan"], r["customer_code"]) for r in page["results"]]
        url, pages = page["next"], pages + 1
        if url:
            assert parse_qs(urlsplit(url).query)["on"] == ["2026-12-15"]
    # then
    assert pages == 2
    assert len(seen) == len(set(seen)) == 6
    assert {plan for plan, _shop in seen} == {"2026-12-ZHZ", "2026-12-OTHER"}


# --- the order sync's warnings -----------------------------------------------------------------


def sync_orders(api, orders):
    return api.post(reverse("orders_api:order_sync"), {"orders": orders}, format="json")


def quota_of(erp, shop) -> tuple[int, int, int]:
    """The shop's (quota, ordered, remaining) in the issue's plan, on 2026-12-15."""
    got = quotas_of(allocations(erp, on="2026-12-15", customer=shop.customer_code))
    return got[shop.customer_code][1:]


def test_an_order_past_the_quota_is_stored_with_a_warning_and_cancelling_it_gives_it_back(
    world, erp
):
    published(erp)
    shop = world["c_yx"]  # grade 3: 10 cartons
    first = order_payload("SO-1", shop, [(PRODUCT, 6, "450.00")], order_date="2026-12-01")
    over = order_payload(
        "SO-2", shop, [("6901028002", 1, "1.00"), (PRODUCT, 5, "450.00")], order_date="2026-12-31"
    )
    make_product("6901028002", "1.00")

    # when the second order takes the shop to 11 cartons
    report = report_of(sync_orders(erp, [first, over]))

    # then both are stored, the second answered with a warning on its line
    assert counts(report) == (2, 0, 0)
    assert report["errors"] == []
    [warning] = report["warnings"]
    assert {k: v for k, v in warning.items() if k != "message"} == {
        "index": 1,
        "external_id": "SO-2",
        "code": "over_allocation",
        "field": "lines.1.quantity",
    }
    assert "2026-12-ZHZ" in warning["message"]
    assert quota_of(erp, shop) == (10, 11, -1)
    assert AllocationException.objects.count() == 1

    # a replay changes nothing and warns of nothing new
    again = report_of(sync_orders(erp, [first, over]))
    assert counts(again) == (0, 0, 2)
    assert again["warnings"] == []
    assert AllocationException.objects.count() == 1

    # cancelling the order gives its cartons back
    cancelled = report_of(sync_orders(erp, [{**over, "status": "cancelled"}]))
    assert counts(cancelled) == (0, 1, 0)
    assert cancelled["warnings"] == []
    assert quota_of(erp, shop) == (10, 6, 4)


def test_orders_outside_the_period_do_not_count(world, erp):
    published(erp)
    shop = world["c_yx"]
    orders = [
        order_payload("SO-NOV", shop, [(PRODUCT, 50, "450.00")], order_date="2026-11-30"),
        order_payload("SO-JAN", shop, [(PRODUCT, 50, "450.00")], order_date="2027-01-01"),
    ]
    report = report_of(sync_orders(erp, orders))
    assert counts(report) == (2, 0, 0)
    assert report["warnings"] == []
    assert quota_of(erp, shop) == (10, 0, 10)


# --- the schema ----------------------------------------------------------------------------------


def test_the_schema_documents_both_endpoints_and_the_order_sync_warnings(world):
    schema = as_user(world["admin"]).get(reverse("api:schema"), {"format": "json"}).json()

    post = schema["paths"]["/api/v1/allocation-plans/sync/"]["post"]
    content = post["requestBody"]["content"]["application/json"]
    assert content["schema"]["$ref"].endswith("PlanSyncRequest")
    assert content["examples"]["Plans"]["value"] == {"plans": [ISSUE_PLAN]}
    assert {"200", "400", "403", "409", "413"} <= set(post["responses"])
    assert any(p["name"] == "Idempotency-Key" for p in post["parameters"])
    item = schema["components"]["schemas"]["PlanSyncItem"]
    assert {"code", "product_code", "starts_on", "ends_on", "quotas"} == set(item["required"])
    assert item["additionalProperties"] is False

    get = schema["paths"]["/api/v1/allocations/"]["get"]
    assert {p["name"] for p in get["parameters"]} == {
        "on",
        "customer",
        "product",
        "cursor",
        "page_size",
    }
    assert {"200", "400", "401"} == set(get["responses"])
    row = schema["components"]["schemas"]["Allocation"]
    assert set(row["properties"]) == {
        "plan",
        "product_code",
        "customer_code",
        "starts_on",
        "ends_on",
        "grade",
        "quota",
        "ordered",
        "remaining",
    }

    report = schema["components"]["schemas"]["OrderSyncReport"]
    assert "warnings" in report["properties"]
    warning = schema["components"]["schemas"]["OrderSyncWarning"]
    assert set(warning["properties"]) == {"index", "external_id", "code", "field", "message"}
