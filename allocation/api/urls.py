from django.urls import path

from allocation.api import views

app_name = "allocation_api"

urlpatterns = [
    path("allocation-plans/sync/", views.PlanSyncAPIView.as_view(), name="plan_sync"),
    path("allocations/", views.AllocationListAPIView.as_view(), name="allocation_list"),
]
