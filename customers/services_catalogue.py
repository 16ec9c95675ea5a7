"""Versions of the field catalogue's overrides: administrators change, per field, its maintenance
class (static or dynamic), its change policy (direct, approval, supervisor) and whether it is
required to create a customer, without a release. The code's catalogue (`customers.catalogue`)
stays the default; a version stores only the fields that differ from it.

Like the grading schemes: one draft (started from the active version) is edited, previewed
(`catalogue_version_diff`) and activated; the version it replaces is retired. Each write is
atomic and writes its audit rows itself. A field's storage never changes, system-generated
fields are never overridden, and a field the database needs cannot become optional.

Pending change requests keep the policy they were made under: deciding a request
(`customers.services.change_request_approve`) applies its values without asking the
catalogue again, so a field made "direct" after the request was made is still approved.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from crm.choices import AuditAction, SchemeStatus
from crm.exceptions import DomainError
from crm.services import Actor, audit_record
from crm.versioning import activate_version
from customers.catalogue import (
    CATALOGUE,
    FieldSpec,
    Maintenance,
    effective,
    forget_effective,
    with_overrides,
)
from customers.choices import OverridableMaintenance, OverridablePolicy
from customers.models import CatalogueOverride, CatalogueVersion

# A field's overridable settings: (maintenance, policy, required).
Setting = tuple[str, str, bool]


def is_needed(spec: FieldSpec) -> bool:
    """The database cannot store a customer without this field: its column is NOT NULL (or a
    foreign key that must be set) and has no default, and a blank value is not allowed. Read
    from the model, so a new column is judged as it is declared."""
    field = spec.model_field
    if field.is_relation:
        return not field.null
    return not field.blank and not field.has_default()


def is_overridable(spec: FieldSpec) -> bool:
    """System-generated fields are written only by the jobs: never overridden."""
    return not spec.is_system and spec.maintenance != Maintenance.SYSTEM


def setting_of(spec: FieldSpec) -> Setting:
    return (str(spec.maintenance), str(spec.policy), bool(spec.required))


def override_errors(name: str, setting: Setting) -> list[str]:
    """Why `name` cannot take `setting` (an empty list when it can)."""
    spec = CATALOGUE.get(name)
    if spec is None:
        return [_("This field is not in the catalogue.")]
    if not is_overridable(spec):
        return [_("A system-generated field cannot be changed: only the system writes it.")]
    maintenance, policy, required = setting
    errors = []
    if maintenance not in OverridableMaintenance.values:
        errors.append(_("Choose static or dynamic."))
    if policy not in OverridablePolicy.values:
        errors.append(_("Choose direct, approval or supervisor."))
    if not required and is_needed(spec):
        errors.append(
            _("A customer cannot be stored without this field, so it must stay required.")
        )
    return errors


def version_specs(version: CatalogueVersion | None) -> dict[str, FieldSpec]:
    """The catalogue as `version` sets it (the code's defaults for None)."""
    if version is None:
        return dict(CATALOGUE)
    return with_overrides(
        {o.field: (o.maintenance, o.policy, o.required) for o in version.overrides.all()}
    )


def catalogue_active() -> CatalogueVersion | None:
    return CatalogueVersion.objects.filter(status=SchemeStatus.ACTIVE).first()


def catalogue_draft() -> CatalogueVersion | None:
    return CatalogueVersion.objects.filter(status=SchemeStatus.DRAFT).first()


@dataclass(frozen=True)
class FieldDiff:
    """One field whose class, policy or "required" activating a draft would change."""

    spec: FieldSpec  # as the draft sets it
    before: FieldSpec  # as the active version sets it

    @property
    def changes(self) -> list[tuple[str, str, str]]:
        """(what, before, after) for each setting that differs, as people read them."""
        rows = []
        if self.before.maintenance != self.spec.maintenance:
            rows.append((_("Class"), self.before.maintenance.label, self.spec.maintenance.label))
        if self.before.policy != self.spec.policy:
            rows.append((_("Policy"), self.before.policy.label, self.spec.policy.label))
        if self.before.required != self.spec.required:
            yes, no = _("Yes"), _("No")
            rows.append(
                (
                    _("Required"),
                    yes if self.before.required else no,
                    yes if self.spec.required else no,
                )
            )
        return rows


def catalogue_version_diff(*, version: CatalogueVersion) -> list[FieldDiff]:
    """What activating `version` changes compared with the active catalogue, field by field."""
    before = version_specs(catalogue_active())
    after = version_specs(version)
    return [
        FieldDiff(spec=after[name], before=before[name])
        for name in after
        if setting_of(after[name]) != setting_of(before[name])
    ]


@transaction.atomic
def catalogue_draft_start(*, actor: Actor) -> CatalogueVersion:
    """The draft, started from the active version when there is none yet."""
    draft = CatalogueVersion.objects.select_for_update().filter(status=SchemeStatus.DRAFT).first()
    if draft is not None:
        return draft
    active = catalogue_active()
    number = (CatalogueVersion.objects.aggregate(n=Max("number"))["n"] or 0) + 1
    draft = CatalogueVersion.objects.create(
        number=number, status=SchemeStatus.DRAFT, created_by=actor.user, note=""
    )
    if active is not None:
        CatalogueOverride.objects.bulk_create(
            CatalogueOverride(
                version=draft,
                field=o.field,
                maintenance=o.maintenance,
                policy=o.policy,
                required=o.required,
            )
            for o in active.overrides.all()
        )
    audit_record(
        actor=actor,
        obj=draft,
        action=AuditAction.CREATE,
        snapshot={"number": number, "from": active.number if active else None},
    )
    return draft


def _editable_draft(version: CatalogueVersion) -> CatalogueVersion:
    locked = CatalogueVersion.objects.select_for_update().get(pk=version.pk)
    if locked.status != SchemeStatus.DRAFT:
        raise DomainError(_("Only a draft can be changed; start a new draft."))
    return locked


@transaction.atomic
def catalogue_draft_update(
    *,
    version: CatalogueVersion,
    settings: Mapping[str, Setting],
    note: str,
    actor: Actor,
) -> CatalogueVersion:
    """Sets the draft's fields: `settings` maps field names to (maintenance, policy, required);
    fields left out keep the draft's setting. Every field is checked before anything is saved
    (errors by field name); only settings that differ from the code's default are stored."""
    version = _editable_draft(version)
    errors = {name: msgs for name, s in settings.items() if (msgs := override_errors(name, s))}
    if errors:
        raise DomainError(errors=errors)
    current = version_specs(version)
    changes: dict[str, tuple] = {}
    for name, setting in settings.items():
        setting = (setting[0], setting[1], bool(setting[2]))
        old = setting_of(current[name])
        if old == setting:
            continue
        changes[name] = (list(old), list(setting))
        if setting == setting_of(CATALOGUE[name]):
            CatalogueOverride.objects.filter(version=version, field=name).delete()
        else:
            CatalogueOverride.objects.update_or_create(
                version=version,
                field=name,
                defaults={"maintenance": setting[0], "policy": setting[1], "required": setting[2]},
            )
    note = note.strip()[:500]
    if note != version.note:
        changes["note"] = (version.note, note)
        version.note = note
        version.save(update_fields=["note"])
    if changes:
        audit_record(actor=actor, obj=version, action=AuditAction.UPDATE, changes=changes)
    return version


@transaction.atomic
def catalogue_draft_discard(*, version: CatalogueVersion, actor: Actor) -> None:
    version = _editable_draft(version)
    audit_record(
        actor=actor,
        obj=version,
        action=AuditAction.DELETE,
        snapshot={
            "number": version.number,
            "overrides": {
                o.field: [o.maintenance, o.policy, o.required] for o in version.overrides.all()
            },
        },
    )
    version.delete()


@transaction.atomic
def catalogue_activate(*, version: CatalogueVersion, actor: Actor) -> CatalogueVersion:
    """Makes the draft the catalogue every reader sees; the active version is retired. Each
    field's change is audited (old → new). Every process sees it at its next read
    (`customers.catalogue.forget_effective`)."""
    version = _editable_draft(version)
    diff = catalogue_version_diff(version=version)
    activate_version(
        version,
        actor=actor,
        changes={d.spec.name: (list(setting_of(d.before)), list(setting_of(d.spec))) for d in diff},
    )
    forget_effective()
    return version


def catalogue_rows() -> list[dict]:
    """The effective catalogue for the settings page: every field, with whether the active
    version overrides it (system fields last within their category, as the code lists them)."""
    specs = effective()
    return [
        {
            "spec": spec,
            "overridden": setting_of(spec) != setting_of(CATALOGUE[name]),
            "overridable": is_overridable(CATALOGUE[name]),
        }
        for name, spec in specs.items()
    ]
