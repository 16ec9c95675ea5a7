"""The audit form services: drafts, questions, conditions, activation, new versions,
retirement, deletion; each refusal names the field at fault; every write is audited."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType

from audits import services_forms as services
from audits.choices import FormStatus, Frequency, PriceUnit, ProductScope
from audits.choices import QuestionKind as K
from audits.models import AuditForm, AuditQuestion
from crm.choices import AuditAction, AuditSource
from crm.exceptions import DomainError
from crm.models import AuditEntry
from crm.services import Actor
from tests.audits.factories import make_form
from tests.orders.factories import make_product


@pytest.fixture
def admin(customer_world):
    return Actor.of(customer_world["admin"], AuditSource.PAGE)


def new_form(admin, code="shelf", **kwargs) -> AuditForm:
    kwargs.setdefault("name", "Shelf check")
    kwargs.setdefault("frequency", Frequency.MONTHLY)
    return services.form_create(code=code, actor=admin, **kwargs)


def ask(form, admin, question=None, **data) -> AuditQuestion:
    data.setdefault("kind", K.YES_NO)
    data.setdefault("label", "Price tags shown?")
    return services.question_save(form=form, question=question, data=data, actor=admin)


def refused(call, *args, **kwargs) -> dict[str, list[str]]:
    with pytest.raises(DomainError) as caught:
        call(*args, **kwargs)
    return caught.value.errors


def audit_rows(obj, **filters):
    """The audit rows of `obj` (its type and id)."""
    return AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk), **filters
    )


# --- forms --------------------------------------------------------------------------------


def test_form_create_makes_a_draft_v1_with_its_targeting(admin, areas):
    form = new_form(
        admin,
        description="Once a month",
        targeting={
            "business_formats": ["B", "Z"],
            "market_types": ["C"],
            "value_tiers": ["value"],
            "structure_classes": ["3", 1],
            "areas": ["TH"],
        },
    )
    assert (form.code, form.version, form.status) == ("shelf", 1, FormStatus.DRAFT)
    assert form.business_formats == ["B", "Z"]
    assert form.structure_classes == [1, 3]
    assert form.area_ids == [areas["TH"].pk]
    assert form.created_by == admin.user
    row = audit_rows(form, action=AuditAction.CREATE).get()
    assert row.new_value["code"] == "shelf"


def test_form_create_refuses_naming_each_field(admin, areas):
    new_form(admin)
    errors = refused(
        services.form_create,
        code="shelf",
        name=" ",
        frequency="weekly",
        targeting={"market_types": ["Q"], "structure_classes": [11], "areas": ["NOPE"]},
        actor=admin,
    )
    assert set(errors) == {
        "code",
        "name",
        "frequency",
        "market_types",
        "structure_classes",
        "areas",
    }
    assert "exists" in errors["code"][0]
    assert refused(new_form, admin, code="bad code!")["code"]


def test_form_update_changes_a_draft_and_audits_what_changed(admin):
    form = new_form(admin)
    services.form_update(
        form=form,
        name="Shelf and price check",
        frequency=Frequency.ONCE,
        targeting={"market_types": ["X"]},
        actor=admin,
    )
    form.refresh_from_db()
    assert (form.name, form.frequency, form.market_types) == (
        "Shelf and price check",
        Frequency.ONCE,
        ["X"],
    )
    changed = set(audit_rows(form, action=AuditAction.UPDATE).values_list("field", flat=True))
    assert changed == {"name", "frequency", "market_types"}


def test_an_active_version_is_not_edited(admin):
    form = make_form("shelf", [{"kind": K.YES_NO}])
    errors = refused(
        services.form_update, form=form, name="x", frequency=Frequency.ONCE, actor=admin
    )
    assert "no longer a draft" in errors["__all__"][0]
    assert "no longer a draft" in refused(ask, form, admin)["__all__"][0]


def test_only_administrators_write(customer_world):
    supervisor = Actor.of(customer_world["sup_th"], AuditSource.PAGE)
    errors = refused(services.form_create, code="x", name="X", actor=supervisor)
    assert "administrators" in errors["__all__"][0]
    assert not AuditForm.objects.exists()


# --- questions ----------------------------------------------------------------------------


def test_questions_are_added_at_the_end_with_keys_made_from_their_labels(admin):
    form = new_form(admin)
    first = ask(form, admin, label="Price tags shown?")
    second = ask(form, admin, label="Price tags shown?", kind=K.TEXT)
    third = ask(form, admin, label="货架陈列", kind=K.TEXT)
    given = ask(form, admin, label="Anything", kind=K.TEXT, key="Notes")
    assert [q.position for q in (first, second, third, given)] == [1, 2, 3, 4]
    assert [q.key for q in (first, second, third, given)] == [
        "price-tags-shown",
        "price-tags-shown-2",
        "q3",
        "notes",
    ]
    assert refused(ask, form, admin, kind=K.TEXT, key="notes")["key"]
    assert refused(ask, form, admin, kind=K.TEXT, key="bad key")["key"]


def test_question_save_checks_each_kind(admin):
    form = new_form(admin)
    assert set(refused(ask, form, admin, kind="nope", label="")) == {"kind", "label"}
    assert refused(ask, form, admin, kind=K.SINGLE_CHOICE, choices=["A", "A", " "])["choices"]
    assert refused(ask, form, admin, kind=K.NUMBER, minimum="5", maximum="1")["maximum"]
    assert refused(ask, form, admin, kind=K.NUMBER, minimum="1.234")["minimum"]
    assert refused(
        ask, form, admin, kind=K.PRODUCT_FACINGS, minimum="1.5", product_scope="eligible"
    )["minimum"]
    assert refused(ask, form, admin, kind=K.PRODUCT_PRICE, product_scope="eligible")["price_unit"]
    assert refused(ask, form, admin, kind=K.PRODUCT_SHELF)["product_scope"]
    assert refused(ask, form, admin, kind=K.PRODUCT_SHELF, product_scope="listed")["products"]
    assert refused(
        ask, form, admin, kind=K.PRODUCT_SHELF, product_scope="listed", products=["NONE"]
    )["products"]
    assert refused(ask, form, admin, kind=K.TEXT, is_display=True)["is_display"]
    assert not form.questions.exists()


def test_question_save_keeps_what_applies_to_its_kind(admin):
    form = new_form(admin)
    product = make_product("6901028001")
    question = ask(
        form,
        admin,
        kind=K.PRODUCT_PRICE,
        label="Retail price",
        price_unit=PriceUnit.PACK,
        product_scope=ProductScope.LISTED,
        products=["6901028001"],
        minimum="10",
        maximum="60.5",
        choices=["ignored", "too"],
        is_display=False,
    )
    assert question.choices == []
    assert (question.minimum, question.maximum) == (Decimal("10"), Decimal("60.5"))
    assert list(question.products.all()) == [product]
    # when it becomes a yes / no question, the price's fields go
    ask(form, admin, question=question, kind=K.YES_NO, label="Display as agreed?", is_display=True)
    question.refresh_from_db()
    assert (question.price_unit, question.product_scope, question.minimum) == ("", "", None)
    assert question.is_display and not question.products.exists()
    fields = set(audit_rows(question, action=AuditAction.UPDATE).values_list("field", flat=True))
    assert {"kind", "label", "products", "price_unit", "is_display"} <= fields


def test_a_condition_names_an_earlier_question_and_its_answers(admin):
    form = new_form(admin)
    shelf = ask(form, admin, label="On display?")
    choice = ask(form, admin, kind=K.SINGLE_CHOICE, label="Where?", choices="Counter\nWall")
    text = ask(form, admin, kind=K.TEXT, label="Notes")
    # then a valid condition is kept
    photo = ask(
        form,
        admin,
        kind=K.PHOTO,
        label="Photo",
        condition_question=choice.pk,
        condition_values=["Wall"],
    )
    assert (photo.condition_question, photo.condition_values) == (choice, ["Wall"])
    # a later question, a text question, a value it cannot have, no value: refused
    assert refused(
        ask, form, admin, question=shelf, condition_question=choice.pk, condition_values=["Wall"]
    )["condition_question"]
    assert refused(ask, form, admin, condition_question=text.pk, condition_values=["x"])[
        "condition_question"
    ]
    assert refused(ask, form, admin, condition_question=shelf.pk, condition_values=["maybe"])[
        "condition_values"
    ]
    assert refused(ask, form, admin, condition_question=shelf.pk, condition_values=[])[
        "condition_values"
    ]
    # a yes / no condition takes "yes" / "no"
    yes = ask(form, admin, kind=K.TEXT, condition_question=shelf.pk, condition_values=[True])
    assert yes.condition_values == ["yes"]


def test_a_per_product_condition_decides_only_per_product_questions(admin):
    form = new_form(admin)
    shelf = ask(form, admin, kind=K.PRODUCT_SHELF, label="On shelf?", product_scope="eligible")
    assert refused(
        ask, form, admin, kind=K.TEXT, condition_question=shelf.pk, condition_values=["yes"]
    )["condition_question"]
    price = ask(
        form,
        admin,
        kind=K.PRODUCT_PRICE,
        label="Price",
        product_scope="eligible",
        price_unit="carton",
        condition_question=shelf.pk,
        condition_values=["yes"],
    )
    assert price.condition_question == shelf


def test_a_question_others_depend_on_keeps_their_answers(admin):
    form = new_form(admin)
    choice = ask(form, admin, kind=K.SINGLE_CHOICE, label="Where?", choices=["Counter", "Wall"])
    ask(form, admin, kind=K.TEXT, condition_question=choice.pk, condition_values=["Wall"])
    errors = refused(
        ask, form, admin, question=choice, kind=K.SINGLE_CHOICE, choices=["Counter", "Shelf"]
    )
    assert "Wall" in errors["choices"][0]


def test_a_question_others_depend_on_is_not_deleted(admin):
    form = new_form(admin)
    first = ask(form, admin, label="On display?")
    second = ask(
        form,
        admin,
        kind=K.TEXT,
        label="Why not?",
        condition_question=first.pk,
        condition_values=["no"],
    )
    third = ask(form, admin, kind=K.TEXT, label="Notes")
    assert (
        "Why not?" in refused(services.question_delete, question=first, actor=admin)["__all__"][0]
    )
    # when the dependant goes, the others close up
    services.question_delete(question=second, actor=admin)
    services.question_delete(question=first, actor=admin)
    third.refresh_from_db()
    assert third.position == 1
    assert AuditEntry.objects.filter(
        action=AuditAction.DELETE, new_value__label="On display?"
    ).exists()


def test_question_move_swaps_neighbours_but_keeps_a_condition_above(admin):
    form = new_form(admin)
    a = ask(form, admin, label="A")
    b = ask(form, admin, kind=K.TEXT, label="B", condition_question=a.pk, condition_values=["yes"])
    c = ask(form, admin, kind=K.TEXT, label="C")
    services.question_move(question=c, direction="up", actor=admin)
    order = list(form.questions.order_by("position").values_list("label", flat=True))
    assert order == ["A", "C", "B"]
    assert refused(services.question_move, question=a, direction="up", actor=admin)
    services.question_move(question=a, direction="down", actor=admin)  # below C: fine
    assert list(form.questions.order_by("position").values_list("label", flat=True)) == [
        "C",
        "A",
        "B",
    ]
    errors = refused(services.question_move, question=b, direction="up", actor=admin)
    assert "stays below" in errors["__all__"][0]
    assert refused(services.question_move, question=b, direction="sideways", actor=admin)[
        "direction"
    ]


# --- the lifecycle ------------------------------------------------------------------------


def test_form_activate_refuses_an_invalid_form_naming_each_question(admin):
    empty = new_form(admin, code="empty")
    assert "questions" in refused(services.form_activate, form=empty, actor=admin)
    # a draft made by hand: one choice only, a listed question without products, a price
    # without unit, a range upside down, a condition on a later question (keys are unique
    # by a constraint of the database)
    broken = make_form(
        "broken",
        [
            {"kind": K.SINGLE_CHOICE, "choices": ["Only"]},
            {"kind": K.PRODUCT_SHELF, "product_scope": ProductScope.LISTED},
            {"kind": K.PRODUCT_PRICE, "product_scope": ProductScope.ELIGIBLE},
            {"kind": K.NUMBER, "minimum": 5, "maximum": 1},
            {"kind": K.TEXT},
        ],
        status=FormStatus.DRAFT,
    )
    later = broken.questions.get(position=5)
    first = broken.questions.get(position=1)
    first.condition_question = later
    first.condition_values = ["x"]
    first.save()
    errors = refused(services.form_activate, form=broken, actor=admin)
    assert set(errors) == {
        "questions.1.choices",
        "questions.1.condition_question",
        "questions.2.products",
        "questions.3.price_unit",
        "questions.4.maximum",
    }
    assert errors["questions.3.price_unit"][0].startswith("Question 3:")
    broken.refresh_from_db()
    assert broken.status == FormStatus.DRAFT


def test_form_activate_refuses_a_listed_question_whose_products_are_all_withdrawn(admin):
    product = make_product("6901028001", active=False)
    form = make_form(
        "shelf",
        [{"kind": K.PRODUCT_SHELF, "product_scope": "listed", "products": [product]}],
        status=FormStatus.DRAFT,
    )
    assert "questions.1.products" in refused(services.form_activate, form=form, actor=admin)


def test_activation_retires_the_previous_version(admin):
    old = make_form("shelf", [{"kind": K.YES_NO}])
    draft = services.form_new_version(form=old, actor=admin)
    active = services.form_activate(form=draft, actor=admin)
    old.refresh_from_db()
    assert (active.status, active.activated_by) == (FormStatus.ACTIVE, admin.user)
    assert old.status == FormStatus.RETIRED and old.retired_at is not None
    assert audit_rows(old, field="status", new_value=FormStatus.RETIRED).exists()
    assert refused(services.form_activate, form=active, actor=admin)


def test_new_version_copies_questions_products_and_conditions(admin):
    products = [make_product("6901028001"), make_product("6901028002")]
    old = make_form(
        "shelf",
        [
            {
                "kind": K.PRODUCT_SHELF,
                "key": "on-shelf",
                "product_scope": "listed",
                "products": products,
            },
            {
                "kind": K.PRODUCT_PRICE,
                "key": "price",
                "product_scope": "listed",
                "products": products[:1],
                "price_unit": "pack",
                "condition": "on-shelf",
                "condition_values": ["yes"],
            },
        ],
        market_types=["C"],
        frequency=Frequency.MONTHLY,
    )
    copy = services.form_new_version(form=old, actor=admin)
    assert (copy.code, copy.version, copy.status) == ("shelf", 2, FormStatus.DRAFT)
    assert (copy.market_types, copy.frequency) == (["C"], Frequency.MONTHLY)
    shelf, price = copy.questions.order_by("position")
    assert (shelf.key, price.key) == ("on-shelf", "price")
    assert price.condition_question == shelf  # the copy's own question, not the old one
    assert price.condition_values == ["yes"]
    assert set(shelf.products.all()) == set(products)
    assert list(price.products.all()) == products[:1]
    assert old.questions.count() == 2  # the old version keeps its own
    # refused while the draft exists
    assert (
        "draft already" in refused(services.form_new_version, form=old, actor=admin)["__all__"][0]
    )


def test_form_retire_needs_a_reason_and_an_active_version(admin):
    form = make_form("shelf", [{"kind": K.YES_NO}])
    assert refused(services.form_retire, form=form, reason=" ", actor=admin)["reason"]
    services.form_retire(form=form, reason="Campaign over", actor=admin)
    form.refresh_from_db()
    assert form.status == FormStatus.RETIRED
    row = audit_rows(form, field="status").get()
    assert row.reason == "Campaign over"
    assert refused(services.form_retire, form=form, reason="again", actor=admin)


def test_form_delete_deletes_drafts_only(admin):
    draft = new_form(admin)
    ask(draft, admin)
    services.form_delete(form=draft, actor=admin)
    assert not AuditForm.objects.exists() and not AuditQuestion.objects.exists()
    active = make_form("shelf", [{"kind": K.YES_NO}])
    assert "Only a draft" in refused(services.form_delete, form=active, actor=admin)["__all__"][0]


def test_a_system_actor_may_write(customer_world, system_actor):
    # the demo data and commands act without a person
    form = services.form_create(code="demo", name="Demo", actor=system_actor)
    assert form.created_by is None
