"""Area and user services: validation, atomicity, audit rows."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from crm.choices import AuditAction, AuditSource, Role
from crm.exceptions import DomainError
from crm.models import Area, AuditEntry, User
from crm.services import Actor, area_upsert, audit_insert_many, user_create, user_update
from tests.crm.factories import UserFactory


def test_area_upsert_creates_then_updates_with_audit(system_actor):
    area = area_upsert(code="GZ", name="广州", actor=system_actor)
    area_upsert(code="GZ", name="广州市", actor=system_actor)
    area.refresh_from_db()
    assert area.name == "广州市"
    rows = AuditEntry.objects.filter(object_id=str(area.pk)).order_by("id")
    assert [(r.action, r.field) for r in rows] == [
        (AuditAction.CREATE, "code"),
        (AuditAction.CREATE, "name"),
        (AuditAction.CREATE, "parent"),
        (AuditAction.UPDATE, "name"),
    ]
    assert rows.last().old_value == "广州" and rows.last().new_value == "广州市"
    assert rows.last().actor_label == "tests"


def test_area_upsert_without_changes_writes_nothing(system_actor):
    area_upsert(code="GZ", name="广州", actor=system_actor)
    before = AuditEntry.objects.count()
    area_upsert(code="GZ", name="广州", actor=system_actor)
    assert AuditEntry.objects.count() == before


def test_area_cannot_sit_below_itself(areas, system_actor):
    with pytest.raises(DomainError) as exc:
        area_upsert(code="GZ", name="广州市", parent_code="TH", actor=system_actor)
    assert exc.value.field == "parent"
    assert Area.objects.get(code="GZ").parent is None


def test_area_parent_must_exist_and_code_must_be_well_formed(system_actor):
    with pytest.raises(DomainError, match="no area with the code XX"):
        area_upsert(code="A1", name="x", parent_code="XX", actor=system_actor)
    with pytest.raises(DomainError) as exc:
        area_upsert(code="bad code!", name="x", actor=system_actor)
    assert "code" in exc.value.errors
    assert not Area.objects.exists()


def test_user_create_failure_leaves_nothing_behind(areas, system_actor):
    with pytest.raises(DomainError):
        user_create(
            username="x", role=Role.SUPERVISOR, area_codes=["TH", "NOPE"], actor=system_actor
        )
    assert not User.objects.filter(username="x").exists()
    assert not AuditEntry.objects.filter(object_repr="x").exists()


def test_user_update_audits_each_changed_field(areas, system_actor):
    user = user_create(
        username="li", role=Role.ACCOUNT_MANAGER, area_codes=["TH"], actor=system_actor
    )
    user_update(user=user, role=Role.SUPERVISOR, area_codes=["GZ"], actor=system_actor)
    changes = {
        e.field: (e.old_value, e.new_value)
        for e in AuditEntry.objects.filter(object_id=str(user.pk), action=AuditAction.UPDATE)
    }
    assert changes == {"role": ("account_manager", "supervisor"), "areas": (["TH"], ["GZ"])}


def test_user_update_drops_the_cached_scope(areas, system_actor):
    from crm.scope import area_ids_in_scope

    user = user_create(username="li", role=Role.SUPERVISOR, area_codes=["TH"], actor=system_actor)
    assert area_ids_in_scope(user) == {areas["TH"].pk}
    user_update(user=user, area_codes=["SZ"], actor=system_actor)
    assert area_ids_in_scope(user) == {areas["SZ"].pk}


def test_password_never_reaches_the_audit_log(db, system_actor):
    user_create(
        username="li", role=Role.SUPERVISOR, password="Secret-pass-2026", actor=system_actor
    )
    assert not AuditEntry.objects.filter(new_value__icontains="Secret").exists()


@pytest.mark.parametrize("with_user", [False, True])
def test_audit_insert_many_writes_what_bulk_create_of_audit_rows_writes(db, with_user):
    # given: the same rows written both ways, by a person and by a job
    user = UserFactory(username="erp-audit") if with_user else None
    actor = Actor(user=user, source=AuditSource.API, label="erp-audit")
    at = timezone.now()
    rows = [
        ("7", 'erp SO-"1"', AuditAction.UPDATE, "order", {"status": "placed", "cartons": 3}, None),
        ("8", "erp SO-\\2 中华", AuditAction.UPDATE, "order", {"amount": "1.50"}, {"a": [1, "{}"]}),
        ("9", "", AuditAction.CREATE, "", None, {"nested": {"x": None, "y": True}}),
    ]
    # when
    audit_insert_many(actor=actor, model=Area, rows=rows, at=at)
    written = list(AuditEntry.objects.order_by("id").values())
    AuditEntry.objects.all().delete()
    AuditEntry.objects.bulk_create(
        AuditEntry(
            actor=user,
            actor_label="erp-audit",
            source=AuditSource.API,
            content_type=ContentType.objects.get_for_model(Area),
            object_id=object_id,
            object_repr=object_repr,
            action=action,
            field=field,
            old_value=old,
            new_value=new,
            created_at=at,
        )
        for object_id, object_repr, action, field, old, new in rows
    )
    expected = list(AuditEntry.objects.order_by("id").values())
    # then: every column but the id is the same
    for row in (*written, *expected):
        row.pop("id")
    assert written == expected
    assert written[0]["source"] == "api"
    assert written[1]["new_value"] == {"a": [1, "{}"]}
