"""Customer pages through Django's test client: list, detail, edits, proposals, the queue."""

import csv
import io

import pytest
from django.urls import reverse
from django.utils import translation

from crm.choices import AuditSource, Role
from crm.models import AuditEntry, Notification
from customers.choices import ChangeRequestStatus
from customers.models import ChangeRequest, Customer
from customers.services import change_request_create, customer_update
from tests.customers.factories import make_customer


def detail_url(customer):
    return reverse("customers:detail", args=[customer.customer_code])


def test_list_shows_only_the_callers_customers(client, customer_world):
    client.force_login(customer_world["am_th"])
    response = client.get(reverse("customers:list"))
    codes = [c.customer_code for c in response.context["customers"]]
    assert codes == [customer_world["c_th"].customer_code]


def test_list_search_filter_and_sort(client, customer_world):
    client.force_login(customer_world["sup_gz"])
    url = reverse("customers:list")
    assert [c.store_name for c in client.get(url, {"q": "越秀"}).context["customers"]] == ["越秀店"]
    assert len(client.get(url, {"area": "TH"}).context["customers"]) == 2
    names = [
        c.store_name for c in client.get(url, {"ordering": "-store_name"}).context["customers"]
    ]
    assert names == sorted(names, reverse=True)


def test_list_sorted_by_purchase_amount_shows_every_customer_in_order(client, customer_world):
    """Sorted by purchase amount (a system figure): the same customers, largest first (a
    customer not computed yet first, as PostgreSQL sorts NULL), ties by code, for a
    supervisor (whose list joins the system rows INNER) and an account manager alike."""
    from customers.models import CustomerSystem

    amounts = {"c_th": "500.00", "c_th2": "500.00", "c_yx": "900.00"}
    for key, amount in amounts.items():
        CustomerSystem.objects.filter(customer=customer_world[key]).update(purchase_amount=amount)
    url = reverse("customers:list")

    def names(user, ordering):
        client.force_login(customer_world[user])
        response = client.get(url, {"ordering": ordering})
        return [c.store_name for c in response.context["customers"]]

    th_by_code = sorted(
        [customer_world["c_th"], customer_world["c_th2"]], key=lambda c: c.customer_code
    )
    tie = [c.store_name for c in th_by_code]
    assert names("sup_gz", "-purchase_amount") == ["越秀店", *tie]
    assert names("sup_gz", "purchase_amount") == [*tie, "越秀店"]
    assert names("sup_th", "-purchase_amount") == tie
    assert names("admin", "-purchase_amount") == ["越秀店", *tie]
    assert names("am_th", "-purchase_amount") == ["天河一号店"]
    # A customer whose figures are not computed yet is still listed.
    CustomerSystem.objects.filter(customer=customer_world["c_th"]).update(purchase_amount=None)
    assert len(names("sup_gz", "-purchase_amount")) == 3


def test_list_query_count_does_not_grow_with_rows(
    client, customer_world, areas, django_assert_num_queries
):
    client.force_login(customer_world["admin"])
    url = reverse("customers:list")
    client.get(url)  # warm caches (content types, etc.)
    # session, user, unread notifications, count, page rows, the area and account manager
    # pickers' choices
    with django_assert_num_queries(7):
        client.get(url)
    for _ in range(20):
        make_customer(areas["TH"], customer_world["am_th"])
    with django_assert_num_queries(7):
        response = client.get(url)
    assert len(response.context["customers"]) == 23


def test_detail_is_404_outside_scope(client, customer_world):
    client.force_login(customer_world["am_th"])
    assert client.get(detail_url(customer_world["c_th"])).status_code == 200
    assert client.get(detail_url(customer_world["c_th2"])).status_code == 404
    client.force_login(customer_world["sup_yx"])
    assert client.get(detail_url(customer_world["c_th"])).status_code == 404


def test_detail_shows_the_five_sections_and_marks_classes(client, customer_world):
    client.force_login(customer_world["am_th"])
    html = client.get(detail_url(customer_world["c_th"]) + "?tab=information").content.decode()
    for section in ("basic", "network", "management", "business", "personal"):
        assert f'data-testid="section-{section}"' in html
    assert "天河一号店" in html
    assert "not computed yet" in html  # system fields before the first recompute


def test_detail_in_chinese(client, customer_world):
    client.force_login(customer_world["am_th"])
    with translation.override("zh-hans"):
        html = client.get(
            detail_url(customer_world["c_th"]) + "?tab=information", HTTP_ACCEPT_LANGUAGE="zh-hans"
        )
    text = html.content.decode()
    assert "店铺名称" in text and "基本信息" in text


def test_assigned_manager_edits_dynamic_fields_in_place(client, customer_world):
    customer = customer_world["c_th"]
    client.force_login(customer_world["am_th"])
    url = reverse("customers:dynamic_edit", args=[customer.customer_code])
    form = client.get(url, HTTP_HX_REQUEST="true")
    assert b'data-testid="dynamic-form"' in form.content
    assert b"<html" not in form.content  # a fragment for htmx
    response = client.post(
        url, {"phone": "13900000009", "visit_cycle": "weekly"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith(detail_url(customer))
    customer.refresh_from_db()
    assert customer.dynamic.phone == "13900000009"
    entry = AuditEntry.objects.get(object_id=str(customer.pk), field="phone")
    assert entry.source == AuditSource.PAGE and entry.actor == customer_world["am_th"]


def test_dynamic_edit_form_has_no_approval_fields(client, customer_world):
    client.force_login(customer_world["am_th"])
    response = client.get(
        reverse("customers:dynamic_edit", args=[customer_world["c_th"].customer_code])
    )
    fields = set(response.context["form"].fields)
    assert "phone" in fields
    assert not fields & {"payment_method", "status", "bank_account", "store_name"}


def test_dynamic_edit_rejects_bad_input_and_saves_nothing(client, customer_world):
    customer = customer_world["c_th"]
    client.force_login(customer_world["am_th"])
    response = client.post(
        reverse("customers:dynamic_edit", args=[customer.customer_code]), {"phone": "abc"}
    )
    assert response.status_code == 200
    assert "phone" in response.context["form"].errors
    customer.refresh_from_db()
    assert customer.dynamic.phone == "13800000001"


def test_proposal_saves_direct_fields_and_requests_approval_for_the_rest(client, customer_world):
    customer = customer_world["c_th"]
    client.force_login(customer_world["am_th"])
    url = reverse("customers:change", args=[customer.customer_code])
    form = client.get(url).context["form"]
    data = {name: form[name].value() or "" for name in form.fields if name != "attachment"}
    data |= {"store_name": "天河一号店（新）", "phone": "13700000000", "reason": "换招牌"}
    data = {k: v for k, v in data.items() if v is not None}
    response = client.post(url, data)
    assert response.status_code == 302, response.context["form"].errors
    customer.refresh_from_db()
    assert customer.store_name == "天河一号店"  # waits for approval
    assert customer.dynamic.phone == "13700000000"  # saved at once
    request = ChangeRequest.objects.get(customer=customer)
    assert request.changes == [
        {"field": "store_name", "old": "天河一号店", "new": "天河一号店（新）"}
    ]


def test_create_warns_about_a_duplicate_phone_until_confirmed(client, customer_world, areas):
    client.force_login(customer_world["sup_th"])
    data = {
        "customer_code": "440199999999",
        "store_name": "新店",
        "license_number": "440199999998",
        "business_format": "B",
        "market_type": "C",
        "area": areas["TH"].pk,
        "phone": "13800000001",
        "status": "active",
    }
    first = client.post(reverse("customers:create"), data)
    assert first.status_code == 200
    assert b'data-testid="duplicate-warning"' in first.content
    assert not Customer.objects.filter(customer_code="440199999999").exists()
    confirmed = client.post(reverse("customers:create"), {**data, "confirm_duplicates": "1"})
    assert confirmed.status_code == 302
    assert Customer.objects.filter(customer_code="440199999999").exists()


def test_create_warns_of_a_shop_in_another_area_by_its_code_and_area_only(
    client, customer_world, areas
):
    # given sup_yx, who cannot see c_th (天河一号店, 13800000001)
    c_th = customer_world["c_th"]
    client.force_login(customer_world["sup_yx"])
    data = {
        "customer_code": "440199999999",
        "store_name": "新店",
        "license_number": "440199999998",
        "business_format": "B",
        "market_type": "C",
        "area": areas["YX"].pk,
        "phone": "138-0000-0001",
        "status": "active",
    }

    page = client.post(reverse("customers:create"), data).content.decode()

    assert 'data-testid="duplicate-warning"' in page
    assert f"A shop outside your scope: {c_th.customer_code}, area {c_th.area.name}" in page
    assert c_th.store_name not in page
    assert reverse("customers:detail", args=[c_th.customer_code]) not in page
    assert not Customer.objects.filter(customer_code="440199999999").exists()


def test_editing_a_phone_to_another_shops_warns_until_confirmed(client, customer_world, areas):
    # given am_th2's shop, and c_th (am_th's, 13800000001) which am_th2 cannot see
    shop = make_customer(areas["TH"], customer_world["am_th2"], store_name="二号店")
    client.force_login(customer_world["am_th2"])
    url = reverse("customers:dynamic_edit", args=[shop.customer_code])
    form = client.get(url).context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None}
    data["phone"] = "+86 138 0000 0001"

    warned = client.post(url, data)
    shop.dynamic.refresh_from_db()
    assert warned.status_code == 200
    assert b'data-testid="duplicate-warning"' in warned.content
    assert "A shop outside your scope" in warned.content.decode()
    assert shop.dynamic.phone == ""

    saved = client.post(url, {**data, "confirm_duplicates": "1"})
    shop.dynamic.refresh_from_db()
    assert saved.status_code == 302
    assert shop.dynamic.phone == "+86 138 0000 0001"
    assert shop.dynamic.phone_key == "13800000001"


def test_proposing_another_shops_address_warns_before_the_request_is_made(client, customer_world):
    # given two shops of sup_th's area
    c_th = customer_world["c_th"]
    other = make_customer("TH", customer_world["am_th"], store_name="二号店", address="天河路 9 号")
    client.force_login(customer_world["am_th"])
    url = reverse("customers:change", args=[c_th.customer_code]) + "?field=address"

    warned = client.post(url, {"address": "天河路9號", "reason": "moved"})
    assert b'data-testid="duplicate-warning"' in warned.content
    assert other.store_name in warned.content.decode()  # in scope: named and linked
    assert not ChangeRequest.objects.filter(customer=c_th).exists()

    client.post(url, {"address": "天河路9號", "reason": "moved", "confirm_duplicates": "1"})
    # the address needs approval: confirmed, it becomes a change request
    request = ChangeRequest.objects.get(customer=c_th)
    assert request.fields == ["address"]


def test_account_managers_cannot_create_customers(client, customer_world):
    client.force_login(customer_world["am_th"])
    assert client.get(reverse("customers:create")).status_code == 403


def test_export_csv_follows_scope_and_filters(client, customer_world):
    client.force_login(customer_world["sup_gz"])
    response = client.get(reverse("customers:export"), {"format": "csv", "area": "YX"})
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["customer_code"] for row in rows] == [customer_world["c_yx"].customer_code]
    client.force_login(customer_world["am_th"])
    response = client.get(reverse("customers:export"), {"format": "csv"})
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert [r["customer_code"] for r in csv.DictReader(io.StringIO(text))] == [
        customer_world["c_th"].customer_code
    ]


def test_export_xlsx(client, customer_world):
    client.force_login(customer_world["admin"])
    response = client.get(reverse("customers:export"), {"format": "xlsx"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert response.content[:2] == b"PK"


@pytest.fixture
def pending(customer_world):
    return change_request_create(
        customer=customer_world["c_th"],
        user=customer_world["am_th"],
        data={"store_name": "改名店"},
        reason="招牌",
    )


def decide(client, request, action, comment=""):
    return client.post(
        reverse("customers:change_request_decide", args=[request.pk]),
        {"action": action, "comment": comment},
        follow=True,
    )


def test_queue_lists_pending_requests_of_the_supervisors_area(client, customer_world, pending):
    client.force_login(customer_world["sup_th"])
    html = client.get(reverse("customers:change_requests")).content.decode()
    assert f'data-testid="request-{pending.pk}"' in html and "改名店" in html
    client.force_login(customer_world["sup_yx"])
    html = client.get(reverse("customers:change_requests")).content.decode()
    assert f'data-testid="request-{pending.pk}"' not in html


def test_approve_from_the_queue(client, customer_world, pending):
    client.force_login(customer_world["sup_th"])
    response = decide(client, pending, "approve", "ok")
    assert "approved" in response.content.decode()
    pending.refresh_from_db()
    assert pending.status == ChangeRequestStatus.APPROVED
    assert Customer.objects.get(pk=pending.customer_id).store_name == "改名店"


def test_reject_needs_a_comment_and_notifies_the_requester(client, customer_world, pending):
    client.force_login(customer_world["sup_th"])
    response = decide(client, pending, "reject")
    assert "Say why" in response.content.decode()
    decide(client, pending, "reject", "资料不全")
    pending.refresh_from_db()
    assert pending.status == ChangeRequestStatus.REJECTED
    note = Notification.objects.get(user=customer_world["am_th"])
    assert "资料不全" in note.message
    client.force_login(customer_world["am_th"])
    html = client.get(reverse("notifications")).content.decode()
    assert "资料不全" in html


def test_outsider_cannot_decide(client, customer_world, pending):
    client.force_login(customer_world["sup_yx"])
    response = client.post(
        reverse("customers:change_request_decide", args=[pending.pk]), {"action": "approve"}
    )
    assert response.status_code == 404
    pending.refresh_from_db()
    assert pending.status == ChangeRequestStatus.PENDING


def test_author_withdraws_from_my_requests(client, customer_world, pending):
    client.force_login(customer_world["am_th"])
    decide(client, pending, "withdraw")
    pending.refresh_from_db()
    assert pending.status == ChangeRequestStatus.WITHDRAWN


def test_bulk_approve_reports_each_request(client, customer_world, pending):
    other = change_request_create(
        customer=customer_world["c_th2"],
        user=customer_world["am_th2"],
        data={"store_name": "二号新名"},
        reason="r",
    )
    client.force_login(customer_world["sup_th"])
    response = client.post(
        reverse("customers:change_request_bulk_approve"),
        {"ids": [pending.pk, other.pk], "comment": "批量"},
        follow=True,
    )
    assert "Approved 2 request(s)" in response.content.decode()
    assert set(ChangeRequest.objects.values_list("status", flat=True)) == {"approved"}


def test_queue_query_count_is_bounded(client, customer_world, django_assert_max_num_queries):
    for key, manager in (("c_th", "am_th"), ("c_th2", "am_th2")):
        for n in range(3):
            change_request_create(
                customer=customer_world[key],
                user=customer_world[manager],
                data={"store_name": f"{key}-{n}"},
                reason="r",
            )
    client.force_login(customer_world["sup_th"])
    with django_assert_max_num_queries(10):
        response = client.get(reverse("customers:change_requests"))
    assert len(response.context["queue"]) == 6


def test_queue_warns_of_a_requested_address_another_shop_has(
    client, customer_world, system_actor, django_assert_max_num_queries
):
    # given c_yx (越秀) at 越秀路 8 号, and a request to move c_th (天河) to the same address
    customer_update(
        customer=customer_world["c_yx"], data={"address": "越秀路 8 号"}, actor=system_actor
    )
    moved = change_request_create(
        customer=customer_world["c_th"],
        user=customer_world["am_th"],
        data={"address": "越秀路８號"},
        reason="搬迁",
    )
    renamed = change_request_create(
        customer=customer_world["c_th2"],
        user=customer_world["am_th2"],
        data={"store_name": "新名"},
        reason="r",
    )
    client.force_login(customer_world["sup_th"])

    with django_assert_max_num_queries(12):
        html = client.get(reverse("customers:change_requests")).content.decode()

    warning = html.split(f'data-testid="request-{moved.pk}"')[1].split('data-testid="request-')[0]
    assert 'data-testid="cr-duplicates"' in warning
    assert f"A shop outside your scope: {customer_world['c_yx'].customer_code}" in warning
    assert customer_world["c_yx"].store_name not in html
    other = html.split(f'data-testid="request-{renamed.pk}"')[1]
    assert 'data-testid="cr-duplicates"' not in other.split('data-testid="request-')[0]


@pytest.mark.parametrize("role", [Role.ACCOUNT_MANAGER, Role.SUPERVISOR, Role.LICENSE_OFFICER])
def test_import_page_is_for_administrators(client, make_user, role):
    client.force_login(make_user(role))
    assert client.get(reverse("customers:import")).status_code == 403


def test_import_page_checks_in_a_task_then_applies(
    client, customer_world, areas, django_capture_on_commit_callbacks
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from customers.models import CustomerImport

    client.force_login(customer_world["admin"])
    csv_text = (
        "customer_code,store_name,license_number,business_format,market_type,area\n"
        "440177777777,导入店,440177777778,Z,C,TH\n"
        "440177777779,坏行,123,Z,C,TH\n"
    )
    upload = SimpleUploadedFile("licences.csv", csv_text.encode("utf-8-sig"))
    # when the file is uploaded (the check task runs eagerly without a broker)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("customers:import"), {"file": upload})
    customer_import = CustomerImport.objects.get()
    assert response.status_code == 302
    assert customer_import.status == "checked"
    assert (customer_import.progress_done, customer_import.progress_total) == (2, 2)
    page = client.get(response["Location"]).content.decode()
    # the bad row's error is shown under its field's label
    assert 'data-testid="apply-import"' in page and "<strong>Licence number</strong>" in page
    assert not Customer.objects.filter(customer_code="440177777777").exists()
    # the dry run says what the import would do
    assert (
        "Dry run, nothing is saved yet: the import would create 1, update 0 and leave 0 "
        "unchanged; 1 rows have errors."
    ) in page
    assert "Would create" in page and "To create" not in page
    # when it is applied
    with django_capture_on_commit_callbacks(execute=True):
        client.post(response["Location"])
    customer_import.refresh_from_db()
    assert customer_import.status == "applied"
    assert customer_import.applied_by == customer_world["admin"]
    assert Customer.objects.filter(customer_code="440177777777").exists()
    page = client.get(response["Location"]).content.decode()
    assert 'data-testid="import-applied"' in page
    # and once applied, what it did
    assert "Done: created 1, updated 0, 0 unchanged, 1 skipped for errors." in page
    assert "Would create" not in page


def test_import_page_refuses_an_unsupported_file(client, customer_world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(customer_world["admin"])
    response = client.post(
        reverse("customers:import"), {"file": SimpleUploadedFile("list.pdf", b"%PDF")}
    )
    assert response.status_code == 200
    assert "Unsupported file type" in response.content.decode()


def test_import_in_progress_page_polls_and_shows_progress(client, customer_world):
    from django.core.files.base import ContentFile

    from customers.models import CustomerImport

    customer_import = CustomerImport(
        created_by=customer_world["admin"],
        original_name="big.csv",
        status="applying",
        progress_done=3000,
        progress_total=50000,
    )
    customer_import.file.save("big.csv", ContentFile(b"customer_code\n"), save=False)
    customer_import.save()
    client.force_login(customer_world["admin"])
    page = client.get(reverse("customers:import_detail", args=[customer_import.pk]))
    html = page.content.decode()
    assert 'hx-trigger="every 2s"' in html
    assert 'data-testid="import-progress"' in html and "6%" in html
