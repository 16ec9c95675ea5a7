from rest_framework import generics

from crm import selectors
from crm.api.serializers import AreaSerializer, MeSerializer, NotificationSerializer
from crm.filtersets import AreaFilterSet
from crm.models import Notification


class MeView(generics.RetrieveAPIView):
    """Who the caller is: username, role and areas (a cheap way to check a token)."""

    serializer_class = MeSerializer

    def get_object(self):
        return self.request.user


class AreaListAPIView(generics.ListAPIView):
    """Areas in the caller's scope. Filters: `q` (code or name contains), `parent` (code)."""

    serializer_class = AreaSerializer
    filterset_class = AreaFilterSet

    def get_queryset(self):
        # Filtering is done by the filter backend with the same FilterSet the page uses.
        return selectors.area_list(user=self.request.user, with_members=False)


class NotificationListAPIView(generics.ListAPIView):
    """The caller's own notifications, newest first, each message in the request's language
    (`Accept-Language`), whatever language the person or job that caused it used."""

    serializer_class = NotificationSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Notification.objects.none()
        return selectors.notification_list(user=self.request.user)
