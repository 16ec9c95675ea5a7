"""Uploaded files cannot be turned against the people who open them (issue 18: an HTML
"attachment" whose script approved change requests when a supervisor opened it).

- A file is accepted by its content: HTML, SVG or JavaScript named and typed as a PDF or an
  image is refused, and nothing of the proposal is kept.
- An accepted file is stored under a random name, never the sender's.
- It is served only through its object's view, to people who see the object (the customer's
  scope), with nosniff, a sandboxing CSP, a private cache and, unless it is a verified image,
  as a download; never from /media/; anonymous people get the login page.
"""

from __future__ import annotations

import re

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from customers.models import ChangeRequest, Customer
from tests.crm.upload_files import HTML, JS, SVG, image_bytes, pdf_bytes, upload
from tests.security.conftest import client_as
from tests.visits.factories import stored_files

RANDOM_NAME = re.compile(r"change_requests/\d{4}/\d{2}/[0-9a-f]{32}\.(pdf|jpg|png|webp)")


def _attachment_url(change_request) -> str:
    return reverse("customers:change_request_attachment", args=[change_request.pk])


def _propose(w, attachment, *, phone="13700000099"):
    """am_th proposes a new store name (needs approval) and a new phone (saved at once),
    with `attachment`, through the change page."""
    customer = w["c_th"]
    url = reverse("customers:change", args=[customer.customer_code])
    form = client_as(w, "am_th").get(url).context["form"]
    data = {name: form[name].value() or "" for name in form.fields if name != "attachment"}
    data = {k: v for k, v in data.items() if v is not None}
    data |= {"store_name": "天河一号店（新招牌）", "phone": phone, "reason": "new sign"}
    return client_as(w, "am_th").post(url, {**data, "attachment": attachment})


@pytest.mark.parametrize(
    ("content", "name", "content_type"),
    [
        (HTML, "licence.pdf", "application/pdf"),
        (HTML, "licence.html", "text/html"),
        (SVG, "shop.png", "image/png"),
        (SVG, "shop.svg", "image/svg+xml"),
        (JS, "scan.jpg", "image/jpeg"),
        # Starts like a PNG, but is not one to its end.
        (b"\x89PNG\r\n\x1a\n" + HTML, "shop.png", "image/png"),
        # A PDF header over HTML, without the PDF's end marker.
        (b"%PDF-1.4\n" + HTML, "licence.pdf", "application/pdf"),
    ],
    ids=["html-as-pdf", "html", "svg-as-png", "svg", "js-as-jpg", "png-header", "pdf-header"],
)
def test_a_disguised_file_is_refused_and_nothing_is_kept(w, content, name, content_type):
    # given
    requests_before = ChangeRequest.objects.count()
    files_before = stored_files()

    # when
    response = _propose(w, upload(content, name, content_type))

    # then: the form again, the error on the attachment, nothing saved (the direct phone
    # change neither: the proposal is one transaction)
    assert response.status_code == 200
    errors = response.context["form"].errors["attachment"]
    assert errors and ("Send a PDF, JPEG, PNG or WebP file" in errors[0] or "damaged" in errors[0])
    assert ChangeRequest.objects.count() == requests_before
    assert Customer.objects.get(pk=w["c_th"].pk).dynamic.phone != "13700000099"
    assert stored_files() == files_before


def test_an_accepted_attachment_is_stored_under_a_random_name(w):
    response = _propose(w, upload(pdf_bytes(), "营业执照-licence.pdf", "application/pdf"))

    assert response.status_code == 302
    change_request = ChangeRequest.objects.latest("pk")
    assert RANDOM_NAME.fullmatch(change_request.attachment.name)
    assert "licence" not in change_request.attachment.name
    # the world's attachment too (uploaded as licence-scan.pdf)
    assert RANDOM_NAME.fullmatch(w["change_request"].attachment.name)


SEE_TH = ("admin", "sup_th", "sup_gz", "am_th", "lo_th")
BLIND_TO_TH = ("am_th2", "sup_yx", "am_yx", "lo_yx", "sup_sz", "am_sz")


def test_an_attachment_is_served_only_to_people_who_see_its_customer(w):
    url = _attachment_url(w["change_request"])
    for key in SEE_TH:
        response = client_as(w, key).get(url)
        assert response.status_code == 200, key
        assert b"".join(response.streaming_content) == pdf_bytes()
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"].startswith("attachment;"), key
        assert response["Content-Disposition"].endswith(
            f'filename="change-request-{w["change_request"].pk}.pdf"'
        )
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response["Content-Security-Policy"]
        assert "default-src 'none'" in response["Content-Security-Policy"]
        assert response["Cache-Control"].startswith("private")
    for key in BLIND_TO_TH:
        assert client_as(w, key).get(url).status_code == 404, key


def test_anonymous_people_get_the_login_page_and_media_is_not_served(w):
    url = _attachment_url(w["change_request"])

    response = client_as(w, None).get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    # The stored file has no address of its own, for anyone.
    media = "/media/" + w["change_request"].attachment.name
    assert default_storage.exists(w["change_request"].attachment.name)
    for key in (None, "admin", "am_th"):
        assert client_as(w, key).get(media).status_code == 404


def test_a_verified_image_is_shown_inline_and_anything_else_downloads(w):
    # given an image attachment, and one stored before names were random, under the
    # sender's name and type (HTML named .png), as older rows may be
    image = _propose(w, upload(image_bytes("PNG"), "shop.png", "image/png"))
    assert image.status_code == 302
    png_request = ChangeRequest.objects.latest("pk")
    legacy = ChangeRequest.objects.filter(pk=w["change_request"].pk)
    legacy_name = default_storage.save("change_requests/2024/05/shop.png", ContentFile(HTML))
    legacy.update(attachment=legacy_name)

    # when
    shown = client_as(w, "sup_th").get(_attachment_url(png_request))
    opaque = client_as(w, "sup_th").get(_attachment_url(w["change_request"]))

    # then
    assert shown["Content-Type"] == "image/png"
    assert shown["Content-Disposition"].startswith("inline;")
    assert shown["X-Content-Type-Options"] == "nosniff"
    assert opaque["Content-Type"] == "application/octet-stream"
    assert opaque["Content-Disposition"].startswith("attachment;")
    assert opaque["Content-Disposition"].endswith('.bin"')
    assert "sandbox" in opaque["Content-Security-Policy"]
    assert b"".join(opaque.streaming_content) == HTML


def test_the_change_request_list_links_the_view_not_the_storage(w):
    html = client_as(w, "sup_th").get(reverse("customers:change_requests")).content.decode()

    assert _attachment_url(w["change_request"]) in html
    assert "/media/" not in html
