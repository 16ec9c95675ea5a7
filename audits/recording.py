"""Stores a visit's checked audits (`audits.answers.clean_audits`), in the visit's
transaction: the audits and their answers in two bulk inserts, the answers' photos, an audit
trail row per audit, then the product observations (`audits.observations`).

Storage is not transactional: when the transaction fails after the photos were written, the
caller removes them with `audit_files_delete` (as `visits.services.visit_log` does for the
visit's own photo).
"""

from __future__ import annotations

from collections.abc import Sequence

from audits.answers import CleanAudit
from audits.models import Audit, AuditAnswer
from audits.observations import observations_record
from crm.choices import AuditAction
from crm.models import AuditEntry
from crm.services import Actor, audit_build
from visits.models import Visit


def audits_record(*, visit: Visit, audits: Sequence[CleanAudit], actor: Actor) -> list[Audit]:
    """The stored audits of `visit` (customer, person and time copied from it), each with its
    answers loaded (`audit.answers.all()` reads no query). Call inside the visit's
    transaction; the caller has checked who may log the visit."""
    if not audits:
        return []
    rows = Audit.objects.bulk_create(
        Audit(
            visit=visit,
            form=clean.form,
            customer_id=visit.customer_id,
            audited_by_id=visit.visited_by_id,
            audited_at=visit.visited_at,
            display_yes=clean.display_yes,
            display_answered=clean.display_answered,
        )
        for clean in audits
    )
    answers_of: list[list[AuditAnswer]] = []
    try:
        for row, clean in zip(rows, audits, strict=True):
            answers: list[AuditAnswer] = []
            # Listed before it fills, so a failure part way removes the files saved so far.
            answers_of.append(answers)
            for given in clean.answers:
                answer = AuditAnswer(
                    audit=row,
                    question=given.question,
                    product=given.product,
                    value=given.value,
                    number=given.number,
                )
                answers.append(answer)
                if given.photo is not None:
                    original, thumbnail = given.photo
                    answer.photo.save(original.name, original, save=False)
                    answer.photo_thumbnail.save(thumbnail.name, thumbnail, save=False)
        AuditAnswer.objects.bulk_create(answer for answers in answers_of for answer in answers)
        for row, answers in zip(rows, answers_of, strict=True):
            # The answers as stored: readers of the returned audits (the observations, the
            # clean-up of a failed transaction) need no query.
            row._prefetched_objects_cache = {"answers": _cached(row, answers)}
        _trail(rows, answers_of, visit=visit, actor=actor)
        observations_record(audits=rows)
    except Exception:
        _delete_answer_files(answer for answers in answers_of for answer in answers)
        raise
    return rows


def _trail(
    rows: Sequence[Audit], answers_of: Sequence[list[AuditAnswer]], *, visit: Visit, actor: Actor
) -> None:
    AuditEntry.objects.bulk_create(
        entry
        for row, answers in zip(rows, answers_of, strict=True)
        for entry in audit_build(
            actor=actor,
            obj=row,
            action=AuditAction.CREATE,
            snapshot={
                "visit": visit.pk,
                "customer": visit.customer.customer_code,
                "form": row.form.code,
                "version": row.form.version,
                "answers": len(answers),
                "display_yes": row.display_yes,
                "display_answered": row.display_answered,
            },
        )
    )


def audit_files_delete(audits: Sequence[Audit]) -> None:
    """Removes the photo files of audits whose transaction failed."""
    _delete_answer_files(answer for audit in audits for answer in audit.answers.all())


def _delete_answer_files(answers) -> None:
    for answer in answers:
        for file in (answer.photo, answer.photo_thumbnail):
            if file:
                file.storage.delete(file.name)


def _cached(audit: Audit, answers: list[AuditAnswer]):
    queryset = audit.answers.all()
    queryset._result_cache = answers
    queryset._prefetch_done = True
    return queryset
