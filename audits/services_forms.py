"""The writes of the audit form definitions (administrators): a form's versions, drafts and
their questions, activation, new versions, retirement.

A form is edited as a draft; activating it checks the whole form (`form_problems`) and retires
the code's active version in the same transaction; an active or retired version is never edited
again (audits name the version they answered), it is copied into a new draft instead. Every
write is keyword-only, atomic and audited (`crm.services.audit_record`); a refusal is a
DomainError naming the field at fault.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from audits.choices import PRODUCT_KINDS, FormStatus, Frequency, PriceUnit, ProductScope
from audits.choices import QuestionKind as K
from audits.models import AuditForm, AuditQuestion
from audits.policies import can_define_forms
from crm.choices import AuditAction
from crm.exceptions import DomainError
from crm.models import Area
from crm.services import Actor, audit_record
from crm.text import is_storable
from customers.choices import BusinessFormat, MarketType, ValueTier
from orders.models import Product

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
STRUCTURE_CLASSES = range(1, 11)
TARGETING = ("business_formats", "market_types", "value_tiers", "structure_classes", "areas")
CHOICE_KINDS = frozenset({K.SINGLE_CHOICE, K.MULTIPLE_CHOICE})
YES_NO_KINDS = frozenset({K.YES_NO, K.PRODUCT_SHELF})
# The questions another may depend on: their answers are among a few known values.
CONDITION_KINDS = CHOICE_KINDS | YES_NO_KINDS
RANGE_KINDS = frozenset({K.NUMBER, K.PRODUCT_FACINGS, K.PRODUCT_PRICE})
MAX_CHOICES = 30
MAX_CHOICE_LENGTH = 100
MAX_NUMBER = Decimal("99999999.99")  # the columns' 10 digits, 2 after the point


def _check_actor(actor: Actor) -> None:
    """People other than administrators are refused (the pages refuse them first); a job or
    command (no user) may write, e.g. the demo data."""
    if actor.user is not None and not can_define_forms(actor.user):
        raise DomainError(_("Only administrators define audit forms."))


# --- checking values ------------------------------------------------------------------------


def _text(value: Any, *, max_length: int, field: str, required: str = "") -> str:
    if value is None:
        value = ""
    if not isinstance(value, str) or not is_storable(value):
        raise DomainError(_("Enter text."), field=field)
    value = value.strip()
    if required and not value:
        raise DomainError(required, field=field)
    if len(value) > max_length:
        raise DomainError(_("Enter at most %(n)d characters.") % {"n": max_length}, field=field)
    return value


def _list(value: Any, field: str) -> list[Any]:
    if value in (None, ""):
        return []
    if not isinstance(value, list | tuple):
        raise DomainError(_("Enter a list."), field=field)
    return list(value)


def _pick(value: Any, allowed: Sequence[str], field: str) -> list[str]:
    items = [str(v) for v in _list(value, field)]
    wrong = [v[:20] for v in items if v not in allowed]
    if wrong:
        raise DomainError(
            _("Unknown: %(wrong)s. Choose from %(allowed)s.")
            % {"wrong": ", ".join(wrong), "allowed": ", ".join(allowed)},
            field=field,
        )
    return sorted(set(items))


def targeting_clean(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Which shops a form is for, checked: the model's fields (area codes become `area_ids`).
    Empty lists mean every shop."""
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}
    for key, allowed in (
        ("business_formats", BusinessFormat.values),
        ("market_types", MarketType.values),
        ("value_tiers", ValueTier.values),
    ):
        try:
            out[key] = _pick(raw.get(key), allowed, key)
        except DomainError as exc:
            errors.update(exc.errors)
    try:
        classes = {int(v) for v in _list(raw.get("structure_classes"), "structure_classes")}
        if not classes <= set(STRUCTURE_CLASSES):
            raise ValueError
        out["structure_classes"] = sorted(classes)
    except (ValueError, TypeError, DomainError):
        errors["structure_classes"] = [_("Structure classes are whole numbers from 1 to 10.")]
    try:
        codes = sorted({str(c).strip() for c in _list(raw.get("areas"), "areas")})
    except DomainError as exc:
        errors.update(exc.errors)
    else:
        found = dict(Area.objects.filter(code__in=codes).values_list("code", "pk"))
        missing = [c[:20] for c in codes if c not in found]
        if missing:
            errors["areas"] = [_("Unknown area: %(codes)s.") % {"codes": ", ".join(missing)}]
        out["area_ids"] = sorted(found.values())
    if errors:
        raise DomainError(errors=errors)
    return out


def form_as_data(form: AuditForm) -> dict[str, Any]:
    """A stored form in the shape the services read (the edit page's initial values)."""
    areas = sorted(Area.objects.filter(pk__in=form.area_ids).values_list("code", flat=True))
    return {
        "code": form.code,
        "name": form.name,
        "description": form.description,
        "frequency": form.frequency,
        "business_formats": form.business_formats,
        "market_types": form.market_types,
        "value_tiers": form.value_tiers,
        "structure_classes": form.structure_classes,
        "areas": areas,
    }


def _form_fields(
    *, name: Any, description: Any, frequency: Any, targeting: Mapping[str, Any] | None
) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}
    for key, check in (
        ("name", lambda: _text(name, max_length=100, field="name", required=_("Name the form."))),
        ("description", lambda: _text(description, max_length=2000, field="description")),
    ):
        try:
            out[key] = check()
        except DomainError as exc:
            errors.update(exc.errors)
    if frequency not in Frequency.values:
        errors["frequency"] = [_("Choose how often the form is due.")]
    out["frequency"] = frequency
    try:
        out.update(targeting_clean(targeting or {}))
    except DomainError as exc:
        errors.update(exc.errors)
    if errors:
        raise DomainError(errors=errors)
    return out


def _snapshot(form: AuditForm) -> dict[str, Any]:
    return {
        "code": form.code,
        "version": form.version,
        "name": form.name,
        "status": form.status,
        "frequency": form.frequency,
    }


def _locked(form: AuditForm) -> AuditForm:
    return AuditForm.objects.select_for_update().get(pk=form.pk)


def _locked_draft(form: AuditForm) -> AuditForm:
    locked = _locked(form)
    if locked.status != FormStatus.DRAFT:
        raise DomainError(
            _("Version %(v)d is no longer a draft: make a new version to change it.")
            % {"v": locked.version}
        )
    return locked


# --- forms ------------------------------------------------------------------------------------


@transaction.atomic
def form_create(
    *,
    code: str,
    name: str,
    description: str = "",
    frequency: str = Frequency.EVERY_VISIT,
    targeting: Mapping[str, Any] | None = None,
    actor: Actor,
) -> AuditForm:
    """A new form: version 1 of `code`, a draft. Refused when the code is taken."""
    _check_actor(actor)
    errors: dict[str, list[str]] = {}
    try:
        code = _text(code, max_length=40, field="code", required=_("Give the form a code."))
        if not CODE_RE.match(code):
            raise DomainError(
                _(
                    "Use letters, digits, dots, dashes and underscores, starting with a "
                    "letter or digit."
                ),
                field="code",
            )
        if AuditForm.objects.filter(code=code).exists():
            raise DomainError(
                _("A form with this code exists: open it and make a new version."), field="code"
            )
    except DomainError as exc:
        errors.update(exc.errors)
    try:
        fields = _form_fields(
            name=name, description=description, frequency=frequency, targeting=targeting
        )
    except DomainError as exc:
        errors.update(exc.errors)
    if errors:
        raise DomainError(errors=errors)
    form = AuditForm.objects.create(code=code, version=1, created_by=actor.user, **fields)
    audit_record(actor=actor, obj=form, action=AuditAction.CREATE, snapshot=_snapshot(form))
    return form


@transaction.atomic
def form_update(
    *,
    form: AuditForm,
    name: str,
    description: str = "",
    frequency: str,
    targeting: Mapping[str, Any] | None = None,
    actor: Actor,
) -> AuditForm:
    """Changes a draft's name, description, frequency and targeting (its code stays)."""
    _check_actor(actor)
    form = _locked_draft(form)
    fields = _form_fields(
        name=name, description=description, frequency=frequency, targeting=targeting
    )
    changes = {
        key: (getattr(form, key), value)
        for key, value in fields.items()
        if getattr(form, key) != value
    }
    for key, (_old, new) in changes.items():
        setattr(form, key, new)
    if changes:
        form.save(update_fields=list(changes))
        audit_record(actor=actor, obj=form, action=AuditAction.UPDATE, changes=changes)
    return form


# --- questions --------------------------------------------------------------------------------


def _decimal(value: Any, field: str) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise DomainError(_("Enter a number."), field=field)
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise DomainError(_("Enter a number."), field=field) from None
    if not number.is_finite():
        raise DomainError(_("Enter a number."), field=field)
    if number.as_tuple().exponent < -2 or abs(number) > MAX_NUMBER:
        raise DomainError(
            _("Enter a number with at most 2 decimals, below 100,000,000."), field=field
        )
    return number


def _choices(value: Any) -> list[str]:
    """The choices as typed: one per item, trimmed, duplicates and blanks dropped."""
    if isinstance(value, str):
        value = value.splitlines()
    items = []
    for item in _list(value, "choices"):
        text = _text(item, max_length=MAX_CHOICE_LENGTH, field="choices")
        if text and text not in items:
            items.append(text)
    if len(items) > MAX_CHOICES:
        raise DomainError(_("At most %(n)d choices.") % {"n": MAX_CHOICES}, field="choices")
    return items


def answer_values(question: AuditQuestion) -> list[str]:
    """The answers a condition on `question` may name: "yes" / "no", or its choices."""
    if question.kind in YES_NO_KINDS:
        return ["yes", "no"]
    if question.kind in CHOICE_KINDS:
        return list(question.choices)
    return []


def question_problems(
    question: AuditQuestion,
    *,
    earlier: Sequence[AuditQuestion],
    product_ids: Iterable[int],
    active_product_ids: set[int],
) -> dict[str, list[str]]:
    """What is wrong with one question of a form, {field: [message]} (empty when nothing):
    the rules of its kind, its range, its products (`product_ids`, those of them still
    active: `active_product_ids`) and its condition on one of the `earlier` questions."""
    problems: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        problems.setdefault(field, []).append(message)

    kind = question.kind
    if kind in CHOICE_KINDS and len(set(question.choices)) < 2:
        add("choices", _("Give at least two different choices, one per line."))
    if kind in PRODUCT_KINDS:
        if question.product_scope not in ProductScope.values:
            add("product_scope", _("Choose which products the question asks about."))
        elif question.product_scope == ProductScope.LISTED:
            ids = set(product_ids)
            if not ids:
                add("products", _("Choose at least one product."))
            elif not ids & active_product_ids:
                add("products", _("Every product chosen is withdrawn: choose an active one."))
    if kind == K.PRODUCT_PRICE and question.price_unit not in PriceUnit.values:
        add("price_unit", _("Choose whether the price is per pack or per carton."))
    if question.is_display and kind != K.YES_NO:
        add("is_display", _("Only a yes / no question counts for display compliance."))
    low, high = question.minimum, question.maximum
    if kind in RANGE_KINDS:
        if low is not None and high is not None and low > high:
            add("maximum", _("The maximum is below the minimum."))
        if kind == K.PRODUCT_FACINGS:
            for field, value in (("minimum", low), ("maximum", high)):
                if value is not None and (value < 0 or value != value.to_integral_value()):
                    add(field, _("Facings are whole numbers from 0."))
        if kind == K.PRODUCT_PRICE:
            for field, value in (("minimum", low), ("maximum", high)):
                if value is not None and value <= 0:
                    add(field, _("A price is above 0."))
    condition = question.condition_question
    if condition is not None:
        if condition.pk not in {q.pk for q in earlier}:
            add("condition_question", _("A question may only depend on an earlier question."))
        elif condition.kind not in CONDITION_KINDS:
            add(
                "condition_question",
                _("Only a yes / no or a choice question can decide whether another is asked."),
            )
        elif condition.kind in PRODUCT_KINDS and kind not in PRODUCT_KINDS:
            add(
                "condition_question",
                _("A per-product question can only decide per-product questions."),
            )
        else:
            allowed = answer_values(condition)
            values = question.condition_values
            if not values:
                add("condition_values", _("Choose the answers that make it asked."))
            wrong = [v for v in values if v not in allowed]
            if wrong:
                add(
                    "condition_values",
                    _("Not an answer of “%(q)s”: %(wrong)s.")
                    % {"q": condition.label[:60], "wrong": ", ".join(str(v) for v in wrong)},
                )
    return problems


def _key(label: str, taken: set[str], position: int) -> str:
    """A key from the label (its slug; q<position> for a label without Latin letters),
    unique in the form."""
    base = slugify(label)[:34].strip("-_") or f"q{position}"
    key, n = base, 2
    while key in taken:
        key = f"{base}-{n}"
        n += 1
    return key


def _condition_values(value: Any) -> list[str]:
    values = []
    for item in _list(value, "condition_values"):
        if isinstance(item, bool):
            item = "yes" if item else "no"
        text = str(item).strip()
        if text and text not in values:
            values.append(text)
    return values


def _question_snapshot(question: AuditQuestion) -> dict[str, Any]:
    return {
        "form": question.form_id,
        "position": question.position,
        "key": question.key,
        "kind": question.kind,
        "label": question.label,
        "required": question.required,
        "choices": question.choices,
        "minimum": question.minimum,
        "maximum": question.maximum,
        "price_unit": question.price_unit,
        "product_scope": question.product_scope,
        "is_display": question.is_display,
        "condition_question": question.condition_question_id,
        "condition_values": question.condition_values,
    }


# What a new version copies of each question (the condition is remapped to the copy's own).
COPIED_QUESTION_FIELDS = (
    "position",
    "key",
    "kind",
    "label",
    "help_text",
    "required",
    "choices",
    "minimum",
    "maximum",
    "price_unit",
    "product_scope",
    "is_display",
    "condition_values",
)


@transaction.atomic
def question_save(
    *,
    form: AuditForm,
    data: Mapping[str, Any],
    actor: Actor,
    question: AuditQuestion | None = None,
) -> AuditQuestion:
    """Adds a question at the end of a draft (`question` None) or changes one of its
    questions. `data`: kind, label, help_text, required, choices (a list, or lines), minimum,
    maximum, price_unit, product_scope, products (product codes), is_display,
    condition_question (the id of an earlier question of the form) and condition_values,
    key (generated from the label when not given). What does not apply to the kind is
    dropped; the rest is checked as activation checks it."""
    _check_actor(actor)
    form = _locked_draft(form)
    questions = list(form.questions.select_related("condition_question").order_by("position"))
    if question is not None:
        question = next((q for q in questions if q.pk == question.pk), None)
        if question is None:
            raise DomainError(_("This question is not on this form."))
    errors: dict[str, list[str]] = {}

    def read(field: str, parse):
        try:
            return parse()
        except DomainError as exc:
            errors.update(exc.errors)
            return None

    kind = data.get("kind")
    if kind not in K.values:
        errors["kind"] = [_("Choose the type of question.")]
    label = read(
        "label",
        lambda: _text(
            data.get("label"), max_length=300, field="label", required=_("Ask something.")
        ),
    )
    help_text = read(
        "help_text", lambda: _text(data.get("help_text"), max_length=300, field="help_text")
    )
    choices = read("choices", lambda: _choices(data.get("choices")))
    minimum = read("minimum", lambda: _decimal(data.get("minimum"), "minimum"))
    maximum = read("maximum", lambda: _decimal(data.get("maximum"), "maximum"))
    price_unit = data.get("price_unit") or ""
    product_scope = data.get("product_scope") or ""
    codes = (
        (read("products", lambda: [str(c) for c in _list(data.get("products"), "products")]) or [])
        if kind in PRODUCT_KINDS
        else []
    )
    products = list(Product.objects.filter(code__in=codes).only("pk", "code", "active"))
    missing = sorted(set(codes) - {p.code for p in products})
    if missing:
        errors["products"] = [
            _("There is no product with the code %(codes)s.") % {"codes": ", ".join(missing[:5])}
        ]
    position = question.position if question else len(questions) + 1
    earlier = [q for q in questions if q.position < position]
    condition = None
    condition_id = data.get("condition_question")
    if condition_id not in (None, ""):
        condition = next((q for q in questions if str(q.pk) == str(condition_id)), None)
        if condition is None or condition is question:
            errors["condition_question"] = [_("A question may only depend on an earlier question.")]
    others = {q.key for q in questions if q is not question}
    key = read("key", lambda: _text(data.get("key"), max_length=40, field="key").lower())
    if key:
        if not KEY_RE.match(key):
            errors["key"] = [_("Use lowercase letters, digits, dashes and underscores.")]
        elif key in others:
            errors["key"] = [_("Another question of this form has this key.")]
    if errors:
        raise DomainError(errors=errors)

    values: dict[str, Any] = {
        "kind": kind,
        "label": label,
        "help_text": help_text,
        "required": bool(data.get("required")),
        "choices": choices if kind in CHOICE_KINDS else [],
        "minimum": minimum if kind in RANGE_KINDS else None,
        "maximum": maximum if kind in RANGE_KINDS else None,
        "price_unit": price_unit if kind == K.PRODUCT_PRICE else "",
        "product_scope": product_scope if kind in PRODUCT_KINDS else "",
        "is_display": bool(data.get("is_display")),
        "condition_question": condition,
        "condition_values": _condition_values(data.get("condition_values")) if condition else [],
    }
    if values["product_scope"] != ProductScope.LISTED:
        products = []
    if question is None:
        candidate = AuditQuestion(form=form, position=position, key=key or "")
    else:
        candidate = question
        before = _question_snapshot(question)
        before["help_text"] = question.help_text
        before_products = sorted(question.products.values_list("code", flat=True))
    for name, value in values.items():
        setattr(candidate, name, value)
    problems = question_problems(
        candidate,
        earlier=earlier,
        product_ids=[p.pk for p in products],
        active_product_ids={p.pk for p in products if p.active},
    )
    if question is not None:
        problems.update(_dependants_problems(candidate, questions))
    if problems:
        raise DomainError(errors=problems)
    if not key:
        key = question.key if question else _key(label, others, position)
    candidate.key = key
    candidate.save()
    candidate.products.set(products)
    codes_after = sorted(p.code for p in products)
    if question is None:
        audit_record(
            actor=actor,
            obj=candidate,
            action=AuditAction.CREATE,
            snapshot={**_question_snapshot(candidate), "products": codes_after},
        )
    else:
        after = {**_question_snapshot(candidate), "help_text": candidate.help_text}
        changes = {k: (before[k], after[k]) for k in after if before[k] != after[k]}
        if before_products != codes_after:
            changes["products"] = (before_products, codes_after)
        if changes:
            audit_record(actor=actor, obj=candidate, action=AuditAction.UPDATE, changes=changes)
    return candidate


def _dependants_problems(
    question: AuditQuestion, questions: Sequence[AuditQuestion]
) -> dict[str, list[str]]:
    """A changed question must still decide the questions that depend on it: their
    condition values among its answers, and per-product questions only for a per-product one."""
    problems: dict[str, list[str]] = {}
    for other in questions:
        if other.condition_question_id != question.pk:
            continue
        allowed = answer_values(question)
        field = "choices" if question.kind in CHOICE_KINDS else "kind"
        if question.kind not in CONDITION_KINDS or any(
            v not in allowed for v in other.condition_values
        ):
            problems.setdefault(field, []).append(
                _("“%(q)s” depends on this question's answers %(values)s: change it first.")
                % {"q": other.label[:60], "values": ", ".join(other.condition_values)}
            )
        elif question.kind in PRODUCT_KINDS and other.kind not in PRODUCT_KINDS:
            problems.setdefault("kind", []).append(
                _("“%(q)s” depends on this question: change it first.") % {"q": other.label[:60]}
            )
    return problems


def _locked_question(question: AuditQuestion) -> tuple[AuditForm, list[AuditQuestion]]:
    form = _locked_draft(question.form)
    questions = list(form.questions.order_by("position", "id"))
    if question.pk not in {q.pk for q in questions}:
        raise DomainError(_("This question is not on this form."))
    return form, questions


def _renumber(questions: Sequence[AuditQuestion]) -> None:
    """Positions 1..n in the order given (one UPDATE for the rows that moved)."""
    moved = []
    for position, q in enumerate(questions, start=1):
        if q.position != position:
            q.position = position
            moved.append(q)
    if moved:
        AuditQuestion.objects.bulk_update(moved, ["position"])


@transaction.atomic
def question_delete(*, question: AuditQuestion, actor: Actor) -> None:
    """Takes a question off a draft; refused while another question depends on it."""
    _check_actor(actor)
    _form, questions = _locked_question(question)
    dependants = [q for q in questions if q.condition_question_id == question.pk]
    if dependants:
        raise DomainError(
            _("“%(q)s” is asked only depending on this question: change or delete it first.")
            % {"q": dependants[0].label[:60]}
        )
    audit_record(
        actor=actor,
        obj=question,
        action=AuditAction.DELETE,
        snapshot=_question_snapshot(question),
    )
    gone = question.pk
    question.delete()
    _renumber([q for q in questions if q.pk != gone])


@transaction.atomic
def question_move(*, question: AuditQuestion, direction: str, actor: Actor) -> AuditQuestion:
    """Moves a question of a draft one place up or down. A question stays below the
    question it depends on."""
    _check_actor(actor)
    if direction not in ("up", "down"):
        raise DomainError(_("Move a question up or down."), field="direction")
    _form, questions = _locked_question(question)
    index = next(i for i, q in enumerate(questions) if q.pk == question.pk)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(questions):
        raise DomainError(
            _("The question is first already.")
            if direction == "up"
            else _("The question is last already.")
        )
    upper, lower = sorted((index, other))
    if questions[lower].condition_question_id == questions[upper].pk:
        raise DomainError(
            _("“%(q)s” depends on the question above it: it stays below it.")
            % {"q": questions[lower].label[:60]}
        )
    questions[upper], questions[lower] = questions[lower], questions[upper]
    _renumber(questions)
    moved = questions[other]
    audit_record(
        actor=actor,
        obj=moved,
        action=AuditAction.UPDATE,
        changes={"position": (index + 1, moved.position)},
    )
    return moved


# --- the lifecycle ----------------------------------------------------------------------------


def form_problems(form: AuditForm) -> dict[str, list[str]]:
    """Everything that keeps a form version from being activated, {field: [message]}; a
    question's problems are named "questions.<position>.<field>" and worded with its
    position. Empty when the form may be activated. A few queries, none per question."""
    problems: dict[str, list[str]] = {}
    questions = list(form.questions.select_related("condition_question").order_by("position"))
    if not questions:
        problems["questions"] = [_("Add at least one question.")]
    through = AuditQuestion.products.through
    links = list(
        through.objects.filter(auditquestion__form=form).values_list(
            "auditquestion_id", "product_id", "product__active"
        )
    )
    keys: set[str] = set()
    for i, question in enumerate(questions):
        ids = [p for q, p, _a in links if q == question.pk]
        active = {p for q, p, a in links if q == question.pk and a}
        found = question_problems(
            question, earlier=questions[:i], product_ids=ids, active_product_ids=active
        )
        if question.key in keys:
            found.setdefault("key", []).append(_("Another question of this form has this key."))
        keys.add(question.key)
        for field, messages in found.items():
            problems[f"questions.{question.position}.{field}"] = [
                _("Question %(n)d: %(m)s") % {"n": question.position, "m": m} for m in messages
            ]
    return problems


@transaction.atomic
def form_activate(*, form: AuditForm, actor: Actor) -> AuditForm:
    """Makes a draft (checked as a whole) the code's active version; the version active until
    now is retired in the same transaction."""
    _check_actor(actor)
    form = _locked_draft(form)
    problems = form_problems(form)
    if problems:
        raise DomainError(
            _("The form cannot be activated yet: %(p)s")
            % {"p": " ".join(m for msgs in problems.values() for m in msgs)},
            errors=problems,
        )
    now = timezone.now()
    previous = (
        AuditForm.objects.select_for_update()
        .filter(code=form.code, status=FormStatus.ACTIVE)
        .first()
    )
    if previous is not None:
        previous.status = FormStatus.RETIRED
        previous.retired_at = now
        previous.save(update_fields=["status", "retired_at"])
        audit_record(
            actor=actor,
            obj=previous,
            action=AuditAction.UPDATE,
            changes={"status": (FormStatus.ACTIVE.value, FormStatus.RETIRED.value)},
            reason=_("Version %(v)d was activated.") % {"v": form.version},
        )
    form.status = FormStatus.ACTIVE
    form.activated_at = now
    form.activated_by = actor.user
    form.save(update_fields=["status", "activated_at", "activated_by"])
    audit_record(
        actor=actor,
        obj=form,
        action=AuditAction.UPDATE,
        changes={"status": (FormStatus.DRAFT.value, FormStatus.ACTIVE.value)},
    )
    return form


@transaction.atomic
def form_new_version(*, form: AuditForm, actor: Actor) -> AuditForm:
    """A draft copy of a version (its targeting, questions, products and conditions),
    numbered after the code's last; refused while the code has a draft."""
    _check_actor(actor)
    form = _locked(form)
    draft = AuditForm.objects.filter(code=form.code, status=FormStatus.DRAFT).first()
    if draft is not None:
        raise DomainError(
            _("This form has a draft already (version %(v)d): edit that one.")
            % {"v": draft.version}
        )
    last = AuditForm.objects.filter(code=form.code).aggregate(v=Max("version"))["v"]
    copy = AuditForm.objects.create(
        code=form.code,
        version=last + 1,
        created_by=actor.user,
        **{
            name: getattr(form, name)
            for name in (
                "name",
                "description",
                "frequency",
                "business_formats",
                "market_types",
                "value_tiers",
                "structure_classes",
                "area_ids",
            )
        },
    )
    questions = list(form.questions.order_by("position", "id"))
    copies = AuditQuestion.objects.bulk_create(
        [
            AuditQuestion(form=copy, **{name: getattr(q, name) for name in COPIED_QUESTION_FIELDS})
            for q in questions
        ]
    )
    if copies and copies[0].pk is None:  # a database that returns no ids from a bulk insert
        copies = list(copy.questions.order_by("position", "id"))
    new_of = {old.pk: new for old, new in zip(questions, copies, strict=True)}
    conditional = []
    for old, new in zip(questions, copies, strict=True):
        if old.condition_question_id:
            new.condition_question = new_of[old.condition_question_id]
            conditional.append(new)
    if conditional:
        AuditQuestion.objects.bulk_update(conditional, ["condition_question"])
    through = AuditQuestion.products.through
    through.objects.bulk_create(
        [
            through(auditquestion_id=new_of[q].pk, product_id=p)
            for q, p in through.objects.filter(auditquestion__form=form).values_list(
                "auditquestion_id", "product_id"
            )
        ]
    )
    audit_record(
        actor=actor,
        obj=copy,
        action=AuditAction.CREATE,
        snapshot={**_snapshot(copy), "copied_from": form.version, "questions": len(copies)},
    )
    return copy


@transaction.atomic
def form_retire(*, form: AuditForm, reason: str, actor: Actor) -> AuditForm:
    """Withdraws the active version (with why): no shop is asked the form any more; its
    audits stay."""
    _check_actor(actor)
    reason = _text(
        reason, max_length=500, field="reason", required=_("Say why the form is withdrawn.")
    )
    form = _locked(form)
    if form.status != FormStatus.ACTIVE:
        raise DomainError(_("Only the active version can be retired."))
    form.status = FormStatus.RETIRED
    form.retired_at = timezone.now()
    form.save(update_fields=["status", "retired_at"])
    audit_record(
        actor=actor,
        obj=form,
        action=AuditAction.UPDATE,
        changes={"status": (FormStatus.ACTIVE.value, FormStatus.RETIRED.value)},
        reason=reason,
    )
    return form


@transaction.atomic
def form_delete(*, form: AuditForm, actor: Actor) -> None:
    """Deletes a draft and its questions."""
    _check_actor(actor)
    form = _locked(form)
    if form.status != FormStatus.DRAFT:
        raise DomainError(_("Only a draft can be deleted."))
    audit_record(actor=actor, obj=form, action=AuditAction.DELETE, snapshot=_snapshot(form))
    form.delete()
