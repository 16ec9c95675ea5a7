"""A NUL character (`%00`) in the address is refused on every URL before any view reads it
(crm.middleware.RejectNulMiddleware): in the path a 404 (nothing has such a name), in the query
string a 400 naming the parameters; JSON in the API's error shape on /api/, a page elsewhere.
PostgreSQL refuses NUL in text, so one that reached a query was a 500 on about a dozen pages.

Each URL is the access matrix's (tests/security/urls.py), built with the world's real rows so
that, without the middleware, the request would reach its view; requested by an administrator,
who may open every one of them. Run on PostgreSQL too (CI does), where the bug showed: there,
every path case was a 500 or a 404 and every query case a 200, a redirect or a 500.
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import NoReverseMatch, reverse

from tests.api_errors import api_error, field_errors
from tests.security.conftest import client_as
from tests.security.test_access_matrix import ROWS
from tests.security.urls import QUERIES, build_kwargs, url_patterns

PATTERNS = {p.name: p for p in url_patterns()}
URLS = sorted({(name, method) for name, method, _obj, _outcomes in ROWS})
WITH_ARGUMENTS = [(name, method, kwarg) for name, method in URLS for kwarg in PATTERNS[name].kwargs]
# Stand-ins found in a reversed URL and replaced by the NUL (an int converter refuses text).
STAND_INS = ("nulstandin", 987654321)
NUL = "x%00y"
# Query parameters the pages read (customer codes, account managers, searches, months, ...).
QUERY = "customer=x%00&am=x%00&q=x%00&month=x%00&status=x%00"
QUERY_NAMES = ["customer", "am", "q", "month", "status"]


def send(client, method: str, url: str):
    if method == "GET":
        return client.get(url)
    if url.startswith("/api/"):
        return client.post(url, data={}, content_type="application/json")
    return client.post(url, data={})


def url_with_nul(w, name: str, kwarg: str) -> str:
    """The URL of `name` for the world's TH row, with a NUL in the argument `kwarg`."""
    kwargs = build_kwargs(PATTERNS[name], w)
    for stand_in in STAND_INS:
        try:
            url = reverse(name, kwargs={**kwargs, kwarg: stand_in})
        except NoReverseMatch:
            continue
        return url.replace(str(stand_in), NUL)
    raise AssertionError(f"{name}: no stand-in fits the argument {kwarg}")


def assert_not_found(response, url: str) -> None:
    """The 404 the address gets: the API's JSON, or the 404 page."""
    assert response.status_code == 404, url
    if url.startswith("/api/"):
        assert api_error(response, 404, "not_found")["errors"] == {}, url
    else:
        assert b"There is nothing here" in response.content, url


def assert_refused(response, url: str, names: list[str]) -> None:
    """The 400 the address gets, naming the parameters that hold a NUL."""
    assert response.status_code == 400, url
    if url.startswith("/api/"):
        errors = field_errors(response, 400, "invalid")
        assert errors == dict.fromkeys(names, ["Null characters are not allowed."]), url
    else:
        page = response.content.decode()
        assert 'data-testid="bad-request"' in page, url
        assert all(f"“{name}”" in page for name in names), url


@pytest.mark.parametrize(("name", "method", "kwarg"), WITH_ARGUMENTS)
def test_a_nul_in_a_path_argument_is_a_404(w, name, method, kwarg):
    url = url_with_nul(w, name, kwarg)
    assert_not_found(send(client_as(w, "admin"), method, url), url)


@pytest.mark.parametrize(("name", "method"), URLS)
def test_a_nul_in_a_query_parameter_is_a_400(w, name, method):
    url = reverse(name, kwargs=build_kwargs(PATTERNS[name], w))
    query = QUERIES.get(name, "?")[1:]
    url = f"{url}?{query}&{QUERY}" if query else f"{url}?{QUERY}"
    assert_refused(send(client_as(w, "admin"), method, url), url, QUERY_NAMES)


@pytest.mark.parametrize(
    ("url", "names"),
    [
        ("/customers/x%00y/", None),
        ("/visits/coverage/x%00/", None),
        ("/api/v1/customers/x%00/", None),
        ("/static/css/crm%00.css", None),
        ("/visits/log/?customer=x%00", ["customer"]),
        ("/visits/?am=x%00", ["am"]),
        ("/customers/?q=%00&page=2", ["q"]),
        ("/customers/?x%00=1", ["x%00"]),  # in a parameter's name
        ("/api/v1/customers/?q=x%00&page_size=%00", ["q", "page_size"]),
    ],
)
@pytest.mark.parametrize("key", ["admin", "am_th", None])
def test_the_reported_addresses_are_refused_for_anyone(w, url, names, key):
    response = client_as(w, key).get(url)
    if names is None:
        assert_not_found(response, url)
    else:
        assert_refused(response, url, names)


@pytest.mark.parametrize("model", sorted(admin.site._registry, key=lambda m: m._meta.label))
def test_a_nul_in_the_admin_sites_search_and_object_addresses_is_a_400(w, model):
    opts = model._meta
    changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=["nulstandin"])
    client = client_as(w, "admin")
    search = f"{changelist}?q=x%00"
    assert_refused(client.get(search), search, ["q"])
    change = change.replace("nulstandin", NUL)
    assert_not_found(client.get(change), change)


def test_a_nul_free_address_is_left_alone(w):
    """`%2500` is a percent sign followed by 00, not a NUL: the page answers as usual."""
    response = client_as(w, "admin").get("/customers/?q=%2500")
    assert response.status_code == 200


def test_a_bad_host_is_still_djangos_plain_400(client):
    """The NUL page draws the site's layout, which needs the user: Django's own 400 (a bad
    Host header, refused before the user is known) keeps its plain page."""
    response = client.get("/", HTTP_HOST="evil.example.com")
    assert (response.status_code, b"Bad Request (400)" in response.content) == (400, True)
