"""The notifications and system-worded audit reasons written before they were stored as keys
(crm.stored_text): each text recognised as one of the system's, rendered in English or in
Simplified Chinese, becomes its key and parameters, and is then shown in each reader's
language. A text not recognised (typed by a person, or worded by an older version) stays as
it was and is shown as stored.

The English sources are frozen here as they were worded when the keys were introduced; their
Chinese renderings come from the translation catalogue.
"""

from django.db import migrations

from crm.stored_text import Plural, Text, items, nested, unlabel
from crm.stored_text_migrations import convert_rows

NOTIFICATIONS = {
    "customers.change_request.approved": (
        "Your change request #%(id)s for %(customer)s was approved."
    ),
    "customers.change_request.stale": (
        "Your change request #%(id)s is stale: the customer changed meanwhile."
    ),
    "customers.change_request.rejected": (
        "Your change request #%(id)s for %(customer)s was rejected: %(comment)s"
    ),
    "services.request.assigned": (
        "%(number)s for %(customer)s was given to you: %(type)s, due %(due)s."
    ),
    "services.request.handed_on": "%(number)s for %(customer)s was handed to you by %(who)s.",
    "services.request.resolved": (
        "%(number)s for %(customer)s is resolved; close it with the customer's satisfaction."
    ),
    "services.request.reopened": "%(number)s for %(customer)s was reopened: %(reason)s",
    "services.request.overdue": (
        "%(number)s for %(customer)s is overdue (due %(due)s, with %(who)s)."
    ),
    "services.care_due": Plural(
        "%(n)d care service is due this week (%(parts)s).",
        "%(n)d care services are due this week (%(parts)s).",
    ),
    "valuation.warnings.new": Plural(
        "%(n)d new early warning on your customers.",
        "%(n)d new early warnings on your customers.",
    ),
}
NOTIFICATION_LABELS = {"type": "services.choices.RequestType"}

REASONS = {
    "services.request.overdue_since": "Overdue since %(due)s",
    "customers.change_request.applied": "Change request #%(id)s: %(reason)s",
    "crm.password.reset_link": "Password reset link created",
    "crm.password.reset_done": "Set with a password reset link",
    "crm.password.changed": "Changed by the user",
}


def care_parts(shown: str, languages=("en", "zh-hans")):
    """The care kinds and counts of a care-due notification ("Family service: 2, …"; the
    separators were never translated) as label markers; the text itself when a part is not
    a known kind."""
    parts = []
    for part in shown.split(", "):
        kind, _sep, n = part.rpartition(": ")
        marker = unlabel("services.choices.ActivityKind", kind, languages)
        if not (isinstance(marker, dict) and n.isdigit()):
            return shown
        parts.append(nested(Text("services.care_due.part", {"kind": marker, "n": int(n)})))
    return items(parts)


def _care_parts(key, params):
    if key == "services.care_due" and isinstance(params.get("parts"), str):
        params["parts"] = care_parts(params["parts"])
    return params


def forwards(apps, schema_editor):
    convert_rows(
        apps.get_model("crm", "Notification"),
        "message",
        NOTIFICATIONS,
        labels=NOTIFICATION_LABELS,
        adjust=_care_parts,
    )
    convert_rows(apps.get_model("crm", "AuditEntry"), "reason", REASONS)


def backwards(apps, schema_editor):
    # The plain columns still hold the texts; the keys are dropped with their columns.
    pass


class Migration(migrations.Migration):
    dependencies = [("crm", "0005_stored_text_keys")]

    operations = [migrations.RunPython(forwards, backwards)]
