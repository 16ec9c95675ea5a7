from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from crm import offline, password_views, views

admin.site.site_header = _("Tobacco retail CRM administration")
admin.site.site_title = _("CRM administration")

# On /api/ paths, errors raised outside a DRF view answer in the API's error shape too.
handler400 = "crm.api.exceptions.api_error_handler_400"
handler404 = "crm.api.exceptions.api_error_handler_404"
handler500 = "crm.api.exceptions.api_error_handler_500"

crm_patterns = (
    [
        path("areas/", views.AreaListView.as_view(), name="area_list"),
        path(
            "users/<int:pk>/password-reset/",
            password_views.user_password_reset,
            name="user_password_reset",
        ),
    ],
    "crm",
)

urlpatterns = [
    path("", include("home.urls")),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "account/password/",
        password_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "reset/<uidb64>/<token>/",
        password_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("i18n/", include("django.conf.urls.i18n")),
    path("health/", views.health, name="health"),
    # The installable web app (the offline route): from the root, so the worker's scope is "/".
    path("sw.js", offline.service_worker, name="service_worker"),
    path("manifest.webmanifest", offline.manifest, name="manifest"),
    path("notifications/", views.notification_list, name="notifications"),
    path("", include(crm_patterns)),
    path("customers/", include("customers.urls")),
    path("orders/", include("orders.urls")),
    path("grading/", include("grading.urls")),
    path("valuation/", include("valuation.urls")),
    path("allocation/", include("allocation.urls")),
    path("audits/", include("audits.urls")),
    path("visits/", include("visits.urls")),
    path("services/", include("services.urls")),
    path("api/v1/", include("crm.api.urls")),
    path("api/v1/", include("customers.api.urls")),
    path("api/v1/", include("orders.api.urls")),
    path("api/v1/", include("visits.api.urls")),
    path("api/v1/", include("services.api.urls")),
    path("api/v1/", include("allocation.api.urls")),
    path("api/v1/", include("audits.api.urls")),
    path("admin/", admin.site.urls),
]

# No route serves MEDIA_ROOT, in any settings (DEBUG included): every uploaded file is answered
# by a view of its object's app after the scope check (crm.uploads.file_response).
