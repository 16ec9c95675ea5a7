"""The order settings form. It reads the values; `orders_config_update` decides whether they make
sense (bands in order, a window in range) and the view shows its refusals on the fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import MaxValueValidator
from django.forms.models import fields_for_model

from crm.forms import InvalidFieldsMixin
from orders.models import OrdersConfig
from orders.services import (
    CONFIG_FIELDS,
    ORDER_DATE_DAYS_AHEAD_MAX,
    ORDER_DATE_EARLIEST_MIN,
    PURCHASE_WINDOW_MAX_MONTHS,
)

# The settings that are amounts (CNY, mg): typed as decimals.
_AMOUNTS = ("class_1_min", "class_2_min", "class_3_min", "class_4_min", "low_tar_max_mg")


class OrdersConfigForm(InvalidFieldsMixin, forms.Form):
    """The editable OrdersConfig fields. A plain Form (not a ModelForm) on purpose: a ModelForm
    writes the posted values onto the instance while validating, so a refused save would show
    the unsaved bands as the current ones."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Labels, help texts, digits and validators come from the model.
        self.fields.update(fields_for_model(OrdersConfig, fields=CONFIG_FIELDS))
        window = self.fields["purchase_window_months"]
        window.max_value = PURCHASE_WINDOW_MAX_MONTHS
        window.validators.append(MaxValueValidator(PURCHASE_WINDOW_MAX_MONTHS))
        window.widget.attrs.update({"min": 1, "max": PURCHASE_WINDOW_MAX_MONTHS})
        ahead = self.fields["order_date_days_ahead"]
        ahead.max_value = ORDER_DATE_DAYS_AHEAD_MAX
        ahead.validators.append(MaxValueValidator(ORDER_DATE_DAYS_AHEAD_MAX))
        ahead.widget.attrs.update({"min": 0, "max": ORDER_DATE_DAYS_AHEAD_MAX})
        earliest = self.fields["order_date_earliest"].widget
        earliest.input_type = "date"
        earliest.format = "%Y-%m-%d"
        earliest.attrs["min"] = ORDER_DATE_EARLIEST_MIN.isoformat()
        for name in CONFIG_FIELDS:
            widget = self.fields[name].widget
            widget.attrs["class"] = "form-control"
            if name in _AMOUNTS:
                widget.attrs.update({"inputmode": "decimal", "min": "0"})

    @classmethod
    def for_config(cls, config: OrdersConfig, data=None) -> OrdersConfigForm:
        """The form showing `config`'s current values (bound to `data` when posted)."""
        return cls(data=data, initial={name: getattr(config, name) for name in CONFIG_FIELDS})

    def service_data(self) -> dict[str, Any]:
        """The cleaned values, keyed by OrdersConfig field, for `orders_config_update`."""
        return {name: self.cleaned_data[name] for name in CONFIG_FIELDS}
