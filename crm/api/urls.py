from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from crm.api import views

app_name = "api"

urlpatterns = [
    path("me/", views.MeView.as_view(), name="me"),
    path("areas/", views.AreaListAPIView.as_view(), name="area_list"),
    path("notifications/", views.NotificationListAPIView.as_view(), name="notification_list"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script from ?script= instead of inline (CSP).
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api:schema", template_name="crm/api_docs.html"
        ),
        name="docs",
    ),
]
