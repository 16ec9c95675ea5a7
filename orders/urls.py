from django.urls import path

from orders import views

app_name = "orders"

urlpatterns = [
    path("", views.OrderListView.as_view(), name="list"),
    path("<int:pk>/", views.order_detail, name="detail"),
    path("products/", views.ProductListView.as_view(), name="products"),
    # Under products/, so the navigation marks "Products" on the settings page.
    path("products/settings/", views.orders_config_edit, name="settings"),
]
