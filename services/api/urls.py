from django.urls import path

from services.api import views

app_name = "services_api"

urlpatterns = [
    path(
        "service-requests/",
        views.ServiceRequestListCreateAPIView.as_view(),
        name="service_request_list",
    ),
    path(
        "service-requests/<int:pk>/",
        views.ServiceRequestDetailAPIView.as_view(),
        name="service_request_detail",
    ),
]
