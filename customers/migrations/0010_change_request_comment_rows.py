"""The comments the system wrote on stale change requests, and the duplicate warnings of
import reports, before they were stored as keys (crm.stored_text): recognised in English or
Simplified Chinese, they become their keys (a stale request's fields as catalogue labels),
shown in each reader's language. A comment a supervisor typed stays as typed, and a text
not recognised is shown as stored."""

from django.db import migrations

from crm.stored_text import Text, items, label, nested, recognise
from crm.stored_text_migrations import BATCH, convert_rows

COMMENTS = {"customers.change_request.stale_fields": "Stale: %(fields)s changed since the request."}


def _fields(key, params):
    # The names were joined raw (", "), whatever the language.
    from customers.catalogue import CATALOGUE

    names = str(params.get("fields", "")).split(", ")
    if all(name in CATALOGUE for name in names):
        params["fields"] = items([label("customers.catalogue.field_label", n) for n in names])
    return params


WARNINGS = {
    "customers.import.same_phone_customers": "Same phone as customer(s) %(codes)s.",
    "customers.import.same_phone_row": "Same phone as row %(row)s of this file.",
    "customers.import.same_address_customers": "Same address as customer(s) %(codes)s.",
    "customers.import.same_address_row": "Same address as row %(row)s of this file.",
}


def _warning(shown):
    found = recognise(shown, WARNINGS) if isinstance(shown, str) else None
    return nested(Text(*found)) if found else shown


def _import_reports(CustomerImport):
    for customer_import in CustomerImport.objects.only("pk", "report").iterator(BATCH):
        rows = (customer_import.report or {}).get("rows") or []
        changed = False
        for row in rows:
            warnings = [_warning(w) for w in row.get("warnings") or []]
            if warnings != row.get("warnings", []):
                row["warnings"], changed = warnings, True
        if changed:
            customer_import.save(update_fields=["report"])


def forwards(apps, schema_editor):
    _import_reports(apps.get_model("customers", "CustomerImport"))
    convert_rows(
        apps.get_model("customers", "ChangeRequest"),
        "decision_comment",
        COMMENTS,
        adjust=_fields,
        status="stale",
    )


class Migration(migrations.Migration):
    dependencies = [("customers", "0009_change_request_comment_key")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
