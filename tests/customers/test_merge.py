"""Merging two customer records (customers.services.customer_merge): every app's rows move to
the survivor, the facts stay exact, the merged code stays an alias the page, the list search,
the API and the order sync find, and the months refusal."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from rest_framework.test import APIClient

from crm import merging
from crm.choices import AuditAction, AuditSource
from crm.exceptions import DomainError
from crm.models import AuditEntry
from crm.services import Actor
from customers.models import Customer, CustomerAlias
from customers.selectors import customer_history
from customers.services import customer_merge, customer_update
from grading.models import GradeAssessment
from orders.models import MonthlySalesFact, Order
from orders.services import order_sync_many, sales_facts_rebuild
from tests.customers.factories import make_customer
from tests.orders.factories import integration_client, make_product, order_payload
from tests.services.factories import raise_request

SOURCE = "erp"


def admin_actor(world) -> Actor:
    return Actor.of(world["admin"], AuditSource.PAGE)


def facts() -> list[tuple]:
    return list(
        MonthlySalesFact.objects.order_by("customer_id", "month").values_list(
            "customer_id", "month", "cartons", "amount", "orders", "electronic_amount"
        )
    )


@pytest.fixture
def product(db):
    return make_product("A001", "230.00")


@pytest.fixture
def pair(customer_world, product):
    """Two records of one shop under one account manager, each with an order in October;
    the duplicate also in September."""
    w = customer_world
    survivor = w["c_th"]
    duplicate = make_customer(
        survivor.area, w["am_th"], store_name="天河一号店（重复）", phone="13800000001"
    )
    rows = [
        order_payload("S-1", survivor, [(product, 2, "230.00")]),
        order_payload("D-1", duplicate, [(product, 3, "230.00")]),
        order_payload("D-2", duplicate, [(product, 1, "230.00")], order_date="2026-09-12"),
    ]
    report = order_sync_many(rows=rows, source=SOURCE, actor=Actor.system("erp"))
    assert report.created == 3
    return survivor, duplicate, rows


def test_merge_moves_orders_keeps_facts_exact_and_leaves_an_alias(customer_world, pair):
    # given
    survivor, duplicate, _rows = pair
    code, pk, licence = duplicate.customer_code, duplicate.pk, duplicate.license_number
    # when
    outcome = customer_merge(
        survivor=survivor,
        merged=duplicate,
        values={"store_name": "survivor", "license_number": "merged"},
        confirm_months=False,
        actor=admin_actor(customer_world),
    )
    # then: the orders are the survivor's, the merged record is gone, its code an alias
    assert outcome.moved["orders"] == 2
    assert set(Order.objects.values_list("external_id", "customer_id")) == {
        ("S-1", survivor.pk),
        ("D-1", survivor.pk),
        ("D-2", survivor.pk),
    }
    assert not Customer.objects.filter(pk=pk).exists()
    alias = CustomerAlias.objects.get(code=code)
    assert (alias.customer_id, alias.merged_id, alias.license_number) == (survivor.pk, pk, licence)
    # the merged record's licence was taken (freed first), the survivor's name kept
    survivor.refresh_from_db()
    assert survivor.license_number == licence
    assert survivor.store_name == "天河一号店"
    # the facts are exactly what a rebuild from the orders gives
    merged_facts = facts()
    assert {(row[0], str(row[1])[:7], row[2]) for row in merged_facts} == {
        (survivor.pk, "2026-09", 1),
        (survivor.pk, "2026-10", 5),
    }
    sales_facts_rebuild()
    assert facts() == merged_facts
    system = survivor.system
    system.refresh_from_db()
    assert system.purchase_quantity == 6


def test_resending_a_merged_shops_order_under_its_old_code_is_unchanged(customer_world, pair):
    # given
    survivor, duplicate, rows = pair
    customer_merge(
        survivor=survivor,
        merged=duplicate,
        values={},
        confirm_months=False,
        actor=admin_actor(customer_world),
    )
    before = list(Order.objects.order_by("pk").values_list("pk", "content_hash", "updated_at"))
    before_facts = facts()
    # when: the ordering system sends every order again, the duplicate's under its old code
    report = order_sync_many(rows=rows, source=SOURCE, actor=Actor.system("erp"))
    # then
    assert (report.created, report.updated, report.unchanged) == (0, 0, 3)
    after = list(Order.objects.order_by("pk").values_list("pk", "content_hash", "updated_at"))
    assert after == before
    assert facts() == before_facts
    # and a new order under the old code is the survivor's
    product_code = rows[0]["lines"][0]["product_code"]
    report = order_sync_many(
        rows=[order_payload("D-3", duplicate.customer_code, [(product_code, 1, "230.00")])],
        source=SOURCE,
        actor=Actor.system("erp"),
    )
    assert report.created == 1
    assert Order.objects.get(external_id="D-3").customer_id == survivor.pk


def test_merge_is_refused_for_shared_months_under_different_managers_unless_confirmed(
    customer_world, product
):
    # given: two shops of different account managers, both with an October order
    w = customer_world
    a, b = w["c_th"], w["c_th2"]
    order_sync_many(
        rows=[
            order_payload("A-1", a, [(product, 2, "230.00")]),
            order_payload("B-1", b, [(product, 2, "230.00")]),
        ],
        source=SOURCE,
        actor=Actor.system("erp"),
    )
    # when / then: refused, naming the month, and nothing moved
    with pytest.raises(DomainError) as refused:
        customer_merge(survivor=a, merged=b, values={}, confirm_months=False, actor=admin_actor(w))
    assert "2026-10" in str(refused.value.message)
    assert "confirm_months" in refused.value.errors
    assert Customer.objects.filter(pk=b.pk).exists()
    assert Order.objects.get(external_id="B-1").customer_id == b.pk
    # confirmed: merged
    customer_merge(survivor=a, merged=b, values={}, confirm_months=True, actor=admin_actor(w))
    assert Order.objects.get(external_id="B-1").customer_id == a.pk
    assert MonthlySalesFact.objects.get(customer=a).cartons == 4


def test_only_administrators_merge(customer_world):
    w = customer_world
    with pytest.raises(DomainError):
        customer_merge(
            survivor=w["c_th"],
            merged=w["c_th2"],
            values={},
            confirm_months=True,
            actor=Actor.of(w["sup_th"], AuditSource.PAGE),
        )
    assert Customer.objects.filter(pk=w["c_th2"].pk).exists()


def test_merge_refuses_an_unknown_field_choice(customer_world):
    w = customer_world
    with pytest.raises(DomainError) as refused:
        customer_merge(
            survivor=w["c_th"],
            merged=w["c_th2"],
            values={"customer_code": "merged", "grade": "merged", "phone": "both"},
            confirm_months=True,
            actor=admin_actor(w),
        )
    assert set(refused.value.errors) == {"customer_code", "grade", "phone"}


def test_merge_is_audited_and_the_merged_history_reads_on_the_survivor(customer_world):
    # given: a change on the record to be merged
    w = customer_world
    survivor, merged = w["c_th"], w["c_th2"]
    customer_update(
        customer=merged, data={"address": "天河路 1 号"}, actor=admin_actor(w), reason="typo"
    )
    # when
    customer_merge(
        survivor=survivor,
        merged=merged,
        values={"address": "merged"},
        confirm_months=False,
        actor=admin_actor(w),
    )
    # then: the survivor's history holds its own rows, the merge, the field taken, and the
    # merged record's rows (its creation, its change, its deletion), as they were written
    history = list(customer_history(customer=survivor))
    by_record = {(e.object_id, e.action, e.field) for e in history}
    assert (str(merged.pk), AuditAction.CREATE, "") in by_record
    assert (str(merged.pk), AuditAction.UPDATE, "address") in by_record
    assert (str(merged.pk), AuditAction.DELETE, "") in by_record
    assert (str(survivor.pk), AuditAction.UPDATE, "address") in by_record
    [merge_row] = [e for e in history if e.field == "merged_from"]
    assert merge_row.new_value["customer_code"] == merged.customer_code
    assert merge_row.actor == w["admin"]


def test_a_customer_cannot_be_created_under_a_merged_code(customer_world, pair):
    w = customer_world
    survivor, duplicate, _rows = pair
    code = duplicate.customer_code
    customer_merge(
        survivor=survivor, merged=duplicate, values={}, confirm_months=False, actor=admin_actor(w)
    )
    with pytest.raises(DomainError) as refused:
        make_customer(survivor.area, customer_code=code, license_number="990100009999")
    assert survivor.customer_code in str(refused.value.errors["customer_code"][0])
    assert Customer.objects.filter(customer_code=code).count() == 0


def test_customers_sync_refuses_a_merged_code(customer_world, pair):
    w = customer_world
    survivor, duplicate, _rows = pair
    customer_merge(
        survivor=survivor, merged=duplicate, values={}, confirm_months=False, actor=admin_actor(w)
    )
    api, _user = integration_client()
    response = api.post(
        reverse("customers_api:customer_sync"),
        {
            "customers": [
                {
                    "customer_code": duplicate.customer_code,
                    "store_name": "又一家",
                    "license_number": "990100009998",
                    "business_format": "Z",
                    "market_type": "C",
                    "area": survivor.area.code,
                }
            ]
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["created"] == 0
    [error] = body["errors"]
    assert survivor.customer_code in error["errors"]["customer_code"][0]


# --- finding the survivor by the merged code ----------------------------------------------


@pytest.fixture
def merged_code(customer_world, pair):
    survivor, duplicate, _rows = pair
    customer_merge(
        survivor=survivor,
        merged=duplicate,
        values={},
        confirm_months=False,
        actor=admin_actor(customer_world),
    )
    return duplicate.customer_code


def test_customer_page_by_a_merged_code_redirects_to_the_survivor(
    client, customer_world, merged_code
):
    client.force_login(customer_world["am_th"])
    response = client.get(reverse("customers:detail", args=[merged_code]) + "?tab=sales")
    assert response.status_code == 301
    survivor = customer_world["c_th"].customer_code
    assert response["Location"] == reverse("customers:detail", args=[survivor]) + "?tab=sales"


def test_customer_page_by_a_merged_code_is_404_out_of_scope(client, customer_world, merged_code):
    client.force_login(customer_world["am_yx"])
    response = client.get(reverse("customers:detail", args=[merged_code]))
    assert response.status_code == 404


def test_customer_list_search_finds_the_survivor_by_a_merged_code(
    client, customer_world, merged_code
):
    client.force_login(customer_world["sup_th"])
    response = client.get(reverse("customers:list"), {"q": merged_code})
    assert response.status_code == 200
    assert [c.pk for c in response.context["customers"]] == [customer_world["c_th"].pk]


def test_api_customer_detail_by_a_merged_code_answers_the_survivor(customer_world, merged_code):
    api = APIClient()
    api.force_authenticate(customer_world["sup_th"])
    response = api.get(reverse("customers_api:customer_detail", args=[merged_code]))
    assert response.status_code == 200
    assert response.json()["customer_code"] == customer_world["c_th"].customer_code


def test_audit_rows_of_the_merged_orders_name_their_move(customer_world, pair):
    survivor, duplicate, _rows = pair
    customer_merge(
        survivor=survivor,
        merged=duplicate,
        values={},
        confirm_months=False,
        actor=admin_actor(customer_world),
    )
    rows = AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Order), field="customer"
    )
    assert sorted((e.object_repr, e.old_value, e.new_value) for e in rows) == [
        ("D-1", duplicate.pk, survivor.pk),
        ("D-2", duplicate.pk, survivor.pk),
    ]


def test_a_monthly_result_both_records_have_keeps_the_survivors(customer_world):
    # given: an assessment of each record for October, and the merged one's for September
    w = customer_world
    survivor, merged = w["c_th"], w["c_th2"]
    october, september = dt.date(2026, 10, 1), dt.date(2026, 9, 1)
    GradeAssessment.objects.create(customer=survivor, month=october, score=70)
    GradeAssessment.objects.create(customer=merged, month=october, score=20)
    GradeAssessment.objects.create(customer=merged, month=september, score=40)
    # when
    customer_merge(
        survivor=survivor, merged=merged, values={}, confirm_months=False, actor=admin_actor(w)
    )
    # then
    assert sorted(
        GradeAssessment.objects.filter(customer=survivor).values_list("month", "score")
    ) == [(september, 40), (october, 70)]


# --- the merge page -----------------------------------------------------------------------


def test_merge_page_is_for_administrators_only(client, customer_world):
    for role in ("sup_th", "am_th", "lo_th"):
        client.force_login(customer_world[role])
        assert client.get(reverse("customers:merge")).status_code == 403
        assert client.post(reverse("customers:merge"), {"a": "1", "b": "2"}).status_code == 403


def test_merge_page_compares_the_two_records_without_a_query_per_field(
    client, customer_world, pair, django_assert_num_queries
):
    # given
    survivor, duplicate, _rows = pair
    client.force_login(customer_world["admin"])
    url = reverse("customers:merge")
    client.get(url)  # warm up (the form alone)
    # when: prefilled from ?a=&b=: session, user, the two records with their parts, a count
    # per kind of row that moves (17), unread notifications — none per field (~45 compared)
    with django_assert_num_queries(23):
        response = client.get(url, {"a": survivor.customer_code, "b": duplicate.customer_code})
    # then: each differing field has a radio per side, the survivor's chosen
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="pick_store_name" id="pick_store_name_s" value="survivor" checked' in body
    assert 'id="pick_store_name_m" value="merged">' in body
    assert "天河一号店（重复）" in body
    moves = dict(response.context["preview"].moves)
    assert moves[str(Order._meta.verbose_name_plural).capitalize()] == 2
    assert response.context["preview"].months == []  # one account manager: nothing to confirm


def test_merge_page_merges_with_the_chosen_values_and_goes_to_the_survivor(
    client, customer_world, pair
):
    survivor, duplicate, _rows = pair
    client.force_login(customer_world["admin"])
    response = client.post(
        reverse("customers:merge"),
        {
            "a": survivor.customer_code,
            "b": duplicate.customer_code,
            "pick_store_name": "merged",
            "pick_license_number": "survivor",
            "merge": "1",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:detail", args=[survivor.customer_code])
    survivor.refresh_from_db()
    assert survivor.store_name == "天河一号店（重复）"
    assert CustomerAlias.objects.get(code=duplicate.customer_code).customer == survivor
    followed = client.get(response["Location"])
    assert duplicate.customer_code in " ".join(str(m) for m in followed.context["messages"])


def test_merge_page_asks_to_confirm_shared_months(client, customer_world, product):
    w = customer_world
    a, b = w["c_th"], w["c_th2"]
    order_sync_many(
        rows=[
            order_payload("A-1", a, [(product, 2, "230.00")]),
            order_payload("B-1", b, [(product, 2, "230.00")]),
        ],
        source=SOURCE,
        actor=Actor.system("erp"),
    )
    client.force_login(w["admin"])
    url = reverse("customers:merge")
    codes = {"a": a.customer_code, "b": b.customer_code}
    shown = client.get(url, codes)
    assert 'name="confirm_months"' in shown.content.decode()
    # unconfirmed: refused on the page, nothing merged
    refused = client.post(url, {**codes, "merge": "1"})
    assert refused.status_code == 200
    assert "2026-10" in refused.context["error"]
    assert Customer.objects.filter(pk=b.pk).exists()
    # confirmed: merged
    done = client.post(url, {**codes, "merge": "1", "confirm_months": "1"})
    assert done.status_code == 302
    assert not Customer.objects.filter(pk=b.pk).exists()


def test_merge_page_names_an_unknown_code(client, customer_world):
    client.force_login(customer_world["admin"])
    response = client.get(
        reverse("customers:merge"), {"a": customer_world["c_th"].customer_code, "b": "440199999999"}
    )
    assert response.status_code == 200
    assert response.context["preview"] is None
    assert response.context["pick"].errors["b"]


def test_customer_page_links_administrators_to_the_merge(client, customer_world):
    code = customer_world["c_th"].customer_code
    client.force_login(customer_world["admin"])
    body = client.get(reverse("customers:detail", args=[code])).content.decode()
    assert f"{reverse('customers:merge')}?a={code}" in body
    client.force_login(customer_world["sup_th"])
    body = client.get(reverse("customers:detail", args=[code])).content.decode()
    assert reverse("customers:merge") not in body


def test_a_row_no_step_moves_stops_the_whole_merge(customer_world, monkeypatch):
    # given: a service request (customers PROTECT them) and no step that moves it
    w = customer_world
    survivor, merged = w["c_th"], w["c_th2"]
    raise_request(merged, w["am_th2"])
    registry = {k: v for k, v in merging._REGISTRY.items() if k != "services"}
    monkeypatch.setattr(merging, "_REGISTRY", registry)
    order_count = Order.objects.count()
    # when / then: refused, and nothing of it is kept
    with pytest.raises(DomainError) as refused:
        customer_merge(
            survivor=survivor, merged=merged, values={}, confirm_months=True, actor=admin_actor(w)
        )
    assert merged.customer_code in refused.value.message
    assert Customer.objects.filter(pk=merged.pk).exists()
    assert not CustomerAlias.objects.exists()
    assert Order.objects.count() == order_count


def test_the_survivors_history_tab_shows_the_merged_records_rows(client, customer_world):
    w = customer_world
    survivor, merged = w["c_th"], w["c_th2"]
    customer_merge(
        survivor=survivor, merged=merged, values={}, confirm_months=False, actor=admin_actor(w)
    )
    client.force_login(w["sup_th"])
    response = client.get(
        reverse("customers:tab", args=[survivor.customer_code, "history"]), HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert f"Merged record {merged.customer_code} (天河二号店) into this one." in body
    assert f"Merged record {merged}" in body  # the badge on the merged record's own rows
    assert "Deleted the record." in body
    assert "merged_from" not in body
