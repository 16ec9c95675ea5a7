"""Area and user services: validation, atomicity, audit rows."""

import pytest

from crm.choices import AuditAction, Role
from crm.exceptions import DomainError
from crm.models import Area, AuditEntry, User
from crm.services import area_upsert, user_create, user_update


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
