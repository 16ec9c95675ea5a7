"""Grading pages (namespace "grading"), mounted at /grading/: the engine's overview, runs and
scheme pages (`crm.monthly_views`), and grading's own export, preview, peak months,
overrides and the publication of a month."""

from crm.monthly_views import MonthlyPages
from grading.monthly import RULES
from grading.views import overrides, overview, publication, schemes

app_name = "grading"

urlpatterns = [
    *MonthlyPages(RULES).urlpatterns(),
    *overview.urlpatterns,
    *schemes.urlpatterns,
    *overrides.urlpatterns,
    *publication.urlpatterns,
]
