"""The visit settings form (administrators)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms import fields_for_model
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from crm.forms import InvalidFieldsMixin
from visits.models import VisitsConfig
from visits.services import CONFIG_FIELDS

WEEKDAYS = [
    ("1", _("Monday")),
    ("2", _("Tuesday")),
    ("3", _("Wednesday")),
    ("4", _("Thursday")),
    ("5", _("Friday")),
    ("6", _("Saturday")),
    ("7", _("Sunday")),
]


class VisitsConfigForm(InvalidFieldsMixin, forms.Form):
    """Every editable VisitsConfig field. A plain Form (not a ModelForm) on purpose: a
    ModelForm writes the posted values onto the instance while validating, so a refused save
    would show the unsaved values as the current ones. The working days are checkboxes,
    stored as ISO weekday digits ("12345")."""

    unmarked = ("work_days",)  # checkboxes: the group shows its error itself

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Labels, help texts and limits come from the model.
        fields = fields_for_model(
            VisitsConfig, fields=[name for name in CONFIG_FIELDS if name != "work_days"]
        )
        model_days = VisitsConfig._meta.get_field("work_days")
        fields["work_days"] = forms.MultipleChoiceField(
            label=capfirst(model_days.verbose_name),
            help_text=model_days.help_text,
            choices=WEEKDAYS,
            widget=forms.CheckboxSelectMultiple,
            error_messages={"required": _("Choose at least one working day.")},
        )
        self.fields.update({name: fields[name] for name in CONFIG_FIELDS})
        for name, field in self.fields.items():
            if name == "work_days":
                continue
            css = "form-select" if name == "default_cycle" else "form-control"
            field.widget.attrs["class"] = css
            if isinstance(field, forms.IntegerField):
                field.widget.attrs["inputmode"] = "numeric"

    @classmethod
    def for_config(cls, config: VisitsConfig, data=None) -> VisitsConfigForm:
        """The form showing `config`'s current values (bound to `data` when posted)."""
        initial = {name: getattr(config, name) for name in CONFIG_FIELDS}
        initial["work_days"] = list(config.work_days)
        return cls(data=data, initial=initial)

    def service_data(self) -> dict[str, Any]:
        """The cleaned values, keyed by VisitsConfig field, for `visits_config_update`."""
        data = {name: self.cleaned_data[name] for name in CONFIG_FIELDS}
        data["work_days"] = "".join(sorted(self.cleaned_data["work_days"]))
        return data
