"""Customer exports: an export read back and re-imported changes nothing."""

import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from customers.io import customer_rows, export_columns, read_rows, write_csv, write_xlsx
from customers.models import CustomerSystem
from customers.selectors import customer_list
from customers.services import customer_upsert_many
from tests.customers.factories import make_customer


@pytest.fixture
def exported(customer_world, areas):
    """The customer world plus one customer with every kind of value filled in."""
    full = make_customer(
        areas["TH"],
        customer_world["am_th"],
        store_name='=HYPERLINK("http://x")',
        legal_representative="张三",
        address="天河路 100 号",
        business_scope="-卷烟零售",
        registered_capital="500000",
        floor_area_m2="35.5",
        premises="rented",
        license_type="retail",
        license_officer="lo_th",
        license_issue_date="2021-05-01",
        license_expiry_date="2026-04-30",
        is_monitored="true",
        phone="+86 138 0000 0009",
        contact_person="李四",
        payment_method="electronic",
        order_frequency="4",
        latitude="23.135210",
        longitude="113.327100",
        credit_rating="AA",
        status="suspended",
    )
    # System-generated figures are exported but never imported.
    CustomerSystem.objects.filter(pk=full.pk).update(grade=12, purchase_amount="1234.50")
    return customer_list(user=customer_world["admin"])


def _reimport(rows, system_actor):
    return customer_upsert_many(rows=rows, actor=system_actor, dry_run=True)


def test_csv_export_reimports_unchanged(exported, system_actor):
    columns = export_columns()

    data = b"".join(write_csv(customer_rows(exported, columns), columns))
    rows = read_rows(io.BytesIO(data), "customers.csv")

    assert data.startswith(b"\xef\xbb\xbfcustomer_code,store_name,")
    assert len(rows) == 4
    full = next(row for row in rows if row["store_name"].startswith("="))
    assert full["phone"] == "+86 138 0000 0009"
    assert full["is_monitored"] == "true"
    assert full["license_officer"] == "lo_th"
    assert "grade" not in full
    # Text Excel would run as a formula is escaped in the file, and read back as it was.
    assert b"'=HYPERLINK" in data
    assert full["store_name"] == '=HYPERLINK("http://x")'
    assert full["business_scope"] == "-卷烟零售"
    report = _reimport(rows, system_actor)
    assert report.counts() == {"created": 0, "updated": 0, "unchanged": 4, "errors": 0}


def test_xlsx_export_reimports_unchanged(exported, system_actor):
    columns = export_columns()

    data = write_xlsx(customer_rows(exported, columns), columns)
    rows = read_rows(io.BytesIO(data), "customers.xlsx")

    assert len(rows) == 4
    report = _reimport(rows, system_actor)
    assert report.counts() == {"created": 0, "updated": 0, "unchanged": 4, "errors": 0}


def test_xlsx_export_types_its_cells(exported):
    columns = export_columns()

    data = write_xlsx(customer_rows(exported.filter(dynamic__status="suspended"), columns), columns)

    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    header, row = (list(r) for r in sheet.iter_rows(values_only=True))
    values = dict(zip(header, row, strict=True))
    assert header == columns
    assert isinstance(values["customer_code"], str) and len(values["customer_code"]) == 12
    assert values["license_issue_date"] == dt.datetime(2021, 5, 1)  # noqa: DTZ001 (Excel is naive)
    assert values["registered_capital"] == 500000
    assert values["grade"] == 12
    assert values["is_monitored"] is True
    # Text starting with "=" stays text, never a formula.
    assert values["store_name"] == '=HYPERLINK("http://x")'
    assert sheet["B2"].data_type == "s"


def test_export_rows_take_one_query(exported, django_assert_num_queries):
    columns = export_columns()

    with django_assert_num_queries(1):
        rows = list(customer_rows(exported, columns))

    assert len(rows) == 4
    assert all(len(row) == len(columns) for row in rows)
