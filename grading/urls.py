"""Grading pages (namespace "grading"), mounted at /grading/."""

from grading.views import overrides, overview, runs, schemes

app_name = "grading"

urlpatterns = [
    *overview.urlpatterns,
    *runs.urlpatterns,
    *schemes.urlpatterns,
    *overrides.urlpatterns,
]
