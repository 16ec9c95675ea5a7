from django.urls import path

app_name = "customers_api"

urlpatterns: list = []
