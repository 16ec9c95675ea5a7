from django.urls import path

from visits.views import agenda, coverage, logging, settings

app_name = "visits"

urlpatterns = [
    # The account manager's day (supervisors pick whose with ?am=).
    path("", agenda.agenda_view, name="agenda"),
    path("coming/", agenda.agenda_coming_day, name="agenda_coming_day"),
    path("plans/<int:pk>/reschedule/", agenda.plan_reschedule, name="plan_reschedule"),
    path("plans/<int:pk>/skip/", agenda.plan_skip, name="plan_skip"),
    path("follow-ups/", agenda.follow_up_list, name="follow_ups"),
    path("follow-ups/<int:pk>/done/", agenda.follow_up_done, name="follow_up_done"),
    # Logging and reading visits.
    path("log/", logging.visit_log_view, name="log"),
    path("all/", logging.VisitListView.as_view(), name="list"),
    path("<int:pk>/", logging.visit_detail, name="detail"),
    path("<int:pk>/photo/<str:kind>/", logging.visit_photo, name="photo"),
    # Supervision.
    path("coverage/", coverage.coverage_view, name="coverage"),
    path("coverage/export/", coverage.coverage_export, name="coverage_export"),
    path("coverage/<str:username>/", coverage.coverage_detail, name="coverage_detail"),
    # Administration.
    path("settings/", settings.visits_settings, name="settings"),
]
