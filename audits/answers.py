"""Checks the answers sent with a visit against the forms the shop was asked (pure: no
queries; the forms come from `audits.due.forms_accepted`).

`raw` is what the API and the visit page send alike:
`[{"form": id, "answers": [{"question": id, "product_code": "X", "value": …, "confirmed": true}]}]`
(`product_code` for per-product questions only, `confirmed` for a price far from the suggested
retail price). Errors are keyed by where they are in `raw`: "audits.0.form",
"audits.0.answers.2.value" (the index in the answers list), "audits.0.answers" for a required
question left unanswered.

Rules (AUDITS.md): values by question type; a question that does not apply (its condition's
answer is not one of `condition_values`) must not be answered and is not required; prices are
given in the question's unit and kept per carton; a price outside 50–200 % of the product's
suggested retail price needs `"confirmed": true`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from audits.choices import PriceUnit, QuestionKind
from audits.due import DueForm, DueQuestion
from audits.models import PACKS_PER_CARTON, AuditForm, AuditQuestion
from crm.exceptions import DomainError
from orders.models import Product
from visits.photos import photo_prepare

MAX_TEXT = 2000
# A price outside these shares of the suggested retail price asks for confirmation.
PRICE_LOW, PRICE_HIGH = Decimal("0.5"), Decimal("2")
# AuditAnswer.number: 12 digits, 2 after the point.
_NUMBER_LIMIT = Decimal("1e10")
_CENT = Decimal("0.01")
_BOOL_WORDS = {"yes": True, "true": True, "no": False, "false": False}


@dataclass(frozen=True)
class CleanAnswer:
    """One checked answer: `value` as stored (true/false, a number as a string in the unit
    given, a choice, a list of choices, a text, the photo's part name), `number` the numeric
    value (prices per carton), `photo` the stored file and thumbnail to write."""

    question: AuditQuestion
    product: Product | None
    value: Any
    number: Decimal | None = None
    photo: tuple[ContentFile, ContentFile] | None = None


@dataclass(frozen=True)
class CleanAudit:
    """One form's checked answers."""

    form: AuditForm
    answers: list[CleanAnswer] = field(default_factory=list)

    @property
    def display_answered(self) -> int:
        return sum(1 for a in self.answers if a.question.is_display and isinstance(a.value, bool))

    @property
    def display_yes(self) -> int:
        return sum(1 for a in self.answers if a.question.is_display and a.value is True)


class _Refused(Exception):
    def __init__(self, message: str) -> None:
        self.message = message


@dataclass
class _Photos:
    """The uploaded files photo answers may name, each checked and shrunk once."""

    files: Mapping[str, UploadedFile]
    max_mb: int
    prepared: dict[str, tuple[ContentFile, ContentFile]] = field(default_factory=dict)

    def prepare(self, name: Any) -> tuple[ContentFile, ContentFile]:
        if not isinstance(name, str) or name not in self.files:
            raise _Refused(
                _("Send the photo as a file part of the form and give the part's name here.")
            )
        if name not in self.prepared:
            try:
                self.prepared[name] = photo_prepare(self.files[name], max_mb=self.max_mb)
            except DomainError as exc:
                messages = [str(m) for ms in exc.errors.values() for m in ms] or [exc.message]
                raise _Refused(" ".join(messages)) from exc
        return self.prepared[name]


def clean_audits(
    raw: Sequence[Mapping] | None,
    *,
    accepted: Sequence[DueForm],
    photos: Mapping[str, UploadedFile] | None = None,
    photo_max_mb: int = 10,
) -> tuple[list[CleanAudit], dict[str, list[str]]]:
    """The audits to store and the errors by field; nothing is to be stored when there are
    errors. Photos are checked and shrunk here (`visits.photos.photo_prepare`, up to
    `photo_max_mb`), so a damaged one is an error of its answer like any other."""
    errors: dict[str, list[str]] = {}
    if not raw:
        return [], errors
    if isinstance(raw, Mapping | str | bytes) or not isinstance(raw, Sequence):
        return [], {"audits": [_("Send the audits as a list of forms.")]}
    by_id = {due.form.pk: due for due in accepted}
    uploads = _Photos(photos or {}, photo_max_mb)
    cleaned: list[CleanAudit] = []
    seen_forms: set[int] = set()
    for index, item in enumerate(raw):
        prefix = f"audits.{index}"
        if not isinstance(item, Mapping):
            errors[prefix] = [_("Send each audit as an object with its form and answers.")]
            continue
        due = by_id.get(_as_id(item.get("form")))
        if due is None:
            errors[f"{prefix}.form"] = [_("This form is not asked at this shop.")]
            continue
        if due.form.pk in seen_forms:
            errors[f"{prefix}.form"] = [_("This form is sent twice.")]
            continue
        seen_forms.add(due.form.pk)
        audit = _clean_form(due, item.get("answers"), prefix=prefix, photos=uploads, errors=errors)
        if audit is not None:
            cleaned.append(audit)
    return ([] if errors else cleaned), errors


def _clean_form(
    due: DueForm,
    answers: Any,
    *,
    prefix: str,
    photos: _Photos,
    errors: dict[str, list[str]],
) -> CleanAudit | None:
    if answers is None:
        answers = []
    if isinstance(answers, Mapping | str | bytes) or not isinstance(answers, Sequence):
        errors[f"{prefix}.answers"] = [_("Send the answers as a list.")]
        return None
    asked = {(d.question.pk, d.product_code): d for d in due.questions}
    per_product = {d.question.pk for d in due.questions if d.product is not None}
    given: dict[tuple[int, str | None], tuple[int, CleanAnswer]] = {}
    failed = False
    for number, answer in enumerate(answers):
        key = f"{prefix}.answers.{number}"
        if not isinstance(answer, Mapping):
            errors[key] = [_("Send each answer as an object with its question and value.")]
            failed = True
            continue
        question_id = _as_id(answer.get("question"))
        code = answer.get("product_code") or None
        problem = None
        if question_id in per_product:
            asked_here = asked.get((question_id, code if isinstance(code, str) else None))
            if code is None:
                problem = "product_code", _("Say which product this answer is about.")
            elif asked_here is None:
                problem = "product_code", _("This product is not asked about at this shop.")
        else:
            asked_here = asked.get((question_id, None))
            if asked_here is None:
                problem = "question", _("This question is not on the form.")
            elif code is not None:
                problem = "product_code", _("This question is not about a product.")
        if problem is not None:
            errors[f"{key}.{problem[0]}"] = [problem[1]]
            failed = True
            continue
        slot = (question_id, asked_here.product_code)
        if slot in given:
            errors[f"{key}.question"] = [_("This question is answered twice.")]
            failed = True
            continue
        try:
            clean = _clean_value(
                asked_here,
                answer.get("value"),
                confirmed=answer.get("confirmed") is True,
                photos=photos,
            )
        except _Refused as refused:
            errors[f"{key}.value"] = [refused.message]
            failed = True
            continue
        if clean is not None:
            given[slot] = (number, clean)
    if failed:
        return None
    return _apply_conditions(due, given, prefix=prefix, errors=errors)


def _apply_conditions(
    due: DueForm,
    given: dict[tuple[int, str | None], tuple[int, CleanAnswer]],
    *,
    prefix: str,
    errors: dict[str, list[str]],
) -> CleanAudit | None:
    """Walks the questions in order: an answer to a question that does not apply is refused,
    a required question that applies and is not answered too."""
    kept: dict[tuple[int, str | None], CleanAnswer] = {}
    missing: list[str] = []
    refused = False
    for asked in due.questions:
        slot = (asked.question.pk, asked.product_code)
        applies = _applies(asked, kept)
        if slot in given:
            number, answer = given[slot]
            if applies:
                kept[slot] = answer
            else:
                errors[f"{prefix}.answers.{number}.value"] = [
                    _("This question does not apply given the earlier answers; leave it out.")
                ]
                refused = True
        elif applies and asked.question.required:
            missing.append(_question_name(asked))
    if missing:
        errors[f"{prefix}.answers"] = [
            _("Answer the required question: %(question)s.") % {"question": name}
            for name in missing
        ]
    if missing or refused:
        return None
    return CleanAudit(form=due.form, answers=list(kept.values()))


def _applies(asked: DueQuestion, kept: Mapping[tuple[int, str | None], CleanAnswer]) -> bool:
    condition = asked.question.condition_question_id
    if condition is None:
        return True
    # A per-product condition is read for the same product.
    answer = kept.get((condition, asked.product_code)) or kept.get((condition, None))
    if answer is None:
        return False
    wanted = {str(value) for value in asked.question.condition_values or ()}
    return bool(_condition_strings(answer.value) & wanted)


def _condition_strings(value: Any) -> set[str]:
    if isinstance(value, bool):
        return {"yes" if value else "no"}
    if isinstance(value, list):
        return {str(item) for item in value}
    return {str(value)}


def _question_name(asked: DueQuestion) -> str:
    if asked.product is None:
        return asked.question.label
    return f"{asked.question.label} ({asked.product.code} {asked.product.name})"


# --- values ------------------------------------------------------------------------------


def _clean_value(
    asked: DueQuestion,
    value: Any,
    *,
    confirmed: bool,
    photos: _Photos,
) -> CleanAnswer | None:
    """The checked answer, None when left blank; _Refused with the message otherwise."""
    question, product = asked.question, asked.product
    if value is None or value == "" or value == []:
        return None
    kind = question.kind
    if kind in (QuestionKind.YES_NO, QuestionKind.PRODUCT_SHELF):
        return CleanAnswer(question, product, _as_bool(value))
    if kind in (QuestionKind.NUMBER, QuestionKind.PRODUCT_FACINGS, QuestionKind.PRODUCT_PRICE):
        number = _as_number(value)
        if kind == QuestionKind.PRODUCT_FACINGS and (number < 0 or number != int(number)):
            raise _Refused(_("Give the facings as a whole number, 0 or more."))
        if kind == QuestionKind.PRODUCT_PRICE and number <= 0:
            raise _Refused(_("Give a price above 0."))
        _check_range(question, number)
        stored = number
        if kind == QuestionKind.PRODUCT_PRICE:
            stored = _per_carton(question, number)
            _check_price(product, stored, confirmed=confirmed)
        return CleanAnswer(question, product, _number_text(number), number=stored)
    if kind == QuestionKind.SINGLE_CHOICE:
        if not isinstance(value, str) or value not in question.choices:
            raise _Refused(_("Choose one of the choices offered."))
        return CleanAnswer(question, product, value)
    if kind == QuestionKind.MULTIPLE_CHOICE:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise _Refused(_("Send the chosen choices as a list."))
        if any(item not in question.choices for item in value) or len(set(value)) < len(value):
            raise _Refused(_("Choose among the choices offered, each once."))
        return CleanAnswer(question, product, list(value))
    if kind == QuestionKind.TEXT:
        if not isinstance(value, str):
            raise _Refused(_("Send the answer as text."))
        text = value.strip()
        if len(text) > MAX_TEXT:
            raise _Refused(_("At most %(n)d characters.") % {"n": MAX_TEXT})
        return CleanAnswer(question, product, text) if text else None
    if kind == QuestionKind.PHOTO:
        return CleanAnswer(question, None, value, photo=photos.prepare(value))
    raise _Refused(_("This question cannot be answered."))


def _as_id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _BOOL_WORDS:
        return _BOOL_WORDS[value.strip().lower()]
    raise _Refused(_("Answer yes or no."))


def _as_number(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise _Refused(_("Give a number."))
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise _Refused(_("Give a number.")) from None
    if not number.is_finite() or abs(number) >= _NUMBER_LIMIT:
        raise _Refused(_("Give a number."))
    if number != number.quantize(_CENT):
        raise _Refused(_("At most 2 decimal places."))
    return number.quantize(_CENT)


def _number_text(number: Decimal) -> str:
    return format(number.normalize(), "f")


def _check_range(question: AuditQuestion, number: Decimal) -> None:
    low, high = question.minimum, question.maximum
    if low is not None and number < low:
        if high is not None:
            raise _Refused(
                _("Give a number between %(low)s and %(high)s.")
                % {"low": _number_text(low), "high": _number_text(high)}
            )
        raise _Refused(_("Give %(low)s or more.") % {"low": _number_text(low)})
    if high is not None and number > high:
        if low is not None:
            raise _Refused(
                _("Give a number between %(low)s and %(high)s.")
                % {"low": _number_text(low), "high": _number_text(high)}
            )
        raise _Refused(_("Give %(high)s or less.") % {"high": _number_text(high)})


def _per_carton(question: AuditQuestion, price: Decimal) -> Decimal:
    if question.price_unit == PriceUnit.PACK:
        return (price * PACKS_PER_CARTON).quantize(_CENT)
    return price


def _check_price(product: Product | None, per_carton: Decimal, *, confirmed: bool) -> None:
    srp = product.suggested_retail_price if product is not None else None
    if not srp or confirmed:
        return
    if not srp * PRICE_LOW <= per_carton <= srp * PRICE_HIGH:
        raise _Refused(
            _(
                "%(price)s a carton is outside 50–200%% of the suggested retail price "
                "(%(srp)s a carton): check it, and confirm it if it is right."
            )
            % {"price": _number_text(per_carton), "srp": _number_text(srp)}
        )
