"""API fuzzing: schemathesis generates requests from the OpenAPI schema (valid and invalid
bodies, query strings and path parameters) and calls every operation in-process through
Django's WSGI handler, with a real token, against a small world. No input may give a 500,
and every response must be one the schema documents, shaped as documented.

Deterministic (a fixed seed, derandomized Hypothesis, no example database) and bounded: per
operation and caller, the schema's example, schemathesis's coverage cases (boundary and invalid
values of each parameter and body field, unexpected methods: a fixed set, 9 to ~450) and
MAX_EXAMPLES generated cases; about 3,100 requests in all, a minute on SQLite.

Sent through the WSGI handler rather than Django's test client, so a view's exception becomes
the 500 page a client would get (and fails `not_a_server_error`, its traceback in the log).
"""

from __future__ import annotations

import json
import os

import pytest
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings

from tests.api_fuzz.conftest import ACCOUNT_MANAGER_KEY, INTEGRATION_CLIENT_KEY

# Generated cases per operation and identity. CRM_FUZZ_EXAMPLES digs deeper by hand
# (e.g. 300); CI runs the default.
MAX_EXAMPLES = int(os.environ.get("CRM_FUZZ_EXAMPLES", "25"))

# The checks every response goes through (schemathesis's other checks are off).
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
]

# Sync writes are for integration clients; logging visits and raising requests for people.
SYNC_PATHS = r"^/api/v1/(areas|customers|products|orders|allocation-plans)/sync/$"
PEOPLE_ONLY_POSTS = r"^/api/v1/(visits|service-requests)/$"


def _openapi() -> dict:
    """The schema drf-spectacular serves at /api/v1/schema/, as plain JSON."""
    generated = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(generated, renderer_context={}))


CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20261122,
        "generation": {
            "mode": "all",
            "deterministic": True,
            "database": "none",
            "max-examples": MAX_EXAMPLES,
            # The token goes in the header we send; do not generate Authorization values.
            "with-security-parameters": False,
        },
        "phases": {"stateful": {"enabled": False}},
        # No literals harvested from the app's code: what is generated depends on the schema
        # and the seed only, not on unrelated code changes.
        "analysis": {"constants": {"enabled": False}},
        "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
    }
)

schema = schemathesis.openapi.from_dict(_openapi(), config=CONFIG)

HYPOTHESIS = settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    # One world per operation (the test's transaction) serves all its examples.
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)


def _call(case, app, key: str) -> None:
    # Every answer is checked, a URL that matches no view too (`/visits/x/` for an integer
    # id): on an API path Django's 404 is the API's JSON error as well.
    headers = {"Authorization": f"Token {key}"}
    response = case.call(app=app, headers=headers)
    case.validate_response(
        response, headers=headers, transport_kwargs={"app": app, "headers": headers}
    )


@pytest.mark.django_db
@schema.exclude(path_regex=SYNC_PATHS).parametrize()
@HYPOTHESIS
def test_as_account_manager(case, fuzz_world, wsgi_app):
    _call(case, wsgi_app, ACCOUNT_MANAGER_KEY)


@pytest.mark.django_db
@schema.exclude(method="POST", path_regex=PEOPLE_ONLY_POSTS).parametrize()
@HYPOTHESIS
def test_as_integration_client(case, fuzz_world, wsgi_app):
    _call(case, wsgi_app, INTEGRATION_CLIENT_KEY)
