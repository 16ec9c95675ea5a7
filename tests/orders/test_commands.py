"""The order commands: import_orders (backfill from CSV) and rebuild_sales_facts; the
order settings service; the OpenAPI description of the new endpoints."""

from __future__ import annotations

import csv
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.test import APIClient

from crm.choices import AuditSource, Role
from crm.exceptions import DomainError
from crm.models import AuditEntry
from crm.schedules import BEAT_SCHEDULE
from crm.services import Actor, api_client_create
from orders.models import (
    MonthlySalesFact,
    Order,
    OrderLine,
    OrdersConfig,
    Product,
    SalesFactPending,
)
from orders.services import orders_config_update
from orders.tasks import sales_facts_pending_drain_task
from tests.customers.factories import make_customer
from tests.orders.factories import facts_rebuilt, facts_snapshot, make_product

HEADER = [
    "external_id",
    "customer_code",
    "order_date",
    "status",
    "payment_method",
    "paid_on_time",
    "product_code",
    "quantity",
    "unit_price",
]


@pytest.fixture
def shop(areas):
    return make_customer(areas["TH"], customer_code="440100000001")


@pytest.fixture
def products(db):
    return {
        "A": make_product("A", "230.00", is_key_brand=True),  # class 1
        "B": make_product("B", "50.00"),  # class 3
    }


def write_csv(tmp_path, rows, header=HEADER):
    path = tmp_path / "orders.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def run(*args):
    out, err = StringIO(), StringIO()
    call_command("import_orders", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


GOOD = [
    # file rows 2-4: SO-1 has two lines, SO-2 one
    ["SO-1", "440100000001", "2026-10-05", "delivered", "electronic", "true", "A", "5", "230.00"],
    ["SO-1", "440100000001", "2026-10-05", "delivered", "electronic", "true", "B", "10", "50"],
    ["SO-2", "440100000001", "2026-09-28", "delivered", "cash", "", "A", "1", "230"],
]


def test_import_orders_stores_orders_lines_and_facts_and_a_second_run_changes_nothing(
    tmp_path, shop, products
):
    # given
    path = write_csv(tmp_path, GOOD)
    # when
    out, err = run(str(path), "--source", "erp")
    # then
    assert "2 orders created, 0 updated, 0 unchanged, 0 refused; 3 lines" in out
    assert err == ""
    so1 = Order.objects.get(source="erp", external_id="SO-1")
    assert (so1.cartons, so1.amount, so1.line_count, so1.paid_on_time) == (
        15,
        Decimal("1650.00"),
        2,
        True,
    )
    october = MonthlySalesFact.objects.get(customer=shop, month="2026-10-01")
    assert (october.cartons, october.class_1_cartons, october.class_3_cartons) == (15, 5, 10)
    assert october.key_brand_cartons == 5
    assert MonthlySalesFact.objects.get(customer=shop, month="2026-09-01").amount == 230
    line_ids = sorted(OrderLine.objects.values_list("id", flat=True))

    out, err = run(str(path), "--source", "erp")
    assert "0 orders created, 0 updated, 2 unchanged, 0 refused" in out
    assert sorted(OrderLine.objects.values_list("id", flat=True)) == line_ids


def test_import_orders_reports_bad_orders_by_file_row_and_stores_the_others(
    tmp_path, shop, products
):
    rows = [
        *GOOD,
        # row 5-6: second line has quantity 0 -> the whole order SO-3 is refused
        ["SO-3", "440100000001", "2026-10-06", "delivered", "cash", "", "A", "2", "230"],
        ["SO-3", "440100000001", "2026-10-06", "delivered", "cash", "", "B", "0", "50"],
        # row 7: unknown customer
        ["SO-4", "nobody", "2026-10-06", "delivered", "cash", "", "A", "2", "230"],
        # row 8: SO-1 again, after other orders: its rows are not consecutive
        ["SO-1", "440100000001", "2026-10-05", "delivered", "electronic", "true", "B", "1", "50"],
        # rows 9-10: the same order with two dates
        ["SO-5", "440100000001", "2026-10-07", "delivered", "cash", "", "A", "1", "230"],
        ["SO-5", "440100000001", "2026-10-08", "delivered", "cash", "", "B", "1", "50"],
    ]
    out, err = run(str(write_csv(tmp_path, rows)), "--source", "erp")

    assert "2 orders created, 0 updated, 0 unchanged, 4 refused" in out
    assert "row 6, order SO-3, lines.1.quantity: Must be more than 0 cartons." in err
    assert "row 7, order SO-4, customer_code:" in err
    assert "row 8, order SO-1, external_id:" in err
    assert "row 9, order SO-5, order_date: Row 10 gives another order_date" in err
    assert set(Order.objects.values_list("external_id", flat=True)) == {"SO-1", "SO-2"}
    assert Order.objects.get(external_id="SO-1").line_count == 2


def test_import_orders_dry_run_counts_and_writes_nothing(tmp_path, shop, products):
    out, _err = run(str(write_csv(tmp_path, GOOD)), "--source", "erp", "--dry-run")
    assert out.startswith("Dry run (nothing written): 2 orders created")
    assert not Order.objects.exists()
    assert not MonthlySalesFact.objects.exists()


class Killed(BaseException):
    """Stands for the process being killed: nothing after it runs (not even `except
    Exception` handlers)."""


def stop_after_batches(monkeypatch, batches: int) -> None:
    """The import is killed once `batches` batches are stored (committed)."""
    from orders.management.commands import import_orders

    real, stored = import_orders.order_sync_many, []

    def sync(**kwargs):
        report = real(**kwargs)
        stored.append(report)
        if len(stored) == batches:
            raise Killed
        return report

    monkeypatch.setattr(import_orders, "order_sync_many", sync)


def test_an_import_killed_between_batches_and_run_again_leaves_every_fact_right(
    tmp_path, shop, products, monkeypatch
):
    # given an import killed once its first batch (SO-1, October) is stored
    path = write_csv(tmp_path, GOOD)
    with monkeypatch.context() as patch:
        stop_after_batches(patch, 1)
        with pytest.raises(Killed):
            run(str(path), "--source", "erp", "--batch-size", "1")
    assert Order.objects.filter(external_id="SO-1").exists()
    # when it is run again: SO-1 is unchanged now, SO-2 is new
    out, _err = run(str(path), "--source", "erp", "--batch-size", "1")
    # then October's facts are there too, exactly as a rebuild from the orders makes them
    assert "1 orders created, 0 updated, 1 unchanged" in out
    assert "facts of 2 customer-months refreshed" in out
    assert MonthlySalesFact.objects.get(customer=shop, month="2026-10-01").cartons == 15
    assert facts_snapshot() == facts_rebuilt()
    assert not SalesFactPending.objects.exists()


def test_facts_a_killed_import_left_stale_are_refreshed_by_the_periodic_drain(
    tmp_path, shop, products, monkeypatch
):
    # given an import killed after its first batch and never run again
    with monkeypatch.context() as patch:
        stop_after_batches(patch, 1)
        with pytest.raises(Killed):
            run(str(write_csv(tmp_path, GOOD)), "--source", "erp", "--batch-size", "1")
    assert not MonthlySalesFact.objects.exists()
    # when the scheduled drain runs
    [entry] = [e for e in BEAT_SCHEDULE.values() if e["task"].endswith("pending_drain_task")]
    assert sales_facts_pending_drain_task.delay().get() == 1
    # then the stored order's facts are right and nothing is left to refresh
    assert entry["task"] == sales_facts_pending_drain_task.name
    assert MonthlySalesFact.objects.get(customer=shop, month="2026-10-01").cartons == 15
    assert facts_snapshot() == facts_rebuilt()
    assert not SalesFactPending.objects.exists()
    assert sales_facts_pending_drain_task.delay().get() == 0


def test_a_rebuild_forgets_the_pending_facts_it_rebuilt(tmp_path, shop, products, monkeypatch):
    with monkeypatch.context() as patch:
        stop_after_batches(patch, 1)
        with pytest.raises(Killed):
            run(str(write_csv(tmp_path, GOOD)), "--source", "erp", "--batch-size", "1")
    call_command("rebuild_sales_facts", "--customer", shop.customer_code, stdout=StringIO())
    assert not SalesFactPending.objects.exists()
    assert facts_snapshot() == facts_rebuilt()


def test_import_orders_source_defaults_to_the_only_integration_client(
    tmp_path, shop, products, system_actor
):
    path = write_csv(tmp_path, GOOD)
    with pytest.raises(CommandError, match="--source"):
        run(str(path))  # no integration client yet

    api_client_create(name="ordering", actor=system_actor)
    run(str(path))
    assert set(Order.objects.values_list("source", flat=True)) == {"ordering"}

    api_client_create(name="another", actor=system_actor)
    with pytest.raises(CommandError, match="--source"):
        run(str(path))  # two clients: which one is meant?


def test_import_orders_refuses_a_file_without_the_required_columns(tmp_path, db):
    path = write_csv(tmp_path, [["SO-1", "x"]], header=["external_id", "customer_code"])
    with pytest.raises(CommandError, match="no column order_date, status"):
        run(str(path), "--source", "erp")
    with pytest.raises(CommandError, match="Cannot read"):
        run(str(tmp_path / "missing.csv"), "--source", "erp")


def test_rebuild_sales_facts_restores_facts_and_purchase_figures(tmp_path, shop, products):
    run(str(write_csv(tmp_path, GOOD)), "--source", "erp")
    expected = list(MonthlySalesFact.objects.order_by("month").values())
    MonthlySalesFact.objects.all().delete()
    MonthlySalesFact.objects.create(
        customer=shop,
        month="2020-01-01",
        cartons=1,
        amount=1,
        orders=1,
        lines=1,
        class_1_cartons=1,
        class_2_cartons=0,
        class_3_cartons=0,
        class_4_cartons=0,
        class_5_cartons=0,
        key_brand_cartons=0,
        new_product_cartons=0,
        low_tar_cartons=0,
        electronic_orders=0,
        electronic_amount=0,
        first_order_date="2020-01-01",
        last_order_date="2020-01-01",
    )
    out = StringIO()
    call_command("rebuild_sales_facts", "--customer", shop.customer_code, stdout=out)

    assert "2 monthly sales facts rebuilt" in out.getvalue()
    rebuilt = list(MonthlySalesFact.objects.order_by("month").values())
    assert [{**row, "id": None} for row in rebuilt] == [{**row, "id": None} for row in expected]
    with pytest.raises(CommandError, match="No customer has the code nope"):
        call_command("rebuild_sales_facts", "--customer", "nope", stdout=out)


# --- order settings ----------------------------------------------------------------------


def test_order_settings_refuse_bands_out_of_order_and_keep_the_old_ones(db):
    actor = Actor.system("tests", AuditSource.PAGE)
    with pytest.raises(DomainError) as raised:
        orders_config_update(data={"class_2_min": "200", "purchase_window_months": 0}, actor=actor)
    assert set(raised.value.errors) == {"purchase_window_months"}
    with pytest.raises(DomainError) as raised:
        orders_config_update(data={"class_2_min": "200"}, actor=actor)
    assert raised.value.errors == {"class_2_min": ["Must be below the start of class 1 (130.00)."]}
    assert OrdersConfig.current().class_2_min == Decimal("90.00")


def test_order_settings_reclassify_products_and_rebuild_facts(
    shop, products, django_capture_on_commit_callbacks
):
    # given: A (230) is class 1 and B (50) class 3; an order of 10 B cartons
    api = APIClient()
    _client, token = api_client_create(name="erp", actor=Actor.system("t", AuditSource.COMMAND))
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    api.post(
        reverse("orders_api:order_sync"),
        {
            "orders": [
                {
                    "external_id": "SO-1",
                    "customer_code": shop.customer_code,
                    "order_date": "2026-10-05",
                    "status": "delivered",
                    "payment_method": "cash",
                    "lines": [{"product_code": "B", "quantity": 10, "unit_price": "50"}],
                }
            ]
        },
        format="json",
    )
    assert MonthlySalesFact.objects.get().class_3_cartons == 10
    # when: class 2 starts at 45, so B (50) moves up to class 2
    with django_capture_on_commit_callbacks(execute=True):
        orders_config_update(
            data={"class_2_min": "45", "class_3_min": "30", "class_4_min": "20"},
            actor=Actor.system("tests", AuditSource.PAGE),
        )
    # then
    assert Product.objects.get(code="B").price_class == 2
    fact = MonthlySalesFact.objects.get()
    assert (fact.class_2_cartons, fact.class_3_cartons) == (10, 0)
    changed = set(
        AuditEntry.objects.filter(object_id="1", field__startswith="class_").values_list(
            "field", flat=True
        )
    )
    assert changed == {"class_2_min", "class_3_min", "class_4_min"}


# --- schema ------------------------------------------------------------------------------


def test_openapi_schema_documents_the_order_endpoints_with_examples(make_user):
    api = APIClient()
    api.force_login(make_user(Role.ADMINISTRATOR))
    schema = api.get(reverse("api:schema"), {"format": "json"}).json()

    for path in ("/api/v1/orders/", "/api/v1/products/"):
        assert "get" in schema["paths"][path]
    for path, body in (
        ("/api/v1/orders/sync/", "OrderSyncRequest"),
        ("/api/v1/products/sync/", "ProductSyncRequest"),
    ):
        post = schema["paths"][path]["post"]
        content = post["requestBody"]["content"]["application/json"]
        assert content["schema"]["$ref"].endswith(body)
        assert content["examples"]
        assert {"200", "400", "403", "409", "413"} <= set(post["responses"])
        assert any(p["name"] == "Idempotency-Key" for p in post["parameters"])
    item = schema["components"]["schemas"]["OrderSyncItem"]
    assert {"external_id", "customer_code", "order_date", "status", "lines"} <= set(
        item["required"]
    )
