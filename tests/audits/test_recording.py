"""Audits stored with a visit (visits.services.visit_log → audits.recording.audits_record):
rows, display counts, photos, the audit trail, observations; all or nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models.fields.files import FieldFile
from django.utils import timezone

from audits import recording
from audits.choices import QuestionKind
from audits.models import Audit, AuditAnswer, AuditForm
from crm.exceptions import DomainError
from crm.models import AuditEntry
from tests.audits.factories import make_form
from tests.orders.factories import make_product
from tests.visits.factories import actor, jpeg_bytes, log_visit, stored_files, upload, visit_data
from visits import services
from visits.models import Visit


@pytest.fixture
def world(customer_world):
    w = customer_world
    w["A"] = make_product("A", suggested_retail_price=Decimal("300.00"))
    w["form"] = make_form(
        "shelf",
        [
            {"kind": QuestionKind.YES_NO, "key": "tags", "is_display": True, "required": True},
            {"kind": QuestionKind.YES_NO, "key": "clean", "is_display": True},
            {
                "kind": QuestionKind.PRODUCT_PRICE,
                "key": "price",
                "product_scope": "listed",
                "products": [w["A"]],
                "price_unit": "pack",
            },
            {"kind": QuestionKind.PHOTO, "key": "photo"},
        ],
    )
    # active since yesterday: the visits below are logged earlier today
    AuditForm.objects.filter(pk=w["form"].pk).update(
        activated_at=timezone.now() - dt.timedelta(days=1)
    )
    w["q"] = {q.key: q for q in w["form"].questions.all()}
    return w


def answers(world, **values):
    q = world["q"]
    rows = [{"question": q["tags"].pk, "value": values.get("tags", True)}]
    rows.append({"question": q["clean"].pk, "value": values.get("clean", False)})
    rows.append(
        {"question": q["price"].pk, "product_code": "A", "value": values.get("price", "31")}
    )
    if "photo" in values:
        rows.append({"question": q["photo"].pk, "value": values["photo"]})
    return [{"form": world["form"].pk, "answers": rows}]


def log(world, audits, photos=None, **overrides):
    return services.visit_log(
        customer=world["c_th"],
        data=visit_data(**overrides),
        actor=actor(world["am_th"]),
        audits=audits,
        audit_photos=photos,
    )


def test_a_visit_stores_its_audits_answers_and_trail(world, monkeypatch):
    seen = []
    monkeypatch.setattr(recording, "observations_record", lambda *, audits: seen.append(audits))
    before = stored_files()
    visit = log(world, answers(world, photo="p"), photos={"p": upload(jpeg_bytes())})
    audit = Audit.objects.get(visit=visit)
    assert (audit.form, audit.customer, audit.audited_by) == (
        world["form"],
        world["c_th"],
        world["am_th"],
    )
    assert audit.audited_at == visit.visited_at
    assert (audit.display_yes, audit.display_answered) == (1, 2)
    stored = {
        (a.question.key, a.product_id, repr(a.value), a.number)
        for a in AuditAnswer.objects.filter(audit=audit)
    }
    assert stored == {
        ("tags", None, "True", None),
        ("clean", None, "False", None),
        ("price", world["A"].pk, "'31'", Decimal("310.00")),
        ("photo", None, "'p'", None),
    }
    photo = AuditAnswer.objects.get(audit=audit, question__key="photo")
    assert len(stored_files() - before) == 2
    assert photo.photo.name.startswith("audits/") and photo.photo_thumbnail
    entries = AuditEntry.objects.filter(
        content_type__app_label="audits", content_type__model="audit", object_id=str(audit.pk)
    )
    assert entries.exists() and all(e.action == "create" for e in entries)
    # the observations get the stored audits with their answers, read without a query
    (given,) = seen
    assert [a.pk for a in given] == [audit.pk]
    assert len(given[0].answers.all()) == 4


def test_a_bad_answer_stores_nothing_of_the_visit(world):
    before = stored_files()
    with pytest.raises(DomainError) as refused:
        log(world, answers(world, price="abc", photo="p"), photos={"p": upload(jpeg_bytes())})
    assert list(refused.value.errors) == ["audits.0.answers.2.value"]
    assert not Visit.objects.exists() and not Audit.objects.exists()
    assert stored_files() == before


def test_visit_errors_and_audit_errors_come_together(world):
    with pytest.raises(DomainError) as refused:
        log(world, answers(world, tags=None), purpose="")
    assert set(refused.value.errors) == {"purpose", "audits.0.answers"}


def test_a_failure_in_the_transaction_removes_the_answers_photo_files(world, monkeypatch):
    def fail(*, audits):
        raise RuntimeError("observations failed")

    monkeypatch.setattr(recording, "observations_record", fail)
    before = stored_files()
    with pytest.raises(RuntimeError):
        log(world, answers(world, photo="p"), photos={"p": upload(jpeg_bytes())})
    assert not Visit.objects.exists() and not AuditAnswer.objects.exists()
    assert stored_files() == before


def test_a_failure_after_the_audits_removes_their_files_too(world, monkeypatch):
    def fail(**kwargs):
        raise RuntimeError("planning failed")

    monkeypatch.setattr(services, "_plan_sync", fail)
    before = stored_files()
    with pytest.raises(RuntimeError):
        log(world, answers(world, photo="p"), photos={"p": upload(jpeg_bytes())})
    assert not Audit.objects.exists()
    assert stored_files() == before


def test_a_form_not_targeting_the_shop_is_refused(world, areas):
    other = make_form("sz", [{"kind": QuestionKind.YES_NO}], area_ids=[areas["SZ"].pk])
    with pytest.raises(DomainError) as refused:
        log(world, [{"form": other.pk, "answers": []}])
    assert list(refused.value.errors) == ["audits.0.form"]


def test_a_visit_without_audits_is_as_before(world):
    visit = log_visit(world["c_th"], world["am_th"])
    assert not visit.audits.exists()


def test_a_photo_that_fails_half_stored_leaves_no_file(world, monkeypatch):
    save_original = FieldFile.save

    def thumbnail_fails(self, name, content, save=True):
        if name.endswith("-thumb.jpg"):
            raise OSError("disk full")
        return save_original(self, name, content, save)

    monkeypatch.setattr(FieldFile, "save", thumbnail_fails)
    before = stored_files()
    with pytest.raises(OSError):
        log(world, answers(world, photo="p"), photos={"p": upload(jpeg_bytes())})
    assert stored_files() == before and not Visit.objects.exists()
