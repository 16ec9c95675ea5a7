"""Template pieces of the monthly engine (`crm.monthly`)."""

from __future__ import annotations

from typing import Any

from django import template

from crm import monthly

register = template.Library()


@register.inclusion_tag("monthly/inc/tabs.html", takes_context=True)
def monthly_tabs(context: dict[str, Any], namespace: str, tab: str) -> dict[str, Any]:
    """The tab bar of a monthly result's pages (its overview, its own tabs, then the
    administrators' runs and schemes), `tab` marked current."""
    user = context["user"]
    return {
        "namespace": namespace,
        "tab": tab,
        "tabs": monthly.tab_links(monthly.rules_for(namespace), user=user),
    }
