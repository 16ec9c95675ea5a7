"""Visits through the API: logging (rules, scope, duplicates, photo, follow-ups, the plan),
the scoped list with its filters and query count, one visit, and the OpenAPI schema."""

from __future__ import annotations

import datetime as dt
import io
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from audits.models import AuditForm
from crm.choices import AuditSource
from crm.models import ApiToken
from crm.services import Actor
from tests.api_errors import api_error, field_errors
from tests.audits.factories import make_form
from tests.crm import upload_files
from tests.customers.factories import make_customer
from tests.orders.factories import integration_client
from tests.visits.factories import stored_files
from visits import services
from visits.choices import FollowUpStatus, PlanStatus
from visits.models import FollowUp, PlannedVisit, Visit

LIST = "visits_api:visit_list"
WITH_PHOTO = reverse("visits_api:visit_create_with_photo")
VISIT_FIELDS = {
    "id",
    "customer_code",
    "store_name",
    "visited_by",
    "visited_at",
    "ended_at",
    "visit_type",
    "purpose",
    "stock_level",
    "stock_notes",
    "price_display",
    "competitor_notes",
    "audits",
    "customer_requests",
    "latitude",
    "longitude",
    "location_accuracy_m",
    "distance_m",
    "location_flagged",
    "has_photo",
    "photo_url",
    "thumbnail_url",
    "follow_ups",
    "plan",
    "client_id",
    "created_at",
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


def an_hour_ago() -> dt.datetime:
    return timezone.localtime() - dt.timedelta(hours=1)


def payload(customer, **overrides) -> dict:
    start = an_hour_ago()
    body = {
        "customer_code": customer.customer_code,
        "visited_at": start.isoformat(),
        "visit_type": "routine",
        "purpose": "例行拜访",
    }
    body.update(overrides)
    return body


def post(api, body, **kwargs):
    return api.post(reverse(LIST), body, format=kwargs.pop("format", "json"), **kwargs)


def log(user, customer, *, days_ago=0, **data):
    """A visit stored through the service (for the read tests)."""
    fields = {
        # Noon of the local day `days_ago` days back (a fixed hour would cross midnight when
        # the tests run just after it), or a minute ago when today's noon is still ahead.
        "visited_at": min(
            timezone.make_aware(
                dt.datetime.combine(timezone.localdate() - dt.timedelta(days=days_ago), dt.time(12))
            ),
            timezone.now() - dt.timedelta(minutes=1),
        ),
        "visit_type": "routine",
        "purpose": "例行拜访",
        **data,
    }
    follow_ups = fields.pop("follow_ups", ())
    audits = fields.pop("audits", ())
    return services.visit_log(
        customer=customer,
        data=fields,
        actor=Actor.of(user, AuditSource.PAGE),
        follow_ups=follow_ups,
        audits=audits,
    )


def png(size=(40, 30)) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format="PNG")
    return SimpleUploadedFile("shelf.png", out.getvalue(), content_type="image/png")


# --- logging -----------------------------------------------------------------------------


def test_post_logs_a_visit_and_answers_201_with_it(world):
    # given
    am, customer = world["am_th"], world["c_th"]
    start = an_hour_ago()
    body = payload(
        customer,
        visited_at=start.isoformat(),
        ended_at=(start + dt.timedelta(minutes=25)).isoformat(),
        visit_type="order",
        purpose="订货并检查陈列",
        stock_level="low",
        stock_notes="中华(硬)只剩两条",
        price_display="partial",
        competitor_notes="隔壁超市在做促销",
        customer_requests="希望增加配额",
        latitude=23.1345,
        longitude=113.3219,
        location_accuracy_m=12.5,
    )

    # when
    response = post(signed_in(am), body)

    # then
    assert response.status_code == 201, response.content
    visit = Visit.objects.get()
    data = response.json()
    assert set(data) == VISIT_FIELDS
    assert response["Location"] == f"http://testserver/api/v1/visits/{visit.pk}/"
    assert data["id"] == visit.pk
    assert data["customer_code"] == customer.customer_code
    assert data["store_name"] == "天河一号店"
    assert data["visited_by"] == "am_th"
    assert dt.datetime.fromisoformat(data["visited_at"]) == start
    assert data["visit_type"] == "order"
    assert data["stock_level"] == "low" and data["price_display"] == "partial"
    assert data["latitude"] == "23.134500" and data["longitude"] == "113.321900"
    assert data["location_accuracy_m"] == 12.5
    # The shop has no recorded position: no distance, no flag.
    assert data["distance_m"] is None and data["location_flagged"] is False
    assert data["has_photo"] is False and data["photo_url"] is None
    assert data["follow_ups"] == [] and data["plan"] is None and data["client_id"] is None
    assert visit.source == AuditSource.API
    assert visit.visited_by == am
    assert visit.ended_at - visit.visited_at == dt.timedelta(minutes=25)


def test_post_with_an_account_managers_token(world):
    api = with_token(world["am_th"])

    response = post(api, payload(world["c_th"]))

    assert response.status_code == 201, response.content
    assert Visit.objects.get().visited_by == world["am_th"]


@pytest.mark.parametrize("field", ["customer_code", "visited_at", "visit_type", "purpose"])
def test_each_required_field_is_named_when_missing(world, field):
    body = payload(world["c_th"])
    del body[field]

    response = post(signed_in(world["am_th"]), body)

    assert field in field_errors(response)
    assert not Visit.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"visit_type": "party"}, "visit_type"),
        ({"visited_at": "2026-10-05T09:30:00"}, "visited_at"),  # no offset
        ({"visited_at": "yesterday"}, "visited_at"),
        ({"purpose": "   "}, "purpose"),
        ({"stock_level": "plenty"}, "stock_level"),
        ({"latitude": 23.1}, "latitude"),  # without the longitude
        ({"latitude": 123.0, "longitude": 113.0}, "latitude"),
        ({"client_id": "not-a-uuid"}, "client_id"),
        ({"follow_ups": [{"action": "回电"}]}, "follow_ups.0.due_date"),  # no due date
    ],
)
def test_refused_values_are_named(world, overrides, field):
    response = post(signed_in(world["am_th"]), payload(world["c_th"], **overrides))

    assert field in field_errors(response)
    assert not Visit.objects.exists()


def test_a_visit_in_the_future_is_refused(world):
    later = timezone.localtime() + dt.timedelta(hours=2)

    response = post(signed_in(world["am_th"]), payload(world["c_th"], visited_at=later.isoformat()))

    assert list(field_errors(response)) == ["visited_at"]
    assert not Visit.objects.exists()


def test_leaving_before_arriving_is_refused(world):
    start = an_hour_ago()
    body = payload(
        world["c_th"],
        visited_at=start.isoformat(),
        ended_at=(start - dt.timedelta(minutes=5)).isoformat(),
    )

    response = post(signed_in(world["am_th"]), body)

    assert "ended_at" in field_errors(response)
    assert not Visit.objects.exists()


@pytest.mark.parametrize("customer", ["c_th2", "c_yx", "unknown"])
def test_a_customer_outside_the_callers_scope_is_not_found_and_nothing_is_stored(world, customer):
    # c_th2: another account manager's shop in the same area; c_yx: another area.
    code = world[customer].customer_code if customer != "unknown" else "449999999999"

    response = post(signed_in(world["am_th"]), payload(world["c_th"], customer_code=code))

    assert "customer_code" in field_errors(response, 404, "not_found")
    assert Visit.objects.count() == 0


def test_a_supervisor_logs_a_visit_for_a_customer_of_their_area(world):
    response = post(signed_in(world["sup_th"]), payload(world["c_th2"], visit_type="inspection"))

    assert response.status_code == 201, response.content
    assert response.json()["visited_by"] == "sup_th"
    assert Visit.objects.get().customer == world["c_th2"]


def test_a_supervisor_cannot_log_outside_their_area(world):
    response = post(signed_in(world["sup_th"]), payload(world["c_yx"]))

    assert response.status_code == 404
    assert not Visit.objects.exists()


def test_an_integration_client_reads_every_visit_but_logs_none(world):
    log(world["am_th"], world["c_th"])
    log(world["am_th2"], world["c_th2"])
    log(world["am_yx"], world["c_yx"])
    erp, _client = integration_client("erp")

    refused = post(erp, payload(world["c_th"]))
    listed = erp.get(reverse(LIST))

    assert refused.status_code == 403
    assert Visit.objects.count() == 3
    assert listed.status_code == 200
    assert listed.json()["count"] == 3


def test_anonymous_callers_are_refused(world):
    api = APIClient()
    assert api.get(reverse(LIST)).status_code == 401
    assert post(api, payload(world["c_th"])).status_code == 401
    assert not Visit.objects.exists()


# --- follow-ups ----------------------------------------------------------------------------


def test_follow_ups_are_stored_with_their_owners_the_caller_by_default(world):
    due = timezone.localdate() + dt.timedelta(days=3)
    body = payload(
        world["c_th"],
        follow_ups=[
            {"action": "反馈配额申请", "due_date": due.isoformat()},
            {"action": "核查价签", "due_date": due.isoformat(), "owner": "sup_th"},
        ],
    )

    response = post(signed_in(world["am_th"]), body)

    assert response.status_code == 201, response.content
    follow_ups = response.json()["follow_ups"]
    assert [(f["action"], f["owner"], f["status"], f["done_at"]) for f in follow_ups] == [
        ("反馈配额申请", "am_th", "open", None),
        ("核查价签", "sup_th", "open", None),
    ]
    assert all(f["due_date"] == due.isoformat() for f in follow_ups)
    assert FollowUp.objects.filter(customer=world["c_th"]).count() == 2


@pytest.mark.parametrize("owner", ["am_yx", "am_th2", "nobody"])
def test_a_follow_up_owner_who_does_not_look_after_the_customer_is_refused(world, owner):
    due = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    body = payload(world["c_th"], follow_ups=[{"action": "回访", "due_date": due, "owner": owner}])

    response = post(signed_in(world["am_th"]), body)

    assert "follow_ups" in field_errors(response)
    assert not Visit.objects.exists() and not FollowUp.objects.exists()


# --- duplicates, photo, plan ----------------------------------------------------------------


def test_the_same_draft_sent_twice_is_a_conflict_pointing_at_the_first_visit(world):
    api = signed_in(world["am_th"])
    body = payload(world["c_th"], client_id=str(uuid.uuid4()))

    first = post(api, body)
    again = post(api, body)

    assert first.status_code == 201
    error = api_error(again, 409, "duplicate_visit")
    assert list(error["errors"]) == ["client_id"]
    assert again["Location"] == first["Location"]
    assert api.get(again["Location"]).json() == first.json()
    assert Visit.objects.count() == 1


def test_a_photo_is_logged_with_its_visit_through_the_multipart_operation(world):
    # given the body as OpenAPI encodes it in multipart (what a generated client sends): one
    # `follow_ups` part per follow-up, each a JSON object
    due = (timezone.localdate() + dt.timedelta(days=2)).isoformat()
    body = {
        **payload(world["c_th"]),
        "photo": png(),
        "follow_ups": [
            f'{{"action": "补货", "due_date": "{due}"}}',
            f'{{"action": "回电", "due_date": "{due}", "owner": "sup_th"}}',
        ],
    }

    # when
    response = signed_in(world["am_th"]).post(WITH_PHOTO, body, format="multipart")

    # then
    assert response.status_code == 201, response.content
    visit = Visit.objects.get()
    assert response["Location"].endswith(reverse("visits_api:visit_detail", args=[visit.pk]))
    assert response.json()["has_photo"] is True and visit.photo_thumbnail
    assert [(f["action"], f["owner"]) for f in response.json()["follow_ups"]] == [
        ("补货", "am_th"),
        ("回电", "sup_th"),
    ]


def test_the_multipart_operation_needs_the_photo_and_reads_multipart_only(world):
    api = signed_in(world["am_th"])

    missing = api.post(WITH_PHOTO, payload(world["c_th"]), format="multipart")
    as_json = api.post(WITH_PHOTO, payload(world["c_th"]), format="json")

    assert list(field_errors(missing)) == ["photo"]
    api_error(as_json, 415, "unsupported_media_type")
    assert not Visit.objects.exists()


def test_an_unknown_key_is_refused_naming_it(world):
    # given a mistyped finding, and a photo sent in a JSON body
    body = payload(world["c_th"], stock_levle="low", photo="c2hlbGYucG5n")
    body["follow_ups"] = [{"action": "回电", "due_date": "2099-01-01", "ownr": "am_th"}]

    response = post(signed_in(world["am_th"]), body)

    errors = field_errors(response)
    assert errors["stock_levle"] == ["Unknown field."]
    assert errors["photo"] == ["Unknown field."]
    assert errors["follow_ups.0.ownr"] == ["Unknown field."]
    assert not Visit.objects.exists()


def test_a_photo_sent_as_multipart_with_the_visit_is_still_read(world):
    # As clients sent it before the photo had its own operation (not in the schema).
    due = (timezone.localdate() + dt.timedelta(days=2)).isoformat()
    body = {
        **payload(world["c_th"]),
        "photo": png(),
        "follow_ups[0]action": "补货",
        "follow_ups[0]due_date": due,
    }

    response = post(signed_in(world["am_th"]), body, format="multipart")

    assert response.status_code == 201, response.content
    data = response.json()
    visit = Visit.objects.get()
    assert data["has_photo"] is True
    assert data["photo_url"] == "http://testserver" + reverse(
        "visits:photo", kwargs={"pk": visit.pk, "kind": "full"}
    )
    assert data["thumbnail_url"] == "http://testserver" + reverse(
        "visits:photo", kwargs={"pk": visit.pk, "kind": "thumb"}
    )
    assert visit.photo.name.endswith(".png") and visit.photo_thumbnail
    assert [(f["action"], f["owner"]) for f in data["follow_ups"]] == [("补货", "am_th")]


def test_follow_ups_may_be_one_json_field_of_a_multipart_body(world):
    due = (timezone.localdate() + dt.timedelta(days=2)).isoformat()
    body = {
        **payload(world["c_th"]),
        "follow_ups": f'[{{"action": "回电", "due_date": "{due}", "owner": "sup_th"}}]',
    }

    response = post(signed_in(world["am_th"]), body, format="multipart")

    assert response.status_code == 201, response.content
    assert [(f["action"], f["owner"]) for f in response.json()["follow_ups"]] == [
        ("回电", "sup_th")
    ]


def test_a_photo_of_another_type_is_refused(world):
    gif = io.BytesIO()
    Image.new("RGB", (10, 10)).save(gif, format="GIF")
    body = {
        **payload(world["c_th"]),
        "photo": SimpleUploadedFile("shelf.png", gif.getvalue(), content_type="image/png"),
    }

    response = post(signed_in(world["am_th"]), body, format="multipart")

    assert "photo" in field_errors(response)
    assert not Visit.objects.exists()


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (upload_files.truncated_jpeg, "shelf.jpg", "The JPEG file is damaged or incomplete"),
        (upload_files.corrupt_png, "shelf.png", "The PNG file is damaged or incomplete"),
    ],
    ids=["truncated-jpeg", "corrupt-png"],
)
def test_a_damaged_photo_is_refused_on_its_field_and_nothing_is_stored(world, data, name, message):
    # given a photo that opens and passes Pillow's verify() but does not decode (a 500 before)
    body = {**payload(world["c_th"]), "photo": SimpleUploadedFile(name, data())}
    before = stored_files()

    # when: through the documented photo operation
    response = signed_in(world["am_th"]).post(WITH_PHOTO, body, format="multipart")

    # then: a 400 naming the photo field, and no visit, follow-up or file
    assert response.status_code == 400, response.content
    assert any(message in text for text in field_errors(response)["photo"])
    assert not Visit.objects.exists()
    assert stored_files() == before


def test_the_planned_visit_is_marked_done(world):
    services.plan_refresh()
    plan = PlannedVisit.objects.get(customer=world["c_th"], status=PlanStatus.PLANNED)

    response = post(signed_in(world["am_th"]), payload(world["c_th"], plan=plan.pk))

    assert response.status_code == 201, response.content
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DONE
    assert plan.visit_id == response.json()["id"]
    assert response.json()["plan"] == plan.pk


def test_a_plan_of_another_customer_is_refused(world):
    services.plan_refresh()
    other = PlannedVisit.objects.get(customer=world["c_th2"], status=PlanStatus.PLANNED)

    response = post(signed_in(world["sup_th"]), payload(world["c_th"], plan=other.pk))

    assert "plan" in field_errors(response)
    assert not Visit.objects.exists()


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
        ("sup_gz", ["c_th", "c_th2", "c_yx"]),
        ("admin", ["c_th", "c_th2", "c_yx"]),
    ],
)
def test_the_list_holds_the_visits_the_caller_may_see(world, who, expected):
    log(world["am_th"], world["c_th"], days_ago=1)
    log(world["am_th2"], world["c_th2"], days_ago=2)
    log(world["am_yx"], world["c_yx"], days_ago=3)

    listed = codes(signed_in(world[who]).get(reverse(LIST)))

    assert listed == [world[name].customer_code for name in expected]  # newest first


def test_the_list_filters(world, areas):
    shop = make_customer(areas["TH"], world["am_th"], latitude="23.100000", longitude="113.300000")
    log(world["am_th"], world["c_th"], days_ago=1, visit_type="order")
    log(world["sup_th"], world["c_th2"], days_ago=5, visit_type="inspection")
    log(world["am_yx"], world["c_yx"], days_ago=10)
    log(world["am_th"], shop, days_ago=2, latitude="23.200000", longitude="113.300000")
    api = signed_in(world["admin"])
    today = timezone.localdate()

    def get(**params):
        return codes(api.get(reverse(LIST), params))

    assert get(customer_code=world["c_th"].customer_code) == [world["c_th"].customer_code]
    assert get(visit_type="inspection") == [world["c_th2"].customer_code]
    assert get(visited_by="sup_th") == [world["c_th2"].customer_code]
    assert get(area="YX") == [world["c_yx"].customer_code]
    assert get(flagged="true") == [shop.customer_code]
    assert get(date_from=(today - dt.timedelta(days=3)).isoformat()) == [
        world["c_th"].customer_code,
        shop.customer_code,
    ]
    assert get(date_to=(today - dt.timedelta(days=6)).isoformat()) == [world["c_yx"].customer_code]
    refused = api.get(reverse(LIST), {"visit_type": "party"})
    assert "visit_type" in field_errors(refused)


def test_a_flagged_visit_shows_its_distance(world, areas):
    shop = make_customer(areas["TH"], world["am_th"], latitude="23.100000", longitude="113.300000")
    log(world["am_th"], shop, latitude="23.110000", longitude="113.300000")

    row = signed_in(world["am_th"]).get(reverse(LIST)).json()["results"][0]

    assert row["location_flagged"] is True
    assert 1100 < row["distance_m"] < 1125  # 0.01° of latitude


def test_the_list_query_count_does_not_grow_with_the_rows(world, django_assert_num_queries):
    due = timezone.localdate() + dt.timedelta(days=5)
    sup = world["sup_th"]
    form = make_form("shelf", [{"kind": "yes_no", "key": "tags", "is_display": True}])
    AuditForm.objects.filter(pk=form.pk).update(activated_at=timezone.now() - dt.timedelta(days=9))
    question = form.questions.get()

    def add(n):
        for i in range(n):
            log(
                world["am_th"],
                world["c_th"],
                days_ago=i,
                follow_ups=[
                    {"action": "回访", "due_date": due, "owner": sup},
                    {"action": "补货", "due_date": due},
                ],
                audits=[{"form": form.pk, "answers": [{"question": question.pk, "value": True}]}],
            )

    add(2)
    api = signed_in(world["sup_th"])
    # session, user, the supervisor's areas and the area tree, count, page, follow-ups,
    # audits, their answers
    with django_assert_num_queries(9):
        response = api.get(reverse(LIST))
    assert response.json()["count"] == 2
    assert response.json()["results"][0]["audits"][0]["display_compliance"] == 1
    add(5)
    with django_assert_num_queries(9):
        response = api.get(reverse(LIST))
    results = response.json()["results"]
    assert len(results) == 7
    assert {f["owner"] for row in results for f in row["follow_ups"]} == {"am_th", "sup_th"}


def test_one_visit_is_read_within_scope(world):
    visit = log(world["am_th"], world["c_th"], follow_ups=[])
    services.follow_up_complete(
        follow_up=FollowUp.objects.create(
            visit=visit,
            customer=world["c_th"],
            action="回电",
            due_date=timezone.localdate(),
            owner=world["am_th"],
        ),
        note="已回电",
        actor=Actor.of(world["am_th"], AuditSource.PAGE),
    )
    url = reverse("visits_api:visit_detail", kwargs={"pk": visit.pk})

    mine = signed_in(world["am_th"]).get(url)
    theirs = signed_in(world["am_th2"]).get(url)

    assert mine.status_code == 200
    assert mine.json()["id"] == visit.pk
    [follow_up] = mine.json()["follow_ups"]
    assert follow_up["status"] == FollowUpStatus.DONE and follow_up["done_at"]
    assert theirs.status_code == 404


def test_the_schema_documents_the_visits_endpoint(world):
    erp, _client = integration_client("erp")

    schema = erp.get(reverse("api:schema"), {"format": "json"}).json()

    operations = schema["paths"]["/api/v1/visits/"]
    assert {"get", "post"} <= set(operations)
    assert "/api/v1/visits/{id}/" in schema["paths"]
    content = operations["post"]["requestBody"]["content"]
    components = schema["components"]["schemas"]
    # JSON only here; the photo has its own multipart operation
    assert list(content) == ["application/json"]
    json_body = components[content["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]]
    assert set(json_body["required"]) == {"customer_code", "visited_at", "visit_type", "purpose"}
    assert json_body["additionalProperties"] is False
    with_photo = schema["paths"]["/api/v1/visits/with-photo/"]["post"]["requestBody"]["content"]
    assert list(with_photo) == ["multipart/form-data"]
    multipart = components[with_photo["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[-1]]
    assert multipart["properties"]["photo"]["format"] == "binary"
    assert "photo" in multipart["required"]
    responses = operations["post"]["responses"]
    assert set(responses) >= {"201", "400", "403", "404", "409"}
    assert "Location" in responses["201"]["headers"]
    assert components["VisitTypeEnum"]["enum"] == [
        "routine",
        "order",
        "service",
        "complaint",
        "inspection",
    ]
    assert {p["name"] for p in operations["get"]["parameters"]} >= {
        "customer_code",
        "visit_type",
        "date_from",
        "date_to",
        "page",
    }
