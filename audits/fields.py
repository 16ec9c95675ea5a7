"""The audit forms on the visit form (templates/audits/inc/audit_fields.html): the fields of the
forms due at the shop, what was posted in them turned into the raw answers
`visits.services.visit_log(audits=…, audit_photos=…)` takes, and its refusals put back beside
the fields they are about.

Field names: `audit-<form id>-<question id>`, `audit-<form id>-<question id>-<product code>` for
per-product questions, and the same with `-confirmed` for the confirmation of a price far from
the suggested retail price. A form is sent only when one of its questions was answered (a form
left untouched is not filled in on this visit); then its required questions must be answered.
Nothing here queries the database: the DueForm list carries the questions and products.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

# A price outside these shares of the suggested retail price asks for a confirmation: the
# page asks before sending what `clean_audits` would refuse.
from audits.answers import PRICE_HIGH, PRICE_LOW
from audits.choices import PRODUCT_KINDS, PriceUnit, QuestionKind
from audits.models import PACKS_PER_CARTON

PREFIX = "audit"
CONFIRMED = "confirmed"
# Choices shown as radio buttons up to this many; a list beyond (a phone screen is short).
RADIO_CHOICES = 4


def field_name(form_id: int, question_id: int, product_code: str = "") -> str:
    name = f"{PREFIX}-{form_id}-{question_id}"
    return f"{name}-{product_code}" if product_code else name


def yes_no_text(value: Any) -> str:
    """Condition values and answers of yes / no questions as the page's radios carry them."""
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return str(value)


def srp_in_unit(product, unit: str) -> Decimal | None:
    """The product's suggested retail price in the question's unit (it is kept per carton)."""
    srp = getattr(product, "suggested_retail_price", None)
    if srp is None:
        return None
    if unit == PriceUnit.PACK:
        return (srp / PACKS_PER_CARTON).quantize(Decimal("0.01"))
    return srp


def plain_number(value: Decimal) -> str:
    """10.00 → "10", 2.50 → "2.5" (as a person types it)."""
    text = format(Decimal(value), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def price_needs_confirmation(raw: str, srp: Decimal | None) -> bool:
    if srp is None or not raw:
        return False
    try:
        price = Decimal(raw)
    except InvalidOperation:
        return False
    return price.is_finite() and not (srp * PRICE_LOW <= price <= srp * PRICE_HIGH)


@dataclass
class AuditField:
    """One question (for one product) as the template draws it."""

    name: str
    question: Any
    product: Any = None
    value: Any = ""  # a string; a list of strings for multiple choice
    errors: list[str] = field(default_factory=list)
    condition_name: str = ""
    condition_values: list[str] = field(default_factory=list)
    srp: Decimal | None = None
    confirmed: bool = False
    confirm_shown: bool = False

    @property
    def kind(self) -> str:
        return self.question.kind

    @property
    def price_bounds(self) -> tuple[Decimal, Decimal] | None:
        """The prices (in the question's unit) beyond which the page asks for a confirmation,
        the same bounds `clean_audits` holds the answer to."""
        if self.srp is None:
            return None
        return self.srp * PRICE_LOW, self.srp * PRICE_HIGH

    @property
    def widget(self) -> str:
        """How the template draws it: yes_no, number, facings, price, radio, select,
        checkbox, text, photo."""
        kind = self.kind
        if kind in (QuestionKind.YES_NO, QuestionKind.PRODUCT_SHELF):
            return "yes_no"
        if kind == QuestionKind.PRODUCT_PRICE:
            return "price"
        if kind == QuestionKind.PRODUCT_FACINGS:
            return "facings"
        if kind == QuestionKind.SINGLE_CHOICE:
            return "radio" if len(self.question.choices) <= RADIO_CHOICES else "select"
        if kind == QuestionKind.MULTIPLE_CHOICE:
            return "checkbox"
        return str(kind)

    @property
    def minimum(self) -> str:
        """The input's `min`: the question's, else 0 for facings, a cent for a price."""
        value = self.question.minimum
        if value is None:
            return {"facings": "0", "price": "0.01"}.get(self.widget, "")
        return plain_number(value)

    @property
    def maximum(self) -> str:
        value = self.question.maximum
        return "" if value is None else plain_number(value)

    @property
    def condition_json(self) -> str:
        return json.dumps(self.condition_values, ensure_ascii=False)

    @property
    def confirm_name(self) -> str:
        return f"{self.name}-{CONFIRMED}"

    @property
    def label(self) -> str:
        """Per-product questions are shown under their product: the kind says which one."""
        return self.question.label

    @property
    def unit_label(self) -> str:
        if self.question.price_unit == PriceUnit.PACK:
            return _("per pack")
        return _("per carton")


@dataclass
class ProductGroup:
    """The per-product questions of a run of them, one fieldset per product."""

    rows: list[tuple[Any, list[AuditField]]]
    is_products: bool = True


@dataclass
class AuditBlock:
    """One due form: its fields (and product groups) in question order, its own errors."""

    form: Any
    items: list[AuditField | ProductGroup]
    errors: list[str] = field(default_factory=list)
    answered: bool = False

    @property
    def open(self) -> bool:
        return self.answered or bool(self.errors) or self.has_field_errors

    @property
    def has_field_errors(self) -> bool:
        return any(f.errors for f in self.fields())

    def fields(self) -> list[AuditField]:
        out: list[AuditField] = []
        for item in self.items:
            if isinstance(item, ProductGroup):
                for _product, fields in item.rows:
                    out.extend(fields)
            else:
                out.append(item)
        return out


def _posted(data: Mapping | None, files: Mapping | None, f: AuditField) -> Any:
    """The value posted for the field, as a string (a list for multiple choice); "" if none."""
    if f.kind == QuestionKind.PHOTO:
        return files.get(f.name) if files else None
    if data is None:
        return [] if f.kind == QuestionKind.MULTIPLE_CHOICE else ""
    if f.kind == QuestionKind.MULTIPLE_CHOICE:
        return [v for v in data.getlist(f.name) if v]
    return (data.get(f.name) or "").strip()


def _field(df, dq, by_id: Mapping[int, Any]) -> AuditField:
    question, product = dq.question, dq.product
    code = product.code if product is not None else ""
    f = AuditField(
        name=field_name(df.form.id, question.id, code), question=question, product=product
    )
    condition = by_id.get(question.condition_question_id)
    if question.condition_question_id:
        per_product = condition is not None and condition.kind in PRODUCT_KINDS
        f.condition_name = field_name(
            df.form.id, question.condition_question_id, code if per_product else ""
        )
        f.condition_values = [yes_no_text(v) for v in question.condition_values]
    if question.kind == QuestionKind.PRODUCT_PRICE and product is not None:
        f.srp = srp_in_unit(product, question.price_unit)
    return f


def audit_blocks(
    due: Sequence, data: Mapping | None = None, files: Mapping | None = None
) -> list[AuditBlock]:
    """The blocks of the page for the DueForm list, with what was posted (data, files) in them.
    Consecutive per-product questions are grouped by product."""
    blocks = []
    for df in due:
        by_id = {dq.question.id: dq.question for dq in df.questions}
        items: list[AuditField | ProductGroup] = []
        answered = False
        for dq in df.questions:
            f = _field(df, dq, by_id)
            posted = _posted(data, files, f)
            if f.kind != QuestionKind.PHOTO:
                f.value = posted
            answered = answered or bool(posted)
            if f.srp is not None and data is not None:
                f.confirmed = bool(data.get(f.confirm_name))
                f.confirm_shown = f.confirmed or price_needs_confirmation(f.value, f.srp)
            if dq.product is None:
                items.append(f)
                continue
            if not items or not isinstance(items[-1], ProductGroup):
                items.append(ProductGroup(rows=[]))
            group = items[-1]
            row = next((r for r in group.rows if r[0].pk == dq.product.pk), None)
            if row is None:
                group.rows.append((dq.product, [f]))
            else:
                row[1].append(f)
        blocks.append(AuditBlock(form=df.form, items=items, answered=answered))
    return blocks


@dataclass
class AuditPost:
    """What the page sends to visit_log, and where each raw answer came from."""

    raw: list[dict[str, Any]]
    photos: dict[str, Any]
    # raw[n] → (form id, [the field name of raw[n]["answers"][m]])
    places: list[tuple[int, list[str]]]


def audit_post(blocks: Sequence[AuditBlock], files: Mapping | None = None) -> AuditPost:
    """The raw audits (AUDITS.md's shape) of the forms that have an answer."""
    raw, photos, places = [], {}, []
    for block in blocks:
        answers, names = [], []
        for f in block.fields():
            if f.kind == QuestionKind.PHOTO:
                upload = files.get(f.name) if files else None
                if not upload:
                    continue
                photos[f.name] = upload
                value: Any = f.name
            elif not f.value:
                continue
            elif f.widget == "yes_no":
                value = {"yes": True, "no": False}.get(f.value, f.value)
            else:
                value = f.value
            answer: dict[str, Any] = {"question": f.question.id, "value": value}
            if f.product is not None:
                answer["product_code"] = f.product.code
            if f.confirmed:
                answer[CONFIRMED] = True
            answers.append(answer)
            names.append(f.name)
        if answers:
            raw.append({"form": block.form.id, "answers": answers})
            places.append((block.form.id, names))
    return AuditPost(raw=raw, photos=photos, places=places)


def show_audit_errors(
    blocks: Sequence[AuditBlock], post: AuditPost, errors: Mapping[str, Sequence[str]]
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Puts the `audits.…` errors of a refusal on their fields and forms. Returns the other
    errors (the visit's own fields) and the audit ones under the page's names: a field's name,
    `audit-<form id>` for a form's own, `audits` for the rest (the JSON answer lists them)."""
    by_name = {f.name: f for block in blocks for f in block.fields()}
    by_form = {block.form.id: block for block in blocks}
    others: dict[str, list[str]] = {}
    rest: dict[str, list[str]] = {}
    for key, messages in errors.items():
        parts = key.split(".")
        if parts[0] != "audits":
            others[key] = list(messages)
            continue
        target_name = None
        block = None
        if len(parts) > 1 and parts[1].isdigit() and int(parts[1]) < len(post.places):
            form_id, names = post.places[int(parts[1])]
            block = by_form.get(form_id)
            if len(parts) > 3 and parts[2] == "answers" and parts[3].isdigit():
                index = int(parts[3])
                if index < len(names):
                    target_name = names[index]
        target = by_name.get(target_name) if target_name else None
        if target is not None:
            target.errors.extend(str(m) for m in messages)
            rest.setdefault(target.name, []).extend(str(m) for m in messages)
        elif block is not None:
            block.errors.extend(str(m) for m in messages)
            rest.setdefault(f"audit-{block.form.id}", []).extend(str(m) for m in messages)
        else:
            rest.setdefault("audits", []).extend(str(m) for m in messages)
    return others, rest
