"""FilterSets shared by the HTML lists and the API."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_filters.constants import EMPTY_VALUES

from crm.models import Area
from crm.scope import descendant_area_ids


class AreaTreeFilter(django_filters.CharFilter):
    """An area code that also matches its sub-areas; `field_name` is the area id to filter
    (e.g. "area_id", "customer__area_id")."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Area (code; includes sub-areas)"))
        super().__init__(**kwargs)

    def filter(self, qs, value):
        if not value or not value.strip():
            return qs
        roots = list(Area.objects.filter(code__iexact=value.strip()).values_list("pk", flat=True))
        return qs.filter(**{f"{self.field_name}__in": descendant_area_ids(roots)})


class _RepeatableSelect(forms.Select):
    """Reads every value of a repeated parameter: `?ordering=-store_name&ordering=customer_code`
    (how OpenAPI clients send an array) means the same as `?ordering=-store_name,customer_code`.
    Django's widgets read only the last one."""

    def value_from_datadict(self, data, files, name):
        if not hasattr(data, "getlist") or name not in data:
            return super().value_from_datadict(data, files, name)
        values = data.getlist(name)
        if len(values) == 1:
            return values[0]  # split at the commas by django-filter's CSV widget
        return [part for value in values for part in value.split(",")]


class OrderingFilter(django_filters.OrderingFilter):
    """django-filter's, except that

    - the sort keys may be given as a repeated parameter, comma-separated, or both
      (`?ordering=a&ordering=-b`, `?ordering=a,-b`): each one applies, in the order given;
    - a value naming no field (`?ordering=,`) keeps the list's own order instead of clearing
      it (an unordered list pages unpredictably)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", _RepeatableSelect)
        kwargs.setdefault(
            "help_text",
            _(
                "Sort keys, the first one first; `-` before a key sorts descending. Repeat the "
                "parameter or separate the keys with commas."
            ),
        )
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value not in EMPTY_VALUES and all(param in EMPTY_VALUES for param in value):
            return qs
        return super().filter(qs, value)


class AreaFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("Search"))
    parent = django_filters.CharFilter(field_name="parent__code", label=_("Parent area code"))

    class Meta:
        model = Area
        fields = ["q", "parent"]

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(code__icontains=value) | Q(name__icontains=value))
