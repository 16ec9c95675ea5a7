from django.urls import path

from home import views

# No app_name: the page has been called "home" from the start (templates, redirects, tests).
urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
]
