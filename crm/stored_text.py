"""Text the system writes for later readers, stored as a key and its parameters and rendered
in the reader's language when it is read.

A notification, an audit reason or a run's error written by a job or by one person's request
is read later by someone else, perhaps in the other language. Rendering it at write time
would freeze it in the writer's language; so the writer stores `(key, params)` and each
reader renders it under their own active language (pages: the session's or browser's
language; the API: the request's `Accept-Language`).

The catalogue below is the one list of such texts (its format strings are `gettext_lazy`, so
`makemessages` finds them). It lives on the ground floor and imports no app: a parameter
that is itself translatable (a choice label, a field's label) is stored as a marker naming
where its label comes from, resolved when rendering:

- `{"$label": "services.choices.RequestType", "value": "repair"}`: the label of a choice of a
  `TextChoices` / `IntegerChoices` class, or what a callable at that path gives for `value`
  (e.g. `customers.catalogue.field_label`);
- `{"$text": key, "params": {...}}`: another catalogue text;
- `{"$list": [...]}`: the rendered items joined with the language's list separator;
- `{"$msgid": source, "params": {...}}` (with `plural`/`number`, `context` when it has them): a
  message that is not the product's own text (a validator's, a model field's, Django's),
  kept as its untranslated source and translated when read (`validation_messages`).

Anything else (numbers, dates, names of shops and people, text a person typed) is shown as
stored. Text a person typed is never a key: it stays in the model's plain text column.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.functional import Promise
from django.utils.module_loading import import_string
from django.utils.translation import gettext, ngettext, npgettext, pgettext
from django.utils.translation import gettext_lazy as _

# Where a `$label` marker may point: the project's own apps only (stored data never names
# arbitrary code to import).
_LABEL_SOURCES = ("crm.", "customers.", "orders.", "grading.", "valuation.", "visits.", "services.")


@dataclass(frozen=True)
class Plural:
    """A text with a singular and a plural form, chosen by the integer parameter named
    `count`."""

    singular: str
    plural: str
    count: str = "n"


CATALOGUE: dict[str, Promise | Plural | str] = {
    # --- notifications: change requests (customers) ---
    "customers.change_request.approved": _(
        "Your change request #%(id)s for %(customer)s was approved."
    ),
    "customers.change_request.stale": _(
        "Your change request #%(id)s is stale: the customer changed meanwhile."
    ),
    "customers.change_request.rejected": _(
        "Your change request #%(id)s for %(customer)s was rejected: %(comment)s"
    ),
    # --- notifications: service requests (services) ---
    "services.request.assigned": _(
        "%(number)s for %(customer)s was given to you: %(type)s, due %(due)s."
    ),
    "services.request.handed_on": _("%(number)s for %(customer)s was handed to you by %(who)s."),
    "services.request.resolved": _(
        "%(number)s for %(customer)s is resolved; close it with the customer's satisfaction."
    ),
    "services.request.reopened": _("%(number)s for %(customer)s was reopened: %(reason)s"),
    "services.request.overdue": _(
        "%(number)s for %(customer)s is overdue (due %(due)s, with %(who)s)."
    ),
    "services.care_due": Plural(
        "%(n)d care service is due this week (%(parts)s).",
        "%(n)d care services are due this week (%(parts)s).",
    ),
    "services.care_due.part": _("%(kind)s: %(n)s"),
    # --- notifications: early warnings (valuation) ---
    "valuation.warnings.new": Plural(
        "%(n)d new early warning on your customers.",
        "%(n)d new early warnings on your customers.",
    ),
    # --- import reports (customers) ---
    "customers.import.same_phone_customers": _("Same phone as customer(s) %(codes)s."),
    "customers.import.same_phone_row": _("Same phone as row %(row)s of this file."),
    "customers.import.same_address_customers": _("Same address as customer(s) %(codes)s."),
    "customers.import.same_address_row": _("Same address as row %(row)s of this file."),
    "customers.import.outside_scope": _("%(code)s (outside your scope, area %(area)s)"),
    "customers.import.and_more": _("and %(n)s more"),
    "customers.import.codes_and_more": "%(codes)s %(more)s",  # no words: nothing to translate
    # --- why an import's file was refused (customers.io) ---
    "customers.import.file.type": _("Unsupported file type %(ext)s: upload a .csv or .xlsx file."),
    "customers.import.file.no_extension": _("(none)"),
    "customers.import.file.parts": _(
        "The workbook holds %(n)s parts; a spreadsheet has a few dozen at most."
    ),
    "customers.import.file.ratio": _(
        "Part %(member)s of the workbook is compressed %(ratio)d times; more than "
        "%(limit)d times is refused (a spreadsheet is 5 to 20 times)."
    ),
    "customers.import.file.doctype": _(
        "The workbook holds a document type declaration, which spreadsheets never do."
    ),
    "customers.import.file.unreadable_workbook": _(
        "The file is not a readable .xlsx workbook: %(error)s"
    ),
    "customers.import.file.too_many_rows": _(
        "The file has more than %(n)s rows, the most one import takes: split it."
    ),
    "customers.import.file.too_big": _(
        "The file holds more than %(n)s MB of data, the most one import takes."
    ),
    "customers.import.file.unreadable": _("The file could not be read: %(error)s"),
    "customers.import.file.empty": _("The file is empty."),
    "customers.import.file.column_twice": _("Columns %(first)s and %(second)s are both %(name)s."),
    "customers.import.file.unknown_columns": _(
        "Unknown columns: %(columns)s. Use the field names or labels of the export."
    ),
    "customers.import.file.no_code_column": _("The file has no customer_code column."),
    "customers.import.file.headerless": _("Column(s) %(columns)s hold values but have no header."),
    # --- row errors of the batch upsert (import reports; the syncs answer them at once) ---
    "customers.upsert.unknown_field": _("Unknown field."),
    "customers.upsert.system_field": _("System-generated: only the system writes this field."),
    "customers.upsert.required": _("This field is required."),
    "customers.upsert.repeated_code": _("Appears again: first at index %(i)s."),
    "customers.upsert.code_exists": _("A customer with this code already exists."),
    "customers.upsert.code_merged": _(
        "Code %(code)s was merged into customer %(survivor)s: use that code."
    ),
    "customers.upsert.licence_taken": _("Licence number %(n)s belongs to customer %(code)s."),
    "customers.upsert.unknown_reference": _("Unknown %(what)s: %(value)s."),
    "crm.text.nul": _("Text may not contain NUL characters (\\u0000)."),
    "crm.text.surrogate": _("Text may not contain an unpaired surrogate (\\u%(code)04x)."),
    # --- audit reasons written by the system ---
    "services.request.overdue_since": _("Overdue since %(due)s"),
    "customers.change_request.applied": _("Change request #%(id)s: %(reason)s"),
    "customers.merge.merged_into": _("Merged into customer %(code)s"),
    "customers.merge.merged_from": _("Customer %(code)s merged into this one"),
    "customers.change_request.stale_fields": _("Stale: %(fields)s changed since the request."),
    "crm.password.reset_link": _("Password reset link created"),
    "crm.password.reset_done": _("Set with a password reset link"),
    "crm.password.changed": _("Changed by the user"),
    # --- runs abandoned by the system (crm.jobs) ---
    "crm.run.queued_too_long": _(
        "Abandoned: it waited in the queue longer than the task time limit and no worker "
        "started it. Start the month again."
    ),
    "crm.run.process_stopped": _(
        "Abandoned: the process running it stopped before it finished (it was killed, ran out "
        "of memory or its machine restarted). Nothing of it was saved; start the month again."
    ),
    "crm.run.parts_stopped": _(
        "Abandoned: its parts stopped reporting for longer than the heartbeat timeout (the "
        "workers running them stopped before they finished). Nothing of it was saved; start "
        "the month again."
    ),
    # --- a scheduled run skipped (grading.services.grading_run_scheduled) ---
    "grading.run.month_published": _(
        "Not run: the grades of this month are published (locked), so the monthly schedule "
        "left them as they are. To grade the month again, unlock it on the grading overview "
        "and start a run."
    ),
    # --- default schemes (their names and notes until an administrator renames them) ---
    "grading.scheme.default_name": _("8 grades by monthly average cartons"),
    "valuation.scheme.default_name": _("Five indicators, 2×2 tiers"),
    "allocation.scheme.default_name": _("Take-up low below 50, full from 95 per cent"),
    "crm.scheme.default_note": _("The default of the product brief."),
    "crm.scheme.copied_note": _("Copied from version %(v)d."),
}

# The English source of the plural texts, seen by makemessages (ngettext_lazy cannot be
# stored in a dict and formatted later with a count chosen at render).
if False:  # pragma: no cover
    ngettext(
        "%(n)d care service is due this week (%(parts)s).",
        "%(n)d care services are due this week (%(parts)s).",
        1,
    )
    ngettext(
        "%(n)d new early warning on your customers.",
        "%(n)d new early warnings on your customers.",
        1,
    )


@dataclass(frozen=True)
class Text:
    """A catalogue text with its parameters: what a writer stores, and renders as `str()` in
    the active language."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return render(self.key, self.params)

    def english(self) -> str:
        """The English rendering: what the model's plain column keeps, for the admin and as
        the text shown should the key ever leave the catalogue."""
        with translation.override("en"):
            return render(self.key, self.params)


def columns(value: str | Text, name: str, *, params: bool = True) -> dict[str, Any]:
    """The model columns that store `value`: `name` (the plain text: as typed, or a key's
    English rendering), `name_key` and, with `params`, `name_params`."""
    if isinstance(value, Text):
        stored = {name: value.english(), f"{name}_key": value.key}
        if params:
            stored[f"{name}_params"] = value.params
        return stored
    stored = {name: str(value), f"{name}_key": ""}
    if params:
        stored[f"{name}_params"] = {}
    return stored


def text(key: str, **params: Any) -> Text:
    """The stored form of catalogue text `key`; unknown keys are a programming error."""
    if key not in CATALOGUE:
        raise KeyError(f"{key} is not in crm.stored_text.CATALOGUE")
    return Text(key, params)


def label(source: str, value: Any) -> dict[str, Any]:
    """A parameter shown as a label: of choice `value` of the choices class at dotted path
    `source`, or what the callable at `source` returns for `value`."""
    return {"$label": source, "value": value}


def nested(item: Text) -> dict[str, Any]:
    """A parameter that is another catalogue text."""
    return {"$text": item.key, "params": item.params}


def items(values: list[Any]) -> dict[str, Any]:
    """A parameter that is a list of parameters, rendered joined with the language's list
    separator (", " in English, "、" in Chinese)."""
    return {"$list": values}


def _param(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    if "$text" in value:
        return render(value["$text"], value.get("params") or {})
    if "$list" in value:
        return pgettext("list separator", ", ").join(str(_param(item)) for item in value["$list"])
    if "$label" in value:
        return _label(value["$label"], value.get("value"))
    if "$msgid" in value:
        return _translated(value)
    return value


def _label(source: str, value: Any) -> Any:
    if not source.startswith(_LABEL_SOURCES):
        return value
    try:
        found = import_string(source)
    except ImportError:
        return value
    choices = getattr(found, "choices", None)
    if choices is not None and isinstance(found, type):
        return dict(choices).get(value, value)
    if callable(found):
        return found(value)
    return value


def render(key: str, params: dict[str, Any] | None = None) -> str:
    """Text `key` with `params`, in the active language; "" when the key is unknown (the
    caller then shows its stored plain text)."""
    entry = CATALOGUE.get(key)
    if entry is None:
        return ""
    values = {name: _param(value) for name, value in (params or {}).items()}
    if isinstance(entry, Plural):
        count = int(values.get(entry.count) or 0)
        template = ngettext(entry.singular, entry.plural, count)
    else:
        template = str(entry)
    try:
        return template % values
    except (KeyError, TypeError, ValueError):
        # Parameters stored by an older version of a text: show its source untouched rather
        # than fail the page.
        return template


def display(value: Any) -> Any:
    """A value stored in a JSON document (a report) in the active language: a `$text` or
    `$msgid` marker rendered, anything else (text stored as text) as it is."""
    return _param(value)


def shown(key: str, params: dict[str, Any] | None, plain: str) -> str:
    """What a reader sees of a stored text: the catalogue text in their language when it has
    a key, else the plain text as it was stored (typed by a person, or not recognised when
    old rows were converted)."""
    return (render(key, params) if key else "") or plain


# --- messages shown now and stored for later readers -------------------------------------


class Rendered(str):
    """A message rendered now, in the active language (what a caller answering at once shows,
    exactly as a plain string would be), that also keeps its language-neutral form for a
    stored document: `stored`, a `$text` / `$msgid` marker (or the text itself when it has no
    neutral form). `storable()` gives it."""

    stored: Any

    def __new__(cls, shown: str, stored: Any = None) -> Rendered:
        message = super().__new__(cls, shown)
        message.stored = str(shown) if stored is None else stored
        return message

    def __reduce__(self) -> tuple:
        return (Rendered, (str(self), self.stored))


def rendered(key: str, **params: Any) -> Rendered:
    """Catalogue text `key` rendered now, keeping its key and parameters for storing."""
    item = text(key, **params)
    return Rendered(str(item), nested(item))


def storable(message: Any) -> Any:
    """What a JSON document stores of a message: the neutral form of a `Rendered`, anything
    else as text (as stored before messages had one)."""
    return message.stored if isinstance(message, Rendered) else str(message)


def validation_messages(error: ValidationError) -> list[Rendered]:
    """The messages of `error` as `error.messages` renders them (active language), each
    keeping its untranslated source and parameters (`$msgid`) when the message is a lazy
    translation (Django's and the product's validators and model fields); a message already
    rendered to text keeps that text."""
    if hasattr(error, "error_dict"):
        found = [item for items in error.error_dict.values() for item in items]
    else:
        found = error.error_list
    messages: list[Rendered] = []
    for item in found:
        message, params = item.message, item.params
        if isinstance(message, Rendered) and not params:
            messages.append(message)
            continue
        shown = str(message % params if params else message)
        marker = _msgid_marker(message, params)
        messages.append(Rendered(shown, shown if marker is None else marker))
    return messages


def validation_message_dict(error: ValidationError) -> dict[str, list[Rendered]]:
    """`error.message_dict` with each message a `Rendered` (see `validation_messages`)."""
    if not hasattr(error, "error_dict"):
        return {"__all__": validation_messages(error)}
    return {
        name: validation_messages(ValidationError(items))
        for name, items in error.error_dict.items()
    }


def _msgid_marker(message: Any, params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """`{"$msgid": source, ...}` of a lazy gettext / pgettext / ngettext message (read from
    the proxy's pickling recipe, which names the function and its arguments), None for
    anything else."""
    if not isinstance(message, Promise):
        return None
    try:
        recipe = message.__reduce__()[1]
    except (AttributeError, IndexError, TypeError):
        return None
    marker: dict[str, Any] | None = None
    if len(recipe) == 4 and isinstance(recipe[3], dict):  # ngettext_lazy with a named number
        func, _resultclass, number, kwargs = recipe
        if func in (ngettext, npgettext) and isinstance(number, str):
            marker = {"$msgid": kwargs["singular"], "plural": kwargs["plural"], "number": number}
            if "context" in kwargs:
                marker["context"] = kwargs["context"]
    elif len(recipe) >= 3 and isinstance(recipe[1], tuple) and isinstance(recipe[2], dict):
        func, args, kwargs = recipe[:3]
        if func is gettext and len(args) == 1 and not kwargs:
            marker = {"$msgid": args[0]}
        elif func is pgettext and len(args) == 2 and not kwargs:
            marker = {"$msgid": args[1], "context": args[0]}
        elif func in (ngettext, npgettext) and not args and "number" in kwargs:
            marker = {"$msgid": kwargs["singular"], "plural": kwargs["plural"]}
            marker["number"] = kwargs["number"]
            if "context" in kwargs:
                marker["context"] = kwargs["context"]
    if marker is None or not all(isinstance(v, str | int) for v in marker.values()):
        return None
    if params:
        marker["params"] = {name: _json_param(value) for name, value in params.items()}
    return marker


def _json_param(value: Any) -> Any:
    if isinstance(value, Rendered):
        return value.stored
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Promise):
        marker = _msgid_marker(value, None)
        return str(value) if marker is None else marker
    return str(value)  # a Decimal, a date: as `%s` shows it


def _translated(value: Mapping[str, Any]) -> str:
    """A `$msgid` marker in the active language."""
    params = {name: _param(item) for name, item in (value.get("params") or {}).items()}
    msgid, context = str(value["$msgid"]), value.get("context")
    if "plural" in value:
        number = value.get("number")
        count = params.get(number) if isinstance(number, str) else number
        try:
            count = int(count or 0)
        except (TypeError, ValueError):
            count = 0
        if context:
            template = npgettext(context, msgid, value["plural"], count)
        else:
            template = ngettext(msgid, value["plural"], count)
    else:
        template = pgettext(context, msgid) if context else gettext(msgid)
    if not params:
        return template
    try:
        return template % params
    except (KeyError, TypeError, ValueError):
        return template


# --- recognising renderings (the data migrations of old rows) ---------------------------

_PLACEHOLDER = re.compile(r"%\((\w+)\)([sd])")


def _pattern(template: str) -> re.Pattern[str]:
    parts, at = [], 0
    for match in _PLACEHOLDER.finditer(template):
        parts.append(re.escape(template[at : match.start()]))
        name, kind = match.groups()
        parts.append(rf"(?P<{name}>-?\d+)" if kind == "d" else rf"(?P<{name}>.+?)")
        at = match.end()
    parts.append(re.escape(template[at:]))
    return re.compile("".join(parts) + r"\Z", re.DOTALL)


def _renderings(entry: str | Plural, languages: tuple[str, ...]) -> list[str]:
    found: list[str] = []
    for language in languages:
        with translation.override(language):
            if isinstance(entry, Plural):
                variants = [ngettext(entry.singular, entry.plural, n) for n in (1, 2)]
            else:
                variants = [gettext(entry)]
        found += [v for v in variants if v not in found]
    return found


def unlabel(source: str, shown_label: str, languages: tuple[str, ...]) -> Any:
    """The `$label` marker of the choice of `source` whose label, in one of `languages`, is
    `shown_label`; the label itself when none is."""
    choices = import_string(source)
    for language in languages:
        with translation.override(language):
            for value, choice_label in choices.choices:
                if str(choice_label) == shown_label:
                    return label(source, value)
    return shown_label


def recognise(
    rendered: str,
    templates: Mapping[str, str | Plural],
    *,
    labels: dict[str, str] | None = None,
    languages: tuple[str, ...] = ("en", "zh-hans"),
) -> tuple[str, dict[str, Any]] | None:
    """`(key, params)` when `rendered` is one of `templates` (key → English source, as a
    data migration froze them) rendered in one of `languages`, with its parameters as they
    appear in it (numbers as numbers); None otherwise. A parameter
    named in `labels` (name → choices class path) is turned back into its `$label` marker
    when its text is one of that class's labels."""
    labels = labels or {}
    for key, entry in templates.items():
        for template in _renderings(entry, languages):
            match = _pattern(template).match(rendered)
            if match is None:
                continue
            params: dict[str, Any] = {}
            for name, value in match.groupdict().items():
                if name in labels:
                    params[name] = unlabel(labels[name], value, languages)
                elif re.fullmatch(r"-?\d+", value):
                    params[name] = int(value)
                else:
                    params[name] = value
            return key, params
    return None
