"""The Content-Security-Policy and the Permissions-Policy (crm.middleware).

Every page, API answer, error page and static file carries both headers; the policy lets no
inline script, no eval and no inline style run (the templates hold none: checked here, and in
the browser by tests/browser/test_csp_browser.py); the phone's position and camera are allowed
on the visit form only.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.test import RequestFactory, override_settings
from django.urls import reverse

from crm.middleware import SecurityHeadersMiddleware
from tests.security.conftest import client_as
from tests.security.test_access_matrix import ROWS
from tests.security.urls import QUERIES, build_url, url_patterns

TEMPLATES = Path(settings.BASE_DIR) / "templates"
PATTERNS = {p.name: p for p in url_patterns()}
# Every URL of the access matrix with the method it answers (pages, API, the admin's index).
URLS = sorted({(name, method) for name, method, _obj, _outcomes in ROWS})
# The visit form: the one page that reads the phone's position and takes a photo.
VISIT_PAGES = {"visits:log"}
POWERFUL = ("geolocation", "camera", "microphone", "payment", "usb", "display-capture")


def directives(response) -> dict[str, list[str]]:
    """The Content-Security-Policy of a response, by directive."""
    policy = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, *sources = part.split()
        policy[name] = sources
    return policy


def features(response) -> dict[str, str]:
    """The Permissions-Policy of a response: feature → its allowlist ("" when denied)."""
    return {
        feature.strip(): allowlist.strip("()")
        for feature, allowlist in (
            item.split("=", 1) for item in response["Permissions-Policy"].split(",")
        )
    }


def request(w, name: str, method: str, key: str = "admin"):
    url = build_url(PATTERNS[name], w) + QUERIES.get(name, "")
    if name in VISIT_PAGES:
        url += f"?customer={w['c_th'].customer_code}"
    client = client_as(w, key)
    if method == "GET":
        return client.get(url)
    if url.startswith("/api/"):
        return client.post(url, data={}, content_type="application/json")
    return client.post(url, data={})


def test_every_page_and_endpoint_sends_the_policies(w):
    """Pages and API answers carry the site's policy; any other response (an export, a
    photo, a file a view serves with a stricter policy of its own) carries one too."""
    expected = SecurityHeadersMiddleware(HttpResponse)(RequestFactory().get("/"))
    missing = []
    for name, method in URLS:
        response = request(w, name, method)
        for header in ("Content-Security-Policy", "Permissions-Policy"):
            if header not in response:
                missing.append(f"{header} on {method} {name} ({response.status_code})")
        page_or_api = response.get("Content-Type", "").startswith(("text/html", "application/json"))
        policy = response.get("Content-Security-Policy")
        if page_or_api and policy != expected["Content-Security-Policy"]:
            missing.append(f"another policy on {method} {name}: {policy}")
    assert not missing, "\n".join(missing)


@pytest.mark.parametrize(
    ("key", "url"),
    [
        (None, "/login/"),  # anonymous: the sign-in page
        (None, "/customers/"),  # the redirect to it
        (None, "/api/v1/me/"),  # the API's 401
        ("admin", "/no-such-page/"),  # the 404 page
        ("admin", "/static/css/crm.css"),  # a static file (WhiteNoise)
        ("admin", "/static/img/favicon.svg"),
    ],
)
def test_the_policy_is_on_anonymous_error_and_static_responses(w, key, url):
    response = client_as(w, key).get(url)
    assert directives(response)["script-src"] == ["'self'"], response.status_code
    assert features(response)["geolocation"] == ""


def test_scripts_and_styles_only_come_from_our_own_files(w):
    policy = directives(client_as(w, "am_th").get(reverse("home")))
    unsafe = {"'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "'wasm-unsafe-eval'"}
    anywhere = {"*", "data:", "blob:", "http:", "https:"}
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert not (set(policy["default-src"]) & (unsafe | anywhere))
    assert (policy["object-src"], policy["base-uri"], policy["frame-ancestors"]) == (
        ["'none'"],
        ["'none'"],
        ["'none'"],
    )


def test_position_and_camera_are_allowed_on_the_visit_form_only(w):
    allowed = []
    for name, method in URLS:
        if method != "GET":
            continue
        response = request(w, name, method, key="am_th")
        granted = {f for f in POWERFUL if features(response)[f] != ""}
        if granted:
            allowed.append((name, sorted(granted), features(response)["geolocation"]))
    assert allowed == [("visits:log", ["camera", "geolocation"], "self")]


def test_the_visit_form_allows_nothing_else(w):
    response = request(w, "visits:log", "GET", key="am_th")
    granted = {feature for feature, allowlist in features(response).items() if allowlist}
    assert (response.status_code, granted) == (200, {"geolocation", "camera"})


def test_a_header_the_view_set_wins():
    # given a view that sends its own, stricter policies (a file served inline, say)
    def view(request):
        response = HttpResponse("file")
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        response["Permissions-Policy"] = "camera=()"
        return response

    # when the middleware sees its response
    response = SecurityHeadersMiddleware(view)(RequestFactory().get("/"))
    # then both are left as the view set them
    assert (response["Content-Security-Policy"], response["Permissions-Policy"]) == (
        "default-src 'none'; sandbox",
        "camera=()",
    )


@override_settings(DEBUG=True)
def test_error_pages_only_report_the_policy_while_debugging():
    """Django's technical error pages (DEBUG only) are styled inline: they stay readable."""
    middleware = SecurityHeadersMiddleware(lambda request: HttpResponse(status=500))
    response = middleware(RequestFactory().get("/"))
    assert "Content-Security-Policy" not in response
    assert "script-src 'self'" in response["Content-Security-Policy-Report-Only"]


@override_settings(SECURE_CSP_REPORT_ONLY={"script-src": ["'none'"], "report-uri": ["/csp/"]})
def test_a_report_only_policy_is_sent_beside_the_enforced_one():
    response = SecurityHeadersMiddleware(HttpResponse)(RequestFactory().get("/"))
    assert response["Content-Security-Policy-Report-Only"] == "script-src 'none'; report-uri /csp/"
    assert "script-src 'self'" in response["Content-Security-Policy"]


# --- the templates hold nothing the policy would block -------------------------------------

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
STYLE = re.compile(r"\sstyle\s*=|<style\b", re.IGNORECASE)


@pytest.mark.parametrize("rule", ["inline script", "event handler", "inline style"])
def test_no_template_holds_what_the_policy_blocks(rule):
    pattern = {"inline script": INLINE_SCRIPT, "event handler": HANDLER, "inline style": STYLE}[
        rule
    ]
    found = [
        f"{path.relative_to(TEMPLATES)}:{n}: {line.strip()[:100]}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert not found, "\n".join(found)


def test_drfs_browsable_api_allows_inline_styles_and_still_no_inline_script(w):
    """DRF's own templates style inline; its pages alone allow that (scripts stay 'self')."""
    response = client_as(w, "admin").get(reverse("api:me"), HTTP_ACCEPT="text/html")
    policy = directives(response)
    assert response["Content-Type"].startswith("text/html")
    assert (policy["style-src"], policy["script-src"]) == (
        ["'self'", "'unsafe-inline'"],
        ["'self'"],
    )
    json = client_as(w, "admin").get(reverse("api:me"))
    assert directives(json)["style-src"] == ["'self'"]
