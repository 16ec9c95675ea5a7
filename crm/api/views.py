from rest_framework import generics

from crm import selectors
from crm.api.serializers import AreaSerializer, MeSerializer
from crm.filtersets import AreaFilterSet


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
