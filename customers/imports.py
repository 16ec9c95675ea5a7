"""Customer file imports: check (dry run with a report), then apply.

An administrator uploads a CSV or XLSX file; `customer_import_check` reads it, runs the
batch upsert as a dry run, adds duplicate warnings for the customers it would create, and
keeps the file and the report in a `CustomerImport`. `customer_import_apply` re-reads the
stored file and runs the upsert for real. Each row is all-or-nothing (the upsert's rule):
a bad row is reported and never stops the valid ones. Empty cells never clear a field (see
`customers.io`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import PurePath
from typing import IO, Any

from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.choices import AuditAction, AuditSource
from crm.exceptions import DomainError
from crm.models import User
from crm.services import Actor, audit_record
from crm.stored_text import display, items, nested, storable, text
from customers import policies
from customers.catalogue import field_label
from customers.choices import ImportStatus
from customers.io import Table, check_file_limits, check_file_type, read_table
from customers.models import CustomerImport
from customers.selectors import DUPLICATES_SHOWN, DuplicateMatch, written_duplicates
from customers.services import UpsertReport, customer_upsert_many

# A report keeps every error row and every row with a warning, but at most this many of the
# other rows: a 50,000-row file would otherwise store tens of MB of JSON that no page shows.
REPORT_MAX_OK_ROWS = 500
# Codes listed in one duplicate warning (as many as the create page's warning lists).
DUPLICATE_CODES_SHOWN = DUPLICATES_SHOWN


def _import_actor(user: User) -> Actor:
    return Actor(user=user, source=AuditSource.IMPORT, label=user.username)


def _require_importer(user: User) -> None:
    if not policies.can_import(user):
        raise DomainError(_("Only administrators may import customers."))


def customer_import_upload(*, uploaded_file: IO[bytes], user: User) -> CustomerImport:
    """Stores an uploaded file for checking (status "checking"). Pages then run the check as a
    task (customers.tasks), so a large file never holds a web request; the command and tests
    call `customer_import_check`, which does both at once."""
    _require_importer(user)
    name = PurePath(getattr(uploaded_file, "name", "") or "").name
    # The size limits are read from the zip's directory (no parsing): an oversized file or a
    # "zip bomb" is refused on the form at once. The row limit needs reading: the check does.
    check_file_limits(uploaded_file, check_file_type(name))
    uploaded_file.seek(0)
    content = uploaded_file if isinstance(uploaded_file, File) else File(uploaded_file)
    customer_import = CustomerImport(
        created_by=user, original_name=name[:255], status=ImportStatus.CHECKING
    )
    with transaction.atomic():
        # The storage is not transactional: if the row fails to save, the file is orphaned
        # (harmless); the reverse (a row without its file) cannot happen. The stored name is
        # random (the model's RandomName); `original_name` keeps the uploaded one.
        customer_import.file.save(name, content, save=False)
        customer_import.save()
        audit_record(
            actor=_import_actor(user),
            obj=customer_import,
            action=AuditAction.CREATE,
            snapshot={"file": name, "status": ImportStatus.CHECKING},
        )
    return customer_import


def customer_import_run_check(*, customer_import: CustomerImport) -> CustomerImport:
    """Reads the stored file and records what importing it would do, writing no customer.
    An unreadable file ends in status "failed" with the reason in the report."""
    user = customer_import.created_by
    actor = _import_actor(user)
    try:
        table = _read_stored(customer_import)
        upsert = customer_upsert_many(
            rows=table.rows, actor=actor, dry_run=True, progress=_progress(customer_import)
        )
    except DomainError as exc:
        _finish(
            customer_import, actor, ImportStatus.CHECKING, ImportStatus.FAILED, error=exc.message
        )
        return customer_import
    report = build_report(table, upsert, warnings=_duplicate_warnings(table, upsert, user))
    _finish(customer_import, actor, ImportStatus.CHECKING, ImportStatus.CHECKED, report=report)
    return customer_import


def customer_import_check(*, uploaded_file: IO[bytes], user: User) -> CustomerImport:
    """Upload and check in one go (the command, tests). Raises DomainError when the user may
    not import or the file cannot be read; no CustomerImport is kept then."""
    customer_import = customer_import_upload(uploaded_file=uploaded_file, user=user)
    customer_import_run_check(customer_import=customer_import)
    if customer_import.status == ImportStatus.FAILED:
        error = report_failure(customer_import.report)
        customer_import.file.delete(save=False)
        customer_import.delete()
        raise DomainError(error, field="file")
    return customer_import


def customer_import_claim_apply(*, customer_import: CustomerImport, user: User) -> None:
    """Marks a checked import for applying, once: a conditional UPDATE, so two clicks (or two
    administrators) cannot apply it twice. The apply itself is `customer_import_run_apply`."""
    _require_importer(user)
    claimed = CustomerImport.objects.filter(
        pk=customer_import.pk, status=ImportStatus.CHECKED
    ).update(status=ImportStatus.APPLYING, applied_by=user, progress_done=0)
    if not claimed:
        current = CustomerImport.objects.get(pk=customer_import.pk)
        raise DomainError(
            _("This import cannot be applied: it is %(status)s.")
            % {"status": current.get_status_display().lower()}
        )
    customer_import.refresh_from_db()
    audit_record(
        actor=_import_actor(user),
        obj=customer_import,
        action=AuditAction.UPDATE,
        changes={"status": (ImportStatus.CHECKED, ImportStatus.APPLYING)},
    )


def customer_import_run_apply(*, customer_import: CustomerImport) -> CustomerImport:
    """Imports a claimed file for real and records the final report. Safe to run again after
    a crash (replaying rows already stored changes nothing). If it fails part-way the import
    is marked failed; uploading the file again is safe for the same reason."""
    actor = _import_actor(customer_import.applied_by)
    try:
        table = _read_stored(customer_import)
        upsert = customer_upsert_many(
            rows=table.rows, actor=actor, progress=_progress(customer_import)
        )
    except Exception as exc:
        _finish(customer_import, actor, ImportStatus.APPLYING, ImportStatus.FAILED, error=str(exc))
        raise
    report = build_report(table, upsert)
    report["checked_counts"] = customer_import.report.get("counts")
    customer_import.applied_at = timezone.now()
    _finish(customer_import, actor, ImportStatus.APPLYING, ImportStatus.APPLIED, report=report)
    return customer_import


def customer_import_apply(*, customer_import: CustomerImport, user: User) -> CustomerImport:
    """Claim and apply in one go (the command, tests)."""
    customer_import_claim_apply(customer_import=customer_import, user=user)
    return customer_import_run_apply(customer_import=customer_import)


def _read_stored(customer_import: CustomerImport) -> Table:
    # Through the storage, not the FieldFile, whose open handle callers may still use.
    field_file = customer_import.file
    with field_file.storage.open(field_file.name, "rb") as stored:
        return read_table(stored, customer_import.original_name or field_file.name)


def _progress(customer_import: CustomerImport) -> Callable[[int, int], None]:
    def record(done: int, total: int) -> None:
        CustomerImport.objects.filter(pk=customer_import.pk).update(
            progress_done=done, progress_total=total
        )

    return record


@transaction.atomic
def _finish(
    customer_import: CustomerImport,
    actor: Actor,
    old_status: str,
    status: str,
    *,
    report: dict[str, Any] | None = None,
    error: str = "",
) -> None:
    customer_import.status = status
    if report is not None:
        customer_import.report = report
    if error:
        # Why the file was refused: a catalogue key when the product says why (`storable`),
        # shown in each reader's language (`report_failure`).
        customer_import.report = {**customer_import.report, "error": storable(error)}
    customer_import.save(update_fields=["status", "report", "applied_at"])
    audit_record(
        actor=actor,
        obj=customer_import,
        action=AuditAction.UPDATE,
        changes={"status": (old_status, status)},
        reason=str(error),
    )


# --- reports -----------------------------------------------------------------------------

# The report page's filters: a row outcome, or "warning" for rows with a duplicate warning.
REPORT_FILTERS = ("error", "warning", "created", "updated", "unchanged")


def report_rows(report: Mapping[str, Any], *, outcome: str = "") -> list[dict[str, Any]]:
    """The report's listed rows with `outcome` (one of REPORT_FILTERS; anything else: all)."""
    rows = report.get("rows") or []
    if outcome == "warning":
        return [row for row in rows if row.get("warnings")]
    if outcome in REPORT_FILTERS:
        return [row for row in rows if row.get("outcome") == outcome]
    return list(rows)


def report_failure(report: Mapping[str, Any]) -> str:
    """Why the import failed, in the active language ("" when it did not)."""
    error = report.get("error")
    return str(display(error)) if error else ""


def report_rows_shown(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Report rows as a reader sees them: warnings and errors in the active language (reports
    stored before errors had keys hold them as text, shown as stored), errors under their
    fields' catalogue labels."""
    return [
        {
            **row,
            "warnings": [display(warning) for warning in row.get("warnings") or []],
            "errors": {
                field_label(name): [display(m) for m in messages]
                for name, messages in (row.get("errors") or {}).items()
            },
        }
        for row in rows
    ]


def build_report(
    table: Table, upsert: UpsertReport, *, warnings: Mapping[int, list[str]] | None = None
) -> dict[str, Any]:
    """The JSON report of a check or an apply: counts and the rows worth showing.

    `warnings` maps a row's index in `table.rows` to its warnings. Every error row and every
    row with a warning is kept; of the others, the first REPORT_MAX_OK_ROWS.
    """
    warnings = warnings or {}
    rows: list[dict[str, Any]] = []
    ok_kept, truncated = 0, False
    for result in upsert.results:
        row_warnings = warnings.get(result.index, [])
        if result.outcome != "error" and not row_warnings:
            if ok_kept >= REPORT_MAX_OK_ROWS:
                truncated = True
                continue
            ok_kept += 1
        rows.append(
            {
                "row": table.row_numbers[result.index],
                "code": result.code,
                "outcome": result.outcome,
                # Language-neutral (a key or msgid with parameters, `storable`): each reader
                # sees them in their own language (`report_rows_shown`).
                "errors": {
                    name: [storable(message) for message in messages]
                    for name, messages in result.errors.items()
                },
                "changes": {name: list(pair) for name, pair in result.changes.items()},
                "warnings": row_warnings,
            }
        )
    return {
        "counts": {**upsert.counts(), "warnings": len(warnings)},
        "total_rows": len(table.rows),
        "columns": table.columns,
        "ignored_columns": table.ignored_columns,
        "rows": rows,
        "truncated": truncated,
    }


def _duplicate_warnings(table: Table, upsert: UpsertReport, user: User) -> dict[int, list[dict]]:
    """For each row that would create a customer, or change a customer's phone or address,
    the customers of the whole company — and earlier such rows of the file — with the same
    phone or address, both normalised (`customers.validators`); a customer outside the
    user's scope is named by its code and area only. Catalogue texts (crm.stored_text),
    shown in each reader's language (`report_rows_shown`). A few queries per file
    (`written_duplicates`), never one per row.
    """
    warnings: dict[int, list[dict]] = {}
    first_row_with: dict[tuple[str, str], int] = {}
    for row in written_duplicates(user=user, rows=table.rows, results=upsert.results):
        messages: list[dict] = []
        for kind, key in row.keys.items():
            same = [match for match in row.matches if kind in match.reasons]
            if same:
                codes = _codes_text([_match_text(match) for match in same])
                message = text(f"customers.import.same_{kind}_customers", codes=codes)
                messages.append(nested(message))
            earlier = first_row_with.setdefault((kind, key), row.index)
            if earlier != row.index:
                row_number = table.row_numbers[earlier]
                messages.append(nested(text(f"customers.import.same_{kind}_row", row=row_number)))
        if messages:
            warnings[row.index] = messages
    return warnings


def _match_text(match: DuplicateMatch) -> str | dict:
    """A matching customer in a warning: its code, or for one outside the importer's scope
    its code and area, said to be outside it."""
    if match.visible:
        return match.code
    return nested(text("customers.import.outside_scope", code=match.code, area=match.area))


def _codes_text(codes: Sequence[str | dict]) -> dict:
    shown = items(list(codes[:DUPLICATE_CODES_SHOWN]))
    if len(codes) <= DUPLICATE_CODES_SHOWN:
        return shown
    more = text("customers.import.and_more", n=len(codes) - DUPLICATE_CODES_SHOWN)
    return nested(text("customers.import.codes_and_more", codes=shown, more=nested(more)))
