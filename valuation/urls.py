"""Valuation pages (namespace "valuation"), mounted at /valuation/: the engine's overview, runs
and scheme pages (`crm.monthly_views`), and valuation's own exports, warnings and compliance."""

from crm.monthly_views import MonthlyPages
from valuation.monthly import RULES
from valuation.views import compliance, overview, warnings

app_name = "valuation"

urlpatterns = [
    *MonthlyPages(RULES).urlpatterns(),
    *overview.urlpatterns,
    *warnings.urlpatterns,
    *compliance.urlpatterns,
]
