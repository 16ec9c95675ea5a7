"""Checking raw answers against the forms asked (audits.answers.clean_audits): each question
type, ranges, prices per carton and their confirmation, conditions, required answers, error
keys."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from audits.answers import clean_audits
from audits.choices import QuestionKind
from audits.due import forms_due
from tests.audits.factories import make_form
from tests.orders.factories import make_product
from tests.visits.factories import gif_bytes, jpeg_bytes, upload

ON = dt.date(2026, 12, 15)


@pytest.fixture
def shop(customer_world):
    return customer_world["c_th"]


def ask(shop, *questions, **form_fields):
    """The form (one) as due at `shop`, and its questions by key."""
    form = make_form("f", list(questions), **form_fields)
    accepted = forms_due(customer=shop, on=ON)
    return form, accepted, {q.key: q for q in form.questions.all()}


def check(accepted, answers, photos=None):
    form_id = accepted[0].form.pk
    return clean_audits([{"form": form_id, "answers": answers}], accepted=accepted, photos=photos)


def one(accepted, question, value, photos=None, **extra):
    return check(accepted, [{"question": question.pk, "value": value, **extra}], photos=photos)


VALID_INVALID = [
    ({"kind": QuestionKind.YES_NO}, [True, "no"], [True], [3, "maybe"]),
    (
        {"kind": QuestionKind.NUMBER, "minimum": Decimal(1), "maximum": Decimal(10)},
        ["2.5", 10],
        [Decimal("2.50"), Decimal(10)],
        ["11", 0, "ten", "1.234", True],
    ),
    (
        {"kind": QuestionKind.SINGLE_CHOICE, "choices": ["good", "poor"]},
        ["poor"],
        [None],
        ["bad", ["good"]],
    ),
    (
        {"kind": QuestionKind.MULTIPLE_CHOICE, "choices": ["a", "b", "c"]},
        [["a", "c"]],
        [None],
        [["a", "d"], "a", ["a", "a"]],
    ),
    ({"kind": QuestionKind.TEXT}, ["  fine  "], [None], [12, "x" * 2001]),
]


@pytest.mark.parametrize(("spec", "good", "numbers", "bad"), VALID_INVALID)
def test_each_question_type_takes_its_values_and_refuses_others(shop, spec, good, numbers, bad):
    _form, accepted, questions = ask(shop, spec)
    question = questions["q1"]
    for value in good:
        audits, errors = one(accepted, question, value)
        assert errors == {}, value
        (answer,) = audits[0].answers
        if spec["kind"] == QuestionKind.NUMBER:
            assert answer.number in numbers
        if spec["kind"] == QuestionKind.TEXT:
            assert answer.value == "fine"
    for value in bad:
        audits, errors = one(accepted, question, value)
        assert audits == []
        assert list(errors) == ["audits.0.answers.0.value"], value
        assert errors["audits.0.answers.0.value"][0]


def test_yes_no_values_are_stored_as_booleans(shop):
    _form, accepted, questions = ask(shop, {"kind": QuestionKind.YES_NO})
    audits, _ = one(accepted, questions["q1"], "yes")
    assert audits[0].answers[0].value is True


def test_per_product_questions_need_their_product_code(shop):
    a, b = make_product("A"), make_product("B")
    _form, accepted, questions = ask(
        shop,
        {"kind": QuestionKind.PRODUCT_SHELF, "product_scope": "listed", "products": [a, b]},
        {
            "kind": QuestionKind.PRODUCT_FACINGS,
            "product_scope": "listed",
            "products": [a],
            "maximum": Decimal(20),
        },
    )
    shelf, facings = questions["q1"], questions["q2"]
    audits, errors = check(
        accepted,
        [
            {"question": shelf.pk, "product_code": "A", "value": True},
            {"question": shelf.pk, "product_code": "B", "value": False},
            {"question": facings.pk, "product_code": "A", "value": 4},
        ],
    )
    assert errors == {}
    assert [(x.product.code, x.value, x.number) for x in audits[0].answers] == [
        ("A", True, None),
        ("B", False, None),
        ("A", "4", Decimal(4)),
    ]
    _, errors = check(accepted, [{"question": shelf.pk, "value": True}])
    assert list(errors) == ["audits.0.answers.0.product_code"]
    _, errors = check(accepted, [{"question": facings.pk, "product_code": "B", "value": 1}])
    assert list(errors) == ["audits.0.answers.0.product_code"]
    for value in (-1, "2.5", 21):
        _, errors = check(accepted, [{"question": facings.pk, "product_code": "A", "value": value}])
        assert list(errors) == ["audits.0.answers.0.value"]


def test_prices_are_kept_per_carton_and_far_ones_need_confirmation(shop):
    a = make_product("A", suggested_retail_price=Decimal("300.00"))
    no_srp = make_product("N")
    _form, accepted, questions = ask(
        shop,
        {
            "kind": QuestionKind.PRODUCT_PRICE,
            "product_scope": "listed",
            "products": [a, no_srp],
            "price_unit": "pack",
        },
    )
    price = questions["q1"]

    def answer(code, value, **extra):
        return check(
            accepted, [{"question": price.pk, "product_code": code, "value": value, **extra}]
        )

    audits, errors = answer("A", "32.5")
    assert errors == {}
    assert audits[0].answers[0].number == Decimal("325.00")
    assert audits[0].answers[0].value == "32.5"
    # 14 a pack = 140 a carton, under half of 300: refused unless confirmed
    _, errors = answer("A", 14)
    assert "50–200%" in errors["audits.0.answers.0.value"][0]
    audits, errors = answer("A", 14, confirmed=True)
    assert errors == {} and audits[0].answers[0].number == Decimal("140.00")
    _, errors = answer("A", "60.01")
    assert list(errors) == ["audits.0.answers.0.value"]
    assert answer("A", 15)[1] == {} and answer("A", 60)[1] == {}
    # no suggested price: nothing to compare with; but a price is above 0
    assert answer("N", 1)[1] == {}
    assert list(answer("N", 0)[1]) == ["audits.0.answers.0.value"]


def test_a_carton_price_is_kept_as_given(shop):
    a = make_product("A", suggested_retail_price=Decimal("300.00"))
    _form, accepted, questions = ask(
        shop,
        {
            "kind": QuestionKind.PRODUCT_PRICE,
            "product_scope": "listed",
            "products": [a],
            "price_unit": "carton",
        },
    )
    audits, errors = check(
        accepted, [{"question": questions["q1"].pk, "product_code": "A", "value": 310}]
    )
    assert errors == {} and audits[0].answers[0].number == Decimal("310.00")


def test_a_photo_answer_names_an_uploaded_part_and_is_checked(shop):
    _form, accepted, questions = ask(shop, {"kind": QuestionKind.PHOTO})
    photo = questions["q1"]
    audits, errors = one(accepted, photo, "shelf", photos={"shelf": upload(jpeg_bytes())})
    assert errors == {}
    original, thumbnail = audits[0].answers[0].photo
    assert original.name.endswith(".jpg") and thumbnail.name.endswith("-thumb.jpg")
    _, errors = one(accepted, photo, "missing", photos={})
    assert list(errors) == ["audits.0.answers.0.value"]
    _, errors = one(
        accepted, photo, "gif", photos={"gif": upload(gif_bytes(), "a.gif", "image/gif")}
    )
    assert list(errors) == ["audits.0.answers.0.value"]


def test_required_questions_must_be_answered(shop):
    a = make_product("A")
    _form, accepted, questions = ask(
        shop,
        {"kind": QuestionKind.YES_NO, "required": True, "label": "Price tags shown"},
        {
            "kind": QuestionKind.PRODUCT_SHELF,
            "product_scope": "listed",
            "products": [a],
            "required": True,
            "label": "On the shelf",
        },
        {"kind": QuestionKind.TEXT},
    )
    audits, errors = check(accepted, [{"question": questions["q3"].pk, "value": "hi"}])
    assert audits == []
    assert errors == {
        "audits.0.answers": [
            "Answer the required question: Price tags shown.",
            f"Answer the required question: On the shelf (A {a.name}).",
        ]
    }


def test_a_conditional_question_applies_only_after_the_right_answer(shop):
    _form, accepted, questions = ask(
        shop,
        {"kind": QuestionKind.YES_NO, "key": "display"},
        {
            "kind": QuestionKind.SINGLE_CHOICE,
            "key": "kind",
            "choices": ["counter", "wall"],
            "condition": "display",
            "condition_values": ["yes"],
            "required": True,
        },
        {
            "kind": QuestionKind.TEXT,
            "key": "why",
            "condition": "kind",
            "condition_values": ["wall"],
        },
    )
    display, kind, why = questions["display"], questions["kind"], questions["why"]
    # applies: required then
    _, errors = check(accepted, [{"question": display.pk, "value": True}])
    assert list(errors) == ["audits.0.answers"]
    audits, errors = check(
        accepted,
        [
            {"question": display.pk, "value": True},
            {"question": kind.pk, "value": "wall"},
            {"question": why.pk, "value": "no counter"},
        ],
    )
    assert errors == {} and len(audits[0].answers) == 3
    # does not apply: not required, and refused when answered (so is its own dependant)
    audits, errors = check(accepted, [{"question": display.pk, "value": "no"}])
    assert errors == {} and len(audits[0].answers) == 1
    _, errors = check(
        accepted,
        [
            {"question": display.pk, "value": False},
            {"question": kind.pk, "value": "wall"},
            {"question": why.pk, "value": "x"},
        ],
    )
    assert set(errors) == {"audits.0.answers.1.value", "audits.0.answers.2.value"}
    assert "does not apply" in errors["audits.0.answers.1.value"][0]


def test_a_per_product_condition_is_read_for_the_same_product(shop):
    a, b = make_product("A"), make_product("B")
    listed = {"product_scope": "listed", "products": [a, b]}
    _form, accepted, questions = ask(
        shop,
        {"kind": QuestionKind.PRODUCT_SHELF, "key": "shelf", **listed},
        {
            "kind": QuestionKind.PRODUCT_FACINGS,
            "key": "facings",
            "condition": "shelf",
            "condition_values": ["yes"],
            "required": True,
            **listed,
        },
    )
    shelf, facings = questions["shelf"], questions["facings"]
    audits, errors = check(
        accepted,
        [
            {"question": shelf.pk, "product_code": "A", "value": True},
            {"question": shelf.pk, "product_code": "B", "value": False},
            {"question": facings.pk, "product_code": "A", "value": 3},
        ],
    )
    assert errors == {}
    _, errors = check(
        accepted,
        [
            {"question": shelf.pk, "product_code": "A", "value": True},
            {"question": shelf.pk, "product_code": "B", "value": False},
            {"question": facings.pk, "product_code": "B", "value": 3},
        ],
    )
    assert set(errors) == {"audits.0.answers.2.value", "audits.0.answers"}


def test_multiple_choice_conditions_match_on_any_overlap(shop):
    _form, accepted, questions = ask(
        shop,
        {"kind": QuestionKind.MULTIPLE_CHOICE, "key": "seen", "choices": ["a", "b", "c"]},
        {"kind": QuestionKind.TEXT, "key": "t", "condition": "seen", "condition_values": ["b"]},
    )
    seen, text = questions["seen"], questions["t"]
    answers = [{"question": seen.pk, "value": ["a", "b"]}, {"question": text.pk, "value": "x"}]
    assert check(accepted, answers)[1] == {}
    answers[0]["value"] = ["c"]
    assert list(check(accepted, answers)[1]) == ["audits.0.answers.1.value"]


def test_unknown_forms_questions_and_duplicates_are_refused(shop):
    _form, accepted, questions = ask(shop, {"kind": QuestionKind.YES_NO})
    other = make_form("other", [{"kind": QuestionKind.YES_NO}])
    q1 = questions["q1"]
    form_id = accepted[0].form.pk
    _, errors = clean_audits([{"form": 999999, "answers": []}], accepted=accepted)
    assert list(errors) == ["audits.0.form"]
    _, errors = clean_audits(
        [{"form": form_id, "answers": []}, {"form": form_id, "answers": []}], accepted=accepted
    )
    assert list(errors) == ["audits.1.form"]
    other_question = other.questions.get()
    _, errors = check(accepted, [{"question": other_question.pk, "value": True}])
    assert list(errors) == ["audits.0.answers.0.question"]
    _, errors = check(
        accepted, [{"question": q1.pk, "value": True}, {"question": q1.pk, "value": False}]
    )
    assert list(errors) == ["audits.0.answers.1.question"]
    _, errors = check(accepted, [{"question": q1.pk, "product_code": "A", "value": True}])
    assert list(errors) == ["audits.0.answers.0.product_code"]
    _, errors = clean_audits({"form": form_id}, accepted=accepted)
    assert list(errors) == ["audits"]


def test_display_counts_come_from_the_display_questions(shop):
    _form, accepted, questions = ask(
        shop,
        {"kind": QuestionKind.YES_NO, "key": "a", "is_display": True},
        {"kind": QuestionKind.YES_NO, "key": "b", "is_display": True},
        {"kind": QuestionKind.YES_NO, "key": "c", "is_display": True},
        {"kind": QuestionKind.YES_NO, "key": "d"},
    )
    audits, errors = check(
        accepted,
        [
            {"question": questions["a"].pk, "value": True},
            {"question": questions["b"].pk, "value": False},
            {"question": questions["d"].pk, "value": True},
        ],
    )
    assert errors == {}
    assert (audits[0].display_yes, audits[0].display_answered) == (1, 2)


def test_clean_audits_reads_no_query(shop, django_assert_num_queries):
    a = make_product("A", suggested_retail_price=Decimal("300"))
    _form, accepted, questions = ask(
        shop,
        {"kind": QuestionKind.YES_NO, "key": "open"},
        {
            "kind": QuestionKind.PRODUCT_PRICE,
            "product_scope": "listed",
            "products": [a],
            "price_unit": "carton",
            "condition": "open",
            "condition_values": ["yes"],
        },
    )
    with django_assert_num_queries(0):
        _, errors = check(
            accepted,
            [
                {"question": questions["open"].pk, "value": True},
                {"question": questions["q2"].pk, "product_code": "A", "value": 300},
            ],
        )
    assert errors == {}
