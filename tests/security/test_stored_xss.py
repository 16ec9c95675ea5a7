"""Text people type (a shop's name and address, a visit's purpose, a request's description, a
notification) never reaches a page as markup: every page of the matrix that the administrator
or the account manager opens escapes it (charts read it through json_script, which escapes
too). JSON and CSV answers carry it as data, which is not checked here."""

from __future__ import annotations

from crm.models import Notification
from customers.models import Customer
from services.models import ServiceRequest
from tests.security.conftest import client_as
from tests.security.test_access_matrix import PATTERNS, ROWS
from tests.security.urls import QUERIES, build_url
from visits.models import Visit

PAYLOAD = '<script>alert("crm")</script><img src=x onerror=alert(1)>'


def test_typed_text_is_escaped_on_every_page(w):
    Customer.objects.filter(pk=w["c_th"].pk).update(store_name=PAYLOAD, address=PAYLOAD)
    Visit.objects.filter(pk=w["visit"].pk).update(purpose=PAYLOAD)
    ServiceRequest.objects.filter(pk=w["service_request"].pk).update(description=PAYLOAD)
    Notification.objects.filter(user=w["am_th"]).update(message=PAYLOAD)
    pages = {
        build_url(PATTERNS[name], w) + QUERIES.get(name, "")
        for name, method, obj, outcomes in ROWS
        if method == "GET" and obj != "yx" and outcomes["admin"] == "200"
    }
    raw, escaped = [], 0
    for url in sorted(pages):
        for user in ("admin", "am_th"):
            response = client_as(w, user).get(url)
            if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
                continue
            body = b"".join(response.streaming_content) if response.streaming else response.content
            if b"<script>alert" in body or b"<img src=x" in body:
                raw.append(f"{url} as {user}")
            escaped += b"&lt;script&gt;alert" in body
    assert not raw, "unescaped text on: " + ", ".join(raw)
    assert escaped > 10  # the text was shown (escaped) on many pages: the check saw it
