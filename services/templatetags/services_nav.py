"""The Services section's own menu, shown at the top of its pages."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.translation import gettext_lazy, pgettext_lazy

from services import policies

register = template.Library()

# (url name, label, icon, who sees it: None = every person)
SECTIONS = (
    ("services:queue", pgettext_lazy("services menu", "Requests"), "inboxes", None),
    ("services:care", gettext_lazy("Care this week"), "heart", None),
    ("services:activity_list", gettext_lazy("Services done"), "journal-check", None),
    ("services:training_list", gettext_lazy("Training"), "easel", None),
    (
        "services:satisfaction",
        gettext_lazy("Satisfaction"),
        "emoji-smile",
        policies.can_watch_satisfaction,
    ),
    ("services:settings", gettext_lazy("Settings"), "gear", policies.can_configure),
)
# Pages that belong to a section without being its list.
PARENTS = {
    "services:request_new": "services:queue",
    "services:request_detail": "services:queue",
    "services:activity_new": "services:activity_list",
    "services:training_new": "services:training_list",
    "services:training_detail": "services:training_list",
}


@register.inclusion_tag("services/inc/section_nav.html", takes_context=True)
def services_nav(context: template.Context) -> dict:
    request = context["request"]
    match = getattr(request, "resolver_match", None)
    current = match.view_name if match else ""
    current = PARENTS.get(current, current)
    return {
        "sections": [
            {
                "url": reverse(name),
                "label": label,
                "icon": icon,
                "active": name == current,
            }
            for name, label, icon, allowed in SECTIONS
            if allowed is None or allowed(request.user)
        ]
    }
