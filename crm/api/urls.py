from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from crm.api import views

app_name = "api"

urlpatterns = [
    path("me/", views.MeView.as_view(), name="me"),
    path("areas/", views.AreaListAPIView.as_view(), name="area_list"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
]
