from django.urls import path

from customers import views, views_catalogue

app_name = "customers"

urlpatterns = [
    path("", views.CustomerListView.as_view(), name="list"),
    path("new/", views.customer_create, name="create"),
    path("export/", views.customer_export, name="export"),
    path("import/", views.customer_import, name="import"),
    path("merge/", views.customer_merge, name="merge"),
    path("import/<int:pk>/", views.customer_import_detail, name="import_detail"),
    path("duplicates/", views.duplicate_list, name="duplicates"),
    path("duplicates/dismiss/", views.duplicate_dismiss, name="duplicate_dismiss"),
    path("change-requests/", views.change_request_list, name="change_requests"),
    path(
        "change-requests/<int:pk>/decide/",
        views.change_request_decide,
        name="change_request_decide",
    ),
    path(
        "change-requests/<int:pk>/attachment/",
        views.change_request_attachment,
        name="change_request_attachment",
    ),
    path(
        "change-requests/bulk-approve/",
        views.change_request_bulk_approve,
        name="change_request_bulk_approve",
    ),
    path("catalogue/", views_catalogue.catalogue_settings, name="catalogue"),
    path("catalogue/draft/", views_catalogue.catalogue_draft, name="catalogue_draft"),
    path("catalogue/draft/preview/", views_catalogue.catalogue_preview, name="catalogue_preview"),
    path(
        "catalogue/draft/activate/", views_catalogue.catalogue_activate, name="catalogue_activate"
    ),
    path("catalogue/draft/discard/", views_catalogue.catalogue_discard, name="catalogue_discard"),
    path("<str:code>/", views.customer_detail, name="detail"),
    path("<str:code>/tab/<slug:tab>/", views.customer_tab, name="tab"),
    path("<str:code>/dynamic/", views.customer_dynamic_edit, name="dynamic_edit"),
    path("<str:code>/change/", views.customer_change, name="change"),
]
