"""Stored valuation schemes gain the support indicator's display-compliance input with weight
0 (scaled, 1 = every display answer "yes"): their results don't change until an administrator
gives it a weight in a new version. The defaults of new schemes weigh it 0.2."""

from django.db import migrations

NEW_INPUT = {"weight": 0, "method": "scale", "full": 1}


def add_input(apps, schema_editor):
    Scheme = apps.get_model("valuation", "ValuationScheme")
    for scheme in Scheme.objects.all():
        inputs = scheme.parameters.get("inputs") if isinstance(scheme.parameters, dict) else None
        if isinstance(inputs, dict) and "display_compliance" not in inputs:
            inputs["display_compliance"] = dict(NEW_INPUT)
            scheme.save(update_fields=["parameters"])


def remove_input(apps, schema_editor):
    Scheme = apps.get_model("valuation", "ValuationScheme")
    for scheme in Scheme.objects.all():
        inputs = scheme.parameters.get("inputs") if isinstance(scheme.parameters, dict) else None
        if isinstance(inputs, dict) and inputs.pop("display_compliance", None) is not None:
            scheme.save(update_fields=["parameters"])


class Migration(migrations.Migration):
    dependencies = [
        ("valuation", "0007_result_display_compliance"),
    ]

    operations = [migrations.RunPython(add_input, remove_input)]
