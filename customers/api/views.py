"""Customers and areas through the API: scoped reads, and the bulk syncs integration clients use.

Reads go through the customer selectors (the scope rule) and the same FilterSet as the list
page; writes go through the services with an `AuditSource.API` actor, so the history says
which client changed what.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, permissions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.api.schema import AutoSchema
from crm.api.sync import IsSyncClient, SyncBodyMixin, api_actor, field_errors
from crm.exceptions import DomainError
from crm.models import Area
from crm.services import area_upsert
from crm.text import is_storable, unstorable_text
from customers import selectors
from customers.api.serializers import (
    AreaSyncItemSerializer,
    AreaSyncRequestSerializer,
    CustomerSerializer,
    CustomerSyncRequestSerializer,
    SyncReportSerializer,
)
from customers.filtersets import CustomerFilterSet
from customers.models import Customer
from customers.services import customer_upsert_many

_SYNC_RESPONSES = {
    200: SyncReportSerializer,
    400: OpenApiResponse(description=gettext_lazy("The body is not of the documented shape.")),
    403: OpenApiResponse(description=gettext_lazy("The caller may not sync data.")),
}


# --- customers (read) --------------------------------------------------------------------


class CustomerListAPIView(generics.ListAPIView):
    """Customers in the caller's scope, paged, filtered and sorted like the list page."""

    schema = AutoSchema()
    serializer_class = CustomerSerializer
    filterset_class = CustomerFilterSet

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Customer.objects.none()
        # Filters are applied by the filter backend, with the FilterSet the page uses. The
        # licence officer is a reference in the static block: joined here, not read per row.
        return selectors.customer_list(user=self.request.user).select_related("license_officer")


@extend_schema(
    parameters=[OpenApiParameter("customer_code", OpenApiTypes.STR, OpenApiParameter.PATH)]
)
class CustomerDetailAPIView(generics.RetrieveAPIView):
    """One customer by code (404 when it does not exist or lies outside the caller's scope)."""

    schema = AutoSchema()
    serializer_class = CustomerSerializer
    filter_backends: list = []

    def get_object(self) -> Customer:
        code = self.kwargs["customer_code"]
        if "\x00" in code:  # no code holds one (and PostgreSQL cannot compare text with it)
            raise Http404
        return selectors.customer_get(user=self.request.user, code=code)


# --- syncs (write) -----------------------------------------------------------------------


class AreaSyncAPIView(SyncBodyMixin, APIView):
    """Creates or updates areas by code. Each area is stored on its own: a bad one is reported
    and the others are kept. Replaying the same body changes nothing."""

    schema = AutoSchema()
    permission_classes = [permissions.IsAuthenticated, IsSyncClient]
    # JSON only (SyncBodyMixin): floats reach the catalogue, which reads them exactly.

    @extend_schema(request=AreaSyncRequestSerializer, responses=_SYNC_RESPONSES)
    def post(self, request: Request) -> Response:
        body = AreaSyncRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        items = body.validated_data["areas"]
        actor = api_actor(request)

        # What each area looks like now, to tell created / updated / unchanged apart; kept
        # current as items are stored, so an area sent twice is compared with its new state.
        unstorable = {i: found for i, raw in enumerate(items) if (found := unstorable_text(raw))}
        codes = {
            str(item.get("code") or "").strip()
            for i, item in enumerate(items)
            if i not in unstorable
        } - {""}
        current = {
            area.code: (area.name, area.parent.code if area.parent else None)
            for area in Area.objects.filter(code__in=codes).select_related("parent")
        }
        report: dict[str, Any] = {"created": 0, "updated": 0, "unchanged": 0, "errors": []}
        for index, raw in enumerate(items):
            item = AreaSyncItemSerializer(data=raw)
            if index in unstorable or not item.is_valid():
                code = raw.get("code")
                report["errors"].append(
                    {
                        "index": index,
                        "code": None if code is None or not is_storable(code) else str(code),
                        "errors": unstorable.get(index) or field_errors(item.errors),
                    }
                )
                continue
            code, name = item.validated_data["code"], item.validated_data["name"]
            parent = item.validated_data.get("parent") or None
            try:
                with transaction.atomic():
                    area_upsert(code=code, name=name, parent_code=parent, actor=actor)
            except DomainError as exc:
                errors = field_errors(exc.errors)
            except IntegrityError:
                # Another request created the same code meanwhile: nothing of this item stuck.
                errors = {
                    "non_field_errors": [_("Another request changed this area; send it again.")]
                }
            else:
                before = current.get(code)
                outcome = (
                    "created"
                    if before is None
                    else "unchanged"
                    if before == (name, parent)
                    else "updated"
                )
                report[outcome] += 1
                current[code] = (name, parent)
                continue
            report["errors"].append({"index": index, "code": code, "errors": errors})
        return Response(SyncReportSerializer(report).data)


class CustomerSyncAPIView(SyncBodyMixin, APIView):
    """Creates or updates customers by `customer_code`. Each customer is all-or-nothing: a bad
    one is reported and the others are stored. Replaying the same body changes nothing."""

    schema = AutoSchema()
    permission_classes = [permissions.IsAuthenticated, IsSyncClient]
    # JSON only (SyncBodyMixin): floats reach the catalogue, which reads them exactly.

    @extend_schema(request=CustomerSyncRequestSerializer, responses=_SYNC_RESPONSES)
    def post(self, request: Request) -> Response:
        body = CustomerSyncRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        report = customer_upsert_many(
            rows=body.validated_data["customers"], actor=api_actor(request)
        )
        errors = [{**error, "errors": field_errors(error["errors"])} for error in report.errors()]
        return Response(SyncReportSerializer({**report.counts(), "errors": errors}).data)
