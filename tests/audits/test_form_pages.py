"""The audit form pages through Django's test client: the list, the editor, a version's page
(targeting in words, the shops it targets now, the questions with their conditions, the
preview), the question editor and the lifecycle's buttons; who may do what.

The world (conftest's `customer_world`): c_th and c_th2 in TH, c_yx in YX, all grocery stores
(Z) in the city (C)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from audits.choices import FormStatus, Frequency
from audits.choices import QuestionKind as K
from audits.models import AuditForm
from customers.choices import CustomerStatus
from customers.models import CustomerDynamic, CustomerSystem
from tests.audits.factories import make_form
from tests.orders.factories import make_product

LIST = reverse("audits:forms")
CREATE = reverse("audits:form_create")


def url(name: str, obj) -> str:
    return reverse(f"audits:{name}", args=[obj.pk])


def page(client, user, path: str, **query) -> str:
    client.force_login(user)
    response = client.get(path, query)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- the list -----------------------------------------------------------------------------


def test_the_list_shows_every_version_with_its_questions(
    client, customer_world, django_assert_num_queries
):
    # given two codes, one with an active and a draft version
    make_form("shelf", [{"kind": K.YES_NO}, {"kind": K.TEXT}], status=FormStatus.RETIRED)
    make_form("shelf", [{"kind": K.YES_NO}], version=2)
    make_form("price", [], status=FormStatus.DRAFT, name="Price watch")
    client.force_login(customer_world["admin"])
    # when — session, user, the count, one page of versions with their question counts, and
    # the unread notifications of the menu
    with django_assert_num_queries(5):
        html = client.get(LIST).content.decode()
    # then by code, newest version first
    rows = re.findall(r'<tr data-form="(\d+)">', html)
    forms = [AuditForm.objects.get(pk=pk) for pk in rows]
    assert [(f.code, f.version) for f in forms] == [("price", 1), ("shelf", 2), ("shelf", 1)]
    assert 'data-testid="form-count">3<' in html
    assert re.findall(r'data-col="questions">(\d+)<', html) == ["0", "1", "2"]
    assert 'data-testid="new-form"' in html


def test_the_list_filters_by_status_and_searches(client, customer_world):
    make_form("shelf", [], name="Shelf check")
    make_form("price", [], name="Price watch", status=FormStatus.DRAFT)
    admin = customer_world["admin"]
    assert "Price watch" not in page(client, admin, LIST, status="active")
    assert "Shelf check" in page(client, admin, LIST, status="active")
    html = page(client, admin, LIST, q="watch")
    assert "Price watch" in html and "Shelf check" not in html
    assert "Shelf check" in page(client, admin, LIST, status="nonsense")


def test_the_list_is_paginated_with_the_same_queries(
    client, customer_world, django_assert_num_queries
):
    for n in range(30):
        make_form(f"form-{n:02d}", [{"kind": K.TEXT}])
    client.force_login(customer_world["admin"])
    with django_assert_num_queries(5):
        first = client.get(LIST).content.decode()
    with django_assert_num_queries(5):
        second = client.get(LIST, {"page": 2}).content.decode()
    assert len(re.findall(r"<tr data-form=", first)) == 25
    assert len(re.findall(r"<tr data-form=", second)) == 5
    assert "Page 2 of 2" in second


# --- who may do what ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "read", "write"),
    [
        ("admin", 200, 200),
        ("sup_th", 200, 403),
        ("am_th", 403, 403),
        ("lo_th", 403, 403),
    ],
)
def test_administrators_write_supervisors_read(client, customer_world, who, read, write):
    form = make_form("shelf", [{"kind": K.YES_NO}], status=FormStatus.DRAFT)
    question = form.questions.get()
    client.force_login(customer_world[who])
    for path in (LIST, url("form", form)):
        assert client.get(path).status_code == read, path
    for path in (
        CREATE,
        url("form_edit", form),
        url("question_create", form),
        url("question_edit", question),
    ):
        assert client.get(path).status_code == write, path
    for name, obj in (
        ("form_activate", form),
        ("question_move", question),
        ("question_delete", question),
        ("form_delete", form),
    ):
        response = client.post(url(name, obj))
        assert response.status_code == (302 if write == 200 else 403), name
    if write == 403:
        assert AuditForm.objects.get().status == FormStatus.DRAFT


def test_a_supervisor_reads_without_buttons(client, customer_world):
    form = make_form("shelf", [{"kind": K.YES_NO}], status=FormStatus.DRAFT)
    html = page(client, customer_world["sup_th"], url("form", form))
    assert 'data-testid="form-actions"' not in html
    assert 'data-testid="question-actions"' not in html
    assert 'data-testid="new-form"' not in page(client, customer_world["sup_th"], LIST)


# --- the editor ---------------------------------------------------------------------------


def test_creating_a_form_on_the_page(client, customer_world):
    client.force_login(customer_world["admin"])
    response = client.post(
        CREATE,
        {
            "code": "shelf",
            "name": "Shelf check",
            "frequency": Frequency.MONTHLY,
            "market_types": ["C"],
            "structure_classes": ["2", "3"],
            "areas": ["TH"],
        },
    )
    form = AuditForm.objects.get()
    assert response["Location"] == url("form", form)
    assert (form.status, form.market_types, form.structure_classes) == (
        FormStatus.DRAFT,
        ["C"],
        [2, 3],
    )
    assert form.area_ids == [customer_world["c_th"].area_id]


def test_the_editor_shows_refusals_beside_the_fields(client, customer_world):
    make_form("shelf", [])
    client.force_login(customer_world["admin"])
    response = client.post(CREATE, {"code": "shelf", "name": "", "frequency": "every_visit"})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-error-for="code"' in html and "A form with this code exists" in html
    assert 'data-error-for="name"' in html
    assert AuditForm.objects.count() == 1


def test_editing_a_draft_and_not_an_active_version(client, customer_world):
    draft = make_form("shelf", [], status=FormStatus.DRAFT, market_types=["C"])
    client.force_login(customer_world["admin"])
    html = client.get(url("form_edit", draft)).content.decode()
    assert 'value="C" class="form-check-input" id="id_market_types_0" checked' in html
    response = client.post(url("form_edit", draft), {"name": "Renamed", "frequency": "once"})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.name, draft.frequency, draft.market_types) == ("Renamed", "once", [])
    active = make_form("price", [])
    response = client.get(url("form_edit", active), follow=True)
    assert "no longer a draft" in " ".join(messages_of(response))


# --- a version's page ---------------------------------------------------------------------


def test_the_page_words_the_targeting_and_counts_the_shops_targeted_now(client, customer_world):
    w = customer_world
    form = make_form(
        "shelf",
        [],
        market_types=["C"],
        structure_classes=[2],
        area_ids=[w["c_th"].area.parent_id],  # GZ: TH and YX below it
        frequency=Frequency.MONTHLY,
    )
    CustomerSystem.objects.filter(customer__in=[w["c_th"], w["c_th2"], w["c_yx"]]).update(
        structure_class=2
    )
    CustomerDynamic.objects.filter(customer=w["c_th2"]).update(status=CustomerStatus.CLOSED)
    html = page(client, w["admin"], url("form", form))
    # c_th and c_yx: c_th2 is closed
    assert 'data-figure="targets">2<' in html
    assert "shops are targeted now" in html
    words = html[html.index('data-testid="form-targeting-words"') :]
    assert "Once a month" in words
    assert "Urban" in words and "every format" in words and "every tier" in words
    assert "GZ 广州市 (and the areas below them)" in words
    # a supervisor counts the shops they see
    assert 'data-figure="targets">1<' in page(client, w["sup_th"], url("form", form))
    # a shop whose class is unknown does not pass the filter
    CustomerSystem.objects.filter(customer=w["c_th"]).update(structure_class=None)
    assert 'data-figure="targets">1<' in page(client, w["admin"], url("form", form))


def test_the_page_lists_the_questions_with_their_conditions_and_a_preview(client, customer_world):
    products = [make_product("6901028001", name="中华（硬）"), make_product("6901028002")]
    form = make_form(
        "shelf",
        [
            {"kind": K.YES_NO, "key": "display", "label": "Display as agreed?", "is_display": True},
            {
                "kind": K.SINGLE_CHOICE,
                "key": "where",
                "label": "Where is it?",
                "choices": ["Counter", "Wall"],
                "condition": "display",
                "condition_values": ["no"],
            },
            {
                "kind": K.PRODUCT_SHELF,
                "key": "on-shelf",
                "label": "On the shelf?",
                "product_scope": "listed",
                "products": products[:1],
            },
            {
                "kind": K.PRODUCT_PRICE,
                "key": "price",
                "label": "Retail price",
                "product_scope": "eligible",
                "price_unit": "pack",
                "required": True,
            },
        ],
        status=FormStatus.DRAFT,
    )
    html = page(client, customer_world["admin"], url("form", form))
    questions = html[
        html.index('data-testid="form-questions"') : html.index('data-testid="form-preview"')
    ]
    assert [
        questions.index(f'data-question="{k}"') for k in ("display", "where", "on-shelf", "price")
    ] == sorted(
        questions.index(f'data-question="{k}"') for k in ("display", "where", "on-shelf", "price")
    )
    assert "Asked only when the answer to 1. “Display as agreed?” is “No”." in questions
    assert "Counter · Wall" in questions
    assert "6901028001 中华（硬）" in questions
    assert "eligible products" in questions
    preview = html[html.index('data-testid="form-preview"') :]
    assert "<fieldset disabled" in preview
    assert 'data-preview="price"' in preview and "Per pack" in preview
    assert "中华（硬）" in preview and 'for="preview-' in preview
    # a draft says what keeps it from activation: nothing here
    assert 'data-testid="form-problems"' not in html


def test_a_draft_says_what_keeps_it_from_activation(client, customer_world):
    form = make_form("shelf", [], status=FormStatus.DRAFT)
    html = page(client, customer_world["admin"], url("form", form))
    assert "Add at least one question." in html[html.index('data-testid="form-problems"') :]


def test_the_detail_page_reads_a_few_queries(client, customer_world, django_assert_max_num_queries):
    products = [make_product(f"69010280{n:02d}") for n in range(5)]
    questions = [
        {"kind": K.PRODUCT_SHELF, "product_scope": "listed", "products": products}
        for _n in range(8)
    ]
    form = make_form("shelf", questions, status=FormStatus.DRAFT, area_ids=[1])
    client.force_login(customer_world["admin"])
    # no query per question: session, user, form, versions, questions, products, the count,
    # the areas (tree and names), the problems' two reads, the messages
    with django_assert_max_num_queries(14):
        assert client.get(url("form", form)).status_code == 200


# --- questions on the page ----------------------------------------------------------------


def test_adding_and_editing_a_question_with_a_condition(client, customer_world):
    form = make_form(
        "shelf",
        [
            {
                "kind": K.SINGLE_CHOICE,
                "key": "where",
                "label": "Where?",
                "choices": ["Counter", "Wall"],
            }
        ],
        status=FormStatus.DRAFT,
    )
    where = form.questions.get()
    client.force_login(customer_world["admin"])
    html = client.get(url("question_create", form)).content.decode()
    assert f'data-condition-group="{where.pk}"' in html
    response = client.post(
        url("question_create", form),
        {
            "kind": K.PHOTO,
            "label": "Photo of the wall",
            "condition_question": str(where.pk),
            f"condition_values_{where.pk}": ["Wall"],
        },
    )
    assert response.status_code == 302
    photo = form.questions.get(position=2)
    assert (photo.key, photo.condition_question, photo.condition_values) == (
        "photo-of-the-wall",
        where,
        ["Wall"],
    )
    # the edit form shows it as saved; a condition without answers is refused beside it
    html = client.get(url("question_edit", photo)).content.decode()
    assert 'value="Wall" class="form-check-input" id="id_condition_values_' in html
    assert "checked" in html[html.index('value="Wall"') :][:120]
    response = client.post(
        url("question_edit", photo),
        {"kind": K.PHOTO, "label": "Photo", "condition_question": str(where.pk)},
    )
    assert response.status_code == 200
    assert f'data-error-for="condition_values_{where.pk}"' in response.content.decode()


def test_moving_and_deleting_questions_on_the_page(client, customer_world):
    form = make_form(
        "shelf",
        [
            {"kind": K.YES_NO, "label": "A"},
            {"kind": K.TEXT, "label": "B", "condition": "q1", "condition_values": ["yes"]},
        ],
        status=FormStatus.DRAFT,
    )
    a, b = form.questions.order_by("position")
    client.force_login(customer_world["admin"])
    response = client.post(url("question_move", b), {"direction": "up"}, follow=True)
    assert "stays below" in " ".join(messages_of(response))
    response = client.post(url("question_delete", a), follow=True)
    assert "change or delete it first" in " ".join(messages_of(response))
    client.post(url("question_delete", b))
    client.post(url("question_delete", a))
    assert not form.questions.exists()


# --- the lifecycle ------------------------------------------------------------------------


def test_activate_new_version_retire_and_delete_on_the_page(client, customer_world):
    old = make_form("shelf", [{"kind": K.YES_NO}])
    client.force_login(customer_world["admin"])
    html = client.get(url("form", old)).content.decode()
    assert 'data-testid="new-version"' in html and 'data-testid="retire"' in html
    # a new version, activated: the old one retires
    response = client.post(url("form_new_version", old))
    draft = AuditForm.objects.get(status=FormStatus.DRAFT)
    assert response["Location"] == url("form", draft)
    html = client.get(url("form", old)).content.decode()
    assert 'data-testid="new-version"' not in html
    assert f'href="{url("form", draft)}" data-testid="open-draft"' in html
    html = client.get(url("form", draft)).content.decode()
    assert "Version 1 will be retired" in html
    response = client.post(url("form_activate", draft), follow=True)
    assert "is active" in " ".join(messages_of(response))
    old.refresh_from_db()
    assert old.status == FormStatus.RETIRED
    # retiring needs a reason
    response = client.post(url("form_retire", draft), {"reason": ""}, follow=True)
    assert "Say why" in " ".join(messages_of(response))
    client.post(url("form_retire", draft), {"reason": "Campaign over"})
    draft.refresh_from_db()
    assert draft.status == FormStatus.RETIRED
    # a new draft from a retired version, deleted
    client.post(url("form_new_version", draft))
    third = AuditForm.objects.get(status=FormStatus.DRAFT)
    assert third.version == 3
    response = client.post(url("form_delete", third))
    assert response["Location"] == LIST
    assert not AuditForm.objects.filter(status=FormStatus.DRAFT).exists()


def test_activating_an_invalid_draft_says_why(client, customer_world):
    draft = make_form(
        "shelf", [{"kind": K.SINGLE_CHOICE, "choices": ["Only"]}], status=FormStatus.DRAFT
    )
    client.force_login(customer_world["admin"])
    response = client.post(url("form_activate", draft), follow=True)
    assert "Question 1: Give at least two different choices" in " ".join(messages_of(response))
    draft.refresh_from_db()
    assert draft.status == FormStatus.DRAFT
