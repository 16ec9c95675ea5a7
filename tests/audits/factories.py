"""Audit forms for tests, made by hand (the form services are tested on their own)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.utils import timezone

from audits.choices import FormStatus, Frequency
from audits.models import AuditForm, AuditQuestion


def make_form(
    code: str = "shelf",
    questions: Iterable[Mapping[str, Any]] = (),
    *,
    status: str = FormStatus.ACTIVE,
    frequency: str = Frequency.EVERY_VISIT,
    version: int = 1,
    **fields: Any,
) -> AuditForm:
    """A form version with its questions, active unless told otherwise.

    Each question is a dict of AuditQuestion fields; `products` is a list of Product rows,
    `condition` the key of an earlier question (with `condition_values`); `key` and `label`
    default from the position."""
    form = AuditForm.objects.create(
        code=code,
        version=version,
        name=fields.pop("name", code.title()),
        status=status,
        frequency=frequency,
        activated_at=timezone.now() if status == FormStatus.ACTIVE else None,
        **fields,
    )
    by_key: dict[str, AuditQuestion] = {}
    for position, spec in enumerate(questions, start=1):
        spec = dict(spec)
        products = spec.pop("products", ())
        condition = spec.pop("condition", None)
        spec.setdefault("key", f"q{position}")
        spec.setdefault("label", f"Question {position}")
        question = AuditQuestion.objects.create(
            form=form,
            position=position,
            condition_question=by_key[condition] if condition else None,
            **spec,
        )
        if products:
            question.products.set(products)
        by_key[question.key] = question
    return form
