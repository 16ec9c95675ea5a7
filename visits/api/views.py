"""Visits through the API: the scoped list, one visit, and logging a visit (JSON, or
multipart with its photo).

Reads go through the visit selectors (the scope rule) and the FilterSet the visit list page
uses. A POST is checked for its types by `VisitCreateSerializer`; the customer, the planned
visit and the follow-ups' owners are looked up here by their natural keys, and everything
else is `visits.services.visit_log`'s: a refusal is a 400 naming the field.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet, prefetch_related_objects
from django.http import Http404, QueryDict
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, permissions, status
from rest_framework.exceptions import (
    APIException,
    PermissionDenied,
    UnsupportedMediaType,
    ValidationError,
)
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audits.models import Audit, AuditAnswer
from crm.api.parsers import BoundedMultiPartParser, NoNulJSONParser
from crm.api.sync import api_actor
from crm.models import User
from customers.api.lookups import customer_by_code
from customers.models import Customer
from visits import policies, selectors, services
from visits.api.serializers import (
    MultipartVisitSerializer,
    VisitCreateSerializer,
    VisitCreateWithPhotoSerializer,
    VisitSerializer,
)
from visits.filtersets import VisitFilterSet
from visits.models import FollowUp, PlannedVisit, Visit, VisitsConfig


class PeopleLogVisits(permissions.BasePermission):
    """Anyone signed in reads (within their scope); only people log visits: integration
    clients do not visit shops. Which customer a person may log a visit for is
    `policies.can_log_visit`'s, checked once the customer is known."""

    message = gettext_lazy("Integration clients may read visits but not log them.")

    def has_permission(self, request, view) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return not request.user.is_integration_client


def _audits_prefetch() -> Prefetch:
    """The visits' audits with their forms, and their answers with questions and products:
    two queries whatever the number of visits."""
    answers = AuditAnswer.objects.select_related("question", "product").order_by(
        "question__position", "product__code", "id"
    )
    return Prefetch(
        "audits",
        queryset=Audit.objects.select_related("form")
        .order_by("form__code", "id")
        .prefetch_related(Prefetch("answers", queryset=answers)),
    )


def _with_details(visits: QuerySet[Visit]) -> QuerySet[Visit]:
    """What VisitSerializer reads, in five queries whatever the page size."""
    return visits.select_related("plan").prefetch_related(
        Prefetch(
            "follow_ups",
            queryset=FollowUp.objects.select_related("owner").order_by("due_date", "id"),
        ),
        _audits_prefetch(),
    )


_POST_EXAMPLE = {
    "customer_code": "440100000001",
    "visited_at": "2026-10-05T09:30:00+08:00",
    "ended_at": "2026-10-05T09:50:00+08:00",
    "visit_type": "routine",
    "purpose": "例行拜访，了解新品动销",
    "stock_level": "low",
    "price_display": "compliant",
    "customer_requests": "希望增加中华(硬)配额",
    "latitude": 23.134512,
    "longitude": 113.321876,
    "location_accuracy_m": 15,
    "follow_ups": [{"action": "反馈配额申请", "due_date": "2026-10-09"}],
    "client_id": "5b0c1c3e-8f0a-4d52-9a51-2a3d7e0c4f11",
}


_CREATE_RESPONSES = {
    201: VisitSerializer,
    400: OpenApiResponse(
        description=gettext_lazy(
            "A field is missing, refused or unknown; `errors` names it "
            '(`{"visited_at": ["…"]}`). Nothing is stored.'
        )
    ),
    403: OpenApiResponse(
        description=gettext_lazy(
            "The caller may not log visits (integration clients) or not for this customer."
        )
    ),
    404: OpenApiResponse(
        description=gettext_lazy(
            "No customer with this code in the caller's scope. Nothing is stored."
        )
    ),
    409: OpenApiResponse(
        description=gettext_lazy(
            "This draft (`client_id`) was stored already: nothing is stored again; the "
            "`Location` header gives the visit stored the first time (absent when its "
            "customer has left the caller's scope since)."
        )
    ),
}
_LOCATION = OpenApiParameter(
    "Location",
    OpenApiTypes.URI,
    OpenApiParameter.HEADER,
    response=[201, 409],
    description=gettext_lazy("The address of the stored visit (`/api/v1/visits/{id}/`)."),
)


class DuplicateVisitConflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = gettext_lazy("This visit was saved already.")
    default_code = "duplicate_visit"


class _TakesAPhoto:
    """A multipart body may carry a photo of up to the visit settings' size (see
    `BoundedMultiPartParser`); a larger body is refused before it is read."""

    def max_upload_bytes(self) -> int:
        return VisitsConfig.current().photo_max_mb * 1024 * 1024


class VisitListCreateAPIView(_TakesAPhoto, generics.ListAPIView):
    """GET: the visits the caller may see, newest first, paged and filtered like the visit
    list page. POST: logs a visit from a JSON body (people only; the customer must be in the
    caller's scope and, for an account manager, one of their own). A visit with a photo is
    logged through `POST /api/v1/visits/with-photo/` (multipart)."""

    serializer_class = VisitSerializer
    filterset_class = VisitFilterSet
    permission_classes = [permissions.IsAuthenticated, PeopleLogVisits]
    # Multipart is still read here for the clients that sent the photo with the visit before
    # the photo had its own operation; the schema declares JSON only.
    parser_classes = [NoNulJSONParser, BoundedMultiPartParser]

    def get_queryset(self) -> QuerySet[Visit]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Visit.objects.none()
        # The filter backend applies VisitFilterSet (the page's) to the scoped list; an
        # invalid filter value is a 400 here rather than ignored as on the page.
        return _with_details(selectors.visit_list(user=self.request.user))

    @extend_schema(
        request={"application/json": VisitCreateSerializer},
        responses=_CREATE_RESPONSES,
        parameters=[_LOCATION],
        examples=[OpenApiExample("Visit", value=_POST_EXAMPLE, request_only=True)],
    )
    def post(self, request: Request) -> Response:
        multipart = (request.content_type or "").startswith("multipart/")
        return _log_visit(request, MultipartVisitSerializer if multipart else VisitCreateSerializer)


class VisitWithPhotoCreateAPIView(_TakesAPhoto, APIView):
    """Logs a visit with its photo, as a multipart body: the fields of `POST /api/v1/visits/`
    (the follow-ups as one `follow_ups` field holding the JSON list) and a `photo` file (JPEG
    or PNG, checked by its content). The same rules and answers as a visit logged with JSON."""

    permission_classes = [permissions.IsAuthenticated, PeopleLogVisits]
    # JSON is parsed only to be refused by the view (415): a browser session's CSRF check
    # reads the body first, and must answer its 403 rather than the parser's 415.
    parser_classes = [BoundedMultiPartParser, NoNulJSONParser]

    @extend_schema(
        operation_id="visits_with_photo_create",
        tags=["visits"],
        request={"multipart/form-data": VisitCreateWithPhotoSerializer},
        responses=_CREATE_RESPONSES,
        parameters=[_LOCATION],
    )
    def post(self, request: Request) -> Response:
        if not (request.content_type or "").startswith("multipart/form-data"):
            raise UnsupportedMediaType(request.content_type)
        return _log_visit(request, VisitCreateWithPhotoSerializer)


def _log_visit(request: Request, serializer_class: type[VisitCreateSerializer]) -> Response:
    """Checks the body's types, looks the customer, plan and owners up, and stores the visit
    through `services.visit_log`: 201 with the visit and its `Location`."""
    fields, audit_photos = _split_audit_photos(request)
    body = serializer_class(data=fields)
    body.is_valid(raise_exception=True)
    data: dict[str, Any] = dict(body.validated_data)
    user = request.user
    customer = customer_by_code(user, data.pop("customer_code"))
    if not policies.can_log_visit(user, customer):
        raise PermissionDenied(_("You cannot log visits for this customer."))
    plan = _plan(user, customer, data.pop("plan", None))
    follow_ups = _follow_ups(data.pop("follow_ups", None) or [])
    photo = data.pop("photo", None)
    client_id = data.pop("client_id", None)
    audits = data.pop("audits", None) or []
    _check_audit_photos_named(audits, audit_photos)
    try:
        visit = services.visit_log(
            customer=customer,
            data=data,
            actor=api_actor(request),
            follow_ups=follow_ups,
            photo=photo,
            plan=plan,
            client_id=client_id,
            audits=audits,
            audit_photos=audit_photos,
        )
    except services.DuplicateVisit as exc:
        conflict = DuplicateVisitConflict({"client_id": [exc.message]})
        if Visit.objects.visible_to(user).filter(pk=exc.visit.pk).exists():
            conflict.headers = {"Location": _location(request, exc.visit.pk)}
        raise conflict from None
    rendered = VisitSerializer(_visit_get(user, visit.pk), context={"request": request}).data
    return Response(
        rendered, status=status.HTTP_201_CREATED, headers={"Location": _location(request, visit.pk)}
    )


def _visit_get(user: User, pk: int) -> Visit:
    visit = selectors.visit_get(user=user, pk=pk)
    prefetch_related_objects([visit], _audits_prefetch())
    return visit


def _split_audit_photos(request: Request) -> tuple[Any, dict[str, Any]]:
    """A multipart body's fields for the serializer, and the file parts other than the
    visit's `photo`: the photos of photo answers, named by the answers' `value`."""
    files = getattr(request, "FILES", None) or {}
    extra = {name: files[name] for name in files if name != "photo"}
    if not extra:
        return request.data, {}
    # A new QueryDict rather than a copy: copying deep-copies the uploaded files.
    fields = QueryDict(mutable=True)
    for name in request.data:
        if name not in extra:
            fields.setlist(name, request.data.getlist(name))
    return fields, extra


def _check_audit_photos_named(audits: list[dict[str, Any]], photos: dict[str, Any]) -> None:
    """A file part no answer names is refused like an unknown key."""
    named = {
        answer.get("value")
        for audit in audits
        for answer in audit.get("answers", ())
        if isinstance(answer.get("value"), str)
    }
    unknown = sorted(set(photos) - named)
    if unknown:
        raise ValidationError({name: [_("No photo answer names this file.")] for name in unknown})


def _location(request: Request, pk: int) -> str:
    return request.build_absolute_uri(reverse("visits_api:visit_detail", kwargs={"pk": pk}))


class VisitDetailAPIView(generics.RetrieveAPIView):
    """One visit (404 when it does not exist or its customer lies outside the caller's scope)."""

    serializer_class = VisitSerializer
    filter_backends: list = []

    def get_object(self) -> Visit:
        return _visit_get(self.request.user, self.kwargs["pk"])


# --- lookups by natural key ----------------------------------------------------------------


def _plan(user: User, customer: Customer, pk: int | None) -> PlannedVisit | None:
    if pk is None:
        return None
    try:
        plan = selectors.planned_visit_get(user=user, pk=pk)
    except Http404:
        plan = None
    if plan is None or plan.customer_id != customer.pk:
        raise ValidationError({"plan": [_("No planned visit with this id for this customer.")]})
    return plan


def _follow_ups(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The follow-ups with their owners as users (the caller's when left out). Whether an
    owner may own one for this customer is the service's rule."""
    names = {str(item.get("owner") or "").strip() for item in items} - {""}
    users = {user.username: user for user in User.objects.filter(username__in=names)}
    problems = [
        _("Follow-up %(n)d: no user is called %(name)s.") % {"n": number, "name": name}
        for number, item in enumerate(items, start=1)
        if (name := str(item.get("owner") or "").strip()) and name not in users
    ]
    if problems:
        raise ValidationError({"follow_ups": problems})
    return [
        {
            "action": item["action"],
            "due_date": item["due_date"],
            "owner": users.get(str(item.get("owner") or "").strip()),
        }
        for item in items
    ]
