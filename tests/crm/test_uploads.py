"""The shared upload mechanism (crm.uploads): what it accepts by content, the random names it
stores under, how a file is answered (streamed, or handed to the web server), and that no
settings serve MEDIA_ROOT directly."""

from __future__ import annotations

import importlib.util
import re
import struct
import zlib

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from django.urls import Resolver404, URLResolver, reverse
from django.urls.resolvers import RegexPattern

from crm.exceptions import DomainError
from crm.uploads import JPEG, PDF, PNG, WEBP, RandomName, check_media_accel, upload_check
from tests.crm.upload_files import (
    HTML,
    SVG,
    corrupt_png,
    image_bytes,
    pdf_bytes,
    truncated_jpeg,
    upload,
)
from tests.customers.factories import make_change_request

MB = 1024 * 1024


# --- accepting ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (pdf_bytes(), PDF),
        (image_bytes("JPEG"), JPEG),
        (image_bytes("PNG"), PNG),
        (image_bytes("WEBP"), WEBP),
        (image_bytes("JPEG", (300, 200), noise=True), JPEG),
    ],
    ids=["pdf", "jpeg", "png", "webp", "jpeg-noise"],
)
def test_accepted_types_are_recognised_by_content_whatever_the_name(data, kind):
    # named as something else entirely
    assert upload_check(upload(data, "notes.txt"), field="f", max_bytes=MB) is kind


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares `width` × `height` pixels (and holds almost nothing)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    body = zlib.compress(b"\0" * 16)
    idat = b"IDAT" + body
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", len(ihdr))
        + chunk
        + struct.pack(">I", zlib.crc32(chunk))
        + struct.pack(">I", len(body))
        + idat
        + struct.pack(">I", zlib.crc32(idat))
        + b"\0\0\0\0IEND\xaeB`\x82"
    )


@pytest.mark.parametrize(
    ("data", "max_bytes", "message"),
    [
        (b"", MB, "The file is empty."),
        (pdf_bytes() + b" " * MB, MB, "The file is larger than 1 MB."),
        (image_bytes("GIF"), MB, "Send a PDF, JPEG, PNG or WebP file"),
        (HTML, MB, "Send a PDF, JPEG, PNG or WebP file"),
        (SVG, MB, "Send a PDF, JPEG, PNG or WebP file"),
        (truncated_jpeg(), MB, "The JPEG file is damaged or incomplete"),
        (corrupt_png(), MB, "The PNG file is damaged or incomplete"),
        (image_bytes("WEBP", (64, 64), noise=True)[:-200], MB, "The WebP file is damaged"),
        (pdf_bytes().replace(b"%%EOF", b""), MB, "The PDF file is damaged or incomplete"),
        (_png_header_only(9_000, 9_000), MB, "The image has more than 80 million pixels."),
        (_png_header_only(30_000, 30_000), MB, "The PNG file is damaged or incomplete"),
    ],
    ids=[
        "empty",
        "too-large",
        "gif",
        "html",
        "svg",
        "truncated-jpeg",
        "corrupt-png",
        "truncated-webp",
        "pdf-without-end",
        "too-many-pixels",
        "decompression-bomb",
    ],
)
def test_refused_files_get_a_clear_message_on_the_field(data, max_bytes, message):
    with pytest.raises(DomainError) as refused:
        upload_check(upload(data, "file.pdf"), field="attachment", max_bytes=max_bytes)

    assert list(refused.value.errors) == ["attachment"]
    assert refused.value.errors["attachment"][0].startswith(message)


def test_a_narrower_list_of_types_names_only_those():
    with pytest.raises(DomainError) as refused:
        upload_check(upload(pdf_bytes(), "a.pdf"), field="photo", max_bytes=MB, kinds=(JPEG, PNG))

    assert refused.value.errors == {
        "photo": ["Send a JPEG or PNG file (judged by its content, not its name)."]
    }


def test_the_file_is_left_at_its_start_for_storing():
    file = upload(image_bytes("PNG"), "a.png")

    upload_check(file, field="f", max_bytes=MB)

    assert file.read() == image_bytes("PNG")


# --- storing -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "extension"),
    [
        ("upload.pdf", "pdf"),
        ("营业执照 扫描.PNG", "png"),
        ("report.xlsx", "xlsx"),
        ("../../etc/passwd", "bin"),
        ("evil.html;.png", "png"),
        ("noext", "bin"),
        ("x.ph p", "bin"),
    ],
)
def test_random_names_keep_only_a_plain_extension(given, extension):
    name = RandomName("change_requests")(None, given)

    assert re.fullmatch(rf"change_requests/\d{{4}}/\d{{2}}/[0-9a-f]{{32}}\.{extension}", name)
    assert RandomName("change_requests")(None, given) != name  # fresh every time


# --- serving -----------------------------------------------------------------------------


@pytest.fixture
def attached(customer_world):
    """A change request of c_th carrying a PDF (stored through the default storage)."""
    return make_change_request(
        customer_world["c_th"], customer_world["am_th"], attachment=upload(pdf_bytes(), "scan.pdf")
    )


def _get(client, user, change_request):
    client.force_login(user)
    return client.get(reverse("customers:change_request_attachment", args=[change_request.pk]))


def _file_headers(response) -> dict[str, str]:
    return {
        name: response[name]
        for name in (
            "Content-Type",
            "Content-Disposition",
            "X-Content-Type-Options",
            "Content-Security-Policy",
            "Cache-Control",
        )
    }


EXPECTED_PDF_HEADERS = {
    "Content-Type": "application/pdf",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "private, max-age=86400",
}


def test_by_default_the_application_streams_the_file(client, customer_world, attached):
    response = _get(client, customer_world["sup_th"], attached)

    assert response.streaming
    assert b"".join(response.streaming_content) == pdf_bytes()
    assert _file_headers(response) == {
        **EXPECTED_PDF_HEADERS,
        "Content-Disposition": f'attachment; filename="change-request-{attached.pk}.pdf"',
    }
    assert "X-Accel-Redirect" not in response and "X-Sendfile" not in response


@override_settings(CRM_MEDIA_ACCEL="x-accel-redirect:/protected-media/")
def test_x_accel_redirect_hands_the_file_to_nginx_after_the_same_checks(
    client, customer_world, attached
):
    # when someone who sees the customer asks
    response = _get(client, customer_world["sup_th"], attached)

    # then nginx is told where the file is, with the same headers and no body
    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == "/protected-media/" + attached.attachment.name
    assert response.content == b""
    assert _file_headers(response) == {
        **EXPECTED_PDF_HEADERS,
        "Content-Disposition": f'attachment; filename="change-request-{attached.pk}.pdf"',
    }
    # and someone who does not see it gets no redirect at all
    outsider = _get(client, customer_world["am_th2"], attached)
    assert outsider.status_code == 404
    assert "X-Accel-Redirect" not in outsider


def test_x_sendfile_names_the_file_on_disk(client, customer_world, tmp_path):
    storages = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    with override_settings(STORAGES=storages, CRM_MEDIA_ACCEL="x-sendfile"):
        change_request = make_change_request(
            customer_world["c_th"],
            customer_world["am_th"],
            attachment=upload(image_bytes("PNG"), "shop.png"),
        )
        response = _get(client, customer_world["am_th"], change_request)

    path = tmp_path / change_request.attachment.name
    assert path.read_bytes() == image_bytes("PNG")
    assert response["X-Sendfile"] == str(path)
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline;")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_file_missing_from_the_storage_is_not_found(client, customer_world, attached):
    attached.attachment.storage.delete(attached.attachment.name)

    assert _get(client, customer_world["sup_th"], attached).status_code == 404
    with override_settings(CRM_MEDIA_ACCEL="x-accel-redirect:/protected-media/"):
        assert _get(client, customer_world["sup_th"], attached).status_code == 404


@pytest.mark.parametrize("value", ["nginx", "x-accel-redirect:protected/", "x-accel-redirect:"])
def test_a_mistyped_fast_path_setting_is_an_error_not_a_silent_fallback(
    client, customer_world, attached, value
):
    client.raise_request_exception = True
    with override_settings(CRM_MEDIA_ACCEL=value), pytest.raises(ImproperlyConfigured):
        _get(client, customer_world["sup_th"], attached)


@pytest.mark.parametrize(
    ("value", "storage", "errors"),
    [
        ("", "InMemoryStorage", []),
        ("x-accel-redirect:/protected-media/", "InMemoryStorage", []),
        ("x-sendfile", "FileSystemStorage", []),
        ("x-sendfile", "InMemoryStorage", ["crm.E101"]),
        ("x-accel-redirect:protected", "FileSystemStorage", ["crm.E101"]),
    ],
)
def test_the_fast_path_setting_is_checked_at_start(value, storage, errors, tmp_path):
    storages = {
        **settings.STORAGES,
        "default": {"BACKEND": f"django.core.files.storage.{storage}"},
    }
    with override_settings(CRM_MEDIA_ACCEL=value, STORAGES=storages, MEDIA_ROOT=tmp_path):
        found = check_media_accel()

    assert [error.id for error in found] == errors


# --- no /media/ route --------------------------------------------------------------------


def _root_urlconf_as_loaded_with(**overrides) -> URLResolver:
    """The project's URLconf loaded afresh under `overrides` (crm.urls decides its routes when
    imported), without touching the one the test client uses."""
    with override_settings(**overrides):
        spec = importlib.util.find_spec(settings.ROOT_URLCONF)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return URLResolver(RegexPattern(r"^/"), module)


@pytest.mark.parametrize("debug", [True, False], ids=["debug", "production"])
def test_no_settings_route_media_urls(debug):
    resolver = _root_urlconf_as_loaded_with(DEBUG=debug)

    for path in (
        "/media/change_requests/2024/05/evil.html",
        "/media/visits/2024/05/0123456789abcdef0123456789abcdef.jpg",
        "/media/imports/2024/05/customers.csv",
    ):
        with pytest.raises(Resolver404):
            resolver.resolve(path)


def test_media_urls_are_not_found_in_the_running_site(client, customer_world, attached):
    client.force_login(customer_world["admin"])

    response = client.get("/" + settings.MEDIA_URL + attached.attachment.name)

    assert response.status_code == 404


def test_a_jpeg_cut_just_before_its_end_is_refused():
    # The last byte of the scan and the end marker are missing: the decoder runs out of data.
    # (Without only the two bytes of the end marker, every pixel may still be there: libjpeg
    # then decodes the whole image, and such a file is as good as complete.)
    data = image_bytes("JPEG", (128, 128), noise=True)

    with pytest.raises(DomainError):
        upload_check(upload(data[:-3], "a.jpg"), field="photo", max_bytes=MB)
    assert upload_check(upload(data, "a.jpg"), field="photo", max_bytes=MB) is JPEG
