"""The monthly facts count the orders paid on time and late (the credit indicator of the
valuation reads them); existing facts are filled from their orders."""

from django.db import migrations, models


def fill_counts(apps, schema_editor):
    fact = apps.get_model("orders", "MonthlySalesFact")._meta.db_table
    order = apps.get_model("orders", "Order")._meta.db_table
    counted = "('placed', 'delivered')"
    for column, condition in (
        ("on_time_orders", "o.paid_on_time"),
        ("late_orders", "NOT o.paid_on_time"),
    ):
        schema_editor.execute(
            f"UPDATE {fact} SET {column} = (SELECT COUNT(*) FROM {order} o "  # noqa: S608 (our names)
            f"WHERE o.customer_id = {fact}.customer_id AND o.month = {fact}.month "
            f"AND o.status IN {counted} AND {condition})"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0001_products_orders_facts"),
    ]

    operations = [
        migrations.AddField(
            model_name="monthlysalesfact",
            name="late_orders",
            field=models.PositiveIntegerField(default=0, verbose_name="orders paid late"),
        ),
        migrations.AddField(
            model_name="monthlysalesfact",
            name="on_time_orders",
            field=models.PositiveIntegerField(default=0, verbose_name="orders paid on time"),
        ),
        migrations.RunPython(fill_counts, migrations.RunPython.noop, elidable=True),
    ]
