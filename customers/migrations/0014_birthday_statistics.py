"""Statistics on the owners' birthday month and day (PostgreSQL only; SQLite has none to keep).

The care due this week looks for owners whose birthday falls on one of seven month/day pairs.
The index that serves it (`customers_dynamic_birthday_idx`) is partial, and PostgreSQL does not
use a partial index's expression statistics for estimates: it guessed 5 shops a day where
there are about 160 at 200,000 shops, so an account manager's home page started from every
birthday of the week in the company (1,100 shops) instead of his 300 shops (5.2 ms → 1.9 ms;
bench/README.md, the agenda's and home's second pass). ANALYZE fills them."""

from django.db import migrations


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "CREATE STATISTICS IF NOT EXISTS customers_dynamic_birthday_stats "
        "ON (EXTRACT(month FROM owner_birthday)), (EXTRACT(day FROM owner_birthday)) "
        "FROM customers_customerdynamic"
    )
    schema_editor.execute("ANALYZE customers_customerdynamic")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP STATISTICS IF EXISTS customers_dynamic_birthday_stats")


class Migration(migrations.Migration):
    dependencies = [("customers", "0013_care_due_indexes")]

    operations = [migrations.RunPython(create, drop)]
