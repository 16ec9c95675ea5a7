"""`get_FOO_display()` that translates one label, not every label of the field.

Django's `Model._get_FIELD_display` builds `dict(make_hashable(field.flatchoices))` on every
call: with translated (lazy) labels, hashing them translates each one, so a field of twelve
choices costs twelve `gettext` calls per display. A list of 50 service requests shows three
choice fields twice each (the table and the phone's cards): 300 displays, 3,600 `gettext`
calls, about 30 ms of a 140 ms page.

`ChoiceDisplays` keeps, per field, the value → label map of its fixed choices (the labels stay
lazy, so each display is translated into the language active when it is shown) and answers
exactly as Django does: the label of the value, or the value itself when it is no choice.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.choices import CallableChoiceIterator
from django.utils.encoding import force_str
from django.utils.hashable import make_hashable

_LABELS_ATTR = "_crm_choice_labels"


class ChoiceDisplays:
    """Mixin for a model (before `models.Model` in its bases): fast `get_FOO_display()`."""

    def _get_FIELD_display(self, field: models.Field) -> Any:  # noqa: N802 - Django's name
        labels = field.__dict__.get(_LABELS_ATTR)
        if labels is None:
            if isinstance(field.choices, CallableChoiceIterator):  # choices that may change
                return super()._get_FIELD_display(field)  # type: ignore[misc]
            labels = dict(make_hashable(field.flatchoices))
            field.__dict__[_LABELS_ATTR] = labels
        value = getattr(self, field.attname)
        return force_str(labels.get(make_hashable(value), value), strings_only=True)
