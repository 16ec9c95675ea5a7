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


@register.inclusion_tag("crm/inc/picker.html", takes_context=True)
def area_picker(context, value, col: str = "col-6 col-md-2", name: str = "area") -> dict[str, Any]:
    """A <select> of the areas the user may see (sub-areas included when one is chosen)."""
    return _picker(
        context, value, selectors.area_choices,
        name=name, label=_("Area"), empty=_("All my areas"), col=col,
    )  # fmt: skip


@register.inclusion_tag("crm/inc/picker.html", takes_context=True)
def account_manager_picker(
    context, value, col: str = "col-6 col-md-2", name: str = "account_manager"
) -> dict[str, Any]:
    """A <select> of the account managers whose customers the user may see."""
    return _picker(
        context, value, selectors.account_manager_choices,
        name=name, label=_("Account manager"), empty=_("Anyone"), col=col,
    )  # fmt: skip


@register.inclusion_tag("crm/inc/picker.html", takes_context=True)
def person_picker(
    context, value, name: str, label: str, col: str = "col-6 col-md-2"
) -> dict[str, Any]:
    """A <select> of the people working in the areas the user sees (who visited, who is
    assigned): `name` is the filter's parameter, `label` its visible name."""
    return _picker(
        context, value, selectors.person_choices, name=name, label=label, empty=_("Anyone"), col=col
    )
