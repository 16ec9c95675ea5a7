from django.urls import path

from services.views import care, requests, satisfaction, settings, training

app_name = "services"

urlpatterns = [
    # Requests and complaints: the queues (?queue=mine|area|overdue), raising, working them.
    path("", requests.queue_view, name="queue"),
    path("requests/new/", requests.request_new, name="request_new"),
    path("requests/export/", requests.queue_export, name="queue_export"),
    path("requests/<int:pk>/", requests.request_detail, name="request_detail"),
    path("requests/<int:pk>/assign/", requests.request_assign, name="request_assign"),
    path("requests/<int:pk>/<str:action>/", requests.request_act, name="request_act"),
    # Care (due this week, ?am= for supervisors) and value-added services.
    path("care/", care.care_view, name="care"),
    path("activities/", care.activity_list, name="activity_list"),
    path("activities/new/", care.activity_new, name="activity_new"),
    # Retailer training sessions with their attendees.
    path("training/", training.training_list, name="training_list"),
    path("training/new/", training.training_new, name="training_new"),
    path("training/<int:pk>/", training.training_detail, name="training_detail"),
    # Supervision.
    path("satisfaction/", satisfaction.satisfaction_view, name="satisfaction"),
    path("satisfaction/export/", satisfaction.satisfaction_export, name="satisfaction_export"),
    # Administration: service levels, care rules, the holiday calendar.
    path("settings/", settings.services_settings, name="settings"),
    path("settings/holidays/<int:pk>/delete/", settings.holiday_delete, name="holiday_delete"),
]
