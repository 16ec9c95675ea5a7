"""The order settings form. It checks what a person can get wrong (bands out of order, a window
out of range) so they see it on the field; `orders_config_update` checks again and decides."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.core.validators import MaxValueValidator
from django.forms.models import fields_for_model
from django.utils.translation import gettext_lazy as _

from orders.models import OrdersConfig

BAND_FIELDS = ["class_1_min", "class_2_min", "class_3_min", "class_4_min"]
CONFIG_FIELDS = [*BAND_FIELDS, "low_tar_max_mg", "purchase_window_months"]
WINDOW_MAX_MONTHS = 36


class OrdersConfigForm(forms.Form):
    """The editable OrdersConfig fields. A plain Form (not a ModelForm) on purpose: a ModelForm
    writes the posted values onto the instance while validating, so a refused save would show
    the unsaved bands as the current ones."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Labels, help texts, digits and validators come from the model.
        self.fields.update(fields_for_model(OrdersConfig, fields=CONFIG_FIELDS))
        window = self.fields["purchase_window_months"]
        window.max_value = WINDOW_MAX_MONTHS
        window.validators.append(MaxValueValidator(WINDOW_MAX_MONTHS))
        window.widget.attrs.update({"min": 1, "max": WINDOW_MAX_MONTHS})
        for name in CONFIG_FIELDS:
            widget = self.fields[name].widget
            widget.attrs["class"] = "form-control"
            if name != "purchase_window_months":
                widget.attrs.update({"inputmode": "decimal", "min": "0"})

    @classmethod
    def for_config(cls, config: OrdersConfig, data=None) -> OrdersConfigForm:
        """The form showing `config`'s current values (bound to `data` when posted)."""
        return cls(data=data, initial={name: getattr(config, name) for name in CONFIG_FIELDS})

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)
        # Bootstrap outlines a field in red by its `is-invalid` class.
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                if "is-invalid" not in attrs["class"]:
                    attrs["class"] += " is-invalid"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        for name in [*BAND_FIELDS, "low_tar_max_mg"]:
            value = cleaned.get(name)
            if value is not None and value <= 0:
                self.add_error(name, _("Must be more than 0."))
        # Each band must start below the one above it (class 1 is the most expensive).
        previous: tuple[int, Decimal] | None = None
        for n, name in enumerate(BAND_FIELDS, start=1):
            value = cleaned.get(name)
            if value is None:  # missing or already refused: compare the next with the last
                continue
            if previous is not None and value >= previous[1]:
                self.add_error(
                    name,
                    _("Must be below the start of class %(above)d (%(value)s).")
                    % {"above": previous[0], "value": previous[1]},
                )
            previous = (n, value)
        return cleaned

    def service_data(self) -> dict[str, Any]:
        """The cleaned values, keyed by OrdersConfig field, for `orders_config_update`."""
        return {name: self.cleaned_data[name] for name in CONFIG_FIELDS}
