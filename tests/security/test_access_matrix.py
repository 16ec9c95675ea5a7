"""Every page and API endpoint × every role: who gets the page, a 403, a 404, a 405 or the
login page. The expectations are one readable table (EXPECTED); a URL pattern the table does
not mention fails `test_every_url_pattern_has_expectations`, so no new URL slips in untested.

Roles (the people are those of tests/conftest.py's customer_world, see world.py):
    admin   administrator
    sup     supervisor of TH (sup_th)
    am      account manager of TH, owner of c_th and of every TH row below (am_th)
    am2     another account manager of TH (am_th2): account managers see only their own
            customers, so the TH rows are out of their scope
    lo      licence officer of TH (lo_th)
    client  integration client: its API token on /api/ URLs; on pages a session (force_login)
            stands for "should one ever get a session", and pages refuse it
    anon    nobody signed in

Each row is requested with the TH object of its kind (`th`), or with the YX object (`yx`):
a TH user asking for a YX row by its URL gets a 404, whatever their role.

Outcomes: 200; go = a redirect elsewhere than a login page (a POST that was refused or done
and sends the user back); login = a redirect to the login page; staff = to the admin site's
login (it is for staff, and only administrators are); 400, 401, 403, 404, 405, 415 (the
empty JSON body to an operation that reads multipart only); "-" = not
requested (am2 on a URL that names no row is the same request as am's).
GET for pages and endpoints that answer GET; for POST-only endpoints (method POST) the POST
without valid data: the unauthorised get 401/403/404/405 (never a 500), the authorised are
sent back ("go") or get the API's 400.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.security.conftest import client_as
from tests.security.urls import (
    NOT_IN_MATRIX_EXCEPT,
    NOT_IN_MATRIX_ROUTES,
    QUERIES,
    build_url,
    url_patterns,
)

ROLES = ("admin", "sup", "am", "am2", "lo", "client", "anon")
ROLE_USERS = {
    "admin": "admin",
    "sup": "sup_th",
    "am": "am_th",
    "am2": "am_th2",
    "lo": "lo_th",
    "client": "client",
}

# fmt: off
EXPECTED = """
# url name                            method obj  admin sup   am    am2   lo    client anon
home                                  GET    -    200   200   200   -     200   403    login
login                                 GET    -    go    go    go    -     go    go     200
logout                                GET    -    405   405   405   -     405   405    405
set_language                          POST   -    go    go    go    -     go    go     go
health                                GET    -    200   200   200   -     200   200    200
service_worker                        GET    -    200   200   200   -     200   200    200
manifest                              GET    -    200   200   200   -     200   200    200
notifications                         GET    -    200   200   200   -     200   403    login
crm:area_list                         GET    -    200   200   200   -     200   403    login
admin:index                           GET    -    200   staff staff -     staff staff  staff
password_change                       GET    -    200   200   200   -     200   403    login
password_reset_confirm                GET    th   go    go    go    go    go    go     go
crm:user_password_reset               GET    th   200   403   403   403   403   403    login

customers:list                        GET    -    200   200   200   -     200   403    login
customers:create                      GET    -    200   200   403   -     403   403    login
customers:export                      GET    -    200   200   200   -     200   403    login
customers:import                      GET    -    200   403   403   -     403   403    login
customers:import_detail               GET    th   200   403   403   403   403   403    login
customers:merge                       GET    -    200   403   403   -     403   403    login
customers:merge                       POST   -    200   403   403   -     403   403    login
customers:catalogue                   GET    -    200   403   403   -     403   403    login
customers:catalogue_draft             GET    -    200   403   403   -     403   403    login
customers:catalogue_draft             POST   -    200   403   403   -     403   403    login
customers:catalogue_preview           GET    -    go    403   403   -     403   403    login
customers:catalogue_activate          POST   -    go    403   403   -     403   403    login
customers:catalogue_discard           GET    -    go    403   403   -     403   403    login
customers:catalogue_discard           POST   -    go    403   403   -     403   403    login
customers:change_requests             GET    -    200   200   200   -     200   403    login
customers:duplicates                  GET    -    200   200   403   -     403   403    login
customers:duplicate_dismiss           POST   -    go    go    403   -     403   403    login
customers:change_request_decide       POST   th   go    go    go    404   go    403    login
customers:change_request_decide       POST   yx   go    404   404   404   404   403    login
customers:change_request_attachment   GET    th   200   200   200   404   200   403    login
customers:change_request_attachment   GET    yx   200   404   404   404   404   403    login
customers:change_request_bulk_approve POST   -    go    go    go    -     go    403    login
customers:detail                      GET    th   200   200   200   404   200   403    login
customers:detail                      GET    yx   200   404   404   404   404   403    login
customers:tab                         GET    th   go    go    go    404   go    403    login
customers:tab                         GET    yx   go    404   404   404   404   403    login
customers:dynamic_edit                GET    th   200   200   200   404   403   403    login
customers:dynamic_edit                GET    yx   200   404   404   404   404   403    login
customers:change                      GET    th   200   200   200   404   200   403    login
customers:change                      GET    yx   200   404   404   404   404   403    login

orders:list                           GET    -    200   200   200   -     200   403    login
orders:detail                         GET    th   200   200   200   404   200   403    login
orders:detail                         GET    yx   200   404   404   404   404   403    login
orders:products                       GET    -    200   403   403   -     403   403    login
orders:settings                       GET    -    200   403   403   -     403   403    login

grading:overview                      GET    -    200   200   200   -     200   403    login
grading:export                        GET    -    200   200   200   -     200   403    login
grading:runs                          GET    -    200   403   403   -     403   403    login
grading:run_status                    GET    th   200   403   403   403   403   403    login
grading:schemes                       GET    -    200   403   403   -     403   403    login
grading:scheme                        GET    th   200   403   403   403   403   403    login
grading:scheme_preview                POST   th   200   403   403   403   403   403    login
grading:scheme_activate               POST   th   go    403   403   403   403   403    login
grading:scheme_copy                   POST   th   go    403   403   403   403   403    login
grading:scheme_delete                 POST   th   go    403   403   403   403   403    login
grading:peak_month_add                POST   -    200   403   403   -     403   403    login
grading:peak_month_delete             POST   th   go    403   403   403   403   403    login
grading:overrides                     GET    -    200   200   200   -     200   403    login
grading:override_decide               POST   th   go    go    go    404   go    403    login
grading:override_decide               POST   yx   go    404   404   404   404   403    login
grading:override_propose              POST   th   go    go    go    404   go    403    login
grading:override_propose              POST   yx   go    404   404   404   404   403    login
grading:assessment                    POST   th   go    go    go    404   403   403    login
grading:assessment                    POST   yx   go    404   404   404   404   403    login
grading:publication                   POST   -    go    go    go    -     go    403    login

valuation:overview                    GET    -    200   200   200   -     200   403    login
valuation:export                      GET    -    200   200   200   -     200   403    login
valuation:runs                        GET    -    200   403   403   -     403   403    login
valuation:run_status                  GET    th   200   403   403   403   403   403    login
valuation:schemes                     GET    -    200   403   403   -     403   403    login
valuation:scheme                      GET    th   200   403   403   403   403   403    login
valuation:scheme_activate             POST   th   go    403   403   403   403   403    login
valuation:scheme_copy                 POST   th   go    403   403   403   403   403    login
valuation:scheme_delete               POST   th   go    403   403   403   403   403    login
valuation:warnings                    GET    -    200   200   200   -     200   403    login
valuation:warning_acknowledge         POST   th   go    go    go    404   403   403    login
valuation:warning_acknowledge         POST   yx   go    404   404   404   404   403    login
valuation:warning_resolve             POST   th   go    go    go    404   403   403    login
valuation:warning_resolve             POST   yx   go    404   404   404   404   403    login
valuation:compliance                  GET    -    200   200   200   -     200   403    login
valuation:compliance_void             POST   th   go    403   403   404   go    403    login
valuation:compliance_void             POST   yx   go    404   404   404   404   403    login

allocation:overview                   GET    -    200   200   200   -     200   403    login
allocation:runs                       GET    -    200   403   403   -     403   403    login
allocation:run_status                 GET    th   200   403   403   403   403   403    login
allocation:schemes                    GET    -    200   403   403   -     403   403    login
allocation:scheme                     GET    th   200   403   403   403   403   403    login
allocation:scheme_activate            POST   th   go    403   403   403   403   403    login
allocation:scheme_copy                POST   th   go    403   403   403   403   403    login
allocation:scheme_delete              POST   th   go    403   403   403   403   403    login

visits:agenda                         GET    -    200   200   200   -     200   403    login
visits:agenda_coming_day              GET    -    404   404   go    -     404   403    login
visits:plan_reschedule                GET    th   200   200   200   404   403   403    login
visits:plan_reschedule                GET    yx   200   404   404   404   404   403    login
visits:plan_reschedule                POST   th   go    go    go    404   403   403    login
visits:plan_reschedule                POST   yx   go    404   404   404   404   403    login
visits:plan_skip                      GET    th   200   200   200   404   403   403    login
visits:plan_skip                      GET    yx   200   404   404   404   404   403    login
visits:plan_skip                      POST   th   go    go    go    404   403   403    login
visits:plan_skip                      POST   yx   go    404   404   404   404   403    login
visits:follow_ups                     GET    -    200   200   200   -     200   403    login
visits:follow_up_done                 POST   th   go    go    go    404   403   403    login
visits:follow_up_done                 POST   yx   go    404   404   404   404   403    login
visits:log                            GET    -    200   200   200   -     200   403    login
visits:list                           GET    -    200   200   200   -     200   403    login
visits:detail                         GET    th   200   200   200   404   200   403    login
visits:detail                         GET    yx   200   404   404   404   404   403    login
visits:photo                          GET    th   200   200   200   404   200   403    login
visits:photo                          GET    yx   200   404   404   404   404   403    login
audits:answer_photo                   GET    th   200   200   200   404   200   403    login
audits:answer_photo                   GET    yx   200   404   404   404   404   403    login
visits:coverage                       GET    -    200   200   403   -     403   403    login
visits:coverage_export                GET    -    200   200   403   -     403   403    login
visits:coverage_detail                GET    th   200   200   403   403   403   403    login
visits:coverage_detail                GET    yx   200   404   403   403   403   403    login
visits:settings                       GET    -    200   403   403   -     403   403    login

services:queue                        GET    -    200   200   200   -     200   403    login
services:request_new                  GET    -    200   200   200   -     200   403    login
services:queue_export                 GET    -    200   200   200   -     200   403    login
services:request_detail               GET    th   200   200   200   404   200   403    login
services:request_detail               GET    yx   200   404   404   404   404   403    login
services:request_assign               POST   th   go    go    go    404   go    403    login
services:request_assign               POST   yx   go    404   404   404   404   403    login
services:request_act                  POST   th   go    go    go    404   go    403    login
services:request_act                  POST   yx   go    404   404   404   404   403    login
services:care                         GET    -    200   200   200   -     200   403    login
services:activity_list                GET    -    200   200   200   -     200   403    login
services:activity_new                 GET    -    200   200   200   -     200   403    login
services:training_list                GET    -    200   200   200   -     200   403    login
services:training_new                 GET    -    200   200   200   -     200   403    login
services:training_detail              GET    th   200   200   200   200   200   403    login
services:training_detail              GET    yx   200   404   404   404   404   403    login
services:satisfaction                 GET    -    200   200   403   -     403   403    login
services:satisfaction_export          GET    -    200   200   403   -     403   403    login
services:settings                     GET    -    200   403   403   -     403   403    login
services:holiday_delete               POST   th   go    403   403   403   403   403    login

allocation:plans                      GET    -    200   200   200   -     200   403    login
allocation:plan_create                GET    -    200   403   403   -     403   403    login
allocation:plan                       GET    th   200   200   200   200   200   403    login
allocation:plan_edit                  GET    th   200   403   403   403   403   403    login
allocation:plan_preview               GET    th   200   403   403   403   403   403    login
allocation:plan_publish               POST   th   go    403   403   403   403   403    login
allocation:plan_close                 POST   th   go    403   403   403   403   403    login
allocation:plan_new_version           POST   th   go    403   403   403   403   403    login
allocation:plan_delete                POST   th   go    403   403   403   403   403    login
allocation:plan_export                GET    th   200   200   200   200   200   403    login
allocation:exceptions                 GET    -    200   200   200   -     403   403    login
allocation:exception_review           POST   th   go    go    403   403   403   403    login
allocation:exception_review           POST   yx   go    404   403   403   403   403    login
audits:reports                        GET    -    go    go    go    -     403   403    login
audits:prices                         GET    -    200   200   200   -     403   403    login
audits:price_product                  GET    th   200   200   200   200   403   403    login
audits:shelves                        GET    -    200   200   200   -     403   403    login
audits:shelves_missing                GET    -    200   200   200   -     403   403    login

audits:forms                          GET    -    200   200   403   -     403   403    login
audits:form_create                    GET    -    200   403   403   -     403   403    login
audits:form                           GET    th   200   200   403   403   403   403    login
audits:form_edit                      GET    th   200   403   403   403   403   403    login
audits:question_create                GET    th   200   403   403   403   403   403    login
audits:question_edit                  GET    th   200   403   403   403   403   403    login
audits:question_delete                POST   th   go    403   403   403   403   403    login
audits:question_move                  POST   th   go    403   403   403   403   403    login
audits:form_activate                  POST   th   go    403   403   403   403   403    login
audits:form_new_version               POST   th   go    403   403   403   403   403    login
audits:form_retire                    POST   th   go    403   403   403   403   403    login
audits:form_delete                    POST   th   go    403   403   403   403   403    login

api:me                                GET    -    200   200   200   -     200   200    401
api:area_list                         GET    -    200   200   200   -     200   200    401
api:notification_list                 GET    -    200   200   200   -     200   200    401
api:schema                            GET    -    200   200   200   -     200   200    401
api:docs                              GET    -    200   200   200   -     200   200    401
customers_api:customer_list           GET    -    200   200   200   -     200   200    401
customers_api:customer_detail         GET    th   200   200   200   404   200   200    401
customers_api:customer_detail         GET    yx   200   404   404   404   404   200    401
customers_api:customer_sync           POST   -    400   403   403   -     403   400    401
customers_api:area_sync               POST   -    400   403   403   -     403   400    401
orders_api:product_list               GET    -    200   200   200   -     200   200    401
orders_api:product_sync               POST   -    400   403   403   -     403   400    401
orders_api:order_list                 GET    -    200   200   200   -     200   200    401
orders_api:order_sync                 POST   -    400   403   403   -     403   400    401
allocation_api:plan_sync              POST   -    400   403   403   -     403   400    401
allocation_api:allocation_list        GET    -    200   200   200   -     200   200    401
audits_api:price_monitoring           GET    -    200   200   200   -     403   200    401
visits_api:visit_list                 GET    -    200   200   200   -     200   200    401
audits_api:audit_form_list            GET    -    400   400   400   -     400   400    401
visits_api:visit_create_with_photo    POST   -    415   415   415   -     415   403    401
visits_api:visit_detail               GET    th   200   200   200   404   200   200    401
visits_api:visit_detail               GET    yx   200   404   404   404   404   200    401
services_api:service_request_list     GET    -    200   200   200   -     200   200    401
services_api:service_request_detail   GET    th   200   200   200   404   200   200    401
services_api:service_request_detail   GET    yx   200   404   404   404   404   200    401
"""
# fmt: on


# Cases that show a bug in the product (xfail, strict: fixing the bug makes them fail).
KNOWN_BUGS: dict[tuple[str, str, str], str] = {}


def _rows() -> list[tuple[str, str, str, dict[str, str]]]:
    rows = []
    for line in EXPECTED.strip().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, method, obj, *outcomes = line.split()
        assert len(outcomes) == len(ROLES), line  # noqa: S101
        rows.append((name, method, obj, dict(zip(ROLES, outcomes, strict=True))))
    return rows


ROWS = _rows()


def _cases():
    for name, method, obj, outcomes in ROWS:
        for role in ROLES:
            if outcomes[role] == "-":
                continue
            marks = []
            bug = KNOWN_BUGS.get((name, obj, role))
            if bug:
                marks.append(pytest.mark.xfail(strict=True, reason=f"bug: {bug}"))
            yield pytest.param(
                name, method, obj, role, outcomes[role], id=f"{name}-{obj}-{role}", marks=marks
            )


def outcome_of(response) -> str:
    """The table's word for a response."""
    if response.status_code in (301, 302, 303):
        location = response["Location"]
        if location.startswith(reverse("admin:login")):
            return "staff"
        if location.startswith(reverse("login")):
            return "login"
        return "go"
    return str(response.status_code)


def client_for(world, role: str, *, api: bool) -> Client:
    if role == "anon":
        return client_as(world, None)
    if role == "client" and api:
        return client_as(world, None, HTTP_AUTHORIZATION=f"Token {world['client_token']}")
    return client_as(world, ROLE_USERS[role])


PATTERNS = {p.name: p for p in url_patterns()}


@pytest.mark.parametrize(("name", "method", "obj", "role", "expected"), list(_cases()))
def test_access(w, name, method, obj, role, expected):
    pattern = PATTERNS[name]
    url = build_url(pattern, w, yx=obj == "yx") + QUERIES.get(name, "")
    api = url.startswith("/api/")
    client = client_for(w, role, api=api)
    if method == "GET":
        response = client.get(url)
    elif api:
        response = client.post(url, data={}, content_type="application/json")
    else:
        response = client.post(url, data={})
    assert outcome_of(response) == expected, f"{method} {url} as {role}"


def test_every_url_pattern_has_expectations():
    """A URL pattern without a row in EXPECTED fails here: add its expectations."""
    covered = {name for name, _method, _obj, _outcomes in ROWS}
    missing = sorted(
        f"{p.name} ({p.route})"
        for p in PATTERNS.values()
        if p.name not in covered
        and not (p.route.startswith(NOT_IN_MATRIX_ROUTES) and p.name not in NOT_IN_MATRIX_EXCEPT)
    )
    assert not missing, "URL patterns with no expectation in EXPECTED: " + ", ".join(missing)
    stale = sorted(covered - set(PATTERNS))
    assert not stale, "EXPECTED names URLs that no longer exist: " + ", ".join(stale)


def test_every_object_url_is_tried_out_of_scope():
    """Each URL that names a customer's row is also requested with the YX row, unless it
    names no customer's row at all (schemes, runs, imports, peak months, holidays)."""
    no_customer = {
        "password_reset_confirm",
        "crm:user_password_reset",
        "customers:import_detail",
        "grading:run_status",
        "grading:scheme",
        "grading:scheme_preview",
        "grading:scheme_activate",
        "grading:scheme_copy",
        "grading:scheme_delete",
        "grading:peak_month_delete",
        "valuation:run_status",
        "valuation:scheme",
        "valuation:scheme_activate",
        "valuation:scheme_copy",
        "valuation:scheme_delete",
        "allocation:run_status",
        "allocation:scheme",
        "allocation:scheme_activate",
        "allocation:scheme_copy",
        "allocation:scheme_delete",
        "services:holiday_delete",
        # Plans are company-wide (no area, no owner); their quotas are scoped, which
        # test_scope_leaks checks on the plan's page and export.
        "allocation:plan",
        "allocation:plan_edit",
        "allocation:plan_preview",
        "allocation:plan_publish",
        "allocation:plan_close",
        "allocation:plan_new_version",
        "allocation:plan_delete",
        "allocation:plan_export",
        # Audit forms are the company's (no area, no owner).
        "audits:form",
        "audits:form_edit",
        "audits:question_create",
        "audits:question_edit",
        "audits:question_delete",
        "audits:question_move",
        "audits:form_activate",
        "audits:form_new_version",
        "audits:form_retire",
        "audits:form_delete",
        # A product's price report: products are company-wide; the shops it lists are scoped,
        # which test_scope_leaks checks.
        "audits:price_product",
    }
    with_objects = {name for name, _m, obj, _o in ROWS if obj == "th"}
    with_yx = {name for name, _m, obj, _o in ROWS if obj == "yx"}
    assert with_objects - no_customer - with_yx == set()
