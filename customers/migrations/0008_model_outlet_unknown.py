"""The model-outlet flag gets a third state, unknown (NULL), and the stored "no"s that never
were answers become unknown.

Until now the flag was a non-null boolean defaulting to False, and a blank form checkbox, a
blank import cell or an API payload without the field all stored False: a stored False
could not tell "not a model outlet" from "nobody entered it", and the valuation scored every
such shop as a measured "no" (issue 19). So every False becomes unknown, except where the
audit log shows a person turned the flag from yes to no (an update row of the field whose
latest new value is False): that one was an answer and stays "no". True stays True.

No audit row is written: no shop's answer changes, only how "not entered" is stored. The
reverse migration stores unknown as False again (what the old column could hold).
"""

from django.db import migrations, models

FIELD = "is_model_outlet"


def _explicit_noes(apps) -> set[int]:
    """Customers whose latest audited change of the flag set it to False."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    AuditEntry = apps.get_model("crm", "AuditEntry")
    content_type = ContentType.objects.filter(app_label="customers", model="customer").first()
    if content_type is None:
        return set()
    latest: dict[str, object] = {}
    rows = (
        AuditEntry.objects.filter(content_type=content_type, action="update", field=FIELD)
        .order_by("created_at", "id")
        .values_list("object_id", "new_value")
    )
    for object_id, new_value in rows.iterator(chunk_size=2000):
        latest[object_id] = new_value
    return {int(object_id) for object_id, value in latest.items() if value is False}


def false_to_unknown(apps, schema_editor):
    Customer = apps.get_model("customers", "Customer")
    explicit = _explicit_noes(apps)
    Customer.objects.filter(**{FIELD: False}).exclude(pk__in=explicit).update(**{FIELD: None})


def unknown_to_false(apps, schema_editor):
    Customer = apps.get_model("customers", "Customer")
    Customer.objects.filter(**{f"{FIELD}__isnull": True}).update(**{FIELD: False})


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("crm", "0001_initial"),
        ("customers", "0007_rename_change_request_attachments"),
    ]

    operations = [
        migrations.AlterField(
            model_name="customer",
            name=FIELD,
            field=models.BooleanField(
                blank=True, default=None, null=True, verbose_name="Model outlet"
            ),
        ),
        migrations.RunPython(false_to_unknown, unknown_to_false),
    ]
