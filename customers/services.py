"""Writes on customers: create, update, batch upsert (sync and import), change requests.

Every write records its audit rows in the same transaction, with the customer as the object,
so the customer's timeline shows every change whatever its source (page, API, import, job,
approval). System-generated fields are never written here: jobs and order sync have their own
services in their apps.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, models, transaction
from django.db.models import ProtectedError, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import merging
from crm.choices import AuditAction, AuditSource
from crm.exceptions import DomainError
from crm.models import AuditEntry, User
from crm.services import Actor, audit_build, audit_record, notify
from crm.stored_text import (
    Text,
    columns,
    items,
    label,
    rendered,
    text,
    validation_message_dict,
    validation_messages,
)
from crm.text import is_storable, unstorable_text
from crm.uploads import upload_check, verified_file
from customers import policies
from customers.catalogue import (
    CATALOGUE,
    FIELDS,
    FieldSpec,
    effective,
    external,
    external_value,
    internal_value,
    reference_lookups,
    to_internal,
)
from customers.choices import ChangeRequestStatus
from customers.models import (
    ChangeRequest,
    Customer,
    CustomerAlias,
    CustomerDynamic,
    CustomerSystem,
    DuplicateDismissal,
)
from customers.selectors import (
    MERGED,
    SURVIVOR,
    alias_survivors,
    customer_in_scope,
    customer_merge_conflicts,
    mergeable_fields,
)
from customers.validators import normalise_address, normalise_phone

# Rows per transaction in a batch upsert: three bulk INSERTs (customer, dynamic, system) and
# one of audit rows per batch. 1,000 rows keep a batch under ~20 MB and a second or two.
BATCH_SIZE = 1000


class Mode:
    UPSERT = "upsert"
    CREATE = "create"


@dataclass
class RowResult:
    """What happened to one input row of a batch."""

    index: int
    code: str
    outcome: str  # "created", "updated", "unchanged" or "error"
    # Messages are `crm.stored_text.Rendered`: text in the active language for callers that
    # answer at once (sync API, pages, command), and a key or msgid for stored reports.
    errors: dict[str, list[str]] = field(default_factory=dict)
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    customer_id: int | None = None


@dataclass
class UpsertReport:
    results: list[RowResult]

    def counts(self) -> dict[str, int]:
        counts = {"created": 0, "updated": 0, "unchanged": 0, "errors": 0}
        for result in self.results:
            counts["errors" if result.outcome == "error" else result.outcome] += 1
        return counts

    def errors(self) -> list[dict[str, Any]]:
        return [
            {"index": r.index, "code": r.code, "errors": r.errors}
            for r in self.results
            if r.outcome == "error"
        ]


@dataclass
class _Prepared:
    customer: Customer
    dynamic: CustomerDynamic
    is_new: bool
    changes: dict[str, tuple[Any, Any]]  # catalogue name -> (old, new), external form


# --- preparing a row --------------------------------------------------------------------


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, models.Model) or isinstance(new, models.Model):
        return getattr(old, "pk", None) == getattr(new, "pk", None)
    return old == new


def _prepare(
    row: Mapping[str, Any],
    existing: Customer | None,
    references: Mapping,
    specs: Mapping[str, FieldSpec] | None = None,
) -> tuple[_Prepared | None, dict[str, list[str]]]:
    """Converts and validates one row of catalogue-named values against `existing` (or a new
    customer), without saving. Mutates `existing` in place: callers pass a fresh instance.
    `specs` is the effective catalogue (read once per batch by batch callers)."""
    errors: dict[str, list[str]] = defaultdict(list)
    values: dict[str, Any] = {}
    for name, raw in row.items():
        spec = CATALOGUE.get(name)
        if spec is None:
            errors[name].append(rendered("customers.upsert.unknown_field"))
        elif spec.is_system:
            errors[name].append(rendered("customers.upsert.system_field"))
        else:
            try:
                values[name] = to_internal(name, raw, references=references)
            except ValidationError as exc:
                errors[name].extend(validation_messages(exc))

    if existing is None:
        customer, dynamic = Customer(), CustomerDynamic()
        # Required as administrators set it (customers.catalogue.effective).
        for spec in (effective() if specs is None else specs).values():
            if spec.required and values.get(spec.name) in (None, "") and spec.name not in errors:
                errors[spec.name].append(rendered("customers.upsert.required"))
    else:
        customer, dynamic = existing, existing.dynamic

    changes: dict[str, tuple[Any, Any]] = {}
    for name, new in values.items():
        target = customer if CATALOGUE[name].part == "static" else dynamic
        old = None if existing is None else getattr(target, name)
        if existing is None or not _same(old, new):
            setattr(target, name, new)
            changes[name] = (external(name, old), external(name, new))
    if "address" in changes or existing is None:
        customer.address_key = normalise_address(customer.address)
    if "phone" in changes or existing is None:
        dynamic.phone_key = normalise_phone(dynamic.phone)

    _validate(customer, dynamic, changes, errors=errors)
    if errors:
        return None, dict(errors)
    return _Prepared(customer, dynamic, existing is None, changes), {}


def _validate(customer, dynamic, changes, *, errors) -> None:
    """Model validation of the given fields, skipping fields that already failed to convert,
    so one pass reports every fault of the row. Fields a new row does not give hold their
    model defaults (valid by construction); required ones were checked against the
    catalogue. Uniqueness is checked by the caller against the batch and enforced by database
    constraints."""
    failed = set(errors)
    for instance in (customer, dynamic):
        fields = [f.name for f in instance._meta.concrete_fields]
        exclude = [name for name in fields if name not in changes]
        # References were loaded in one query per batch (reference_lookups): validating them
        # again would run an EXISTS query per row and reference. Empty ones are still checked
        # ("area is required").
        loaded = [
            f.name
            for f in instance._meta.concrete_fields
            if f.is_relation and getattr(instance, f.attname) is not None
        ]
        try:
            instance.full_clean(
                exclude=[*exclude, *loaded, *failed],
                validate_unique=False,
                validate_constraints=False,
            )
        except ValidationError as exc:
            for key, messages in validation_message_dict(exc).items():
                errors[key if key in CATALOGUE else "__all__"].extend(messages)


# --- batch upsert: sync, import, create ------------------------------------------------


def customer_upsert_many(
    *,
    rows: Sequence[Mapping[str, Any]],
    actor: Actor,
    dry_run: bool = False,
    mode: str = Mode.UPSERT,
    progress: Callable[[int, int], None] | None = None,
) -> UpsertReport:
    """Creates or updates customers by `customer_code` from rows of catalogue-named values.

    Each row is all-or-nothing; a bad row is reported and the others are stored. Replaying the
    same rows changes nothing. With `dry_run`, reports what would happen and writes nothing.
    `progress(done, total)` is called after each batch (long imports show it).
    """
    results: list[RowResult] = []
    seen: dict[str, int] = {}
    for start in range(0, len(rows), BATCH_SIZE):
        chunk = rows[start : start + BATCH_SIZE]
        for attempt in range(3):
            try:
                chunk_seen = dict(seen)
                results.extend(_upsert_chunk(chunk, start, actor, dry_run, mode, chunk_seen))
                seen = chunk_seen
                break
            except IntegrityError:
                # Another writer created one of these codes or licences since we looked:
                # read again; those rows now count as updates or errors.
                if attempt == 2:
                    raise
        if progress is not None:
            progress(len(results), len(rows))
    return UpsertReport(results)


@transaction.atomic
def _upsert_chunk(chunk, offset, actor, dry_run, mode, seen) -> list[RowResult]:
    # A row holding text the database cannot store is refused before anything of it reaches
    # a query (the look-ups below included); the others go on.
    unstorable = {i: found for i, row in enumerate(chunk) if (found := unstorable_text(row))}
    codes = [str(row.get("customer_code") or "").strip() for row in chunk]
    codes = [code if is_storable(code) else "" for code in codes]
    chunk = [{} if i in unstorable else row for i, row in enumerate(chunk)]
    existing = {
        c.customer_code: c
        for c in Customer.objects.filter(customer_code__in=[c for c in codes if c])
        .select_related("dynamic", "area", "account_manager", "license_officer")
        .select_for_update(of=("self",))
    }
    # A new code that a merged record had names the survivor: no second shop is made under it
    # (one query, only when the chunk holds codes no customer has).
    new_codes = {code for code in codes if code and code not in existing}
    merged_codes = alias_survivors(codes=new_codes) if new_codes else {}
    licences = {str(row.get("license_number") or "").strip() for row in chunk} - {""}
    licence_owner = dict(
        Customer.objects.filter(license_number__in=licences).values_list(
            "license_number", "customer_code"
        )
    )
    names = {name for row in chunk for name in row if name in CATALOGUE}
    references = reference_lookups(names, chunk)
    specs = effective()

    results: list[RowResult] = []
    prepared: list[tuple[RowResult, _Prepared]] = []
    for i, (row, code) in enumerate(zip(chunk, codes, strict=True)):
        result = RowResult(index=offset + i, code=code, outcome="error")
        results.append(result)
        if i in unstorable:
            result.errors = unstorable[i]
            continue
        if not code:
            result.errors = {"customer_code": [rendered("customers.upsert.required")]}
            continue
        if code in seen:
            result.errors = {
                "customer_code": [rendered("customers.upsert.repeated_code", i=seen[code])]
            }
            continue
        seen[code] = offset + i
        current = existing.get(code)
        if current is None and code in merged_codes:
            result.errors = {
                "customer_code": [
                    rendered("customers.upsert.code_merged", code=code, survivor=merged_codes[code])
                ]
            }
            continue
        if current is not None and mode == Mode.CREATE:
            result.errors = {"customer_code": [rendered("customers.upsert.code_exists")]}
            continue
        row_prepared, errors = _prepare(row, current, references, specs)
        if row_prepared is not None:
            licence = row_prepared.customer.license_number
            owner = licence_owner.get(licence)
            if owner is not None and owner != code:
                errors = {
                    "license_number": [
                        rendered("customers.upsert.licence_taken", n=licence, code=owner)
                    ]
                }
            else:
                licence_owner[licence] = code
        if errors:
            result.errors = errors
            continue
        result.changes = row_prepared.changes
        result.outcome = (
            "created" if row_prepared.is_new else "updated" if row_prepared.changes else "unchanged"
        )
        if current is not None:
            result.customer_id = current.pk
        if result.outcome != "unchanged":
            prepared.append((result, row_prepared))

    if not dry_run and prepared:
        _write(prepared, actor)
    return results


def _write(prepared: list[tuple[RowResult, _Prepared]], actor: Actor) -> None:
    now = timezone.now()
    creates = [p for _, p in prepared if p.is_new]
    updates = [p for _, p in prepared if not p.is_new]
    if creates:
        for p in creates:
            p.customer.created_at = p.customer.updated_at = now
        Customer.objects.bulk_create([p.customer for p in creates])
        for p in creates:
            p.dynamic.customer = p.customer
        CustomerDynamic.objects.bulk_create([p.dynamic for p in creates])
        CustomerSystem.objects.bulk_create([CustomerSystem(customer=p.customer) for p in creates])
    if updates:
        static_fields, dynamic_fields = _changed_columns(p.changes for p in updates)
        # One statement for the shared timestamp; bulk_update (a CASE per column) only for
        # the columns that changed, and only over the rows that changed them.
        Customer.objects.filter(pk__in=[p.customer.pk for p in updates]).update(updated_at=now)
        static_fields.remove("updated_at")
        _bulk_update_changed(Customer, [(p, p.customer) for p in updates], static_fields)
        _bulk_update_changed(CustomerDynamic, [(p, p.dynamic) for p in updates], dynamic_fields)
    entries: list[AuditEntry] = []
    for result, p in prepared:
        result.customer_id = p.customer.pk
        entries += _audit_rows(p, actor)
    AuditEntry.objects.bulk_create(entries)


# The comparison keys the services keep in step, and the field each is made from.
_KEY_SOURCES = {"address_key": "address", "phone_key": "phone"}


def _bulk_update_changed(model, pairs, columns: list[str]) -> None:
    """bulk_update each column over just the rows whose change touches it."""
    for column in columns:
        name = _KEY_SOURCES.get(column, column)
        objs = [obj for p, obj in pairs if name in p.changes]
        if objs:
            model.objects.bulk_update(objs, [column], batch_size=BATCH_SIZE)


def _changed_columns(all_changes: Iterable[Mapping[str, Any]]) -> tuple[list[str], list[str]]:
    names = set().union(*all_changes)
    static = sorted(n for n in names if CATALOGUE[n].part == "static")
    dynamic = sorted(n for n in names if CATALOGUE[n].part == "dynamic")
    static += ["updated_at"] + (["address_key"] if "address" in names else [])
    dynamic += ["phone_key"] if "phone" in names else []
    return static, dynamic


def _audit_rows(p: _Prepared, actor: Actor, reason: str = "") -> list[AuditEntry]:
    if p.is_new:
        snapshot = {name: new for name, (_old, new) in p.changes.items() if new not in (None, "")}
        return audit_build(
            actor=actor,
            obj=p.customer,
            action=AuditAction.CREATE,
            snapshot=snapshot,
            reason=reason,
        )
    return audit_build(
        actor=actor, obj=p.customer, action=AuditAction.UPDATE, changes=p.changes, reason=reason
    )


@transaction.atomic
def customer_create(*, data: Mapping[str, Any], actor: Actor) -> Customer:
    """Creates one customer (pages). Refuses an existing code with a clear error."""
    result = customer_upsert_many(rows=[data], actor=actor, mode=Mode.CREATE).results[0]
    if result.outcome == "error":
        raise DomainError(errors=result.errors)
    return Customer.objects.with_parts().get(pk=result.customer_id)


# --- single-customer changes ------------------------------------------------------------


@transaction.atomic
def customer_update(
    *, customer: Customer, data: Mapping[str, Any], actor: Actor, reason: str = ""
) -> dict[str, tuple[Any, Any]]:
    """Applies changes to one customer now and audits them; returns {field: (old, new)}.

    Whether `actor` may make them is the caller's business (customer_edit, approvals, sync).
    """
    locked = Customer.objects.select_related("dynamic").select_for_update(of=("self",))
    fresh = locked.get(pk=customer.pk)
    prepared = _prepare_single(fresh, data)
    if not prepared.changes:
        return {}
    static_fields, dynamic_fields = _changed_columns([prepared.changes])
    fresh.updated_at = timezone.now()
    try:
        with transaction.atomic():
            fresh.save(update_fields=static_fields)
    except IntegrityError as exc:
        # A concurrent writer took the code or licence between our check and the save.
        raise DomainError(_("Another customer has just taken this code or licence.")) from exc
    if dynamic_fields:
        fresh.dynamic.save(update_fields=dynamic_fields)
    AuditEntry.objects.bulk_create(_audit_rows(prepared, actor, reason))
    return prepared.changes


def _prepare_single(customer: Customer, data: Mapping[str, Any]) -> _Prepared:
    """`_prepare` for one existing customer, plus the uniqueness of its code and licence
    against the other customers. Raises DomainError with every fault."""
    prepared, errors = _prepare(data, customer, reference_lookups(data.keys(), [data]))
    if prepared is not None:
        errors = _uniqueness_errors(customer, prepared.changes)
    if errors:
        raise DomainError(errors=errors)
    return prepared


def _uniqueness_errors(customer: Customer, changes: Mapping[str, Any]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    others = Customer.objects.exclude(pk=customer.pk)
    if "customer_code" in changes and others.filter(customer_code=customer.customer_code).exists():
        errors["customer_code"] = [
            _("A customer with the code %(code)s already exists.")
            % {"code": customer.customer_code}
        ]
    elif "customer_code" in changes and (
        survivor := alias_survivors(codes=[customer.customer_code]).get(customer.customer_code)
    ):
        errors["customer_code"] = [
            str(
                rendered(
                    "customers.upsert.code_merged", code=customer.customer_code, survivor=survivor
                )
            )
        ]
    if "license_number" in changes:
        holder = (
            others.filter(license_number=customer.license_number)
            .values_list("customer_code", flat=True)
            .first()
        )
        if holder:
            errors["license_number"] = [
                _("Licence number %(n)s belongs to customer %(code)s.")
                % {"n": customer.license_number, "code": holder}
            ]
    return errors


def _changed_only(customer: Customer, data: Mapping[str, Any]) -> dict[str, Any]:
    """The entries of `data` whose value differs from the customer's (forms send every field)."""
    references = reference_lookups(data.keys(), [data])
    changed = {}
    for name, value in data.items():
        if name not in CATALOGUE:
            changed[name] = value  # refused by the caller as an unknown field
            continue
        try:
            new = to_internal(name, value, references=references)
        except ValidationError:
            changed[name] = value  # let validation report it
            continue
        if not _same(internal_value(customer, name), new):
            changed[name] = value
    return changed


def customer_edit(
    *, customer: Customer, user: User, data: Mapping[str, Any], reason: str = ""
) -> dict[str, tuple[Any, Any]]:
    """A direct edit from a page: only fields the user may change without approval."""
    _ensure_visible(user, customer)
    specs = effective()
    refused = [
        name
        for name in data
        if name not in specs or not policies.can_edit_directly(user, customer, specs[name])
    ]
    if refused:
        raise DomainError(
            errors={name: [_("You may not change this field directly.")] for name in refused}
        )
    return customer_update(
        customer=customer, data=data, actor=Actor.of(user, AuditSource.PAGE), reason=reason
    )


@dataclass
class ProposalOutcome:
    applied: dict[str, tuple[Any, Any]]
    change_request: ChangeRequest | None


@transaction.atomic
def customer_propose(
    *,
    customer: Customer,
    user: User,
    data: Mapping[str, Any],
    reason: str = "",
    attachment: UploadedFile | None = None,
) -> ProposalOutcome:
    """The user's edits of any fields: those they may change directly are saved; those that
    need approval become one change request. Unchanged values are ignored."""
    _ensure_visible(user, customer)
    changed = _changed_only(customer, data)
    if not changed:
        raise DomainError(_("Nothing was changed."))
    direct, requested, refused = {}, {}, []
    specs = effective()
    for name, value in changed.items():
        spec = specs.get(name)
        if spec is not None and policies.can_edit_directly(user, customer, spec):
            direct[name] = value
        elif spec is not None and policies.can_propose(user, customer, spec):
            requested[name] = value
        else:
            refused.append(name)
    if refused:
        raise DomainError(errors={name: [_("You may not change this field.")] for name in refused})
    if requested and not reason.strip():
        raise DomainError(_("Give a reason for the change request."), field="reason")
    applied = (
        customer_update(
            customer=customer, data=direct, actor=Actor.of(user, AuditSource.PAGE), reason=reason
        )
        if direct
        else {}
    )
    change_request = (
        change_request_create(
            customer=customer, user=user, data=requested, reason=reason, attachment=attachment
        )
        if requested
        else None
    )
    return ProposalOutcome(applied=applied, change_request=change_request)


# --- change requests --------------------------------------------------------------------


@transaction.atomic
def change_request_create(
    *,
    customer: Customer,
    user: User,
    data: Mapping[str, Any],
    reason: str,
    attachment: UploadedFile | None = None,
) -> ChangeRequest:
    """Records a request to change fields that need approval. The new values are validated
    now (a request that could never be applied is refused at once). An attachment must be a
    PDF, JPEG, PNG or WebP file by its content (see crm.uploads), refused on the `attachment`
    field otherwise; it is stored under a random name."""
    _ensure_visible(user, customer)
    stored_attachment = _attachment_file(attachment)
    fresh = Customer.objects.select_related("dynamic").get(pk=customer.pk)
    prepared = _prepare_single(fresh, data)
    if not prepared.changes:
        raise DomainError(_("Nothing was changed."))
    change_request = ChangeRequest.objects.create(
        customer=customer,
        requested_by=user,
        reason=reason.strip(),
        attachment=stored_attachment or "",
        changes=[
            {"field": name, "old": old, "new": new} for name, (old, new) in prepared.changes.items()
        ],
    )
    audit_record(
        actor=Actor.of(user, AuditSource.PAGE),
        obj=change_request,
        action=AuditAction.CREATE,
        snapshot={"customer": customer.customer_code, "fields": change_request.fields},
        reason=reason,
    )
    return change_request


def _attachment_file(upload: UploadedFile | None) -> File | None:
    """The attachment to store, once its content is verified (checked before anything is
    written, so a refused file leaves nothing behind)."""
    if not upload:
        return None
    kind = upload_check(
        upload, field="attachment", max_bytes=settings.CRM_ATTACHMENT_MAX_MB * 1024 * 1024
    )
    return verified_file(upload, kind)


def _decide_guard(change_request: ChangeRequest, user: User) -> None:
    if not policies.can_decide_requests(user):
        raise DomainError(_("Only supervisors and administrators decide change requests."))
    if change_request.requested_by_id == user.pk:
        raise DomainError(_("Nobody may decide their own change request."))
    if not Customer.objects.visible_to(user).filter(pk=change_request.customer_id).exists():
        raise DomainError(_("This customer is outside your areas."))


def _claim(change_request: ChangeRequest, user: User, status: str, comment: str | Text) -> None:
    """Moves a pending request to `status`, once: a conditional UPDATE, so two deciders at the
    same moment cannot both succeed (on any database)."""
    now = timezone.now()
    stored = columns(comment, "decision_comment")
    claimed = ChangeRequest.objects.filter(
        pk=change_request.pk, status=ChangeRequestStatus.PENDING
    ).update(status=status, decided_by=user, decided_at=now, **stored)
    if not claimed:
        current = ChangeRequest.objects.get(pk=change_request.pk)
        raise DomainError(
            _("This request is no longer pending: it is %(status)s.")
            % {"status": current.get_status_display().lower()}
        )
    old_status = change_request.status
    change_request.status, change_request.decided_by = status, user
    change_request.decided_at = now
    for name, value in stored.items():
        setattr(change_request, name, value)
    audit_record(
        actor=Actor.of(user, AuditSource.PAGE),
        obj=change_request,
        action=AuditAction.UPDATE,
        changes={"status": (old_status, status)},
        reason=comment,
    )


def change_request_approve(
    *, change_request: ChangeRequest, user: User, comment: str = ""
) -> ChangeRequest:
    """Applies every field of the request atomically. Refused if a field changed since the
    request was made (the request is then marked stale)."""
    _decide_guard(change_request, user)
    stale_fields: list[str] = []
    with transaction.atomic():
        _claim(change_request, user, ChangeRequestStatus.APPROVED, comment)
        customer = (
            Customer.objects.select_related("dynamic", "area", "account_manager", "license_officer")
            .select_for_update(of=("self",))
            .get(pk=change_request.customer_id)
        )
        stale_fields = [
            item["field"]
            for item in change_request.changes
            if external_value(customer, item["field"]) != item["old"]
        ]
        if not stale_fields:
            customer_update(
                customer=customer,
                data={item["field"]: item["new"] for item in change_request.changes},
                actor=Actor(user=user, source=AuditSource.APPROVAL, label=user.username),
                reason=text(
                    "customers.change_request.applied",
                    id=change_request.pk,
                    reason=change_request.reason,
                ),
            )
            notify(
                user=change_request.requested_by,
                message=text(
                    "customers.change_request.approved",
                    id=change_request.pk,
                    customer=str(customer),
                ),
                link=_customer_link(customer),
            )
            return change_request
        # Fall through: leave the block so the claim rolls back, then mark the request stale.
        transaction.set_rollback(True)
    _mark_stale(change_request, user, stale_fields)
    labels = ", ".join(str(CATALOGUE[name].label) for name in stale_fields)
    raise DomainError(
        _(
            "%(fields)s changed after this request was made, so it cannot be applied. "
            "The request is marked stale; ask for a new one."
        )
        % {"fields": labels}
    )


@transaction.atomic
def _mark_stale(change_request: ChangeRequest, user: User, fields: list[str]) -> None:
    change_request.status = ChangeRequestStatus.PENDING
    _claim(
        change_request,
        user,
        ChangeRequestStatus.STALE,
        text(
            "customers.change_request.stale_fields",
            fields=items([label("customers.catalogue.field_label", name) for name in fields]),
        ),
    )
    notify(
        user=change_request.requested_by,
        message=text("customers.change_request.stale", id=change_request.pk),
        link=_customer_link(change_request.customer),
    )


@transaction.atomic
def change_request_reject(
    *, change_request: ChangeRequest, user: User, comment: str
) -> ChangeRequest:
    """Rejects with a comment (required) and tells the requester."""
    if not comment.strip():
        raise DomainError(_("Say why the request is rejected."), field="comment")
    _decide_guard(change_request, user)
    _claim(change_request, user, ChangeRequestStatus.REJECTED, comment.strip())
    notify(
        user=change_request.requested_by,
        message=text(
            "customers.change_request.rejected",
            id=change_request.pk,
            customer=str(change_request.customer),
            comment=comment,
        ),
        link=_customer_link(change_request.customer),
    )
    return change_request


@transaction.atomic
def change_request_withdraw(*, change_request: ChangeRequest, user: User) -> ChangeRequest:
    """The author takes back a pending request."""
    if change_request.requested_by_id != user.pk:
        raise DomainError(_("Only the author may withdraw a change request."))
    _claim(change_request, user, ChangeRequestStatus.WITHDRAWN, "")
    return change_request


def change_request_bulk_approve(
    *, change_requests: Iterable[ChangeRequest], user: User, comment: str = ""
) -> list[tuple[ChangeRequest, str | None]]:
    """Approves each request on its own (one failure does not stop the others); returns each
    request with None on success or the reason it was refused."""
    outcomes = []
    for change_request in change_requests:
        try:
            change_request_approve(change_request=change_request, user=user, comment=comment)
            outcomes.append((change_request, None))
        except DomainError as exc:
            outcomes.append((change_request, exc.message))
    return outcomes


def _ensure_visible(user: User, customer: Customer) -> None:
    """Services trust no caller with scope: a customer outside the user's scope is refused."""
    if not customer_in_scope(user=user, customer=customer):
        raise DomainError(_("This customer is outside your areas."))


# --- likely duplicates ------------------------------------------------------------------


@transaction.atomic
def duplicate_dismiss(
    *, first: Customer, second: Customer, user: User, reason: str
) -> DuplicateDismissal:
    """Records that two customers the duplicates page paired are two shops, and why: the page
    no longer lists the pair. Audited on both customers (their timelines say who judged them
    distinct); dismissing a pair again keeps the first judgement."""
    if not policies.can_review_duplicates(user):
        raise DomainError(_("Only supervisors and administrators may judge duplicates."))
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(errors={"reason": [_("Say why these are two different shops.")]})
    if first.pk == second.pk:
        raise DomainError(_("A customer is not a duplicate of itself."))
    for customer in (first, second):
        _ensure_visible(user, customer)
    low, high = sorted((first, second), key=lambda customer: customer.pk)
    dismissal, created = DuplicateDismissal.objects.get_or_create(
        customer_a=low,
        customer_b=high,
        defaults={"reason": reason[:500], "dismissed_by": user},
    )
    if created:
        actor = Actor.of(user, AuditSource.PAGE)
        for customer, other in ((low, high), (high, low)):
            audit_record(
                actor=actor,
                obj=customer,
                action=AuditAction.UPDATE,
                changes={"not_duplicate_of": (None, other.customer_code)},
                reason=dismissal.reason,
            )
    return dismissal


def _customer_link(customer: Customer) -> str:
    return reverse("customers:detail", args=[customer.customer_code])


# --- system-generated fields from the monthly computations ----------------------------------


def system_fields_copy(*, results: type[models.Model], month, fields: Sequence[str]) -> None:
    """Copies `fields` of `results`' rows of `month` (one row per customer: grading's and
    valuation's results) onto the customers' system rows: one UPDATE … FROM (PostgreSQL;
    SQLite ≥ 3.33) of only the rows that change — rewriting all 200,000 unchanged rows cost
    3 s of a grading run. `computed_at` is when they last changed. Call inside the job's
    transaction."""
    system = CustomerSystem._meta.db_table
    table = results._meta.db_table
    differs = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
    changed = " OR ".join(f"{system}.{name} {differs} r.{name}" for name in fields)
    assignments = ", ".join(f"{name} = r.{name}" for name in fields)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {system} SET {assignments}, computed_at = r.computed_at "  # noqa: S608 (names from the models)
            f"FROM {table} r WHERE r.customer_id = {system}.customer_id AND r.month = %s "
            f"AND ({changed})",
            [month],
        )


# --- merging two customer records ---------------------------------------------------------


@dataclass
class MergeOutcome:
    survivor: Customer
    alias: CustomerAlias
    # The fields that took the merged record's value: {field: (old, new)}, external form.
    changes: dict[str, tuple[Any, Any]]
    # Rows given to the survivor, by kind (crm.merging steps' kinds, and change_requests).
    moved: dict[str, int]


@transaction.atomic
def _move_dismissals(*, survivor_pk: int, merged_pk: int) -> None:
    """The pairs judged two shops that name the merged record name the survivor instead (a
    shop judged distinct from the merged record is distinct from the shop it was part of);
    one between the two, or one the survivor already has, goes with the merged record."""
    held = DuplicateDismissal.objects.filter(
        Q(customer_a_id=survivor_pk) | Q(customer_b_id=survivor_pk)
    ).values_list("customer_a_id", "customer_b_id")
    others_held = {a if b == survivor_pk else b for a, b in held}
    for dismissal in DuplicateDismissal.objects.filter(
        Q(customer_a_id=merged_pk) | Q(customer_b_id=merged_pk)
    ):
        other = (
            dismissal.customer_b_id
            if dismissal.customer_a_id == merged_pk
            else dismissal.customer_a_id
        )
        if other == survivor_pk or other in others_held:
            continue  # deleted with the merged record
        others_held.add(other)
        dismissal.customer_a_id, dismissal.customer_b_id = sorted((survivor_pk, other))
        dismissal.save(update_fields=["customer_a", "customer_b"])


def customer_merge(
    *,
    survivor: Customer,
    merged: Customer,
    values: Mapping[str, str],
    confirm_months: bool,
    actor: Actor,
) -> MergeOutcome:
    """Merges the record `merged` into `survivor`: for each field of `values` ({field:
    "survivor" | "merged"}; fields left out keep the survivor's value) the chosen value;
    every app's rows of the merged record go to the survivor (each app's own step,
    `crm.merging`), its change requests too; the merged record is deleted and its code kept
    as an alias of the survivor (`CustomerAlias`), which the page, the list search, the API
    and the order sync still find. The survivor's monthly facts and purchase figures are
    rebuilt from its orders by the orders step; its grade and value tier stay until the next
    monthly runs, which grade and value it on the merged orders.

    Refused when both have orders that count in one month and their account managers differ,
    unless `confirm_months`. Audited: the merged record's deletion (with its values), each
    field taken from it, and the merge itself on the survivor (what moved). Only
    administrators merge; a system actor (the demo) may too."""
    if actor.user is not None and not policies.can_merge(actor.user):
        raise DomainError(_("Only administrators merge customer records."))
    if survivor.pk == merged.pk:
        raise DomainError(_("Choose two different customer records."), field="merged")
    # Both locked, in key order (as syncs lock customers), then read afresh.
    list(
        Customer.objects.filter(pk__in=[survivor.pk, merged.pk])
        .order_by("pk")
        .select_for_update()
        .values_list("pk", flat=True)
    )
    parts = Customer.objects.with_parts().select_related("license_officer")
    survivor, merged = parts.get(pk=survivor.pk), parts.get(pk=merged.pk)

    allowed = {spec.name for spec in mergeable_fields()}
    errors = {
        name: [_("Choose the surviving or the merged record's value.")]
        for name, side in values.items()
        if name not in allowed or side not in (SURVIVOR, MERGED)
    }
    if errors:
        raise DomainError(errors=errors)
    months = customer_merge_conflicts(survivor=survivor, merged=merged)
    if months and not confirm_months:
        raise DomainError(
            _(
                "Both customers have orders in %(months)s under different account managers. "
                "Confirm to merge them anyway."
            )
            % {"months": ", ".join(month.strftime("%Y-%m") for month in months)},
            field="confirm_months",
        )

    merged_code, merged_pk = merged.customer_code, merged.pk
    snapshot = {
        spec.name: value
        for spec in FIELDS
        if not spec.is_system and (value := external_value(merged, spec.name)) not in (None, "")
    }
    data = {
        name: external_value(merged, name)
        for name, side in values.items()
        if side == MERGED
        and not _same(internal_value(survivor, name), internal_value(merged, name))
    }

    moved: dict[str, int] = {}
    for step in merging.steps():
        moved.update(step.move(survivor_id=survivor.pk, merged_id=merged_pk, actor=actor))
    moved["change_requests"] = ChangeRequest.objects.filter(customer_id=merged_pk).update(
        customer_id=survivor.pk
    )
    # Records merged into the merged one before now name the survivor.
    CustomerAlias.objects.filter(customer_id=merged_pk).update(customer_id=survivor.pk)
    _move_dismissals(survivor_pk=survivor.pk, merged_pk=merged_pk)

    audit_record(
        actor=actor,
        obj=merged,
        action=AuditAction.DELETE,
        snapshot=snapshot,
        reason=text("customers.merge.merged_into", code=survivor.customer_code),
    )
    # Everything of it has moved (the rows the steps dropped are gone already): what is left,
    # its dynamic and system parts, goes with it. Its licence number is free from here on, for
    # the survivor to take.
    try:
        merged.delete()
    except ProtectedError as exc:
        # A row a step does not move (an app added a table and no step for it): nothing of
        # the merge is kept, rather than a shop left half-merged.
        raise DomainError(
            _("Customer %(code)s still has records that cannot be moved; nothing was merged.")
            % {"code": merged_code}
        ) from exc
    alias = CustomerAlias.objects.create(
        code=merged_code,
        customer=survivor,
        merged_id=merged_pk,
        license_number=merged.license_number,
        store_name=merged.store_name,
        merged_by=actor.user,
        merged_by_label=actor.label[:150],
    )
    reason = text("customers.merge.merged_from", code=merged_code)
    changes = (
        customer_update(customer=survivor, data=data, actor=actor, reason=reason) if data else {}
    )
    audit_record(
        actor=actor,
        obj=survivor,
        action=AuditAction.UPDATE,
        changes={
            "merged_from": (
                None,
                {
                    "customer_code": merged_code,
                    "license_number": merged.license_number,
                    "store_name": merged.store_name,
                    "moved": {kind: n for kind, n in moved.items() if n},
                },
            )
        },
        reason=reason,
    )
    survivor = Customer.objects.with_parts().get(pk=survivor.pk)
    return MergeOutcome(survivor=survivor, alias=alias, changes=changes, moved=moved)
