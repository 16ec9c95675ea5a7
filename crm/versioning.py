"""The reads and services every versioned configuration shares (`crm.models.VersionedScheme`:
grading and valuation schemes): the versions, the active one, the next version number, a
locked draft, activate, delete, and the audited update of a draft. The apps wrap the services
with their own validation."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import IntegrityError, transaction
from django.db.models import Max, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.choices import AuditAction, SchemeStatus
from crm.exceptions import DomainError
from crm.models import VersionedScheme
from crm.services import Actor, audit_record
from crm.stored_text import Text, columns, text

S = TypeVar("S", bound=VersionedScheme)
# Any model versioned that way (a VersionedScheme, the field catalogue's versions).
M = TypeVar("M")
# The rules' verdict on a scheme's parameters: (scheme, parameters) → the clean parameters,
# or a DomainError naming the fields.
Validate = Callable[[VersionedScheme, dict[str, Any]], dict[str, Any]]


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


def activate_version(draft: M, *, actor: Actor, changes: Mapping[str, tuple] | None = None) -> M:
    """Makes `draft` (locked by the caller) the active version of its model and retires the
    active one, each audited (`changes`: more of what activating it changed, for its audit
    row). Every versioned model with a draft/active/retired `status` and `activated_by` /
    `activated_at` shares this: grading and the other schemes, the field catalogue."""
    model = type(draft)
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
    draft.status = SchemeStatus.ACTIVE
    draft.activated_by = actor.user
    draft.activated_at = timezone.now()
    draft.save(update_fields=["status", "activated_by", "activated_at"])
    audit_record(
        actor=actor,
        obj=draft,
        action=AuditAction.UPDATE,
        changes={
            "status": (SchemeStatus.DRAFT.value, SchemeStatus.ACTIVE.value),
            **(changes or {}),
        },
    )
    return draft


def clean_name(name: str) -> str:
    if not name.strip():
        raise DomainError(_("Give the scheme a name."), field="name")
    return name.strip()[:100]


def _name_columns(name: str | Text) -> dict[str, Any]:
    """The name columns of `name`: a catalogue text (the default's) keeps its key."""
    if isinstance(name, Text):
        return columns(name, "name", params=False)
    return {"name": clean_name(name), "name_key": ""}


def _stored_name(scheme: VersionedScheme) -> str | Text:
    """A scheme's name as stored: its catalogue text when it has a key."""
    return Text(scheme.name_key) if scheme.name_key else scheme.name


@dataclass(frozen=True)
class SchemeServices:
    """The scheme services of one versioned-scheme model: the active version (the default
    created on first use), a new draft, a copy, the audited update of a draft, activation and
    deletion. An app declares its rules — `validate` (the rules' verdict on parameters for a
    scheme), `defaults(**fields)` (a new draft's parameters, e.g. for grading's kind),
    `default_active()` (the fields of the default version), `refusal` (no version active once
    one has been) and `copied_fields` (what a copy keeps besides name and parameters) — and
    exposes the methods as its services."""

    model: type[VersionedScheme]
    validate: Validate
    defaults: Callable[..., dict[str, Any]]
    default_active: Callable[[], dict[str, Any]]
    refusal: Any
    copied_fields: tuple[str, ...] = ()

    def active(self) -> Any:
        """The version new runs use. Until one has ever been activated it is the default,
        created on first use; once one has been, a company with none active is refused."""
        model = self.model
        scheme = model.objects.filter(status=SchemeStatus.ACTIVE).first()
        if scheme is not None:
            return scheme
        if model.objects.exclude(status=SchemeStatus.DRAFT).exists():
            raise DomainError(str(self.refusal))
        try:
            fields = self.default_active()
            texts = {
                **_name_columns(fields.pop("name")),
                **columns(fields.pop("note", ""), "note"),
            }
            with transaction.atomic():
                return model.objects.create(
                    version=next_version(model),
                    status=SchemeStatus.ACTIVE,
                    activated_at=timezone.now(),
                    **texts,
                    **fields,
                )
        except IntegrityError:  # created by a concurrent caller
            return model.objects.get(status=SchemeStatus.ACTIVE)

    @transaction.atomic
    def create_draft(
        self,
        *,
        name: str | Text,
        actor: Actor,
        parameters: Mapping[str, Any] | None = None,
        note: str | Text = "",
        **fields: Any,
    ) -> Any:
        """A new draft (with the app's own `fields`), with the default parameters unless
        `parameters` are given, validated and audited. A name or note that is a catalogue
        text (a copy of the default's) is kept as one, shown in each reader's language."""
        texts = {**_name_columns(name), **columns(note, "note")}
        if parameters is None:
            parameters = self.defaults(**fields)
        clean = self.validate(self.model(**fields), dict(parameters))
        scheme = self.model.objects.create(
            version=next_version(self.model),
            parameters=clean,
            created_by=actor.user,
            **texts,
            **fields,
        )
        audit_record(
            actor=actor,
            obj=scheme,
            action=AuditAction.CREATE,
            snapshot={**fields, "name": scheme.name, "parameters": clean},
        )
        return scheme

    @transaction.atomic
    def copy(self, *, scheme: VersionedScheme, actor: Actor) -> Any:
        """A new draft with the same rules as `scheme` (how an active scheme gets changed)."""
        return self.create_draft(
            name=_stored_name(scheme),
            parameters=scheme.parameters,
            note=text("crm.scheme.copied_note", v=scheme.version),
            actor=actor,
            **{name: getattr(scheme, name) for name in self.copied_fields},
        )

    @transaction.atomic
    def update_draft(
        self,
        *,
        scheme: VersionedScheme,
        name: str,
        parameters: Mapping[str, Any],
        note: str,
        actor: Actor,
    ) -> Any:
        """Changes a draft's name, note and parameters (validated) and audits what changed.
        A name or note sent back as the reader saw it (a catalogue text in their language)
        keeps its key; one typed anew is stored as typed."""
        locked = locked_draft(scheme)
        typed_name = clean_name(name)  # checked before the parameters (the page relies on it)
        values: dict[str, Any] = {"parameters": self.validate(locked, dict(parameters))}
        if typed_name != clean_name(locked.label):
            values.update(name=typed_name, name_key="")
        if note.strip() != locked.note_text.strip():
            values.update(note=note, note_key="", note_params={})
        changes = {
            key: (getattr(locked, key), value)
            for key, value in values.items()
            if getattr(locked, key) != value
        }
        for key, (_old, new) in changes.items():
            setattr(locked, key, new)
        if changes:
            locked.save(update_fields=list(changes))
            # The keys follow the texts: the audit rows name the fields people see.
            shown = {k: v for k, v in changes.items() if not k.endswith(("_key", "_params"))}
            audit_record(actor=actor, obj=locked, action=AuditAction.UPDATE, changes=shown)
        return locked

    @transaction.atomic
    def activate(self, *, scheme: VersionedScheme, actor: Actor) -> Any:
        """Makes a draft (its rules checked again) the active version and retires the active
        one (audited). Months already computed keep their results (they name the version
        that made them) until they are recomputed."""
        locked = locked_draft(scheme)
        self.validate(locked, locked.parameters)
        return activate_version(locked, actor=actor)

    @transaction.atomic
    def delete_draft(self, *, scheme: VersionedScheme, actor: Actor) -> None:
        """Deletes a draft (audited with its version and name)."""
        locked = locked_draft(scheme)
        audit_record(
            actor=actor,
            obj=locked,
            action=AuditAction.DELETE,
            snapshot={"version": locked.version, "name": locked.name},
        )
        locked.delete()
