"""Version 1: the brief's default 8-grade threshold scheme, active, so the first run works."""

from django.db import migrations

# A frozen copy of grading.computations.default_parameters("thresholds") as of this migration.
DEFAULT = {
    "window": {"months": 3, "exclude_peak_months": True},
    "grades": {"thresholds": [1500, 1000, 500, 300, 200, 100, 50, 0]},
    "initial": {
        "floor_area_m2": 50,
        "grades": {"C": {"up_to": 6, "above": 5}, "X": {"up_to": 7, "above": 6}},
    },
    "scale": {"large": 20, "medium": 30, "small": 50},
    "structure": {
        "price_bands": [250, 180, 130, 90],
        "matrix": {
            "large": [1, 2, 4, 6, 8],
            "medium": [2, 3, 5, 7, 9],
            "small": [3, 4, 6, 8, 10],
        },
    },
}


def create_default(apps, schema_editor):
    GradingScheme = apps.get_model("grading", "GradingScheme")
    if not GradingScheme.objects.exists():
        GradingScheme.objects.create(
            version=1,
            name="8 grades by monthly average cartons",
            kind="thresholds",
            status="active",
            parameters=DEFAULT,
            note="The default of the product brief.",
        )


class Migration(migrations.Migration):
    dependencies = [("grading", "0001_grading_schemes_results_overrides_runs")]

    operations = [migrations.RunPython(create_default, migrations.RunPython.noop)]
