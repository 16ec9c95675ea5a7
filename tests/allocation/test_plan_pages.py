"""The plan pages through Django's test client: list, editor, preview, the lifecycle's
buttons and the export.

The world (conftest's `customer_world`) graded by hand for December 2026, so every figure
can be checked by hand:

    customer  area  account manager  grade  class
    c_th      TH    am_th            1      2
    c_th2     TH    am_th2           2      5
    c_yx      YX    am_yx            2      5

A plan of 30 cartons for grade 1 and 20 for grade 2 asks for 30 + 20 + 20 = 70 cartons.
With a supply of 36 each quota is scaled by 36/70 and rounded down (15, 10, 10 = 35); the one
carton left goes to the highest grade: c_th gets 16.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse

from allocation.choices import PlanStatus
from allocation.models import AllocationPlan, AllocationQuota
from allocation.services import plan_create_draft, plan_publish
from grading.selectors import scheme_active_or_none
from tests.allocation.factories import publish
from tests.grading.test_overview_pages import grade
from tests.orders.factories import make_product

DEC = dt.date(2026, 12, 1)
LIST = reverse("allocation:plans")
CREATE = reverse("allocation:plan_create")


def url(name: str, plan: AllocationPlan) -> str:
    return reverse(f"allocation:{name}", args=[plan.pk])


def form_data(**overrides) -> dict:
    """The editor's fields as a browser posts them."""
    data = {
        "code": "2026-12-ZHZ",
        "name": "中华 December",
        "product_code": "6901028001",
        "starts_on": "2026-12-01",
        "ends_on": "2026-12-31",
        "quota_1": "30",
        "quota_2": "20",
        "supply": "36",
        "note": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def plan_data(**overrides) -> dict:
    """A plan as `plan_clean` reads it (for plans made through the service)."""
    data = {
        "code": "2026-12-ZHZ",
        "product_code": "6901028001",
        "starts_on": "2026-12-01",
        "ends_on": "2026-12-31",
        "quotas": {"1": 30, "2": 20},
        "supply": 36,
    }
    data.update(overrides)
    return data


@pytest.fixture
def world(customer_world, system_actor):
    w = customer_world
    make_product("6901028001", name="中华（硬）")
    grade(w["c_th"], DEC, 1, structure=2)
    grade(w["c_th2"], DEC, 2)
    grade(w["c_yx"], DEC, 2)
    w["actor"] = system_actor
    return w


def publish_grades(w) -> None:
    publish(DEC, user=w["admin"])


def draft(w, **overrides) -> AllocationPlan:
    return plan_create_draft(data=plan_data(**overrides), actor=w["actor"])


def published(w, **overrides) -> AllocationPlan:
    publish_grades(w)
    return plan_publish(plan=draft(w, **overrides), actor=w["actor"])


# --- the list ------------------------------------------------------------------------------


def test_the_list_shows_every_version_newest_period_first(client, world, django_assert_num_queries):
    # given three plans over two periods, one published
    w = world
    draft(w, code="NOV", starts_on="2026-11-01", ends_on="2026-11-30")
    draft(w, code="DEC-B")
    published(w, code="DEC-A")
    client.force_login(w["am_th"])
    # when — session, user, the count and one page of plans with their products
    with django_assert_num_queries(5):
        html = client.get(LIST).content.decode()
    # then
    order = [html.index(code) for code in ("DEC-A", "DEC-B", "NOV")]
    assert order == sorted(order)
    assert 'data-testid="plan-count">3<' in html
    assert 'data-status="published"' in html
    # 3 shops, all 36 cartons of the supply given
    assert '<td class="text-end text-nowrap" data-col="allocated">36 / 36</td>' in html
    assert 'data-testid="new-plan"' not in html  # not for an account manager


def test_the_list_filters_by_status_and_searches(client, world):
    w = world
    draft(w, code="NOV", name="十一月", starts_on="2026-11-01", ends_on="2026-11-30")
    published(w, code="DEC-A")
    client.force_login(w["admin"])
    html = client.get(LIST, {"status": "published"}).content.decode()
    assert "DEC-A" in html and "NOV" not in html
    html = client.get(LIST, {"q": "十一"}).content.decode()
    assert "NOV" in html and "DEC-A" not in html
    assert 'data-testid="new-plan"' in html  # administrators make plans


# --- the editor ------------------------------------------------------------------------------


def test_creating_shows_the_services_messages_beside_the_fields_and_saves_nothing(client, world):
    client.force_login(world["admin"])
    response = client.post(
        CREATE,
        form_data(code="bad code!", ends_on="2026-11-30", quota_2="many", supply="-5"),
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="form-invalid"' in html
    for field in ("code", "ends_on", "quotas", "supply"):
        assert f'data-error-for="{field}"' in html, field
    assert "The period ends before it starts." in html
    assert "Grade 2: Enter a whole number." in html
    # what was typed stays in the form
    assert 'value="many"' in html
    assert AllocationPlan.objects.count() == 0


def test_creating_saves_a_draft_with_its_rule(client, world, areas):
    client.force_login(world["admin"])
    response = client.post(
        CREATE,
        {
            **form_data(quota_3="", supply=""),
            "structure_classes": ["2", "1"],
            "market_types": ["C"],
            "areas": ["TH"],
        },
    )
    plan = AllocationPlan.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("plan", plan)
    assert (plan.code, plan.version, plan.status) == ("2026-12-ZHZ", 1, PlanStatus.DRAFT)
    assert plan.quotas == {"1": 30, "2": 20}
    assert plan.structure_classes == [1, 2]
    assert plan.market_types == ["C"]
    assert plan.area_ids == [areas["TH"].pk]
    assert plan.supply is None


def test_a_taken_code_is_refused_on_the_code_field(client, world):
    draft(world)
    client.force_login(world["admin"])
    html = client.post(CREATE, form_data()).content.decode()
    assert 'data-error-for="code"' in html
    assert AllocationPlan.objects.count() == 1


def test_the_editor_offers_active_products_and_a_quota_per_grade(client, world):
    make_product("6901000099", name="停产烟", active=False)
    client.force_login(world["admin"])
    html = client.get(CREATE).content.decode()
    assert '<option value="6901028001">6901028001 中华（硬）</option>' in html
    assert "6901000099" not in html  # not an active product
    # a quota input per grade of the active grading scheme (8 without one)
    scheme = scheme_active_or_none()
    count = scheme.grade_count if scheme else 8
    assert f'name="quota_{count}"' in html
    assert f'name="quota_{count + 1}"' not in html


def test_editing_a_draft_shows_its_values_and_saves_them(client, world):
    plan = draft(world, quotas={"1": 30, "12": 5})
    client.force_login(world["admin"])
    html = client.get(url("plan_edit", plan)).content.decode()
    assert 'name="code"' not in html  # a plan's code does not change
    assert 'name="quota_12"' in html and 'value="5"' in html  # a grade the plan names
    assert 'value="2026-12-01"' in html
    response = client.post(url("plan_edit", plan), form_data(quota_1="40", quota_12=""))
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.quotas == {"1": 40, "2": 20}
    assert plan.supply == 36


def test_a_published_version_is_not_edited(client, world):
    plan = published(world)
    client.force_login(world["admin"])
    response = client.post(url("plan_edit", plan), form_data(quota_1="99"), follow=True)
    assert "Only a draft can be edited" in response.content.decode()
    plan.refresh_from_db()
    assert plan.quotas == {"1": 30, "2": 20}


# --- preview and publication --------------------------------------------------------------


def test_the_preview_says_when_the_start_months_grades_are_not_published(client, world):
    plan = draft(world)
    client.force_login(world["admin"])
    html = client.get(url("plan_preview", plan)).content.decode()
    assert 'data-testid="grades-not-published"' in html
    assert "The grades of 2026-12 are not published" in html
    assert reverse("grading:overview") in html
    assert 'data-testid="publish"' not in html
    # and publishing is refused with the same reason
    response = client.post(url("plan_publish", plan), follow=True)
    assert "are not published" in response.content.decode()
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT


def test_the_preview_shows_each_grade_the_scaling_and_the_chart_data(client, world):
    plan = draft(world)
    publish_grades(world)
    client.force_login(world["admin"])
    html = client.get(url("plan_preview", plan)).content.decode()
    assert '<div class="fs-5" data-figure="demand">70</div>' in html
    assert '<div class="fs-5" data-figure="allocated">36</div>' in html
    assert "scaled down by × 0.5143" in html
    # grade 1: one shop asking 30, given 16; grade 2: two shops asking 20, given 10 each
    grade_1 = html[html.index('<tr data-grade="1">') :]
    assert '<td class="text-end" data-col="demand">30</td>' in grade_1[:400]
    assert '<td class="text-end" data-col="allocated">16</td>' in grade_1[:400]
    grade_2 = html[html.index('<tr data-grade="2">') :]
    assert '<td class="text-end" data-col="shops">2</td>' in grade_2[:400]
    assert '<td class="text-end" data-col="range">10</td>' in grade_2[:400]
    assert '"labels": ["1", "2"], "demand": [30, 40], "allocated": [16, 20]' in html  # json_script
    assert 'aria-label="Chart of the cartons' in html
    assert "js/allocation_preview.js" in html
    assert AllocationQuota.objects.count() == 0  # nothing saved


def test_publishing_stores_every_eligible_shops_quota(client, world):
    plan = draft(world)
    publish_grades(world)
    client.force_login(world["admin"])
    response = client.post(url("plan_publish", plan))
    assert response["Location"] == url("plan", plan)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PUBLISHED
    quotas = {q.customer_id: q.quota for q in AllocationQuota.objects.filter(plan=plan)}
    w = world
    assert quotas == {w["c_th"].pk: 16, w["c_th2"].pk: 10, w["c_yx"].pk: 10}
    html = client.get(url("plan", plan)).content.decode()
    assert '<div class="fs-5" data-figure="shops">3</div>' in html
    assert '<div class="fs-5" data-figure="grade_month">2026-12</div>' in html
    assert 'data-testid="new-version"' in html and 'data-testid="close"' in html
    assert 'data-testid="edit"' not in html


def test_a_new_version_published_supersedes_the_old_one(client, world):
    old = published(world)
    client.force_login(world["admin"])
    response = client.post(url("plan_new_version", old))
    new = AllocationPlan.objects.get(code=old.code, version=2)
    assert response["Location"] == url("plan", new)
    assert new.status == PlanStatus.DRAFT
    client.post(url("plan_edit", new), form_data(supply=""))
    client.post(url("plan_publish", new))
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.status, new.status) == (PlanStatus.SUPERSEDED, PlanStatus.PUBLISHED)
    assert AllocationQuota.objects.filter(plan=old).count() == 3  # the old quotas stay
    assert sorted(AllocationQuota.objects.filter(plan=new).values_list("quota", flat=True)) == [
        20,
        20,
        30,
    ]
    html = client.get(url("plan", old)).content.decode()
    assert 'data-status="superseded"' in html
    assert f'href="{url("plan", new)}"' in html  # the versions link to each other
    assert 'data-testid="export"' in html and 'data-testid="close"' not in html


def test_closing_a_plan_keeps_its_quotas_visible(client, world):
    plan = published(world)
    client.force_login(world["admin"])
    client.post(url("plan_close", plan), {"reason": "supply ended"})
    plan.refresh_from_db()
    assert plan.status == PlanStatus.CLOSED
    assert plan.closed_by == world["admin"]
    html = client.get(url("plan", plan)).content.decode()
    assert 'data-testid="quota-count">3<' in html


def test_deleting_a_draft(client, world):
    plan = draft(world)
    client.force_login(world["admin"])
    response = client.post(url("plan_delete", plan))
    assert response["Location"] == LIST
    assert not AllocationPlan.objects.exists()


def test_a_lifecycle_refusal_is_a_message(client, world):
    plan = draft(world)
    client.force_login(world["admin"])
    html = client.post(url("plan_close", plan), follow=True).content.decode()
    assert "Only a published plan can be closed." in html


def test_the_lifecycle_buttons_answer_post_only(client, world):
    plan = draft(world)
    client.force_login(world["admin"])
    for name in ("plan_publish", "plan_close", "plan_new_version", "plan_delete"):
        assert client.get(url(name, plan)).status_code == 405, name


# --- the export and who sees what ------------------------------------------------------


def _csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))


def test_the_export_lists_the_quotas(client, world):
    plan = published(world)
    client.force_login(world["sup_gz"])
    response = client.get(url("plan_export", plan))
    assert response["Content-Type"].startswith("text/csv")
    assert "allocation-2026-12-ZHZ-v1-" in response["Content-Disposition"]
    rows = _csv_rows(response)
    assert rows[0] == [
        "Customer code",
        "Store name",
        "Grade",
        "Structure class",
        "Quota of the grade",
        "Quota",
        "Ordered",
        "Remaining",
    ]
    c = world["c_th"]
    assert rows[1] == [c.customer_code, c.store_name, "1", "2", "30", "16", "0", "16"]
    assert len(rows) == 4


def test_an_account_manager_sees_only_their_shops_quotas(client, world):
    plan = published(world)
    w = world
    client.force_login(w["am_th"])
    html = client.get(url("plan", plan)).content.decode()
    assert 'data-testid="quota-count">1<' in html
    assert w["c_th"].customer_code in html and w["c_yx"].customer_code not in html
    rows = _csv_rows(client.get(url("plan_export", plan)))
    assert [r[0] for r in rows[1:]] == [w["c_th"].customer_code]
    # the plan's own figures are company-wide
    assert '<div class="fs-5" data-figure="shops">3</div>' in html


def test_the_quotas_are_searched_by_customer_code(client, world):
    plan = published(world)
    client.force_login(world["admin"])
    code = world["c_yx"].customer_code
    html = client.get(url("plan", plan), {"q": code}).content.decode()
    assert 'data-testid="quota-count">1<' in html
    assert f'data-customer="{code}"' in html


def test_people_without_the_administrator_role_read_but_do_not_write(client, world):
    plan = draft(world)
    other = published(world, code="PUB")
    client.force_login(world["sup_gz"])
    assert client.get(LIST).status_code == 200
    assert client.get(url("plan", plan)).status_code == 200
    assert 'data-testid="plan-actions"' not in client.get(url("plan", other)).content.decode()
    for page in (CREATE, url("plan_edit", plan), url("plan_preview", plan)):
        assert client.get(page).status_code == 403, page
    assert client.post(CREATE, form_data(code="X")).status_code == 403
    for name in ("plan_publish", "plan_delete"):
        assert client.post(url(name, plan)).status_code == 403, name
    for name in ("plan_close", "plan_new_version"):
        assert client.post(url(name, other)).status_code == 403, name
    plan.refresh_from_db()
    other.refresh_from_db()
    assert (plan.status, other.status) == (PlanStatus.DRAFT, PlanStatus.PUBLISHED)
    assert AllocationPlan.objects.count() == 2


def test_a_drafts_export_is_not_found(client, world):
    plan = draft(world)
    client.force_login(world["admin"])
    assert client.get(url("plan_export", plan)).status_code == 404


def test_the_navigation_leads_to_the_plans(client, world):
    # the nav opens allocation's overview (quota take-up), whose tabs lead to the plans
    client.force_login(world["lo_th"])
    html = client.get(reverse("home")).content.decode()
    assert f'href="{reverse("allocation:overview")}"' in html
    overview = client.get(reverse("allocation:overview")).content.decode()
    assert f'href="{LIST}"' in overview


def test_a_versions_page_reads_a_fixed_number_of_queries(client, world, django_assert_num_queries):
    # given a published plan of 3 shops with areas in its rule, and a second version
    plan = published(world, areas=["GZ"])
    client.force_login(world["admin"])
    client.post(url("plan_new_version", plan))
    # when — session, user, notifications, the plan, its area codes, the versions, the
    # quotas' count and page
    with django_assert_num_queries(8):
        response = client.get(url("plan", plan))
    # then
    assert response.status_code == 200
    assert 'data-testid="quota-count">3<' in response.content.decode()


def test_the_pages_speak_chinese(client, world, settings):
    plan = draft(world)
    publish_grades(world)
    client.force_login(world["admin"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    assert "投放计划" in client.get(LIST).content.decode()
    html = client.get(url("plan_preview", plan)).content.decode()
    assert "各档位需求与投放" in html
    assert "压缩" in html  # the scaling, said in Chinese
    html = client.post(CREATE, form_data(ends_on="2026-11-30")).content.decode()
    assert "结束日期早于开始日期。" in html  # the service's message, translated
