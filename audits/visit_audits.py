"""The audits filled in on one visit, as the visit's page shows them: each form's answers in
question order, the per-product ones as a small table (a row per product, a column per
question), photos as thumbnails. The visit was scope-checked by its page: its audits are
the visit's customer's, seen by whoever sees the visit."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from audits.choices import PRODUCT_KINDS, PriceUnit, QuestionKind
from audits.models import Audit, AuditAnswer

# The answers' photo view (audits.urls_answers, built by the "value" part): thumbnails are
# links only when it exists, so the page does not break before it is merged.
PHOTO_URL = "audits:answer_photo"


@dataclass
class ProductTable:
    """The per-product answers of an audit: columns are the questions, rows the products."""

    questions: list[Any] = field(default_factory=list)
    rows: list[tuple[Any, list[Any]]] = field(default_factory=list)  # (product, [(label, text)])


@dataclass
class AuditShown:
    audit: Audit
    answers: list[tuple[Any, str, Any]]  # (question, text, answer) of the plain questions
    products: ProductTable | None


def answer_text(answer: AuditAnswer) -> str:
    """An answer as the page writes it (a price in the question's unit, as it was entered)."""
    value, question = answer.value, answer.question
    if value is None or value == "":
        return "—"
    if question.kind in (QuestionKind.YES_NO, QuestionKind.PRODUCT_SHELF):
        return _("Yes") if value is True or value == "yes" else _("No")
    if question.kind == QuestionKind.MULTIPLE_CHOICE and isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if question.kind == QuestionKind.PRODUCT_PRICE:
        unit = _("per pack") if question.price_unit == PriceUnit.PACK else _("per carton")
        return f"{value} {unit}"
    return str(value)


def _photo_urls(answer: AuditAnswer) -> tuple[str, str] | None:
    if not answer.photo_thumbnail:
        return None
    try:
        return (
            reverse(PHOTO_URL, args=[answer.pk, "thumb"]),
            reverse(PHOTO_URL, args=[answer.pk, "full"]),
        )
    except NoReverseMatch:
        return None


def _padded(cells: list[str], table: ProductTable) -> list[str]:
    return cells + ["—"] * (len(table.questions) - len(cells))


def visit_audits(*, visit) -> list[AuditShown]:
    """The visit's audits with their answers (two queries however many answers)."""
    audits = (
        Audit.objects.filter(visit=visit)
        .select_related("form")
        .prefetch_related(
            Prefetch(
                "answers",
                queryset=AuditAnswer.objects.select_related("question", "product").order_by(
                    "question__position", "question_id", "product__code"
                ),
            )
        )
        .order_by("form__name", "id")
    )
    shown = []
    for audit in audits:
        plain, table = [], ProductTable()
        by_product: dict[int, list[str]] = {}
        columns: dict[int, int] = {}
        for answer in audit.answers.all():
            answer.photo_urls = _photo_urls(answer)
            if answer.question.kind in PRODUCT_KINDS and answer.product is not None:
                if answer.question_id not in columns:
                    columns[answer.question_id] = len(table.questions)
                    table.questions.append(answer.question)
                if answer.product_id not in by_product:
                    by_product[answer.product_id] = []
                    table.rows.append((answer.product, by_product[answer.product_id]))
                cells = by_product[answer.product_id]
                column = columns[answer.question_id]
                cells.extend("—" for _i in range(column + 1 - len(cells)))
                cells[column] = answer_text(answer)
            else:
                plain.append((answer.question, answer_text(answer), answer))
        # Each cell with its column's label (a phone shows the table's rows as cards).
        table.rows = [
            (
                product,
                list(zip([q.label for q in table.questions], _padded(cells, table), strict=True)),
            )
            for product, cells in table.rows
        ]
        shown.append(AuditShown(audit=audit, answers=plain, products=table if table.rows else None))
    return shown
