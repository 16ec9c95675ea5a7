"""Customer imports: reading files, the checked report, applying, and the command."""

import csv
import datetime as dt
import io
import json

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db.models import DateField
from django.urls import reverse
from django.utils import translation
from openpyxl import Workbook

from crm.choices import AuditSource
from crm.exceptions import DomainError
from crm.models import AuditEntry
from crm.stored_text import display
from customers.choices import ImportStatus
from customers.imports import customer_import_apply, customer_import_check
from customers.io import read_rows, read_table
from customers.models import Customer, CustomerImport
from tests.customers.factories import make_customer

NEW = {
    "customer_code": "440199000001",
    "store_name": "新开便利店",
    "license_number": "990199000001",
    "business_format": "B",
    "market_type": "C",
    "area": "TH",
}


def _csv_bytes(header, rows, encoding="utf-8-sig"):
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def _csv_of(dicts):
    header = list(dict.fromkeys(name for row in dicts for name in row))
    return _csv_bytes(header, [[row.get(name, "") for name in header] for row in dicts])


def _upload(dicts, name="customers.csv"):
    return SimpleUploadedFile(name, _csv_of(dicts), content_type="text/csv")


def _customer_history(customer):
    return AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Customer), object_id=str(customer.pk)
    )


def _by_code(report):
    """The report's rows by code, their warnings as an English reader sees them."""
    with translation.override("en"):
        return {
            row["code"]: {**row, "warnings": [display(w) for w in row["warnings"]]}
            for row in report["rows"]
        }


def _report_page_in_chinese(client, customer_import, query=""):
    """The import's report page as a Chinese reader gets it."""
    with translation.override("en"):  # the middleware leaves the request's language active
        return client.get(
            reverse("customers:import_detail", args=[customer_import.pk]) + query,
            HTTP_ACCEPT_LANGUAGE="zh-hans",
        ).content.decode()


# --- reading -----------------------------------------------------------------------------


def test_read_csv_utf8_with_bom():
    data = _csv_bytes(["customer_code", "store_name"], [["440100000001", "天河一号店"]])
    assert data.startswith(b"\xef\xbb\xbf")

    rows = read_rows(io.BytesIO(data), "shops.csv")

    assert rows == [{"customer_code": "440100000001", "store_name": "天河一号店"}]


def test_read_csv_utf8_without_bom():
    data = _csv_bytes(["customer_code", "store_name"], [["440100000001", "越秀店"]], "utf-8")

    assert read_rows(io.BytesIO(data), "shops.CSV") == [
        {"customer_code": "440100000001", "store_name": "越秀店"}
    ]


def test_read_csv_falls_back_to_gb18030():
    # given: what Excel on a Chinese Windows saves, Chinese headers included
    data = _csv_bytes(
        ["客户编码", "店铺名称", "经营地址"],
        [["440100000001", "天河一号店", "天河路1号"]],
        "gb18030",
    )
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")

    rows = read_rows(io.BytesIO(data), "shops.csv")

    assert rows == [
        {"customer_code": "440100000001", "store_name": "天河一号店", "address": "天河路1号"}
    ]


def test_read_xlsx_keeps_codes_whole_and_dates_as_iso():
    # given: a workbook where Excel stored the code as a number and the dates as dates
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["客户编码", "Store name", "license_issue_date", "registered_capital", "latitude"])
    sheet.append([440100000001, "天河一号店", dt.date(2024, 3, 1), 50000.0, 23.125])
    sheet.append([None, None, None, None, None])
    # Excel cells hold naive date-times (no time zones in a workbook).
    sheet.append(["440100000002", "越秀店", dt.datetime(2023, 12, 31), 1500, None])  # noqa: DTZ001
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)

    table = read_table(buffer, "shops.xlsx")

    assert table.rows == [
        {
            "customer_code": "440100000001",
            "store_name": "天河一号店",
            "license_issue_date": "2024-03-01",
            "registered_capital": "50000",
            "latitude": "23.125",
        },
        {
            "customer_code": "440100000002",
            "store_name": "越秀店",
            "license_issue_date": "2023-12-31",
            "registered_capital": "1500",
        },
    ]
    assert table.row_numbers == [2, 4]


def test_headers_may_be_names_english_labels_or_chinese_labels():
    header = [
        "customer_code",
        "  STORE NAME ",
        "许可证号",
        "Business format",
        "市场类型",
        "注册资金(元)",
    ]
    data = _csv_bytes(header, [["440100000001", "店", "990100000001", "Z", "C", "100"]])

    rows = read_rows(io.BytesIO(data), "shops.csv")

    assert rows == [
        {
            "customer_code": "440100000001",
            "store_name": "店",
            "license_number": "990100000001",
            "business_format": "Z",
            "market_type": "C",
            "registered_capital": "100",
        }
    ]


def test_unknown_headers_are_named_in_the_error():
    data = _csv_bytes(["customer_code", "Shop colour", "备注"], [["440100000001", "red", "x"]])

    with pytest.raises(DomainError) as error:
        read_rows(io.BytesIO(data), "shops.csv")

    assert "Shop colour" in error.value.message
    assert "备注" in error.value.message


def test_a_file_without_customer_code_column_is_refused():
    data = _csv_bytes(["store_name"], [["店"]])

    with pytest.raises(DomainError, match="customer_code"):
        read_rows(io.BytesIO(data), "shops.csv")


def test_a_header_given_twice_is_refused():
    data = _csv_bytes(["customer_code", "store_name", "店铺名称"], [["440100000001", "a", "b"]])

    with pytest.raises(DomainError, match="store_name"):
        read_rows(io.BytesIO(data), "shops.csv")


def test_values_under_a_column_without_header_are_refused():
    data = _csv_bytes(["customer_code", "", "store_name"], [["440100000001", "lost", "店"]])

    with pytest.raises(DomainError, match=r"Column\(s\) B hold values"):
        read_rows(io.BytesIO(data), "shops.csv")


def test_an_unsupported_file_type_is_refused():
    with pytest.raises(DomainError, match=r"\.xls"):
        read_rows(io.BytesIO(b"anything"), "shops.xls")


def test_empty_cells_are_left_out_and_empty_rows_skipped():
    data = _csv_bytes(
        ["customer_code", "store_name", "phone"],
        [["440100000001", "", "13800000001"], ["", " ", ""], ["440100000002", "店", "  "]],
    )

    table = read_table(io.BytesIO(data), "shops.csv")

    assert table.rows == [
        {"customer_code": "440100000001", "phone": "13800000001"},
        {"customer_code": "440100000002", "store_name": "店"},
    ]
    assert table.row_numbers == [2, 4]


def test_system_generated_columns_are_skipped_and_listed():
    data = _csv_bytes(["customer_code", "grade", "购进金额（元）"], [["440100000001", "30", "5"]])

    table = read_table(io.BytesIO(data), "shops.csv")

    assert table.rows == [{"customer_code": "440100000001"}]
    assert table.ignored_columns == ["grade", "purchase_amount"]


# --- check -------------------------------------------------------------------------------


def test_check_reports_each_row_and_writes_nothing(customer_world):
    # given: one new customer, one change, one unchanged row and one bad row
    admin, th, yx = customer_world["admin"], customer_world["c_th"], customer_world["c_yx"]
    customers_before = Customer.objects.count()
    history_before = AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Customer)
    ).count()
    upload = _upload(
        [
            NEW,
            {"customer_code": th.customer_code, "store_name": "天河一号店（新）"},
            {"customer_code": yx.customer_code, "store_name": yx.store_name},
            {"customer_code": "440199000002", "store_name": "缺少字段的店", "phone": "abc"},
        ]
    )

    # when
    customer_import = customer_import_check(uploaded_file=upload, user=admin)

    # then: the report says what would happen, row by row, with reasons
    report = customer_import.report
    assert customer_import.status == ImportStatus.CHECKED
    assert report["counts"] == {
        "created": 1,
        "updated": 1,
        "unchanged": 1,
        "errors": 1,
        "warnings": 0,
    }
    rows = _by_code(report)
    assert rows[NEW["customer_code"]]["outcome"] == "created"
    assert rows[NEW["customer_code"]]["row"] == 2
    assert rows[th.customer_code]["outcome"] == "updated"
    assert rows[th.customer_code]["changes"] == {"store_name": ["天河一号店", "天河一号店（新）"]}
    assert rows[yx.customer_code]["outcome"] == "unchanged"
    bad = rows["440199000002"]
    assert bad["outcome"] == "error"
    assert bad["row"] == 5
    assert {"license_number", "business_format", "market_type", "area", "phone"} <= set(
        bad["errors"]
    )
    assert report["truncated"] is False
    # and nothing was written but the import record itself
    assert Customer.objects.count() == customers_before
    th.refresh_from_db()
    assert th.store_name == "天河一号店"
    assert (
        AuditEntry.objects.filter(content_type=ContentType.objects.get_for_model(Customer)).count()
        == history_before
    )
    assert customer_import.file.read().decode("utf-8-sig").startswith("customer_code")
    assert customer_import.original_name == "customers.csv"


def test_check_warns_of_duplicates_by_phone_and_by_address(customer_world, areas):
    admin, th = customer_world["admin"], customer_world["c_th"]
    yx = make_customer(areas["YX"], address="越秀路８号")
    upload = _upload(
        [
            {**NEW, "phone": th.dynamic.phone},
            {
                **NEW,
                "customer_code": "440199000002",
                "license_number": "990199000002",
                "address": "越秀路 8 号",
            },
            {**NEW, "customer_code": "440199000003", "license_number": "990199000003"},
        ]
    )

    customer_import = customer_import_check(uploaded_file=upload, user=admin)

    rows = _by_code(customer_import.report)
    assert rows["440199000001"]["warnings"] == [f"Same phone as customer(s) {th.customer_code}."]
    assert rows["440199000002"]["warnings"] == [f"Same address as customer(s) {yx.customer_code}."]
    assert rows["440199000003"]["warnings"] == []
    assert customer_import.report["counts"]["warnings"] == 2


def test_check_compares_normalised_phones_and_warns_of_an_edited_phone(customer_world, areas):
    # given c_th with phone 13800000001 and yx, an existing shop of another area
    admin, th = customer_world["admin"], customer_world["c_th"]
    yx = customer_world["c_yx"]
    upload = _upload(
        [
            {**NEW, "phone": "+86 138-0000-0001"},
            # an existing shop of the file whose phone the file changes to th's
            {
                "customer_code": yx.customer_code,
                "store_name": yx.store_name,
                "license_number": yx.license_number,
                "business_format": yx.business_format,
                "market_type": yx.market_type,
                "area": "YX",
                "phone": "0086 13800000001",
            },
        ]
    )

    customer_import = customer_import_check(uploaded_file=upload, user=admin)

    rows = _by_code(customer_import.report)
    assert rows["440199000001"]["warnings"] == [f"Same phone as customer(s) {th.customer_code}."]
    assert rows[yx.customer_code]["warnings"] == [
        f"Same phone as customer(s) {th.customer_code}.",
        "Same phone as row 2 of this file.",
    ]


def test_check_warns_of_duplicates_within_the_file(customer_world):
    admin = customer_world["admin"]
    second = {**NEW, "customer_code": "440199000002", "license_number": "990199000002"}
    upload = _upload([{**NEW, "phone": "020-12345678"}, {**second, "phone": "020-12345678"}])

    customer_import = customer_import_check(uploaded_file=upload, user=admin)

    rows = _by_code(customer_import.report)
    assert rows["440199000001"]["warnings"] == []
    assert rows["440199000002"]["warnings"] == ["Same phone as row 2 of this file."]
    with translation.override("zh-hans"):
        [warning] = customer_import.report["rows"][1]["warnings"]
        assert display(warning) == "电话与本文件第 2 行相同。"


def test_the_report_page_shows_warnings_and_error_fields_in_the_readers_language(
    customer_world, client
):
    admin = customer_world["admin"]
    second = {**NEW, "customer_code": "440199000002", "license_number": "990199000002"}
    bad = {**NEW, "customer_code": "440199000003", "license_number": "990199000003"}
    bad["store_name"] = ""
    rows = [{**NEW, "phone": "020-12345678"}, {**second, "phone": "020-12345678"}, bad]
    with translation.override("en"):
        customer_import = customer_import_check(uploaded_file=_upload(rows), user=admin)
    client.force_login(admin)

    page = _report_page_in_chinese(client, customer_import)

    assert "电话与本文件第 2 行相同。" in page
    assert "Same phone as row" not in page
    assert "<strong>店铺名称</strong>" in page


def _checked_in_english_with_row_errors(customer_world):
    """A check run by an English user of a file whose rows fail in the product's own words
    (with and without parameters) and in a validator's and a model field's."""
    admin, th = customer_world["admin"], customer_world["c_th"]
    missing = {**NEW, "customer_code": "440199000003", "license_number": "990199000003"}
    missing.update(store_name="", area="ZZ", phone="abc")
    taken = {**NEW, "customer_code": "440199000004", "license_number": th.license_number}
    bad_date = {**NEW, "customer_code": "440199000005", "license_number": "990199000005"}
    bad_date["license_issue_date"] = "not-a-date"
    with translation.override("en"):
        customer_import = customer_import_check(
            uploaded_file=_upload([missing, taken, bad_date]), user=admin
        )
    return customer_import, th


def test_row_errors_are_stored_as_keys_and_sources_not_as_english(customer_world):
    customer_import, th = _checked_in_english_with_row_errors(customer_world)

    rows = {row["code"]: row for row in customer_import.report["rows"]}
    assert rows["440199000003"]["errors"]["store_name"] == [
        {"$text": "customers.upsert.required", "params": {}}
    ]
    assert rows["440199000003"]["errors"]["area"] == [
        {
            "$text": "customers.upsert.unknown_reference",
            "params": {
                "what": {"$label": "customers.catalogue.field_label", "value": "area"},
                "value": "ZZ",
            },
        }
    ]
    assert rows["440199000004"]["errors"]["license_number"] == [
        {
            "$text": "customers.upsert.licence_taken",
            "params": {"n": th.license_number, "code": th.customer_code},
        }
    ]
    # a validator's and a model field's message: its untranslated source and parameters
    [phone] = rows["440199000003"]["errors"]["phone"]
    assert phone["$msgid"].startswith("Enter a phone number")
    [date] = rows["440199000005"]["errors"]["license_issue_date"]
    assert date["params"] == {"value": "not-a-date"}
    assert "%(value)s" in date["$msgid"]
    stored = json.dumps(customer_import.report, ensure_ascii=False)
    for english in ("This field is required.", "belongs to customer", "Unknown Management"):
        assert english not in stored
    assert "not-a-date” value has" not in stored  # the source is stored, not its rendering


def test_row_errors_of_a_check_run_in_english_read_in_chinese_on_the_report_page(
    customer_world, client
):
    customer_import, th = _checked_in_english_with_row_errors(customer_world)
    client.force_login(customer_world["admin"])

    page = _report_page_in_chinese(client, customer_import, "?outcome=error")

    assert "此字段为必填项。" in page
    assert "未知的管理区域：ZZ。" in page
    assert f"许可证号 {th.license_number} 已属于客户 {th.customer_code}。" in page
    assert "请输入电话号码" in page
    with translation.override("zh-hans"):
        assert DateField().error_messages["invalid"] % {"value": "not-a-date"} in page
    for english in (
        "This field is required.",
        "belongs to customer",
        "Unknown Management area",
        "Enter a phone number",
        "invalid date format",
    ):
        assert english not in page


def test_a_report_stored_with_text_errors_shows_them_as_stored(customer_world, client):
    customer_import, _th = _checked_in_english_with_row_errors(customer_world)
    old_row = {**customer_import.report["rows"][0], "errors": {"phone": ["Old English text."]}}
    customer_import.report = {**customer_import.report, "rows": [old_row]}
    customer_import.save(update_fields=["report"])
    client.force_login(customer_world["admin"])

    page = _report_page_in_chinese(client, customer_import)

    assert "Old English text." in page


def test_check_of_an_unreadable_file_raises_and_keeps_nothing(customer_world):
    upload = SimpleUploadedFile("shops.csv", _csv_bytes(["store_name"], [["店"]]))

    with pytest.raises(DomainError):
        customer_import_check(uploaded_file=upload, user=customer_world["admin"])

    assert not CustomerImport.objects.exists()


def test_only_administrators_may_import(customer_world):
    supervisor = customer_world["sup_th"]

    with pytest.raises(DomainError, match="administrators"):
        customer_import_check(uploaded_file=_upload([NEW]), user=supervisor)

    customer_import = customer_import_check(
        uploaded_file=_upload([NEW]), user=customer_world["admin"]
    )
    with pytest.raises(DomainError, match="administrators"):
        customer_import_apply(customer_import=customer_import, user=supervisor)
    assert not Customer.objects.filter(customer_code=NEW["customer_code"]).exists()


# --- apply -------------------------------------------------------------------------------


def test_apply_stores_the_rows_with_import_history(customer_world):
    admin, th = customer_world["admin"], customer_world["c_th"]
    upload = _upload([NEW, {"customer_code": th.customer_code, "contact_person": "王五"}])
    customer_import = customer_import_check(uploaded_file=upload, user=admin)

    customer_import_apply(customer_import=customer_import, user=admin)

    customer_import.refresh_from_db()
    assert customer_import.status == ImportStatus.APPLIED
    assert customer_import.applied_at is not None
    assert customer_import.report["counts"]["created"] == 1
    assert customer_import.report["counts"]["updated"] == 1
    assert customer_import.report["checked_counts"]["created"] == 1
    created = Customer.objects.get(customer_code=NEW["customer_code"])
    assert created.store_name == NEW["store_name"]
    assert created.area.code == "TH"
    th.dynamic.refresh_from_db()
    assert th.dynamic.contact_person == "王五"
    for customer in (created, th):
        entry = _customer_history(customer).latest("id")
        assert entry.source == AuditSource.IMPORT
        assert entry.actor == admin
    status_changes = AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(CustomerImport),
        object_id=str(customer_import.pk),
        field="status",
    ).order_by("id")
    assert [(e.old_value, e.new_value) for e in status_changes] == [
        ("checking", "checked"),
        ("checked", "applying"),
        ("applying", "applied"),
    ]


def test_apply_errors_do_not_stop_valid_rows_and_a_bad_row_writes_nothing(customer_world):
    # given: a valid new row, and a row that renames a store but has a bad phone
    admin, th = customer_world["admin"], customer_world["c_th"]
    upload = _upload(
        [NEW, {"customer_code": th.customer_code, "store_name": "改名", "phone": "not a phone"}]
    )
    customer_import = customer_import_check(uploaded_file=upload, user=admin)

    customer_import_apply(customer_import=customer_import, user=admin)

    # then: the valid row is stored; none of the bad row is, not even its good field
    assert Customer.objects.filter(customer_code=NEW["customer_code"]).exists()
    th.refresh_from_db()
    assert th.store_name == "天河一号店"
    assert th.dynamic.phone == "13800000001"
    report = customer_import.report
    assert report["counts"]["errors"] == 1
    assert list(_by_code(report)[th.customer_code]["errors"]) == ["phone"]


def test_apply_twice_is_refused(customer_world):
    admin = customer_world["admin"]
    customer_import = customer_import_check(uploaded_file=_upload([NEW]), user=admin)
    customer_import_apply(customer_import=customer_import, user=admin)

    with pytest.raises(DomainError, match="applied"):
        customer_import_apply(customer_import=customer_import, user=admin)
    # A stale copy of the same import (a second browser tab) is refused too.
    stale = CustomerImport.objects.get(pk=customer_import.pk)
    stale.status = ImportStatus.CHECKED
    with pytest.raises(DomainError):
        customer_import_apply(customer_import=stale, user=admin)
    assert Customer.objects.filter(customer_code=NEW["customer_code"]).count() == 1


# --- the command -------------------------------------------------------------------------


@pytest.fixture
def import_file(tmp_path, customer_world):
    th = customer_world["c_th"]
    path = tmp_path / "customers.csv"
    path.write_bytes(
        _csv_of(
            [
                NEW,
                {"customer_code": th.customer_code, "store_name": "天河一号店（新）"},
                {"customer_code": "123", "store_name": "坏行"},
            ]
        )
    )
    return path


def test_command_dry_run_reports_and_writes_nothing(import_file, customer_world):
    out = io.StringIO()

    call_command("import_customers", str(import_file), "--dry-run", stdout=out)

    text = out.getvalue()
    assert "Dry run" in text
    assert "1 created, 1 updated, 0 unchanged, 1 errors" in text
    assert "row 4, code 123, customer_code:" in text
    assert not Customer.objects.filter(customer_code=NEW["customer_code"]).exists()
    customer_world["c_th"].refresh_from_db()
    assert customer_world["c_th"].store_name == "天河一号店"


def test_command_applies_as_the_given_user(import_file, customer_world):
    out = io.StringIO()

    call_command("import_customers", str(import_file), "--user", "admin_x", stdout=out)

    assert "1 created, 1 updated, 0 unchanged, 1 errors" in out.getvalue()
    created = Customer.objects.get(customer_code=NEW["customer_code"])
    entry = _customer_history(created).get()
    assert entry.source == AuditSource.IMPORT
    assert entry.actor == customer_world["admin"]


def test_command_without_user_records_the_job(import_file, customer_world):
    call_command("import_customers", str(import_file), stdout=io.StringIO())

    entry = _customer_history(Customer.objects.get(customer_code=NEW["customer_code"])).get()
    assert (entry.source, entry.actor, entry.actor_label) == (
        AuditSource.IMPORT,
        None,
        "import_customers",
    )


def test_command_fails_on_an_unreadable_file(tmp_path, db):
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_customers", str(tmp_path / "missing.csv"), stdout=io.StringIO())
    bad = tmp_path / "customers.csv"
    bad.write_bytes(_csv_bytes(["colour"], [["red"]]))
    with pytest.raises(CommandError, match="colour"):
        call_command("import_customers", str(bad), stdout=io.StringIO())
    text = tmp_path / "customers.txt"
    text.write_bytes(_csv_bytes(["customer_code"], [["440100000001"]]))
    with pytest.raises(CommandError, match="Unsupported file type"):
        call_command("import_customers", str(text), stdout=io.StringIO())


def test_command_refuses_an_unknown_user(import_file):
    with pytest.raises(CommandError, match="nobody"):
        call_command("import_customers", str(import_file), "--user", "nobody")
