"""Retail audit API: the forms due at a shop (`audits.api.urls_due`) and price monitoring
(`audits.api.urls_reports`)."""

from audits.api import urls_due, urls_reports

app_name = "audits_api"

urlpatterns = [*urls_due.urlpatterns, *urls_reports.urlpatterns]
