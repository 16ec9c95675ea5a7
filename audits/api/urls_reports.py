"""Price monitoring (`audits.api.views_reports`)."""

from django.urls import path

from audits.api import views_reports

urlpatterns = [
    path(
        "price-monitoring/",
        views_reports.PriceMonitoringAPIView.as_view(),
        name="price_monitoring",
    ),
]
