"""Allocation pages (namespace "allocation"), mounted at /allocation/: the engine's take-up
overview, runs and scheme pages (`crm.monthly_views`). The plans and exceptions pages join
these (their own paths "plans/…" and "exceptions/…" do not meet the engine's "", "runs/…" and
"schemes/…")."""

from allocation.monthly import RULES
from crm.monthly_views import MonthlyPages

app_name = "allocation"

urlpatterns = MonthlyPages(RULES).urlpatterns()
