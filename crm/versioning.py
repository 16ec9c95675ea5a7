"""The reads and services every versioned configuration shares (`crm.models.VersionedScheme`:
grading and valuation schemes): the versions, the active one, the next version number, a
locked draft, activate, delete, and the audited update of a draft. The apps wrap the services
with their own validation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from django.db.models import Max, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.choices import AuditAction, SchemeStatus
from crm.exceptions import DomainError
from crm.models import VersionedScheme
from crm.services import Actor, audit_record

S = TypeVar("S", bound=VersionedScheme)


def scheme_list(model: type[S]) -> QuerySet[S]:
    """Every version, newest first (not scoped: the scheme pages are for administrators)."""
    return model.objects.select_related("created_by", "activated_by").order_by("-version")


def scheme_get(model: type[S], *, pk: int) -> S:
    scheme = scheme_list(model).filter(pk=pk).first()
    if scheme is None:
        raise Http404
    return scheme


def scheme_active_or_none(model: type[S]) -> S | None:
    """The active version, without creating the default one (the apps' `scheme_active` does)."""
    return model.objects.filter(status=SchemeStatus.ACTIVE).first()


def next_version(model: type[VersionedScheme]) -> int:
    return (model.objects.aggregate(v=Max("version"))["v"] or 0) + 1


def locked_draft(scheme: S) -> S:
    """`scheme` locked for update; refused unless it is still a draft. Call inside a
    transaction."""
    locked = type(scheme).objects.select_for_update().get(pk=scheme.pk)
    if locked.status != SchemeStatus.DRAFT:
        raise DomainError(
            _("Version %(v)d is no longer a draft: copy it to change the rules.")
            % {"v": locked.version}
        )
    return locked


def clean_name(name: str) -> str:
    if not name.strip():
        raise DomainError(_("Give the scheme a name."), field="name")
    return name.strip()[:100]


def draft_update(locked: S, *, values: Mapping[str, Any], actor: Actor) -> S:
    """Sets `values` (field → new value) on a locked draft and audits what changed."""
    changes = {
        key: (getattr(locked, key), value)
        for key, value in values.items()
        if getattr(locked, key) != value
    }
    for key, (_old, new) in changes.items():
        setattr(locked, key, new)
    if changes:
        locked.save(update_fields=list(changes))
        audit_record(actor=actor, obj=locked, action=AuditAction.UPDATE, changes=changes)
    return locked


def activate(locked: S, *, actor: Actor) -> S:
    """Makes a locked draft the active version and retires the active one (audited)."""
    model = type(locked)
    previous = model.objects.select_for_update().filter(status=SchemeStatus.ACTIVE).first()
    if previous is not None:
        previous.status = SchemeStatus.RETIRED
        previous.save(update_fields=["status"])
        audit_record(
            actor=actor,
            obj=previous,
            action=AuditAction.UPDATE,
            changes={"status": (SchemeStatus.ACTIVE.value, SchemeStatus.RETIRED.value)},
        )
    locked.status = SchemeStatus.ACTIVE
    locked.activated_by = actor.user
    locked.activated_at = timezone.now()
    locked.save(update_fields=["status", "activated_by", "activated_at"])
    audit_record(
        actor=actor,
        obj=locked,
        action=AuditAction.UPDATE,
        changes={"status": (SchemeStatus.DRAFT.value, SchemeStatus.ACTIVE.value)},
    )
    return locked


def delete_draft(locked: VersionedScheme, *, actor: Actor) -> None:
    audit_record(
        actor=actor,
        obj=locked,
        action=AuditAction.DELETE,
        snapshot={"version": locked.version, "name": locked.name},
    )
    locked.delete()
