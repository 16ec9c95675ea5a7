from django.urls import path

from orders.api import views

app_name = "orders_api"

urlpatterns = [
    path("products/", views.ProductListAPIView.as_view(), name="product_list"),
    path("products/sync/", views.ProductSyncAPIView.as_view(), name="product_sync"),
    path("orders/", views.OrderListAPIView.as_view(), name="order_list"),
    path("orders/sync/", views.OrderSyncAPIView.as_view(), name="order_sync"),
]
