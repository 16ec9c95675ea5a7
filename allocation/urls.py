"""Supply allocation pages (namespace "allocation"), mounted at /allocation/: the exceptions
list and its review (allocation.views_exceptions)."""

from allocation import views_exceptions

app_name = "allocation"

urlpatterns = [
    *views_exceptions.urlpatterns,
]
