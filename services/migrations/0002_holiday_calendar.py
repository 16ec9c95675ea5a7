"""The greeting calendar's first two years of Chinese public holidays and festivals.
Administrators add later years (and local festivals) on the service settings page."""

import datetime as dt

from django.db import migrations

HOLIDAYS = [
    ("2026-01-01", "New Year's Day", "元旦"),
    ("2026-02-17", "Spring Festival", "春节"),
    ("2026-03-03", "Lantern Festival", "元宵节"),
    ("2026-04-05", "Qingming Festival", "清明节"),
    ("2026-05-01", "Labour Day", "劳动节"),
    ("2026-06-19", "Dragon Boat Festival", "端午节"),
    ("2026-09-25", "Mid-Autumn Festival", "中秋节"),
    ("2026-10-01", "National Day", "国庆节"),
    ("2027-01-01", "New Year's Day", "元旦"),
    ("2027-02-06", "Spring Festival", "春节"),
    ("2027-02-20", "Lantern Festival", "元宵节"),
    ("2027-04-05", "Qingming Festival", "清明节"),
    ("2027-05-01", "Labour Day", "劳动节"),
    ("2027-06-09", "Dragon Boat Festival", "端午节"),
    ("2027-09-15", "Mid-Autumn Festival", "中秋节"),
    ("2027-10-01", "National Day", "国庆节"),
]


def add_holidays(apps, schema_editor):
    Holiday = apps.get_model("services", "Holiday")
    for day, name_en, name_zh in HOLIDAYS:
        Holiday.objects.get_or_create(
            date=dt.date.fromisoformat(day), defaults={"name_en": name_en, "name_zh": name_zh}
        )


def remove_holidays(apps, schema_editor):
    Holiday = apps.get_model("services", "Holiday")
    Holiday.objects.filter(date__in=[dt.date.fromisoformat(d) for d, _en, _zh in HOLIDAYS]).delete()


class Migration(migrations.Migration):
    dependencies = [("services", "0001_requests_care_value_added")]

    operations = [migrations.RunPython(add_holidays, remove_holidays)]
