"""Service requests through the API: raising (due time from the service level, the rules,
scope, integration clients, tokens), the scoped list with its filters and queues and its
query count, one request, and the OpenAPI schema."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from crm.choices import AuditSource
from crm.models import ApiToken
from crm.services import Actor
from services import selectors, services
from services.models import ServiceRequest
from tests.api_errors import api_error, field_errors
from tests.orders.factories import integration_client
from tests.services.factories import act, closed_request, hours_ago, raise_request
from visits import services as visit_services

LIST = "services_api:service_request_list"
FIELDS = {
    "id",
    "number",
    "customer_code",
    "store_name",
    "request_type",
    "priority",
    "description",
    "status",
    "raised_by",
    "raised_at",
    "due_at",
    "assignee",
    "resolution_note",
    "resolved_at",
    "closed_at",
    "satisfaction",
    "escalated_at",
    "escalated_to",
    "visit",
    "overdue",
}


@pytest.fixture
def world(customer_world):
    return customer_world


def signed_in(user) -> APIClient:
    api = APIClient()
    api.force_login(user)
    return api


def with_token(user) -> APIClient:
    """A client sending `Authorization: Token <key>` for `user` (any user may hold a token)."""
    key = ApiToken.new_key()
    ApiToken.objects.create(user=user, prefix=key[:8], digest=ApiToken.digest_of(key))
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api


def payload(customer, **overrides) -> dict:
    body = {
        "customer_code": customer.customer_code,
        "request_type": "delivery",
        "priority": "high",
        "description": "送货员上周迟到两天",
    }
    body.update(overrides)
    return body


def post(api, body):
    return api.post(reverse(LIST), body, format="json")


def visit_to(customer, user, hours: float = 2):
    start = hours_ago(hours)
    return visit_services.visit_log(
        customer=customer,
        data={"visited_at": start, "visit_type": "routine", "purpose": "例行拜访"},
        actor=Actor.of(user, AuditSource.PAGE),
    )


# --- raising -------------------------------------------------------------------------------


def test_post_raises_a_request_due_after_its_types_service_level(world):
    # given: a delivery problem raised three hours ago (delivery is due in 24 hours)
    am, customer = world["am_th"], world["c_th"]
    raised_at = timezone.localtime() - dt.timedelta(hours=3)

    # when
    response = post(signed_in(am), payload(customer, raised_at=raised_at.isoformat()))

    # then
    assert response.status_code == 201, response.content
    stored = ServiceRequest.objects.get()
    data = response.json()
    assert set(data) == FIELDS
    assert response["Location"] == f"http://testserver/api/v1/service-requests/{stored.pk}/"
    assert data["id"] == stored.pk and data["number"] == f"SR-{stored.pk}"
    assert data["customer_code"] == customer.customer_code
    assert data["store_name"] == "天河一号店"
    assert (data["request_type"], data["priority"]) == ("delivery", "high")
    assert data["description"] == "送货员上周迟到两天"
    assert data["status"] == "open"
    assert data["raised_by"] == "am_th" and data["assignee"] == "am_th"
    assert dt.datetime.fromisoformat(data["raised_at"]) == raised_at
    assert dt.datetime.fromisoformat(data["due_at"]) == raised_at + dt.timedelta(hours=24)
    assert data["overdue"] is False
    assert data["visit"] is None and data["escalated_to"] is None
    assert data["resolution_note"] == "" and data["satisfaction"] is None
    assert data["resolved_at"] is None and data["closed_at"] is None
    assert stored.source == AuditSource.API
    [entry] = selectors.request_history(request=stored)
    assert (entry.action, entry.source, entry.actor) == ("create", AuditSource.API, am)


def test_the_due_time_follows_the_configured_service_level(world):
    services.services_config_update(
        data={"sla_delivery_hours": 6, "sla_licence_hours": 200},
        actor=Actor.of(world["admin"], AuditSource.PAGE),
    )
    raised_at = timezone.localtime() - dt.timedelta(minutes=30)
    api = signed_in(world["am_th"])

    delivery = post(api, payload(world["c_th"], raised_at=raised_at.isoformat()))
    licence = post(
        api, payload(world["c_th"], request_type="licence", raised_at=raised_at.isoformat())
    )

    assert delivery.status_code == 201 and licence.status_code == 201
    due = {
        r.json()["request_type"]: dt.datetime.fromisoformat(r.json()["due_at"])
        for r in (
            delivery,
            licence,
        )
    }
    assert due == {
        "delivery": raised_at + dt.timedelta(hours=6),
        "licence": raised_at + dt.timedelta(hours=200),
    }


def test_without_a_time_the_request_is_raised_now(world):
    before = timezone.now()

    response = post(signed_in(world["am_th"]), payload(world["c_th"], request_type="supply"))

    assert response.status_code == 201, response.content
    raised_at = dt.datetime.fromisoformat(response.json()["raised_at"])
    assert before <= raised_at <= timezone.now()
    assert dt.datetime.fromisoformat(response.json()["due_at"]) == raised_at + dt.timedelta(
        hours=48
    )


def test_post_with_an_account_managers_token(world):
    response = post(with_token(world["am_th"]), payload(world["c_th"]))

    assert response.status_code == 201, response.content
    assert ServiceRequest.objects.get().raised_by == world["am_th"]


@pytest.mark.parametrize("field", ["customer_code", "request_type", "priority", "description"])
def test_each_required_field_is_named_when_missing(world, field):
    body = payload(world["c_th"])
    del body[field]

    response = post(signed_in(world["am_th"]), body)

    assert field in field_errors(response)
    assert not ServiceRequest.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"request_type": "refund"}, "request_type"),
        ({"priority": "asap"}, "priority"),
        ({"description": "   "}, "description"),
        ({"description": "长" * 4001}, "description"),
        ({"raised_at": "2026-10-05T09:30:00"}, "raised_at"),  # no offset
        ({"raised_at": "yesterday"}, "raised_at"),
        ({"assignee": "nobody"}, "assignee"),
        ({"assignee": "am_th2"}, "assignee"),  # another account manager's customer
        ({"assignee": "am_yx"}, "assignee"),
        ({"visit": 999999}, "visit"),
    ],
)
def test_refused_values_are_named(world, overrides, field):
    response = post(signed_in(world["am_th"]), payload(world["c_th"], **overrides))

    assert field in field_errors(response)
    assert not ServiceRequest.objects.exists()


def test_an_unknown_key_is_refused_naming_it(world):
    body = payload(world["c_th"], priorty="urgent")

    response = post(signed_in(world["am_th"]), body)

    assert field_errors(response) == {"priorty": ["Unknown field."]}
    assert not ServiceRequest.objects.exists()


def test_the_description_refusal_is_the_pages_message(world):
    response = post(signed_in(world["am_th"]), payload(world["c_th"], description=""))

    assert field_errors(response) == {"description": ["Describe what the customer asks for."]}


def test_a_request_in_the_future_is_refused(world):
    later = timezone.localtime() + dt.timedelta(hours=2)

    response = post(signed_in(world["am_th"]), payload(world["c_th"], raised_at=later.isoformat()))

    assert list(field_errors(response)) == ["raised_at"]
    assert not ServiceRequest.objects.exists()


def test_a_refusal_of_several_fields_is_summed_up_by_its_first_field(world):
    # The service refuses both with the page's "Check the highlighted fields.": the API's
    # `detail` is made by its own rule, as for a field its serializer refuses.
    later = timezone.localtime() + dt.timedelta(hours=2)
    body = payload(world["c_th"], description="", raised_at=later.isoformat())

    response = post(signed_in(world["am_th"]), body)

    error = api_error(response, 400, "invalid")
    assert set(error["errors"]) == {"description", "raised_at"}
    assert error["detail"] == (
        "description: Describe what the customer asks for. (and 1 more: see errors)"
    )


def test_a_request_raised_on_a_visit_is_linked_to_it(world):
    visit = visit_to(world["c_th"], world["am_th"])

    response = post(signed_in(world["am_th"]), payload(world["c_th"], visit=visit.pk))

    assert response.status_code == 201, response.content
    assert response.json()["visit"] == visit.pk
    assert ServiceRequest.objects.get().visit == visit


def test_a_visit_to_another_customer_is_refused(world):
    # The supervisor sees both shops' visits; the visit was to the other one.
    visit = visit_to(world["c_th2"], world["am_th2"])

    response = post(signed_in(world["sup_th"]), payload(world["c_th"], visit=visit.pk))

    assert "visit" in field_errors(response)
    assert not ServiceRequest.objects.exists()


def test_a_supervisor_raises_one_for_the_account_manager_or_names_the_assignee(world):
    api = signed_in(world["sup_th"])

    default = post(api, payload(world["c_th2"]))
    named = post(api, payload(world["c_th2"], request_type="licence", assignee="lo_th"))

    assert default.status_code == 201, default.content
    assert (default.json()["raised_by"], default.json()["assignee"]) == ("sup_th", "am_th2")
    assert named.status_code == 201, named.content
    assert named.json()["assignee"] == "lo_th"


@pytest.mark.parametrize("customer", ["c_th2", "c_yx", "unknown"])
def test_a_customer_outside_the_callers_scope_is_not_found_and_nothing_is_stored(world, customer):
    # c_th2: another account manager's shop in the same area; c_yx: another area.
    code = world[customer].customer_code if customer != "unknown" else "449999999999"

    response = post(signed_in(world["am_th"]), payload(world["c_th"], customer_code=code))

    assert "customer_code" in field_errors(response, 404, "not_found")
    assert not ServiceRequest.objects.exists()


def test_an_integration_client_reads_every_request_but_raises_none(world):
    raise_request(world["c_th"], world["am_th"])
    raise_request(world["c_yx"], world["am_yx"])
    erp, _client = integration_client("erp")

    refused = post(erp, payload(world["c_th"]))
    listed = erp.get(reverse(LIST))

    assert refused.status_code == 403
    assert ServiceRequest.objects.count() == 2
    assert listed.status_code == 200
    assert listed.json()["count"] == 2


def test_anonymous_callers_are_refused(world):
    api = APIClient()

    assert api.get(reverse(LIST)).status_code == 401
    assert post(api, payload(world["c_th"])).status_code == 401
    assert not ServiceRequest.objects.exists()


# --- reading -------------------------------------------------------------------------------


def codes(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["customer_code"] for row in response.json()["results"]]


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("am_th", ["c_th"]),
        ("am_yx", ["c_yx"]),
        ("sup_th", ["c_th", "c_th2"]),
        ("sup_yx", ["c_yx"]),
        ("sup_gz", ["c_th", "c_th2", "c_yx"]),
        ("admin", ["c_th", "c_th2", "c_yx"]),
    ],
)
def test_the_list_holds_the_requests_the_caller_may_see(world, who, expected):
    raise_request(world["c_th"], world["am_th"], raised_at=hours_ago(1))
    raise_request(world["c_th2"], world["am_th2"], raised_at=hours_ago(2))
    raise_request(world["c_yx"], world["am_yx"], raised_at=hours_ago(3))

    listed = codes(signed_in(world[who]).get(reverse(LIST)))

    assert listed == [world[name].customer_code for name in expected]  # newest first


def test_the_list_holds_every_status_unless_filtered(world):
    am, customer = world["am_th"], world["c_th"]
    closed = closed_request(customer, am, satisfaction=5)
    started = act(raise_request(customer, am, request_type="supply"), am, "start")
    api = signed_in(am)

    every = api.get(reverse(LIST)).json()
    only_closed = api.get(reverse(LIST), {"status": "closed"}).json()
    unfinished = api.get(reverse(LIST), {"status": ["open", "in_progress"]}).json()

    assert {row["id"]: row["status"] for row in every["results"]} == {
        closed.pk: "closed",
        started.pk: "in_progress",
    }
    [row] = only_closed["results"]
    assert (row["id"], row["satisfaction"], row["resolution_note"]) == (
        closed.pk,
        5,
        "Sorted out with the depot.",
    )
    assert row["resolved_at"] and row["closed_at"]
    assert [row["id"] for row in unfinished["results"]] == [started.pk]


def test_the_list_filters_and_queues(world):
    am, sup = world["am_th"], world["sup_th"]
    late = raise_request(world["c_th"], am, raised_at=hours_ago(30))  # delivery: due 6 h ago
    supply = raise_request(world["c_th2"], world["am_th2"], request_type="supply", priority="low")
    handed = raise_request(world["c_th2"], sup, assignee=world["lo_th"], request_type="licence")
    api = signed_in(sup)

    def ids(**params):
        response = api.get(reverse(LIST), params)
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert ids() == {late.pk, supply.pk, handed.pk}
    assert ids(queue="area") == {late.pk, supply.pk, handed.pk}
    assert ids(queue="mine") == {handed.pk}  # raised by the supervisor
    assert ids(queue="overdue") == {late.pk}
    assert ids(request_type="supply") == {supply.pk}
    assert ids(priority="low") == {supply.pk}
    assert ids(assignee="lo_th") == {handed.pk}
    assert ids(customer=world["c_th"].customer_code) == {late.pk}
    assert ids(customer="二号") == {supply.pk, handed.pk}
    assert ids(escalated="false") == {late.pk, supply.pk, handed.pk}
    services.service_requests_escalate()
    assert ids(escalated="true") == {late.pk}
    [row] = api.get(reverse(LIST), {"queue": "overdue"}).json()["results"]
    assert row["overdue"] is True and row["escalated_to"] == "sup_th" and row["escalated_at"]
    for params in ({"queue": "everything"}, {"request_type": "refund"}, {"status": "lost"}):
        refused = api.get(reverse(LIST), params)
        assert set(params) <= set(field_errors(refused))


def test_the_list_query_count_does_not_grow_with_the_rows(world, django_assert_max_num_queries):
    def add(n):
        for i in range(n):
            raise_request(world["c_th"], world["am_th"], raised_at=hours_ago(i + 1))
            raise_request(world["c_th2"], world["sup_th"], assignee=world["lo_th"])

    add(1)
    api = signed_in(world["sup_th"])
    # session, user, the supervisor's areas and the area tree, count, page
    with django_assert_max_num_queries(6):
        response = api.get(reverse(LIST))
    assert response.json()["count"] == 2
    add(6)
    with django_assert_max_num_queries(6):
        response = api.get(reverse(LIST))
    results = response.json()["results"]
    assert len(results) == 14
    assert {row["assignee"] for row in results} == {"am_th", "lo_th"}


def test_one_request_is_read_within_scope(world):
    request = raise_request(world["c_th"], world["am_th"], description="希望增加中华(硬)的货源")
    url = reverse("services_api:service_request_detail", kwargs={"pk": request.pk})

    mine = signed_in(world["am_th"]).get(url)
    supervisor = with_token(world["sup_gz"]).get(url)
    theirs = signed_in(world["am_th2"]).get(url)
    elsewhere = signed_in(world["sup_yx"]).get(url)

    assert mine.status_code == 200
    assert mine.json()["id"] == request.pk
    assert mine.json()["description"] == "希望增加中华(硬)的货源"
    assert supervisor.status_code == 200
    assert theirs.status_code == 404 and elsewhere.status_code == 404


def test_the_schema_documents_the_service_request_endpoints(world):
    erp, _client = integration_client("erp")

    schema = erp.get(reverse("api:schema"), {"format": "json"}).json()

    operations = schema["paths"]["/api/v1/service-requests/"]
    assert {"get", "post"} <= set(operations)
    assert "get" in schema["paths"]["/api/v1/service-requests/{id}/"]
    components = schema["components"]["schemas"]
    body = operations["post"]["requestBody"]["content"]["application/json"]
    create = components[body["schema"]["$ref"].rsplit("/", 1)[-1]]
    assert set(create["required"]) == {"customer_code", "request_type", "priority", "description"}
    assert body["examples"]
    assert list(operations["post"]["requestBody"]["content"]) == ["application/json"]
    assert create["additionalProperties"] is False
    assert set(operations["post"]["responses"]) >= {"201", "400", "403", "404"}
    assert "Location" in operations["post"]["responses"]["201"]["headers"]
    read = components[
        operations["post"]["responses"]["201"]["content"]["application/json"]["schema"][
            "$ref"
        ].rsplit("/", 1)[-1]
    ]
    assert set(read["properties"]) == FIELDS
    assert components["ServiceRequestTypeEnum"]["enum"] == [
        "supply",
        "price",
        "delivery",
        "licence",
        "complaint",
        "other",
    ]
    assert components["ServiceRequestPriorityEnum"]["enum"] == ["low", "normal", "high", "urgent"]
    assert {p["name"] for p in operations["get"]["parameters"]} >= {
        "status",
        "request_type",
        "priority",
        "customer",
        "assignee",
        "escalated",
        "queue",
        "page",
    }
