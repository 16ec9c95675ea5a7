"""The pickers of the list pages' filters: an area, an account manager. One widget everywhere
(customers, warnings, compliance, the grading and value overviews, ...), its choices from the
scope rule (`crm.selectors.area_choices`, `account_manager_choices`): a person picks among the
areas and account managers they may see instead of typing a code whose placeholder looked like
a value. The value sent is what the FilterSets read: the area's code, the user's username."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext_lazy as _

from crm import selectors

register = template.Library()


def _picker(
    value: Any, choices: list[tuple[str, str]], *, name: str, label: str, empty: str, col: str
) -> dict[str, Any]:
    chosen = str(value or "").strip()
    known = {code.casefold() for code, _label in choices}
    options = [(code, text, code.casefold() == chosen.casefold()) for code, text in choices]
    if chosen and chosen.casefold() not in known:
        # A value from an old link or the API's spelling: kept (the list is filtered by it).
        options.insert(0, (chosen, chosen, True))
    return {
        "name": name,
        "field_id": f"id_{name}",
        "label": label,
        "empty": empty,
        "options": options,
        "col": col,
    }


@register.inclusion_tag("crm/inc/picker.html", takes_context=True)
def area_picker(context, value, col: str = "col-6 col-md-2", name: str = "area") -> dict[str, Any]:
    """A <select> of the areas the user may see (sub-areas included when one is chosen)."""
    user = context["request"].user
    return _picker(
        value,
        selectors.area_choices(user=user),
        name=name,
        label=_("Area"),
        empty=_("All my areas"),
        col=col,
    )


@register.inclusion_tag("crm/inc/picker.html", takes_context=True)
def account_manager_picker(
    context, value, col: str = "col-6 col-md-2", name: str = "account_manager"
) -> dict[str, Any]:
    """A <select> of the account managers whose customers the user may see."""
    user = context["request"].user
    return _picker(
        value,
        selectors.account_manager_choices(user=user),
        name=name,
        label=_("Account manager"),
        empty=_("Anyone"),
        col=col,
    )


@register.inclusion_tag("crm/inc/picker.html", takes_context=True)
def person_picker(
    context, value, name: str, label: str, col: str = "col-6 col-md-2"
) -> dict[str, Any]:
    """A <select> of the people working in the areas the user sees (who visited, who is
    assigned): `name` is the filter's parameter, `label` its visible name."""
    user = context["request"].user
    return _picker(
        value,
        selectors.person_choices(user=user),
        name=name,
        label=label,
        empty=_("Anyone"),
        col=col,
    )
