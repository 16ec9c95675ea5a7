"""Placeholder of the base branch: the reports branch writes `observations_record`."""

from __future__ import annotations

from collections.abc import Sequence

from audits.models import Audit


def observations_record(*, audits: Sequence[Audit]) -> None:
    """Brings ProductObservation and PriceTally up to date with these newly stored audits
    (called by `audits.recording.audits_record` in the visit's transaction)."""
