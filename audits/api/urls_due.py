"""The forms due at a shop: `GET /api/v1/audit-forms/?customer=CODE`."""

from django.urls import path

from audits.api import views_due

urlpatterns = [
    path("audit-forms/", views_due.DueFormListAPIView.as_view(), name="audit_form_list"),
]
