"""An account manager's customers from the index alone (PostgreSQL: INCLUDE the id).

Every page of an account manager joins his ~300 shops to something (plans, requests, system
rows, facts): the plain foreign-key index made each such query read one customer heap page per
shop (309 pages, 0.4 ms) before the join; with the ids in the index it reads 5 (bench/README.md,
issue 23's third pass). The new index is built before the old one goes."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0006_stored_text_rows"),
        ("customers", "0016_birthday_statistics_target"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(
                fields=["account_manager"], include=("id",), name="customers_manager_idx"
            ),
        ),
        migrations.AlterField(
            model_name="customer",
            name="account_manager",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="customers",
                to=settings.AUTH_USER_MODEL,
                verbose_name="Account manager",
            ),
        ),
    ]
