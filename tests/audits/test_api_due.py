"""The retail audits through the API: the forms due at a shop
(`GET /api/v1/audit-forms/?customer=`) and the audits sent with a visit
(`POST /api/v1/visits/`, `/with-photo/`; the visit's representation)."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from audits.choices import QuestionKind
from audits.models import Audit, AuditAnswer, AuditForm
from tests.api_errors import field_errors
from tests.audits.factories import make_form
from tests.orders.factories import integration_client, make_product
from tests.visits.factories import stored_files
from visits.models import Visit

DUE = reverse("audits_api:audit_form_list")
VISITS = reverse("visits_api:visit_list")
WITH_PHOTO = reverse("visits_api:visit_create_with_photo")


def signed_in(user) -> APIClient:
    api = APIClient()
    api.force_login(user)
    return api


@pytest.fixture
def world(customer_world):
    w = customer_world
    w["A"] = make_product("A", suggested_retail_price=Decimal("300.00"))
    w["B"] = make_product("B")
    w["form"] = make_form(
        "shelf",
        [
            {"kind": QuestionKind.YES_NO, "key": "display", "is_display": True, "required": True},
            {
                "kind": QuestionKind.SINGLE_CHOICE,
                "key": "kind",
                "choices": ["counter", "wall"],
                "condition": "display",
                "condition_values": ["yes"],
            },
            {
                "kind": QuestionKind.PRODUCT_PRICE,
                "key": "price",
                "product_scope": "listed",
                "products": [w["B"], w["A"]],
                "price_unit": "pack",
                "minimum": Decimal("1"),
                "maximum": Decimal("100"),
            },
            {"kind": QuestionKind.PHOTO, "key": "photo"},
        ],
        name="Shelf check",
    )
    # active since yesterday: the visits below were made an hour ago
    AuditForm.objects.filter(pk=w["form"].pk).update(
        activated_at=timezone.now() - dt.timedelta(days=1)
    )
    w["q"] = {q.key: q for q in w["form"].questions.all()}
    return w


# --- the forms due -------------------------------------------------------------------------


def test_the_forms_due_with_their_questions_as_asked(world):
    q = world["q"]
    response = signed_in(world["am_th"]).get(DUE, {"customer": world["c_th"].customer_code})
    assert response.status_code == 200, response.content
    (form,) = response.json()
    assert {k: form[k] for k in ("id", "code", "version", "name", "frequency")} == {
        "id": world["form"].pk,
        "code": "shelf",
        "version": 1,
        "name": "Shelf check",
        "frequency": "every_visit",
    }
    questions = form["questions"]
    assert [(x["id"], x["product_code"]) for x in questions] == [
        (q["display"].pk, None),
        (q["kind"].pk, None),
        (q["price"].pk, "A"),
        (q["price"].pk, "B"),
        (q["photo"].pk, None),
    ]
    display, kind, price_a, price_b, _photo = questions
    assert display == {
        "id": q["display"].pk,
        "type": "yes_no",
        "label": "Question 1",
        "required": True,
        "product_code": None,
        "choices": [],
        "minimum": None,
        "maximum": None,
        "price_unit": "",
        "suggested_retail_price": None,
        "condition": None,
    }
    assert kind["choices"] == ["counter", "wall"]
    assert kind["condition"] == {"question": q["display"].pk, "values": ["yes"]}
    assert (price_a["price_unit"], price_a["minimum"], price_a["maximum"]) == (
        "pack",
        "1.00",
        "100.00",
    )
    assert price_a["suggested_retail_price"] == "300.00"
    assert price_b["suggested_retail_price"] is None


def test_the_forms_due_need_a_customer_in_the_callers_scope(world):
    api = signed_in(world["am_th"])
    assert list(field_errors(api.get(DUE))) == ["customer"]
    # another account manager's shop reads as an unknown one
    other = api.get(DUE, {"customer": world["c_th2"].customer_code})
    assert list(field_errors(other, 404)) == ["customer"]
    assert list(field_errors(api.get(DUE, {"customer": "nope"}), 404)) == ["customer"]
    # the supervisor of the area and an integration client see it
    sup = signed_in(world["sup_th"]).get(DUE, {"customer": world["c_th2"].customer_code})
    assert sup.status_code == 200 and len(sup.json()) == 1
    erp, _user = integration_client()
    assert erp.get(DUE, {"customer": world["c_yx"].customer_code}).status_code == 200


def test_the_forms_due_read_a_fixed_number_of_queries(world, django_assert_num_queries):
    for code in ("b", "c"):
        make_form(
            code,
            [
                {"kind": "product_shelf", "product_scope": "listed", "products": [world["A"]]},
                {"kind": "number"},
            ],
        )
    api = signed_in(world["sup_th"])
    # session, user, the customer (scope: areas and tree), forms, questions, products
    with django_assert_num_queries(8):
        response = api.get(DUE, {"customer": world["c_th"].customer_code})
    assert [f["code"] for f in response.json()] == ["b", "c", "shelf"]


def test_the_forms_due_are_in_the_schema(world):
    erp, _user = integration_client()
    schema = erp.get(reverse("api:schema"), {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/audit-forms/"]["get"]
    assert operation["operationId"] == "audit_forms_due"
    assert [p["name"] for p in operation["parameters"]] == ["customer"]
    components = schema["components"]["schemas"]
    question = components["DueQuestion"]["properties"]
    assert set(question) >= {"id", "type", "label", "required", "product_code", "choices"}
    visit_body = components["VisitCreate"]["properties"]
    assert visit_body["audits"]["items"]["$ref"].endswith("/AuditInput")


# --- audits sent with a visit ----------------------------------------------------------------


def body(world, answers, **overrides):
    data = {
        "customer_code": world["c_th"].customer_code,
        "visited_at": (timezone.localtime() - dt.timedelta(hours=1)).isoformat(),
        "visit_type": "routine",
        "purpose": "例行拜访",
        "audits": [{"form": world["form"].pk, "answers": answers}],
    }
    data.update(overrides)
    return data


def good_answers(world):
    q = world["q"]
    return [
        {"question": q["display"].pk, "value": True},
        {"question": q["kind"].pk, "value": "wall"},
        {"question": q["price"].pk, "product_code": "A", "value": "31.50"},
        {"question": q["price"].pk, "product_code": "B", "value": 20},
    ]


def test_a_visit_posted_with_its_audit_shows_it(world):
    api = signed_in(world["am_th"])
    response = api.post(VISITS, body(world, good_answers(world)), format="json")
    assert response.status_code == 201, response.content
    q = world["q"]
    (audit,) = response.json()["audits"]
    assert {k: audit[k] for k in ("form", "form_code", "version", "display_compliance")} == {
        "form": world["form"].pk,
        "form_code": "shelf",
        "version": 1,
        "display_compliance": 1.0,
    }
    assert audit["answers"] == [
        {
            "question": q["display"].pk,
            "key": "display",
            "type": "yes_no",
            "label": "Question 1",
            "product_code": None,
            "value": True,
        },
        {
            "question": q["kind"].pk,
            "key": "kind",
            "type": "single_choice",
            "label": "Question 2",
            "product_code": None,
            "value": "wall",
        },
        {
            "question": q["price"].pk,
            "key": "price",
            "type": "product_price",
            "label": "Question 3",
            "product_code": "A",
            "value": "31.5",
        },
        {
            "question": q["price"].pk,
            "key": "price",
            "type": "product_price",
            "label": "Question 3",
            "product_code": "B",
            "value": "20",
        },
    ]
    stored = AuditAnswer.objects.get(question=q["price"], product=world["A"])
    assert stored.number == Decimal("315.00")
    detail = api.get(reverse("visits_api:visit_detail", kwargs={"pk": response.json()["id"]}))
    assert detail.json()["audits"] == response.json()["audits"]


def test_a_wrong_answer_is_a_400_naming_it_and_stores_nothing(world):
    answers = good_answers(world)
    answers[2]["value"] = "3"  # 30 a carton, a tenth of the suggested 300
    response = signed_in(world["am_th"]).post(VISITS, body(world, answers), format="json")
    errors = field_errors(response)
    assert list(errors) == ["audits.0.answers.2.value"]
    assert "50–200%" in errors["audits.0.answers.2.value"][0]
    assert not Visit.objects.exists() and not Audit.objects.exists()
    # confirmed, it is taken
    answers[2]["confirmed"] = True
    response = signed_in(world["am_th"]).post(VISITS, body(world, answers), format="json")
    assert response.status_code == 201, response.content


def test_type_errors_and_unknown_keys_in_the_audits_name_their_place(world):
    answers = good_answers(world)
    answers[1] = {"question": "x", "value": "wall", "colour": "red"}
    response = signed_in(world["am_th"]).post(VISITS, body(world, answers), format="json")
    errors = field_errors(response)
    assert set(errors) == {"audits.0.answers.1.question", "audits.0.answers.1.colour"}
    response = signed_in(world["am_th"]).post(
        VISITS, body(world, [], audits={"form": 1}), format="json"
    )
    assert list(field_errors(response)) == ["audits"]


def test_a_missing_required_answer_and_an_unknown_form_are_refused(world):
    api = signed_in(world["am_th"])
    response = api.post(VISITS, body(world, good_answers(world)[2:]), format="json")
    assert list(field_errors(response)) == ["audits.0.answers"]
    response = api.post(VISITS, body(world, [], audits=[{"form": 0, "answers": []}]), format="json")
    assert list(field_errors(response)) == ["audits.0.form"]
    assert not Visit.objects.exists()


def png() -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, format="PNG")
    return SimpleUploadedFile("display.png", out.getvalue(), content_type="image/png")


def multipart(world, answers, **files):
    data = body(world, answers)
    data["audits"] = json.dumps(data["audits"])
    return {**data, "photo": png(), **files}


def test_a_photo_answer_comes_as_a_file_part_of_the_visit_with_its_photo(world):
    answers = [*good_answers(world), {"question": world["q"]["photo"].pk, "value": "display"}]
    before = stored_files()
    response = signed_in(world["am_th"]).post(
        WITH_PHOTO, multipart(world, answers, display=png()), format="multipart"
    )
    assert response.status_code == 201, response.content
    answer = AuditAnswer.objects.get(question=world["q"]["photo"])
    assert answer.photo.name.startswith("audits/") and answer.photo_thumbnail
    # the visit's photo and thumbnail, the answer's photo and thumbnail
    assert len(stored_files() - before) == 4


def test_a_refused_visit_with_a_photo_answer_keeps_no_file(world):
    answers = [*good_answers(world), {"question": world["q"]["photo"].pk, "value": "display"}]
    answers[0]["value"] = "perhaps"
    before = stored_files()
    response = signed_in(world["am_th"]).post(
        WITH_PHOTO, multipart(world, answers, display=png()), format="multipart"
    )
    assert list(field_errors(response)) == ["audits.0.answers.0.value"]
    assert stored_files() == before and not Visit.objects.exists()


def test_a_file_part_no_answer_names_is_refused(world):
    response = signed_in(world["am_th"]).post(
        WITH_PHOTO, multipart(world, good_answers(world), stray=png()), format="multipart"
    )
    assert list(field_errors(response)) == ["stray"]


def test_a_photo_answer_in_json_is_refused(world):
    answers = [*good_answers(world), {"question": world["q"]["photo"].pk, "value": "display"}]
    response = signed_in(world["am_th"]).post(VISITS, body(world, answers), format="json")
    assert list(field_errors(response)) == ["audits.0.answers.4.value"]
