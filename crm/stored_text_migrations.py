"""What the data migrations that turned the system's stored texts into catalogue keys
(crm.stored_text) share: recognise the old renderings row by row, and the texts every
versioned scheme and job run model had (default scheme names and notes, abandoned runs).

The English sources are frozen here as worded when the keys were introduced; their Chinese
renderings come from the translation catalogue."""

from __future__ import annotations

from collections.abc import Mapping

from crm.stored_text import Plural, recognise

BATCH = 1000  # rows per bulk_update: a few MB of objects, however many rows there are

SCHEME_NOTES = {
    "crm.scheme.default_note": "The default of the product brief.",
    "crm.scheme.copied_note": "Copied from version %(v)d.",
}
RUN_ERRORS = {
    "crm.run.queued_too_long": (
        "Abandoned: it waited in the queue longer than the task time limit and no worker "
        "started it. Start the month again."
    ),
    "crm.run.process_stopped": (
        "Abandoned: the process running it stopped before it finished (it was killed, ran out "
        "of memory or its machine restarted). Nothing of it was saved; start the month again."
    ),
    "crm.run.parts_stopped": (
        "Abandoned: its parts stopped reporting for longer than the heartbeat timeout (the "
        "workers running them stopped before they finished). Nothing of it was saved; start "
        "the month again."
    ),
}


def convert_rows(
    model,
    column: str,
    templates: Mapping[str, str | Plural],
    *,
    labels: dict[str, str] | None = None,
    params: bool = True,
    adjust=None,
    **filters,
) -> int:
    """For a data migration: gives each row of `model` (matching `filters`) whose `column` is
    one of `templates` rendered (see `recognise`) its `column_key` (and `column_params`);
    others are left as they are. `adjust(key, params)` may refine the parameters found.
    Read and saved BATCH rows at a time (a few MB of objects, however many rows). Returns
    how many changed."""
    rows = (
        model.objects.filter(**{f"{column}_key": ""}, **filters)
        .exclude(**{column: ""})
        .only("pk", column)
        .iterator(BATCH)
    )
    fields = [f"{column}_key", *([f"{column}_params"] if params else [])]
    changed, total = [], 0
    for row in rows:
        found = recognise(getattr(row, column), templates, labels=labels)
        if found is None:
            continue
        key, values = found
        if adjust is not None:
            values = adjust(key, values)
        setattr(row, f"{column}_key", key)
        if params:
            setattr(row, f"{column}_params", values)
        changed.append(row)
        if len(changed) >= BATCH:
            model.objects.bulk_update(changed, fields)
            total, changed = total + len(changed), []
    if changed:
        model.objects.bulk_update(changed, fields)
    return total + len(changed)


def convert_schemes_and_runs(scheme_model, run_model, default_name: Mapping[str, str]) -> None:
    """A versioned scheme model's default name (`default_name`: its key → English source) and
    notes, and its run model's abandoned-run errors."""
    convert_rows(scheme_model, "name", default_name, params=False)
    convert_rows(scheme_model, "note", SCHEME_NOTES)
    convert_rows(run_model, "error", RUN_ERRORS, params=False)
