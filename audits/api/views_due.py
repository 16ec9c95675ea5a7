"""The forms due at a shop now, for a phone or another client to show before the visit is
sent (`audits.due.forms_due`). The customer must be in the caller's scope (integration
clients see every shop); an unknown code and one out of scope read the same (404)."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audits.api.serializers_due import DueFormSerializer
from audits.due import forms_due
from customers.selectors import customer_get


class DueQuerySerializer(serializers.Serializer):
    """The query string, checked (a missing or bad value is a 400 naming it)."""

    customer = serializers.CharField(max_length=32)


class DueFormListAPIView(APIView):
    """The audit forms due at a shop now (its targeting, how often each is due, the shop's
    products for the per-product questions), each with its questions as asked there. The
    answers go with the visit: `POST /api/v1/visits/` with `audits`."""

    @extend_schema(
        operation_id="audit_forms_due",
        tags=["audits"],
        parameters=[
            OpenApiParameter(
                "customer",
                {"type": "string", "maxLength": 32},
                required=True,
                description=gettext_lazy("The shop's customer code (in the caller's scope)"),
            )
        ],
        responses={
            200: DueFormSerializer(many=True),
            400: OpenApiResponse(
                description=gettext_lazy("`customer` is missing or refused; `errors` names it.")
            ),
            404: OpenApiResponse(
                description=gettext_lazy("No customer with this code in the caller's scope.")
            ),
        },
    )
    def get(self, request: Request) -> Response:
        given = {key: value for key, value in request.query_params.items() if value != ""}
        query = DueQuerySerializer(data=given)
        query.is_valid(raise_exception=True)
        try:
            customer = customer_get(user=request.user, code=query.validated_data["customer"])
        except Http404:
            raise NotFound({"customer": [_("No customer with this code in your scope.")]}) from None
        due = forms_due(customer=customer)
        return Response(DueFormSerializer(due, many=True).data)
