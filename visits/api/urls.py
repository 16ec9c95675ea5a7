from django.urls import path

from visits.api import views

app_name = "visits_api"

urlpatterns = [
    path("visits/", views.VisitListCreateAPIView.as_view(), name="visit_list"),
    path("visits/<int:pk>/", views.VisitDetailAPIView.as_view(), name="visit_detail"),
]
