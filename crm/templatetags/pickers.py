"""The pickers of the list pages' filters: an area, an account manager. One widget everywhere
(customers, warnings, compliance, the grading and value overviews, ...), its choices from the
scope rule (`crm.selectors.area_choices`, `account_manager_choices`): a person picks among the
areas and account managers they may see instead of typing a code whose placeholder looked like
a value. The value sent is what the FilterSets read: the area's code, the user's username."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import template
from django.utils.translation import gettext_lazy as _

from crm import selectors

register = template.Library()


def _picker(
    context, value: Any, choices: Callable[..., list[tuple[str, str]]], **shown: Any
) -> dict[str, Any]:
    """The picker's context: `choices(user=…)` for the signed-in user, the option matching
    `value` (case aside) selected; `shown` is the name, label, empty choice's text and column."""
    chosen = str(value or "").strip()
    options = [
        (code, text, code.casefold() == chosen.casefold())
        for code, text in choices(user=context["request"].user)
    ]
    if chosen and not any(selected for _code, _text, selected in options):
        # A value from an old link or the API's spelling: kept (the list is filtered by it).
        options.insert(0, (chosen, chosen, True))
    return {**shown, "field_id": f"id_{shown['name']}", "options": options}


# The scope pickers: the filter parameter -> its choices, label and "any" choice.
SCOPE_PICKERS: dict[str, tuple[Callable[..., list[tuple[str, str]]], Any, Any]] = {
    "area": (selectors.area_choices, _("Area"), _("All my areas")),
    "account_manager": (selectors.account_manager_choices, _("Account manager"), _("Anyone")),
}


@register.inclusion_tag("crm/inc/picker.html", takes_context=True)
def scope_picker(context, name: str, value, col: str = "col-6 col-md-2") -> dict[str, Any]:
    """A <select> of the areas (sub-areas included when one is chosen) or of the account
    managers the user may see: `name` is the filter's parameter, "area" or "account_manager"."""
    choices, label, empty = SCOPE_PICKERS[name]
    return _picker(context, value, choices, name=name, label=label, empty=empty, col=col)


@register.inclusion_tag("crm/inc/picker.html", takes_context=True)
def person_picker(
    context, value, name: str, label: str, col: str = "col-6 col-md-2"
) -> dict[str, Any]:
    """A <select> of the people working in the areas the user sees (who visited, who is
    assigned): `name` is the filter's parameter, `label` its visible name."""
    return _picker(
        context, value, selectors.person_choices, name=name, label=label, empty=_("Anyone"), col=col
    )
