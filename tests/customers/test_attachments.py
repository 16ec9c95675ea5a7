"""Change-request attachments and import files: the size limit, random stored names, and the
migration that moved attachments stored under their senders' names (crm.uploads does the
checking; tests/security/test_uploads.py the attacks and the serving)."""

from __future__ import annotations

import importlib
import re

from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import override_settings
from django.urls import reverse

from customers.imports import customer_import_check
from customers.models import ChangeRequest
from tests.crm.upload_files import HTML, image_bytes, pdf_bytes, upload
from tests.customers.factories import make_change_request

RANDOM = r"[0-9a-f]{32}"


@override_settings(CRM_ATTACHMENT_MAX_MB=1)
def test_an_attachment_over_the_size_limit_is_refused_on_its_field(client, customer_world):
    customer = customer_world["c_th"]
    client.force_login(customer_world["am_th"])
    url = reverse("customers:change", args=[customer.customer_code]) + "?field=store_name"
    big = upload(pdf_bytes().replace(b"%%EOF", b" " * (1024 * 1024) + b"%%EOF"), "scan.pdf")

    response = client.post(url, {"store_name": "新招牌", "reason": "sign", "attachment": big})

    assert response.status_code == 200
    assert response.context["form"].errors["attachment"] == ["The file is larger than 1 MB."]
    assert not ChangeRequest.objects.exists()


def test_the_change_form_says_what_it_takes(client, customer_world):
    customer = customer_world["c_th"]
    client.force_login(customer_world["am_th"])

    html = client.get(reverse("customers:change", args=[customer.customer_code])).content.decode()

    assert 'accept="application/pdf,image/jpeg,image/png,image/webp"' in html
    assert "PDF, JPEG, PNG or WebP, up to 10 MB." in html


def test_an_import_file_is_stored_under_a_random_name_and_keeps_its_own(customer_world):
    csv = f"customer_code,store_name\n{customer_world['c_th'].customer_code},天河一号店\n"

    customer_import = customer_import_check(
        uploaded_file=upload(csv.encode(), "客户名单 2024.csv"), user=customer_world["admin"]
    )

    assert re.fullmatch(rf"imports/\d{{4}}/\d{{2}}/{RANDOM}\.csv", customer_import.file.name)
    assert customer_import.original_name == "客户名单 2024.csv"


# --- the migration of attachments stored before names were random -------------------------

_migration = importlib.import_module("customers.migrations.0007_rename_change_request_attachments")


def _legacy(customer_world, name: str, content: bytes | None) -> ChangeRequest:
    """A change request whose attachment was stored (or, with None, lost) under `name`."""
    change_request = make_change_request(
        customer_world["c_th"], customer_world["am_th"], store_name=f"店 {name[-12:]}"
    )
    if content is not None:
        name = default_storage.save(name, ContentFile(content))
    ChangeRequest.objects.filter(pk=change_request.pk).update(attachment=name)
    return change_request


def test_the_migration_moves_legacy_attachments_to_random_names(
    customer_world, django_capture_on_commit_callbacks
):
    # given attachments stored under their senders' names, one of them missing, one new
    pdf = _legacy(customer_world, "change_requests/2024/05/营业执照.pdf", pdf_bytes())
    html = _legacy(customer_world, "change_requests/2024/05/approve-all.png", HTML)
    lost = _legacy(customer_world, "change_requests/2024/05/lost.pdf", None)
    current = make_change_request(
        customer_world["c_th"],
        customer_world["am_th"],
        store_name="店 current",
        attachment=upload(image_bytes("PNG"), "shop.png"),
    )
    old_names = {r.pk: ChangeRequest.objects.get(pk=r.pk).attachment.name for r in (pdf, html)}
    current_name = current.attachment.name

    # when
    with django_capture_on_commit_callbacks(execute=True):
        _migration.rename_attachments(apps, schema_editor=_SchemaEditor())

    # then the verified PDF keeps its type; the HTML becomes an opaque .bin; both keep their
    # bytes under random names, and the old files are gone
    for change_request, extension, content in ((pdf, "pdf", pdf_bytes()), (html, "bin", HTML)):
        change_request.refresh_from_db()
        name = change_request.attachment.name
        assert re.fullmatch(rf"change_requests/\d{{4}}/\d{{2}}/{RANDOM}\.{extension}", name)
        with default_storage.open(name, "rb") as stored:
            assert stored.read() == content
        assert not default_storage.exists(old_names[change_request.pk])
    # the missing one and the random one are left alone
    lost.refresh_from_db()
    current.refresh_from_db()
    assert lost.attachment.name == "change_requests/2024/05/lost.pdf"
    assert current.attachment.name == current_name


class _SchemaEditor:
    """What the migration function reads of its schema editor: the connection's alias."""

    class connection:  # noqa: N801 - mirrors schema_editor.connection
        alias = "default"


def test_the_migration_run_again_moves_nothing(customer_world, django_capture_on_commit_callbacks):
    """A rerun (after a failure, or migrating back and forth) leaves the moved files where
    they are: the opaque .bin copies too, whose names are random but of no served type."""
    pdf = _legacy(customer_world, "change_requests/2024/05/licence.pdf", pdf_bytes())
    html = _legacy(customer_world, "change_requests/2024/05/approve-all.png", HTML)
    with django_capture_on_commit_callbacks(execute=True):
        _migration.rename_attachments(apps, schema_editor=_SchemaEditor())
    moved = {r.pk: ChangeRequest.objects.get(pk=r.pk).attachment.name for r in (pdf, html)}

    with django_capture_on_commit_callbacks(execute=True):
        _migration.rename_attachments(apps, schema_editor=_SchemaEditor())

    again = {r.pk: ChangeRequest.objects.get(pk=r.pk).attachment.name for r in (pdf, html)}
    assert again == moved
    assert all(default_storage.exists(name) for name in again.values())
