"""The offline route's piece of every page (templates/crm/inc/offline.html): what
static/js/offline.js says, in the page's language."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.simple_tag
def offline_texts() -> dict[str, str]:
    """The outbox panel's sentences; `%(n)s` stands for a count, `%(customer)s` for a shop's
    name, `%(time)s` for a time of day."""
    return {
        "waiting_one": _("1 visit is waiting to be sent."),
        "waiting_many": _("%(n)s visits are waiting to be sent."),
        "waiting_item": _("%(customer)s, logged at %(time)s: waiting"),
        "with_photo": _("with a photo"),
        "offline": _("They will be sent when the connection returns."),
        "signed_out": _("Your session has ended: sign in again and they will be sent."),
        "server": _("The server did not take them now: they will be sent again."),
        "other_user": _(
            "Visits logged by another user wait on this phone until that user signs in."
        ),
        "refused": _("%(customer)s: the server refused this visit."),
        "discard": _("Discard this visit"),
        "sent_one": _("1 visit logged without a connection was sent."),
        "sent_many": _("%(n)s visits logged without a connection were sent."),
        "sent_item": _("%(customer)s: sent at %(time)s"),
        "kept": _("Kept on this phone for use without a connection: %(n)s pages."),
    }
