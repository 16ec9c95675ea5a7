"""Customer imports refuse what would exhaust the server before parsing it (issue 18: a 0.67 MB
XLSX holding 2 M rows took 80 s and 2 GB; a 68 KB file produced a 56 MB report page):

- the uncompressed size (a CSV's bytes; an XLSX's members, from the zip's directory) and each
  XLSX member's compression ratio, checked before the workbook is opened;
- the number of rows, counted while streaming: reading stops one row past the limit;
- the report page is paged, with the counts per outcome and a filter by outcome.

The bombs here are small (a few MB of repeated XML compressed to a few KB), so the tests stay
fast; the limits are lowered with override_settings where a test needs a large file.
"""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import translation
from openpyxl import Workbook

from crm.exceptions import DomainError
from customers.imports import customer_import_check
from customers.io import read_table
from customers.models import CustomerImport
from tests.crm.upload_files import upload

SHEET = "xl/worksheets/sheet1.xml"
SHEET_START = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    b'<row r="1"><c r="A1" t="inlineStr"><is><t>customer_code</t></is></c></row>'
)
SHEET_END = b"</sheetData></worksheet>"


def _row(number: int, code: str) -> bytes:
    cell = f'<c r="A{number}" t="inlineStr"><is><t>{code}</t></is></c>'
    return f'<row r="{number}">{cell}</row>'.encode()


def _xlsx(sheet_xml: bytes, *, extra_members: int = 0) -> bytes:
    """A workbook openpyxl reads, whose first sheet is `sheet_xml` (compressed as hard as zip
    can: the way a bomb is made)."""
    template = io.BytesIO()
    book = Workbook()
    book.active.append(["customer_code"])
    book.save(template)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(template) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target,
    ):
        for member in source.infolist():
            data = sheet_xml if member.filename == SHEET else source.read(member)
            target.writestr(member.filename, data)
        for n in range(extra_members):
            target.writestr(f"customXml/item{n}.xml", b"<x/>")
    return out.getvalue()


def _bomb(rows: int) -> bytes:
    """`rows` identical rows: megabytes of XML that compress hundreds of times."""
    body = b'<row><c t="inlineStr"><is><t>440100000001</t></is></c></row>' * rows
    return _xlsx(SHEET_START + body + SHEET_END)


def _codes_xlsx(rows: int, *, then: bytes = b"") -> bytes:
    """A sheet of `rows` distinct customer codes (compressing like a real sheet), then `then`."""
    body = b"".join(_row(n, f"4401{n:08d}") for n in range(2, rows + 2))
    return _xlsx(SHEET_START + body + then + (SHEET_END if not then else b""))


def _csv(rows: int) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["customer_code", "store_name"])
    writer.writerows([f"4401{n:08d}", f"店{n}"] for n in range(rows))
    return buffer.getvalue().encode()


def _refusal(data: bytes, name: str) -> str:
    with pytest.raises(DomainError) as refused:
        read_table(io.BytesIO(data), name)
    assert list(refused.value.errors) == ["file"]
    return refused.value.message


# --- before parsing ----------------------------------------------------------------------


def test_a_zip_bomb_is_refused_by_its_compression_ratio():
    # given 200,000 rows in a file of a few KB (the bomb, smaller)
    data = _bomb(200_000)
    assert len(data) < 100_000

    # then
    message = _refusal(data, "customers.xlsx")
    assert "xl/worksheets/sheet1.xml" in message
    assert "more than 100 times is refused" in message


@override_settings(CRM_IMPORT_MAX_MB=1)
def test_an_xlsx_over_the_uncompressed_limit_is_refused():
    # 40,000 distinct codes: about 2.6 MB of XML compressing like a real sheet (well under 100x)
    data = _codes_xlsx(40_000)

    message = _refusal(data, "customers.xlsx")

    assert message == "The file holds more than 1 MB of data, the most one import takes."


@override_settings(CRM_IMPORT_MAX_MB=1)
def test_a_csv_over_the_size_limit_is_refused():
    message = _refusal(_csv(60_000), "customers.csv")

    assert message == "The file holds more than 1 MB of data, the most one import takes."


def test_a_zip_of_thousands_of_parts_is_refused():
    message = _refusal(_xlsx(SHEET_START + SHEET_END, extra_members=1_000), "customers.xlsx")

    assert message.startswith("The workbook holds 1009 parts")


# --- while streaming ---------------------------------------------------------------------


@override_settings(CRM_IMPORT_MAX_ROWS=100)
def test_rows_over_the_limit_are_refused_and_reading_stops_there():
    # given 5,000 rows followed by XML that cannot be parsed: reading to the end would fail
    # with a parse error, so the row limit's message shows that the reading stopped early
    data = _codes_xlsx(5_000, then=b"<row><c><v>broken")

    message = _refusal(data, "customers.xlsx")

    assert message == "The file has more than 100 rows, the most one import takes: split it."


@override_settings(CRM_IMPORT_MAX_ROWS=100)
def test_the_row_limit_counts_empty_rows_and_applies_to_csv():
    assert _refusal(_csv(101), "customers.csv").startswith("The file has more than 100 rows")
    empty_rows = b"".join(f'<row r="{n}"/>'.encode() for n in range(2, 200))
    assert _refusal(_xlsx(SHEET_START + empty_rows + SHEET_END), "customers.xlsx").startswith(
        "The file has more than 100 rows"
    )


@override_settings(CRM_IMPORT_MAX_ROWS=100)
def test_a_row_numbered_past_the_limit_counts_the_empty_rows_before_it():
    # openpyxl would hand out 999,999 empty rows before this one
    data = _xlsx(SHEET_START + _row(1_000_000, "440100000001") + SHEET_END)

    assert _refusal(data, "customers.xlsx").startswith("The file has more than 100 rows")


def test_cells_past_the_512th_column_are_not_read():
    # A sheet claiming 16,384 columns: openpyxl would make every row that wide. A value far
    # right is not read (it would otherwise be refused as data without a header).
    far = '<c r="WB2" t="inlineStr"><is><t>far</t></is></c>'
    sheet = SHEET_START.replace(b"<sheetData>", b'<dimension ref="A1:XFD2"/><sheetData>', 1)
    sheet += (
        f'<row r="2"><c r="A2" t="inlineStr"><is><t>440100000001</t></is></c>{far}</row>'.encode()
    )

    table = read_table(io.BytesIO(_xlsx(sheet + SHEET_END)), "customers.xlsx")

    assert table.rows == [{"customer_code": "440100000001"}]


def test_a_document_type_declaration_is_refused():
    sheet = SHEET_START.replace(
        b"<worksheet", b'<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa">]><worksheet', 1
    )

    message = _refusal(_xlsx(sheet + SHEET_END), "customers.xlsx")

    assert message == (
        "The workbook holds a document type declaration, which spreadsheets never do."
    )


@override_settings(CRM_IMPORT_MAX_ROWS=100)
def test_a_file_at_the_limit_is_read():
    assert len(read_table(io.BytesIO(_csv(100)), "customers.csv").rows) == 100
    assert len(read_table(io.BytesIO(_codes_xlsx(100)), "customers.xlsx").rows) == 100


# --- the page, the service and the command -----------------------------------------------


def test_the_import_page_refuses_a_bomb_at_once_and_keeps_nothing(client, customer_world):
    client.force_login(customer_world["admin"])

    response = client.post(
        reverse("customers:import"), {"file": upload(_bomb(200_000), "customers.xlsx")}
    )

    assert response.status_code == 200
    assert "more than 100 times is refused" in response.context["form"].errors["file"][0]
    assert not CustomerImport.objects.exists()


@override_settings(CRM_IMPORT_MAX_ROWS=100)
def test_a_file_over_the_row_limit_fails_its_check_with_the_limit_named(
    client, customer_world, django_capture_on_commit_callbacks
):
    client.force_login(customer_world["admin"])

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("customers:import"), {"file": upload(_csv(500), "customers.csv")}
        )

    customer_import = CustomerImport.objects.get()
    assert customer_import.status == "failed"
    page = client.get(response["Location"]).content.decode()
    assert "The file has more than 100 rows, the most one import takes: split it." in page
    with pytest.raises(DomainError, match="more than 100 rows"):
        customer_import_check(
            uploaded_file=upload(_csv(500), "customers.csv"), user=customer_world["admin"]
        )


@override_settings(CRM_IMPORT_MAX_ROWS=100)
def test_why_a_check_failed_is_stored_as_a_key_and_read_in_the_readers_language(
    client, customer_world, django_capture_on_commit_callbacks
):
    client.force_login(customer_world["admin"])
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("customers:import"),
            {"file": upload(_csv(500), "customers.csv")},
            HTTP_ACCEPT_LANGUAGE="en",
        )

    customer_import = CustomerImport.objects.get()
    assert customer_import.report["error"] == {
        "$text": "customers.import.file.too_many_rows",
        "params": {"n": "100"},
    }
    with translation.override("en"):  # the middleware leaves the request's language active
        page = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "文件超过 100 行，超出单次导入的上限，请拆分后再导入。" in page
    assert "the most one import takes" not in page


def test_the_command_refuses_a_bomb_naming_the_limit(tmp_path, db):
    path = tmp_path / "customers.xlsx"
    path.write_bytes(_bomb(200_000))

    with pytest.raises(CommandError, match="more than 100 times is refused"):
        call_command("import_customers", str(path), "--dry-run")


# --- the report page ---------------------------------------------------------------------


@pytest.fixture
def checked_import(customer_world):
    """A checked import of 230 rows with a bad licence number, two updates, one unchanged."""
    rows = [["customer_code", "store_name", "license_number"]]
    rows += [[f"4401990{n:05d}", f"新店{n}", "123"] for n in range(230)]
    rows += [
        [customer_world["c_th"].customer_code, "天河一号店（新）", ""],
        [customer_world["c_th2"].customer_code, "天河二号店（新）", ""],
        [customer_world["c_yx"].customer_code, customer_world["c_yx"].store_name, ""],
    ]
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return customer_import_check(
        uploaded_file=upload(buffer.getvalue().encode(), "big.csv"), user=customer_world["admin"]
    )


def test_the_report_page_is_paged_with_counts_and_outcome_filters(
    client, customer_world, checked_import
):
    client.force_login(customer_world["admin"])
    url = reverse("customers:import_detail", args=[checked_import.pk])

    first = client.get(url)
    errors_last_page = client.get(url + "?outcome=error&page=3")
    updates = client.get(url + "?outcome=updated")

    html = first.content.decode()
    assert len(first.context["rows"]) == 100
    assert "Page 1 of 3" in html
    assert 'data-testid="import-filters"' in html
    assert [(value, count) for value, _label, count in first.context["filters"]] == [
        ("", 233),
        ("error", 230),
        ("warning", 0),
        ("created", 0),
        ("updated", 2),
        ("unchanged", 1),
    ]
    assert "outcome=error&amp;page=2" in errors_last_page.content.decode()
    assert len(errors_last_page.context["rows"]) == 30
    assert {row["outcome"] for row in errors_last_page.context["rows"]} == {"error"}
    assert len(updates.context["rows"]) == 2
    assert {row["outcome"] for row in updates.context["rows"]} == {"updated"}
