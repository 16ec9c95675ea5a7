"""Supply allocation pages (namespace "allocation"), mounted at /allocation/: the engine's
take-up overview, runs and scheme pages (`crm.monthly_views`: "", "runs/…", "schemes/…"),
the plans ("plans/…") and the exceptions list with its review ("exceptions/…",
`allocation.views_exceptions`)."""

from django.urls import path

from allocation import views, views_exceptions
from allocation.monthly import RULES
from crm.monthly_views import MonthlyPages

app_name = "allocation"

urlpatterns = [
    *MonthlyPages(RULES).urlpatterns(),
    path("plans/", views.plan_list, name="plans"),
    path("plans/new/", views.plan_create, name="plan_create"),
    path("plans/<int:pk>/", views.plan_detail, name="plan"),
    path("plans/<int:pk>/edit/", views.plan_edit, name="plan_edit"),
    path("plans/<int:pk>/preview/", views.plan_preview, name="plan_preview"),
    path("plans/<int:pk>/publish/", views.plan_publish, name="plan_publish"),
    path("plans/<int:pk>/close/", views.plan_close, name="plan_close"),
    path("plans/<int:pk>/new-version/", views.plan_new_version, name="plan_new_version"),
    path("plans/<int:pk>/delete/", views.plan_delete, name="plan_delete"),
    path("plans/<int:pk>/export/", views.plan_export, name="plan_export"),
    *views_exceptions.urlpatterns,
]
