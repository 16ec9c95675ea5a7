"""The REST API's ground rules: authentication, scope, schema, docs, error shape."""

import re

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from crm.choices import Role
from crm.models import ApiToken
from crm.services import api_client_create, api_token_rotate
from tests.api_errors import api_error, field_errors


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def erp(db, system_actor):
    client, key = api_client_create(name="erp", actor=system_actor)
    return client, key


def test_anonymous_requests_are_refused_with_401(api, db):
    for name in ("api:me", "api:area_list", "api:schema"):
        response = api.get(reverse(name))
        assert response.status_code == 401, name
        assert response["WWW-Authenticate"] == "Token"


def test_token_authenticates_an_integration_client(api, erp):
    client, key = erp
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = api.get(reverse("api:me"))
    assert response.status_code == 200
    assert response.json() == {
        "username": "erp",
        "name": "erp",
        "role": "integration_client",
        "areas": [],
    }


def test_token_use_is_recorded(api, erp):
    client, key = erp
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    api.get(reverse("api:me"))
    assert ApiToken.objects.get(user=client).last_used_at is not None


@pytest.mark.parametrize(
    "header",
    ["Token nonsense", "Token", "Token a b", "token  "],
)
def test_bad_token_headers_are_refused(api, erp, header):
    api.credentials(HTTP_AUTHORIZATION=header)
    assert api.get(reverse("api:me")).status_code == 401


def test_only_the_digest_of_a_token_is_stored(erp):
    client, key = erp
    token = ApiToken.objects.get(user=client)
    assert key not in (token.digest, token.prefix)
    assert token.digest == ApiToken.digest_of(key)


def test_rotated_token_stops_working(api, erp, system_actor):
    client, old_key = erp
    new_key = api_token_rotate(client=client, actor=system_actor)
    api.credentials(HTTP_AUTHORIZATION=f"Token {old_key}")
    assert api.get(reverse("api:me")).status_code == 401
    api.credentials(HTTP_AUTHORIZATION=f"Token {new_key}")
    assert api.get(reverse("api:me")).status_code == 200


def test_deactivated_client_token_is_refused(api, erp):
    client, key = erp
    client.is_active = False
    client.save()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get(reverse("api:me")).status_code == 401


def test_people_use_the_api_with_their_session(api, make_user, areas):
    api.force_login(make_user(Role.ACCOUNT_MANAGER, [areas["TH"]], username="amx"))
    response = api.get(reverse("api:me"))
    assert response.json()["areas"] == ["TH"]


def test_session_writes_need_csrf(make_user, areas):
    api = APIClient(enforce_csrf_checks=True)
    api.force_login(make_user(Role.ADMINISTRATOR))
    # A read-only endpoint answers 403 for a CSRF failure before refusing the method.
    assert api.post(reverse("api:area_list"), {}).status_code == 403


def test_area_list_is_scoped_filtered_and_paged(api, make_user, areas, django_assert_num_queries):
    api.force_login(make_user(Role.SUPERVISOR, [areas["GZ"]]))
    # session, user, the supervisor's areas, the area tree, count, page
    with django_assert_num_queries(6):
        response = api.get(reverse("api:area_list"))
    body = response.json()
    assert body["count"] == 3
    assert [row["code"] for row in body["results"]] == ["GZ", "TH", "YX"]
    assert body["results"][1] == {"code": "TH", "name": "天河区", "parent": "GZ"}
    filtered = api.get(reverse("api:area_list"), {"parent": "GZ", "q": "越"}).json()
    assert [row["code"] for row in filtered["results"]] == ["YX"]


def test_openapi_schema_describes_token_auth(api, erp):
    _client, key = erp
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = api.get(reverse("api:schema"), {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/areas/" in schema["paths"]
    assert schema["components"]["securitySchemes"]["tokenAuth"]["name"] == "Authorization"


def test_docs_page_loads_its_assets_locally(client, make_user):
    client.force_login(make_user(Role.ADMINISTRATOR))
    html = client.get(reverse("api:docs")).content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    # No asset from another host (a bare "cdn" could occur inside the random CSRF token).
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert not re.search(r"https?://[^\s\"']*cdn", html.lower())


def test_domain_errors_become_400_naming_the_field():
    from crm.api.exceptions import exception_handler
    from crm.exceptions import DomainError

    response = exception_handler(DomainError("Unknown area code(s): X.", field="areas"), {})
    assert response.status_code == 400
    assert response.data == {
        "detail": "areas: Unknown area code(s): X.",
        "code": "invalid",
        "errors": {"areas": ["Unknown area code(s): X."]},
    }
    whole = exception_handler(DomainError("Broken."), {})
    assert whole.data["errors"] == {"non_field_errors": ["Broken."]}


def test_errors_raised_outside_a_view_on_an_api_path_have_the_error_shape(client, rf, db):
    from crm.api.exceptions import (
        api_error_handler_400,
        api_error_handler_404,
        api_error_handler_500,
    )

    assert field_errors(client.get("/api/v1/nowhere/"), 404, "not_found") == {}
    assert api_error(api_error_handler_500(rf.get("/api/v1/me/")), 500, "server_error")
    assert api_error(api_error_handler_400(rf.get("/api/v1/me/"), None), 400, "bad_request")
    # a site mounted below a prefix (SCRIPT_NAME): its API is still the API
    mounted = rf.get("/api/v1/nowhere/", SCRIPT_NAME="/crm")
    assert api_error(api_error_handler_404(mounted, None), 404, "not_found")
    # pages keep Django's HTML answers
    page = client.get("/nowhere/")
    assert page.status_code == 404
    assert page["Content-Type"].startswith("text/html")
