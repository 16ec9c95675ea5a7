"""The default scheme's name and note, a copy's note and an abandoned run's error written
before they were stored as keys (crm.stored_text): recognised in English or Simplified
Chinese, they become their keys and are shown in each reader's language. A name or note an
administrator typed stays as typed."""

from django.db import migrations

from crm.stored_text_migrations import convert_schemes_and_runs

DEFAULT_NAME = {"grading.scheme.default_name": "8 grades by monthly average cartons"}


def forwards(apps, schema_editor):
    convert_schemes_and_runs(
        apps.get_model("grading", "GradingScheme"), apps.get_model("grading", "GradingRun"), DEFAULT_NAME
    )


class Migration(migrations.Migration):
    dependencies = [("grading", "0006_stored_text_keys")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
