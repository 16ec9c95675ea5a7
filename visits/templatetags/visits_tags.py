"""Template filters of the visit pages."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils.translation import gettext as _

register = template.Library()

# Above this a distance reads in kilometres (static/js/visit_form.js says it the same way).
KM_FROM_M = 1000


@register.filter
def distance(metres: float | Decimal | None) -> str:
    """850 → "850 m", 1290 → "1.3 km" (one decimal), in the reader's language; "" for None."""
    if metres is None:
        return ""
    value = round(float(metres))  # 999.6 m reads "1.0 km", not "1000 m"
    if value >= KM_FROM_M:
        return _("%(km)s km") % {"km": f"{value / 1000:.1f}"}
    return _("%(m)s m") % {"m": f"{value:.0f}"}
