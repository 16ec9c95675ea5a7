"""Service requests through the API: the scoped list, one request, and raising a request.

Reads go through the scope rule (`ServiceRequest.objects.visible_to`, `selectors.request_get`)
and the FilterSet the service queue page uses, plus the page's `queue` (mine, area, overdue).
Unlike the queue page, the list holds closed requests too unless a `status` filter narrows it:
an integration client reads the whole history. A POST is checked for its types by
`ServiceRequestCreateSerializer`; the customer, the assignee and the visit are looked up here
by their natural keys, and everything else is `services.services.service_request_raise`'s: a
refusal is a 400 naming the field.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, permissions, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from crm.api.sync import api_actor
from crm.models import User
from customers.api.lookups import customer_by_code
from services import policies, selectors, services
from services.api.serializers import ServiceRequestCreateSerializer, ServiceRequestSerializer
from services.choices import Queue
from services.filtersets import ServiceRequestFilterSet
from services.models import ServiceRequest
from visits.models import Visit


class PeopleRaiseRequests(permissions.BasePermission):
    """Anyone signed in reads (within their scope); only people raise requests: integration
    clients do not talk to shopkeepers. Which customer a person may raise one for is
    `policies.can_serve`'s, checked once the customer is known."""

    message = gettext_lazy("Integration clients may read service requests but not raise them.")

    def has_permission(self, request, view) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return not request.user.is_integration_client


class ServiceRequestAPIFilterSet(ServiceRequestFilterSet):
    """The queue page's filters and its queues. The queues are those of
    `selectors.request_queue`, without the page's hiding of closed requests."""

    queue = django_filters.ChoiceFilter(
        label=gettext_lazy("Queue"),
        choices=Queue.choices,
        method="filter_queue",
        help_text=gettext_lazy(
            "mine: assigned to or raised by the caller; area: every request the caller sees "
            "(the default); overdue: unfinished and past their due time"
        ),
    )

    def filter_queue(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return selectors.in_queue(queryset, user=self.request.user, queue=value)


_POST_EXAMPLE = {
    "customer_code": "440100000001",
    "request_type": "supply",
    "priority": "high",
    "description": "希望增加中华(硬)的货源，每周至少多两条",
    "visit": 1234,
}


class ServiceRequestListCreateAPIView(generics.ListAPIView):
    """GET: the service requests the caller may see, newest first, paged and filtered like the
    service queue page (every status unless `status` is given). POST: raises a request
    (people only; the customer must be in the caller's scope and, for an account manager, one
    of their own)."""

    serializer_class = ServiceRequestSerializer
    filterset_class = ServiceRequestAPIFilterSet
    permission_classes = [permissions.IsAuthenticated, PeopleRaiseRequests]

    def get_queryset(self) -> QuerySet[ServiceRequest]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return ServiceRequest.objects.none()
        # The filter backend applies the filters to the scoped list; an invalid filter value
        # is a 400 here rather than ignored as on the page.
        return (
            ServiceRequest.objects.visible_to(self.request.user)
            .select_related("customer", "raised_by", "assignee", "escalated_to")
            .order_by("-raised_at", "-id")
        )

    @extend_schema(
        # JSON only (DRF's form parsers still read a form body; no client needs one).
        request={"application/json": ServiceRequestCreateSerializer},
        parameters=[
            OpenApiParameter(
                "Location",
                OpenApiTypes.URI,
                OpenApiParameter.HEADER,
                response=[201],
                description=gettext_lazy(
                    "The address of the stored request (`/api/v1/service-requests/{id}/`)."
                ),
            )
        ],
        responses={
            201: ServiceRequestSerializer,
            400: OpenApiResponse(
                description=gettext_lazy(
                    "A field is missing, refused or unknown; `errors` names it "
                    '(`{"description": ["…"]}`). Nothing is stored.'
                )
            ),
            403: OpenApiResponse(
                description=gettext_lazy(
                    "The caller may not raise requests (integration clients) or not for this "
                    "customer."
                )
            ),
            404: OpenApiResponse(
                description=gettext_lazy(
                    "No customer with this code in the caller's scope. Nothing is stored."
                )
            ),
        },
        examples=[OpenApiExample("Request", value=_POST_EXAMPLE, request_only=True)],
    )
    def post(self, request: Request) -> Response:
        body = ServiceRequestCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data: dict[str, Any] = dict(body.validated_data)
        user = request.user
        customer = customer_by_code(user, data.pop("customer_code"))
        if not policies.can_serve(user, customer):
            raise PermissionDenied(_("You cannot raise requests for this customer."))
        raised = services.service_request_raise(
            customer=customer,
            request_type=data["request_type"],
            priority=data["priority"],
            description=data["description"],
            actor=api_actor(request),
            assignee=_assignee(data.get("assignee")),
            visit=_visit(user, data.get("visit")),
            raised_at=data.get("raised_at"),
        )
        location = request.build_absolute_uri(
            reverse("services_api:service_request_detail", kwargs={"pk": raised.pk})
        )
        stored = selectors.request_get(user=user, pk=raised.pk)
        return Response(
            ServiceRequestSerializer(stored, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": location},
        )


class ServiceRequestDetailAPIView(generics.RetrieveAPIView):
    """One service request (404 when it does not exist or its customer lies outside the
    caller's scope)."""

    serializer_class = ServiceRequestSerializer
    filter_backends: list = []

    def get_object(self) -> ServiceRequest:
        return selectors.request_get(user=self.request.user, pk=self.kwargs["pk"])


# --- lookups by natural key ----------------------------------------------------------------


def _assignee(username: str | None) -> User | None:
    """The user called `username` (None when left out). Whether they may take the request is
    the service's rule."""
    username = (username or "").strip()
    if not username:
        return None
    user = User.objects.filter(username=username).first()
    if user is None:
        raise ValidationError({"assignee": [_("No user is called %(name)s.") % {"name": username}]})
    return user


def _visit(user: User, pk: int | None) -> Visit | None:
    """The visit the caller sees with this id. Whether it was to the customer is the
    service's rule."""
    if pk is None:
        return None
    visit = Visit.objects.visible_to(user).filter(pk=pk).first()
    if visit is None:
        raise ValidationError({"visit": [_("No visit with this id in your scope.")]})
    return visit
