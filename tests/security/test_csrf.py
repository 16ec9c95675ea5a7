"""CSRF on every URL: signed in as someone allowed (the administrator, allowed everywhere; for
the sign-in page and the language switch, nobody), a POST without the token is refused with a
403 and the same POST with the token (read from the page's form) is not. The REST API under
session authentication enforces CSRF too (DRF's SessionAuthentication); calls authenticated
with an API token are exempt by design (no browser holds the token).

Every URL pattern is tried (the admin site's internals aside, as in the matrix), not only the
forms: Django's CSRF check runs before the view, so even a GET-only URL must refuse a POST
without the token; with the token, a GET-only URL answers 405.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.security.conftest import client_as
from tests.security.urls import (
    NOT_IN_MATRIX_EXCEPT,
    NOT_IN_MATRIX_ROUTES,
    QUERIES,
    build_url,
    url_patterns,
)

# Who posts: the administrator, except on the pages used before signing in.
ANONYMOUS = {"login", "set_language", "health"}

PATTERNS = [
    p
    for p in url_patterns()
    if not p.route.startswith(NOT_IN_MATRIX_ROUTES) or p.name in NOT_IN_MATRIX_EXCEPT
]
SYNC_ENDPOINTS = [p.name for p in PATTERNS if p.name.endswith("_sync")]

TOKEN_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def form_token(client, path: str) -> str:
    """The CSRF token of the first form on `path` (as the browser would post it)."""
    response = client.get(path)
    assert response.status_code == 200, path
    match = TOKEN_INPUT.search(response.content.decode())
    assert match, f"no form with a CSRF token on {path}"
    return match.group(1)


@pytest.mark.parametrize("pattern", PATTERNS, ids=lambda p: p.name)
def test_post_without_the_token_is_refused(w, pattern):
    user = None if pattern.name in ANONYMOUS else "admin"
    client = client_as(w, user, enforce_csrf_checks=True)
    url = build_url(pattern, w) + QUERIES.get(pattern.name, "")
    api = url.startswith("/api/")
    token = form_token(client, reverse("login") if user is None else reverse("notifications"))

    if api:
        refused = client.post(url, data={}, content_type="application/json")
        allowed = client.post(url, data={}, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    else:
        refused = client.post(url, data={})
        allowed = client.post(url, data={"csrfmiddlewaretoken": token})

    assert refused.status_code == 403, f"POST {url} without the CSRF token"
    assert b"CSRF" in refused.content, f"POST {url}: refused, but not for CSRF"
    assert allowed.status_code != 403, f"POST {url} with the CSRF token"


@pytest.mark.parametrize("name", SYNC_ENDPOINTS)
def test_token_authenticated_api_calls_need_no_csrf_token(w, name):
    """An integration client posts with its API token and no CSRF token: accepted (here a 400
    for the empty body, the API's own answer), never the CSRF 403."""
    client = client_as(w, None, enforce_csrf_checks=True)
    response = client.post(
        reverse(name),
        data={},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {w['client_token']}",
    )
    assert response.status_code == 400, response.content


@pytest.mark.parametrize("name", ["visits_api:visit_list", "services_api:service_request_list"])
def test_token_authenticated_posts_are_refused_for_the_role_not_for_csrf(w, name):
    """Integration clients may not log visits or raise requests: a 403 that says so."""
    client = client_as(w, None, enforce_csrf_checks=True)
    response = client.post(
        reverse(name),
        data={},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {w['client_token']}",
    )
    assert response.status_code == 403
    assert b"CSRF" not in response.content
    assert b"Integration clients" in response.content


def test_session_api_post_with_the_cookie_token_is_accepted(w):
    """The browser's way: the csrftoken cookie's value in the X-CSRFToken header."""
    client = client_as(w, "admin", enforce_csrf_checks=True)
    client.get(reverse("notifications"))
    cookie = client.cookies["csrftoken"].value
    url = reverse("orders_api:order_sync")
    refused = client.post(url, data={}, content_type="application/json")
    accepted = client.post(url, data={}, content_type="application/json", HTTP_X_CSRFTOKEN=cookie)
    assert refused.status_code == 403
    assert accepted.status_code == 400  # past CSRF and permissions: the empty body is refused
