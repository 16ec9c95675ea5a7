"""Supply allocation through the API: the plan sync the ordering system sends its plans by,
and the quotas in force on a day it pulls back.

The sync goes through `allocation.services.plan_sync_many` with an API actor (the history
names the client). The list goes through `allocation.selectors.allocations_on` (the scope
rule) and is built for the ordering system's nightly pull of every shop's quotas (200,000
shops × 20 plans): pages by quota id (keyset: each page is an index range, never an OFFSET),
up to 5,000 rows a page, read as tuples — each row's plan, product and period come from the
few plans in force, not from a join or a serializer per row. Two queries a page.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from allocation import selectors
from allocation.api.serializers import (
    AllocationPageSerializer,
    PlanSyncReportSerializer,
    PlanSyncRequestSerializer,
)
from allocation.services import MAX_PLANS_PER_SYNC, plan_sync_many
from crm.api.sync import BulkSyncAPIView, api_actor

# --- the plan sync -------------------------------------------------------------------------

# The example, as the ordering system sends it.
_PLAN_EXAMPLE = {
    "plans": [
        {
            "code": "2026-12-ZHZ",
            "product_code": "6901028001",
            "starts_on": "2026-12-01",
            "ends_on": "2026-12-31",
            "quotas": {"1": 30, "2": 20, "3": 10},
            "structure_classes": [1, 2, 3],
            "supply": 5000,
            "status": "published",
        }
    ]
}
_PLAN_REPORT_EXAMPLE = {
    "created": 1,
    "updated": 0,
    "unchanged": 0,
    "errors": [
        {
            "index": 1,
            "code": "2026-12-YX",
            "field": "starts_on",
            "message": "The grades of 2026-12 are not published: publish them on the grading "
            "overview first (a plan reads the grades of its start month).",
        }
    ],
}


class PlanSyncAPIView(BulkSyncAPIView):
    """Creates, changes, publishes or closes allocation plans by `code`.

    A new code is version 1 (a draft, or published at once); a draft is changed; a published
    plan sent with another rule becomes a new version, published at once or a draft (the old
    version's quotas stay visible), and sent as it is stored it is `unchanged`; `closed` ends a
    published plan. Publishing stores every eligible shop's quota from the published grades of
    the start month: a plan whose start month has no published grades is refused when its
    status is `published`. Each plan is stored whole or not at all: a bad one is reported under
    `errors` (one row per field at fault) and the others are stored. Up to 200 plans per
    request.
    """

    items_key = "plans"
    max_items = MAX_PLANS_PER_SYNC
    request_serializer = PlanSyncRequestSerializer
    report_serializer = PlanSyncReportSerializer
    schema_examples = [
        OpenApiExample("Plans", value=_PLAN_EXAMPLE, request_only=True),
        OpenApiExample("Report", value=_PLAN_REPORT_EXAMPLE, response_only=True),
    ]

    def sync(self, items: list[Any], request: Request) -> dict[str, Any]:
        return plan_sync_many(rows=items, actor=api_actor(request)).as_dict()


# --- the allocations in force --------------------------------------------------------------

PAGE_SIZE = 1000
MAX_PAGE_SIZE = 5000


class AllocationFilterSerializer(serializers.Serializer):
    """The query string of the allocations list, checked (a bad value is a 400 naming it)."""

    on = serializers.DateField(required=False, input_formats=["iso-8601"])
    customer = serializers.CharField(required=False, max_length=32)
    product = serializers.CharField(required=False, max_length=32)
    cursor = serializers.IntegerField(required=False, min_value=0)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PAGE_SIZE)


_PARAMETERS = [
    OpenApiParameter(
        "on",
        OpenApiTypes.DATE,
        description=_("The day (YYYY-MM-DD): the plans in force on it. Today when left out."),
    ),
    OpenApiParameter(
        "customer",
        {"type": "string", "maxLength": 32},
        description=_("A customer code: that shop's quotas only"),
    ),
    OpenApiParameter(
        "product",
        {"type": "string", "maxLength": 32},
        description=_("A product code: that product's plans only"),
    ),
    OpenApiParameter(
        "cursor",
        {"type": "integer", "minimum": 0},
        description=_(
            "Where the page starts: leave it out for the first page, then follow `next` "
            "(which carries it)"
        ),
    ),
    OpenApiParameter(
        "page_size",
        {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
        description=_("Rows per page: 1,000 by default, at most 5,000"),
    ),
]


class AllocationListAPIView(APIView):
    """Every shop's quota in the published plans in force on a day (`on`, today by default),
    in the caller's scope (integration clients and administrators: every shop; supervisors
    and licence officers: their areas; account managers: their own shops). A shop with no
    quota in a plan has no row for it. Paged by `next` until it is null; the rows come in a
    fixed order, so walking the pages reads each row once."""

    @extend_schema(
        operation_id="allocations_list",
        parameters=_PARAMETERS,
        responses={
            200: AllocationPageSerializer,
            400: OpenApiResponse(description=_("A query value is refused; `errors` names it.")),
        },
    )
    def get(self, request: Request) -> Response:
        # A parameter sent empty (`?customer=`) is a parameter left out.
        given = {key: value for key, value in request.query_params.items() if value != ""}
        query = AllocationFilterSerializer(data=given)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        on: dt.date = params.get("on") or timezone.localdate()
        size = params.get("page_size", PAGE_SIZE)
        plans, quotas = selectors.allocations_on(
            user=request.user,
            on=on,
            customer_code=params.get("customer"),
            product_code=params.get("product"),
        )
        if "cursor" in params:
            quotas = quotas.filter(pk__gt=params["cursor"])
        # One row past the page tells whether there is a next one.
        rows = list(
            quotas.values_list(
                "pk", "plan_id", "customer__customer_code", "grade", "quota", "ordered"
            )[: size + 1]
        )
        more = len(rows) > size
        del rows[size:]
        by_plan = {
            plan.pk: (
                plan.code,
                plan.product.code,
                plan.starts_on.isoformat(),
                plan.ends_on.isoformat(),
            )
            for plan in plans
        }
        results = []
        for _pk, plan_id, customer_code, grade, quota, ordered in rows:
            code, product_code, starts_on, ends_on = by_plan[plan_id]
            results.append(
                {
                    "plan": code,
                    "product_code": product_code,
                    "customer_code": customer_code,
                    "starts_on": starts_on,
                    "ends_on": ends_on,
                    "grade": grade,
                    "quota": quota,
                    "ordered": ordered,
                    "remaining": quota - ordered,
                }
            )
        following = None
        if more:
            # The day is pinned in the link: a walk that passes midnight stays on its day.
            url = replace_query_param(request.build_absolute_uri(), "on", on.isoformat())
            following = replace_query_param(url, "cursor", rows[-1][0])
        return Response({"on": on, "next": following, "results": results})
