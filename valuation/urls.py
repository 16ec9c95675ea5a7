"""Valuation pages (namespace "valuation"), mounted at /valuation/."""

from valuation.views import compliance, overview, runs, schemes, warnings

app_name = "valuation"

urlpatterns = [
    *overview.urlpatterns,
    *runs.urlpatterns,
    *schemes.urlpatterns,
    *warnings.urlpatterns,
    *compliance.urlpatterns,
]
