from django.urls import path

from visits.api import views

app_name = "visits_api"

urlpatterns = [
    path("visits/", views.VisitListCreateAPIView.as_view(), name="visit_list"),
    path(
        "visits/with-photo/",
        views.VisitWithPhotoCreateAPIView.as_view(),
        name="visit_create_with_photo",
    ),
    path("visits/<int:pk>/", views.VisitDetailAPIView.as_view(), name="visit_detail"),
]
