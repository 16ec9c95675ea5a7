"""Customers and areas through the API: scoped reads, and the bulk syncs integration clients use.

Reads go through the customer selectors (the scope rule) and the same FilterSet as the list
page; writes go through the services with an `AuditSource.API` actor, so the history says
which client changed what.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.request import Request

from crm.api.exceptions import flatten_errors
from crm.api.sync import BulkSyncAPIView, api_actor
from crm.exceptions import DomainError
from crm.models import Area
from crm.services import area_upsert
from crm.text import is_storable, unstorable_text
from customers import selectors
from customers.api.serializers import (
    MAX_AREAS_PER_SYNC,
    MAX_CUSTOMERS_PER_SYNC,
    AreaSyncItemSerializer,
    AreaSyncRequestSerializer,
    CustomerSerializer,
    CustomerSyncReportSerializer,
    CustomerSyncRequestSerializer,
    SyncReportSerializer,
)
from customers.filtersets import CustomerFilterSet
from customers.models import Customer
from customers.selectors import DUPLICATES_SHOWN
from customers.services import customer_upsert_many

# --- customers (read) --------------------------------------------------------------------


class CustomerListAPIView(generics.ListAPIView):
    """Customers in the caller's scope, paged, filtered and sorted like the list page."""

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

    serializer_class = CustomerSerializer
    filter_backends: list = []

    def get_object(self) -> Customer:
        code = self.kwargs["customer_code"]
        if "\x00" in code:  # no code holds one (and PostgreSQL cannot compare text with it)
            raise Http404
        return selectors.customer_get(user=self.request.user, code=code)


# --- syncs (write) -----------------------------------------------------------------------


class AreaSyncAPIView(BulkSyncAPIView):
    """Creates or updates areas by code. Each area is stored on its own: a bad one is reported
    and the others are kept. Replaying the same body changes nothing. Up to 1,000 areas per
    request."""

    items_key = "areas"
    max_items = MAX_AREAS_PER_SYNC
    request_serializer = AreaSyncRequestSerializer
    report_serializer = SyncReportSerializer

    def sync(self, items: list[Any], request: Request) -> dict[str, Any]:
        actor = api_actor(request)
        # What each area looks like now, to tell created / updated / unchanged apart; kept
        # current as items are stored, so an area sent twice is compared with its new state.
        unstorable = {i: found for i, raw in enumerate(items) if (found := unstorable_text(raw))}
        codes = {
            str(item.get("code") or "").strip()
            for i, item in enumerate(items)
            if isinstance(item, Mapping) and i not in unstorable
        } - {""}
        current = {
            area.code: (area.name, area.parent.code if area.parent else None)
            for area in Area.objects.filter(code__in=codes).select_related("parent")
        }
        report: dict[str, Any] = {"created": 0, "updated": 0, "unchanged": 0, "errors": []}
        for index, raw in enumerate(items):
            item = AreaSyncItemSerializer(data=raw)
            if index in unstorable or not item.is_valid():
                code = raw.get("code") if isinstance(raw, Mapping) else None
                report["errors"].append(
                    {
                        "index": index,
                        "code": None if code is None or not is_storable(code) else str(code),
                        "errors": unstorable.get(index) or flatten_errors(item.errors),
                    }
                )
                continue
            code, name = item.validated_data["code"], item.validated_data["name"]
            parent = item.validated_data.get("parent") or None
            try:
                with transaction.atomic():
                    area_upsert(code=code, name=name, parent_code=parent, actor=actor)
            except DomainError as exc:
                errors = flatten_errors(exc.errors)
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
        return SyncReportSerializer(report).data


class CustomerSyncAPIView(BulkSyncAPIView):
    """Creates or updates customers by `customer_code`. Each customer is all-or-nothing: a bad
    one is reported and the others are stored. Replaying the same body changes nothing. Up to
    1,000 customers per request."""

    items_key = "customers"
    max_items = MAX_CUSTOMERS_PER_SYNC
    request_serializer = CustomerSyncRequestSerializer
    report_serializer = CustomerSyncReportSerializer

    def sync(self, items: list[Any], request: Request) -> dict[str, Any]:
        # An item that is not an object is stored as nothing: an empty row keeps the indexes
        # (and the service's "first at index" messages) those of the request.
        rows = [item if isinstance(item, Mapping) else {} for item in items]
        report = customer_upsert_many(rows=rows, actor=api_actor(request))
        errors = [
            {
                **error,
                "errors": flatten_errors(error["errors"])
                if isinstance(items[error["index"]], Mapping)
                else {"non_field_errors": [_("Each customer must be a JSON object.")]},
            }
            for error in report.errors()
        ]
        warnings = [
            {
                "index": row.index,
                "customer_code": str(rows[row.index].get("customer_code") or "").strip(),
                "code": "possible_duplicate",
                "field": kind,
                "message": _DUPLICATE_MESSAGES[kind] % {"codes": ", ".join(codes)},
                "matches": codes,
            }
            for row in selectors.written_duplicates(
                user=request.user, rows=rows, results=report.results
            )
            for kind in row.keys
            if (codes := [m.code for m in row.matches if kind in m.reasons][:DUPLICATES_SHOWN])
        ]
        return CustomerSyncReportSerializer(
            {**report.counts(), "errors": errors, "warnings": warnings}
        ).data


_DUPLICATE_MESSAGES = {
    "phone": gettext_lazy("Stored; customer(s) %(codes)s have the same phone."),
    "address": gettext_lazy("Stored; customer(s) %(codes)s have the same address."),
}
