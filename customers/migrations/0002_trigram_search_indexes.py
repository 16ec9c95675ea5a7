"""Trigram indexes for the customer list's text search (store name and address "contains"),
on PostgreSQL only: Django's icontains there is UPPER(column::text) LIKE UPPER(%s), which a
GIN index over UPPER(column::text) with gin_trgm_ops serves. SQLite keeps plain scans."""

from django.db import migrations

COLUMNS = ("store_name", "address")


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS customers_{column}_trgm ON customers_customer "
            f"USING gin (UPPER(({column})::text) gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS customers_{column}_trgm")


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_customers_and_change_requests")]

    operations = [migrations.RunPython(create, drop)]
