"""`{% draw_panel drawn %}`: draws one panel of the registry (crm.panels) with the page's context
and, on top of it, the names its context function returned — so two home panels may both call
their data `panel` without reading each other's."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from crm.panels import Drawn

register = template.Library()


@register.simple_tag(takes_context=True)
def draw_panel(context: template.Context, drawn: Drawn, which: str = "template") -> SafeString:
    """Renders the panel's `template` (or its `summary_template` / `actions_template`, named
    by `which`); empty when the panel has no such template."""
    name = getattr(drawn.panel, which)
    if not name:
        return SafeString("")
    tpl = context.template.engine.get_template(name)
    with context.push(drawn.context):
        return tpl.render(context)
