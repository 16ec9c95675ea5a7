"""What the purchase figures were computed over (the window's e-settled amount and its first
month), so an order sync adds its batch to them instead of reading the synced shops' monthly
facts again (orders.services.purchase_figures_add). Null until the figures are next computed
in full: until then a sync recomputes them as before."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0014_birthday_statistics"),
    ]

    operations = [
        migrations.AddField(
            model_name="customersystem",
            name="purchase_e_amount",
            field=models.DecimalField(
                blank=True,
                decimal_places=2,
                editable=False,
                max_digits=14,
                null=True,
                verbose_name="e-settled purchase amount",
            ),
        ),
        migrations.AddField(
            model_name="customersystem",
            name="purchase_window_start",
            field=models.DateField(
                blank=True, editable=False, null=True, verbose_name="purchase window start"
            ),
        ),
    ]
