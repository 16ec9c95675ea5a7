from django.urls import path

from customers.api import views

app_name = "customers_api"

urlpatterns = [
    path("customers/", views.CustomerListAPIView.as_view(), name="customer_list"),
    path("customers/sync/", views.CustomerSyncAPIView.as_view(), name="customer_sync"),
    path(
        "customers/<str:customer_code>/",
        views.CustomerDetailAPIView.as_view(),
        name="customer_detail",
    ),
    path("areas/sync/", views.AreaSyncAPIView.as_view(), name="area_sync"),
]
