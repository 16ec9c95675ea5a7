"""The service settings page's forms (administrators): the settings and a new holiday."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms import fields_for_model
from django.utils.translation import gettext_lazy

from crm.forms import InvalidFieldsMixin
from services.models import Holiday, ServicesConfig
from services.services import CONFIG_FIELDS


class ServicesConfigForm(InvalidFieldsMixin, forms.Form):
    """Every editable ServicesConfig field. A plain Form (not a ModelForm), as for the visit
    settings: a refused save must not show the unsaved values as the current ones. Labels,
    help texts and limits come from the model."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields = fields_for_model(ServicesConfig, fields=list(CONFIG_FIELDS))
        self.fields.update({name: fields[name] for name in CONFIG_FIELDS})
        for field in self.fields.values():
            if isinstance(field, forms.ChoiceField):
                field.widget.attrs["class"] = "form-select"
            else:
                field.widget.attrs["class"] = "form-control"
                field.widget.attrs["inputmode"] = "numeric"

    @classmethod
    def for_config(cls, config: ServicesConfig, data=None) -> ServicesConfigForm:
        """The form showing `config`'s current values (bound to `data` when posted)."""
        return cls(data=data, initial={name: getattr(config, name) for name in CONFIG_FIELDS})

    def service_data(self) -> dict[str, Any]:
        """The cleaned values, keyed by ServicesConfig field, for `services_config_update`."""
        return {name: self.cleaned_data[name] for name in CONFIG_FIELDS}


class HolidayForm(InvalidFieldsMixin, forms.Form):
    """A holiday to add to the greeting calendar: its date and its names."""

    date = forms.DateField(
        label=gettext_lazy("Date"),
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d"),
    )
    name_en = forms.CharField(
        label=gettext_lazy("Name (English)"),
        max_length=Holiday._meta.get_field("name_en").max_length,
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "off"}),
    )
    name_zh = forms.CharField(
        label=gettext_lazy("Name (Chinese)"),
        max_length=Holiday._meta.get_field("name_zh").max_length,
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "off"}),
    )
