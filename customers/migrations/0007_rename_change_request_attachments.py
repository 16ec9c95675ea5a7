"""Attachments stored before names were random keep the sender's file name (guessable, and
shaped like whatever the sender chose). Each is copied to a random name: the extension of its
verified type when it passes today's upload check (crm.uploads), else ".bin", which the
attachment view only ever offers as an opaque download. Nothing is lost: a file that fails
the check is kept, just never shown inline.

The copies are made first and the rows updated in the migration's transaction; the old files
are deleted only once it has committed (a rolled-back migration leaves the rows on the old
files, which still exist, and orphaned copies, which are harmless). A row whose file is missing
from the storage is left as it is (its view answers 404, as before).
"""

import logging

from django.db import migrations, transaction

logger = logging.getLogger(__name__)


def _verified_extension(handle) -> str:
    from crm.exceptions import DomainError
    from crm.uploads import upload_check

    try:
        return upload_check(handle, field="attachment", max_bytes=None).extension
    except DomainError:
        return "bin"


def rename_attachments(apps, schema_editor):
    from crm.uploads import is_random_name, random_name

    ChangeRequest = apps.get_model("customers", "ChangeRequest")
    storage = ChangeRequest._meta.get_field("attachment").storage
    moved: list[str] = []
    # Attachments are few (one per change request at most): read the list first, so no
    # cursor is open on the table while its rows are updated.
    rows = list(ChangeRequest.objects.exclude(attachment="").values_list("pk", "attachment"))
    for pk, old in rows:
        if is_random_name(old):
            continue  # already random (a rerun), ".bin" copies included
        try:
            handle = storage.open(old, "rb")
        except OSError:
            logger.warning("Change request %s: attachment %s is missing.", pk, old)
            continue
        with handle:
            new = storage.save(random_name("change_requests", _verified_extension(handle)), handle)
        ChangeRequest.objects.filter(pk=pk).update(attachment=new)
        moved.append(old)

    def delete_old() -> None:
        for name in moved:
            try:
                storage.delete(name)
            except OSError:
                logger.warning("Could not delete the old attachment file %s.", name)

    transaction.on_commit(delete_old, using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0006_random_upload_names"),
    ]

    operations = [
        migrations.RunPython(rename_attachments, migrations.RunPython.noop, elidable=True),
    ]
