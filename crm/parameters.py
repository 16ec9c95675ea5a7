"""Checking the parameters of a versioned scheme (grading, valuation): every faulty value is
collected under its path ("grades.thresholds", "indicators.credit.weight") and raised as one
DomainError, so the edit form shows each message beside its field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from django.utils.translation import gettext as _

from crm.exceptions import DomainError


class ParameterErrors:
    """Collects messages per parameter path ("grades.thresholds") for one DomainError."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, path: str, message: str) -> None:
        self.errors.setdefault(path, []).append(str(message))

    def number(self, path: str, value: Any, *, minimum: float = 0) -> float | None:
        if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
            self.add(path, _("Enter a number."))
            return None
        if value < minimum:
            self.add(path, _("Enter a number of at least %(min)s.") % {"min": minimum})
            return None
        return float(value)

    def falling_to_zero(self, path: str, values: Any, *, minimum_length: int = 2) -> list[float]:
        """A list of numbers falling strictly and ending at 0 (the last band starts at 0)."""
        if not isinstance(values, list) or len(values) < minimum_length:
            self.add(path, _("Give at least %(n)d values.") % {"n": minimum_length})
            return []
        numbers = [self.number(f"{path}.{i}", v) for i, v in enumerate(values)]
        if None in numbers:
            return []
        if any(a <= b for a, b in zip(numbers, numbers[1:], strict=False)):
            self.add(path, _("Each value must be lower than the one before it."))
        if numbers[-1] != 0:
            self.add(path, _("The last value must be 0, so every customer gets a grade."))
        return numbers

    def shares(self, path: str, values: Any, *, count: int | None = None) -> list[float]:
        """Positive percentages summing to 100."""
        if not isinstance(values, list) or not values:
            self.add(path, _("Give at least one band."))
            return []
        if count is not None and len(values) != count:
            self.add(path, _("Give exactly %(n)d bands.") % {"n": count})
        numbers = [self.number(f"{path}.{i}", v) for i, v in enumerate(values)]
        if None in numbers:
            return []
        if any(n <= 0 for n in numbers):
            self.add(path, _("Each band must hold more than 0%."))
        if abs(sum(numbers) - 100) > 1e-6:
            self.add(
                path,
                _("The bands must add up to 100%% (they add up to %(sum)s%%).")
                % {"sum": round(sum(numbers), 4)},
            )
        return numbers

    def section(self, path: str, value: Any) -> Mapping[str, Any]:
        """A nested object of the parameters; anything else is an error (and reads as {})."""
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.add(path, _("This part of the parameters must be an object."))
            return {}
        return value

    def raise_if_any(self) -> None:
        if self.errors:
            raise DomainError(errors=self.errors)

    def whole(self, path: str, value: Any, *, minimum: int, maximum: int) -> int | None:
        """A whole number from `minimum` to `maximum`."""
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
            self.add(
                path,
                _("Enter a whole number from %(min)d to %(max)d.")
                % {"min": minimum, "max": maximum},
            )
            return None
        return value

    def between(self, path: str, value: Any, *, minimum: float, maximum: float) -> float | None:
        """A number from `minimum` to `maximum` (both included)."""
        number = self.number(path, value, minimum=minimum)
        if number is not None and number > maximum:
            self.add(path, _("Enter a number of at most %(max)s.") % {"max": maximum})
            return None
        return number

    def weights(self, path: str, values: Any, names: tuple[str, ...]) -> dict[str, float]:
        """Non-negative weights for `names` (a missing one counts as 0) adding up to 1."""
        given = self.section(path, values)
        clean = {name: self.number(f"{path}.{name}", given.get(name, 0)) for name in names}
        if None not in clean.values() and abs(sum(clean.values()) - 1) > 1e-6:
            self.add(
                path,
                _("The weights must add up to 1 (they add up to %(sum)s).")
                % {"sum": round(sum(clean.values()), 6)},
            )
        return clean
