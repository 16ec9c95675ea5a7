"""Forms built from the field catalogue: which fields appear, their labels and widgets all
come from `customers.catalogue`, so a new catalogue field shows up without editing forms."""

from __future__ import annotations

from collections.abc import Sequence

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from crm.choices import Role
from crm.models import Area, User
from crm.scope import area_ids_in_scope, sees_everything
from crm.uploads import ATTACHMENT_KINDS
from customers.catalogue import FieldSpec, internal_value
from customers.models import Customer

# Bootstrap classes per widget kind.
_CSS = {
    forms.CheckboxInput: "form-check-input",
    forms.Select: "form-select",
    forms.NullBooleanSelect: "form-select",
}


def _form_field(spec: FieldSpec, user: User) -> forms.Field:
    model_field = spec.model_field
    if spec.is_reference:
        if model_field.related_model is Area:
            queryset = Area.objects.visible_to(user).order_by("code")
        else:
            role = Role.LICENSE_OFFICER if spec.name == "license_officer" else Role.ACCOUNT_MANAGER
            queryset = User.objects.filter(role=role, is_active=True).order_by("username")
            if not sees_everything(user):
                queryset = queryset.filter(areas__in=area_ids_in_scope(user)).distinct()
        field = forms.ModelChoiceField(queryset=queryset, required=spec.required, label=spec.label)
    else:
        field = model_field.formfield(label=spec.label)
        if field is None:  # pragma: no cover - every catalogue column has a form field
            raise LookupError(spec.name)
        field.required = spec.required
    if isinstance(field, forms.DateField):
        field.widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    css = _CSS.get(type(field.widget), "form-control")
    field.widget.attrs.setdefault("class", css)
    return field


def catalogue_form(
    specs: Sequence[FieldSpec],
    *,
    user: User,
    customer: Customer | None = None,
    data=None,
    files=None,
    with_reason: bool = False,
    reason_required: bool = False,
) -> forms.Form:
    """A form with one field per spec, initialised from `customer` when given."""
    form = forms.Form(data=data, files=files)
    for spec in specs:
        form.fields[spec.name] = _form_field(spec, user)
        if customer is not None:
            form.initial[spec.name] = internal_value(customer, spec.name)
    if with_reason:
        form.fields["reason"] = forms.CharField(
            label=_("Reason for the change"),
            required=reason_required,
            widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
        )
        # The service judges the file by its content (crm.uploads); `accept` only helps the
        # browser's file picker.
        form.fields["attachment"] = forms.FileField(
            label=_("Attachment (optional)"),
            help_text=_("PDF, JPEG, PNG or WebP, up to %(n)s MB.")
            % {"n": settings.CRM_ATTACHMENT_MAX_MB},
            required=False,
            widget=forms.ClearableFileInput(
                attrs={
                    "class": "form-control",
                    "accept": ",".join(kind.content_type for kind in ATTACHMENT_KINDS),
                }
            ),
        )
    return form


def changed_values(form: forms.Form) -> dict:
    """The catalogue fields the user actually changed, with their cleaned values."""
    return {
        name: form.cleaned_data[name]
        for name in form.changed_data
        if name not in ("reason", "attachment", "confirm_duplicates")
    }


class DecisionForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class MergePickForm(forms.Form):
    """The two records of a merge, by code: `a` survives, `b` is merged into it."""

    a = forms.CharField(
        label=_("Surviving record (its code stays)"),
        max_length=32,
        widget=forms.TextInput(attrs={"class": "form-control", "inputmode": "numeric"}),
    )
    b = forms.CharField(
        label=_("Record merged into it (its code becomes an alias)"),
        max_length=32,
        widget=forms.TextInput(attrs={"class": "form-control", "inputmode": "numeric"}),
    )


class CatalogueDraftForm(forms.Form):
    """The draft catalogue version's settings: for every field an administrator may override,
    its class, policy and whether it is required (fixed on when the database needs it)."""

    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=500,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )

    def __init__(self, *args, specs: Sequence[FieldSpec], needed: set[str], **kwargs):
        from customers.choices import OverridableMaintenance, OverridablePolicy

        super().__init__(*args, **kwargs)
        self.specs = list(specs)
        for spec in self.specs:
            self.fields[f"{spec.name}__maintenance"] = forms.ChoiceField(
                label=_("Class"),
                choices=OverridableMaintenance.choices,
                initial=spec.maintenance,
                widget=forms.Select(attrs={"class": "form-select form-select-sm catalogue-choice"}),
            )
            self.fields[f"{spec.name}__policy"] = forms.ChoiceField(
                label=_("Policy"),
                choices=OverridablePolicy.choices,
                initial=spec.policy,
                widget=forms.Select(attrs={"class": "form-select form-select-sm catalogue-choice"}),
            )
            self.fields[f"{spec.name}__required"] = forms.BooleanField(
                label=_("Required"),
                required=False,
                initial=spec.required,
                # The database needs it: always required, shown but not changeable.
                disabled=spec.name in needed,
                widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
            )

    def rows(self) -> list[dict]:
        return [
            {
                "spec": spec,
                "maintenance": self[f"{spec.name}__maintenance"],
                "policy": self[f"{spec.name}__policy"],
                "required": self[f"{spec.name}__required"],
            }
            for spec in self.specs
        ]

    def settings(self) -> dict[str, tuple[str, str, bool]]:
        data = self.cleaned_data
        return {
            spec.name: (
                data[f"{spec.name}__maintenance"],
                data[f"{spec.name}__policy"],
                bool(data[f"{spec.name}__required"]),
            )
            for spec in self.specs
        }
