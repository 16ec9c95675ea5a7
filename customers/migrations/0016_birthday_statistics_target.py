"""A finer sample for the birthday statistics (PostgreSQL only; SQLite keeps none).

With the default target (100) the month/day statistics of 0014 keep 100 of the 366 pairs and
spread the rest evenly: PostgreSQL expected about 50 shops a day where there were 160 at
200,000 shops, and an account manager's home page again started its week's birthdays from the
whole company's (1,100 shops, 7-10 ms) instead of from his 300 shops (2 ms; bench/README.md,
issue 23's third pass). At 1,000 every pair is kept. ANALYZE fills them."""

from django.db import migrations


def raise_target(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("ALTER STATISTICS customers_dynamic_birthday_stats SET STATISTICS 1000")
    schema_editor.execute("ANALYZE customers_customerdynamic")


def default_target(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("ALTER STATISTICS customers_dynamic_birthday_stats SET STATISTICS -1")


class Migration(migrations.Migration):
    dependencies = [("customers", "0015_purchase_deltas")]

    operations = [migrations.RunPython(raise_target, default_target)]
