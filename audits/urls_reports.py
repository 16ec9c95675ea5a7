"""The audit reports' pages (`audits.views_reports`): "" (the index: price monitoring),
"prices/…" and "shelves/…"."""

from django.urls import path

from audits import views_reports as views

urlpatterns = [
    path("", views.reports_index, name="reports"),
    path("prices/", views.prices, name="prices"),
    path("prices/<str:product_code>/", views.price_product, name="price_product"),
    path("shelves/", views.shelves, name="shelves"),
    path("shelves/missing/", views.shelves_missing, name="shelves_missing"),
]
