"""The forms that send the user back to `next` never send them off the site (open redirect):
`//evil.example`, `/\\evil.example` (browsers read it as `//evil.example`) and absolute URLs
are replaced by the form's own page (or, for `/\\…`, made harmless: Django's redirect
percent-encodes the backslash)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from tests.security.conftest import client_as

ELSEWHERE = ["https://evil.example/", "//evil.example/", "/\\evil.example/", "/\\/evil.example/"]

# (id, URL builder, who posts)
FORMS = [
    (
        "change-request-decide",
        lambda w: reverse("customers:change_request_decide", args=[w["change_request"].pk]),
        "sup_th",
    ),
    ("change-request-bulk", lambda w: reverse("customers:change_request_bulk_approve"), "sup_th"),
    (
        "override-decide",
        lambda w: reverse("grading:override_decide", args=[w["override"].pk, "approve"]),
        "sup_th2",
    ),
    (
        "warning-acknowledge",
        lambda w: reverse("valuation:warning_acknowledge", args=[w["warning"].pk]),
        "am_th",
    ),
    (
        "compliance-void",
        lambda w: reverse("valuation:compliance_void", args=[w["compliance"].pk]),
        "lo_th",
    ),
    ("plan-skip", lambda w: reverse("visits:plan_skip", args=[w["plan"].pk]), "am_th"),
    (
        "follow-up-done",
        lambda w: reverse("visits:follow_up_done", args=[w["follow_up"].pk]),
        "am_th",
    ),
]


def _params():
    for ident, url, user in FORMS:
        for target in ELSEWHERE:
            yield pytest.param(url, user, target, id=f"{ident}-{target}")


@pytest.mark.parametrize(("url", "user", "target"), list(_params()))
def test_next_never_leaves_the_site(w, url, user, target):
    response = client_as(w, user).post(url(w), {"next": target})
    assert response.status_code == 302
    location = response["Location"]
    assert url_has_allowed_host_and_scheme(location, allowed_hosts={"testserver"}), location
