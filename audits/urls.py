"""Retail audit pages (namespace "audits"), mounted at /audits/: the form definitions
(`audits.urls_forms`: "forms/…"), the reports (`audits.urls_reports`: "", "prices/…",
"shelves/…") and the answers' photos (`audits.urls_answers`: "answers/…")."""

from audits import urls_answers, urls_forms, urls_reports

app_name = "audits"

urlpatterns = [
    *urls_forms.urlpatterns,
    *urls_reports.urlpatterns,
    *urls_answers.urlpatterns,
]
