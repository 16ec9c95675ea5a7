"""The merge registry: how merging two customer records moves every app's rows without the
customers app importing them.

Each app that keeps rows about a customer declares one `MergeStep` in its own `merging.py` and
registers it from its `AppConfig.ready` (as panels are registered: `crm.panels`). The customers
app's `customer_merge` service loops over the registered steps inside its transaction: each
step counts what it would move (the merge page's summary) and moves its rows of the merged
customer to the survivor, resolving its own unique constraints the way its data needs. A step
reads and writes only its own app's tables.

`move_rows` is the usual move: rows of the merged customer whose unique key (besides the
customer) the survivor already holds are dropped — the survivor's are kept — and the others
are given to the survivor.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models import Exists, OuterRef, Q


@dataclass(frozen=True)
class MergeStep:
    """One app's part of a customer merge."""

    # Unique; also the key of its counts in the merge's outcome.
    key: str
    # What each kind of row is called on the merge page: {kind: label}, in the order shown.
    kinds: dict[str, Any]
    # (merged_id) → {kind: rows of the merged customer that move or are dropped}; a fixed
    # number of queries, whatever the rows.
    count: Callable[[int], dict[str, int]]
    # (survivor_id, merged_id, actor) → {kind: rows moved}: moves the merged customer's rows.
    # Runs inside the merge's transaction, after the survivor and the merged customer are
    # locked, and before the merged customer is deleted.
    move: Callable[..., dict[str, int]]
    # (survivor_id, merged_id) → the months in which both customers have orders that count
    # (the merge is refused for them when their account managers differ, unless confirmed).
    shared_months: Callable[[int, int], list[dt.date]] | None = None
    # Place in the loop (lower first).
    order: int = 100


_REGISTRY: dict[str, MergeStep] = {}


def register(*steps: MergeStep) -> None:
    """Adds steps (from an app's `AppConfig.ready`). Two steps with one key are a mistake."""
    for step in steps:
        existing = _REGISTRY.get(step.key)
        if existing is not None and existing != step:
            raise ValueError(f"two merge steps are called {step.key!r}")
        _REGISTRY[step.key] = step


def steps() -> list[MergeStep]:
    """Every registered step, in order."""
    return sorted(_REGISTRY.values(), key=lambda step: (step.order, step.key))


def move_rows(
    model: type[models.Model],
    *,
    survivor_id: int,
    merged_id: int,
    unique_on: Sequence[str] = (),
    within: Q | None = None,
) -> int:
    """Gives the merged customer's rows of `model` (its foreign key is `customer`) to the
    survivor; returns how many moved. `unique_on`: the other fields of a unique constraint
    with the customer (`within`: its condition, for a partial one): a merged row whose key
    the survivor already holds is deleted first — the survivor's row is kept. Two queries
    (three with a key)."""
    if unique_on:
        condition = within if within is not None else Q()
        taken = model._default_manager.filter(
            condition, customer_id=survivor_id, **{name: OuterRef(name) for name in unique_on}
        )
        model._default_manager.filter(condition, Exists(taken), customer_id=merged_id).delete()
    return model._default_manager.filter(customer_id=merged_id).update(customer_id=survivor_id)
