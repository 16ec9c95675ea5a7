"""Price monitoring through the API: `GET /api/v1/price-monitoring/?month=YYYY-MM[&area=CODE]`,
per product over the caller's scope (integration clients: every shop), from
`audits.reports.price_monitoring`."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audits import policies, reports
from audits.api.serializers_reports import (
    PriceMonitoringQuerySerializer,
    PriceMonitoringRowSerializer,
)
from crm.api.schema import AutoSchema
from crm.models import Area

_FIELDS = list(PriceMonitoringRowSerializer().fields)


class _OnePageSchema(AutoSchema):
    """A list that is not paged: no "no such page" 404."""

    def _error_responses(self) -> dict[str, str]:
        errors = super()._error_responses()
        errors.pop("404", None)
        return errors


class PriceMonitoringAPIView(APIView):
    """Per product seen in the month: the shops observed, the median, lowest and highest
    retail price per carton, the suggested retail price and the share of the shops above
    it — by area (with the areas below) when `area` is given, over the caller's scope
    (integration clients and administrators: every shop; supervisors: their areas; account
    managers: their shops). Not paged: one row per product."""

    schema = _OnePageSchema()

    @extend_schema(
        operation_id="price_monitoring_list",
        parameters=[
            OpenApiParameter("month", str, required=True, description=_("The month, YYYY-MM")),
            OpenApiParameter(
                "area", str, description=_("An area code: that area and the areas below")
            ),
        ],
        responses={
            200: PriceMonitoringRowSerializer(many=True),
            400: OpenApiResponse(description=_("`month` or `area` is refused; `errors` names it.")),
            403: OpenApiResponse(description=_("The caller may not read the audit reports.")),
        },
    )
    def get(self, request: Request) -> Response:
        if not policies.can_read_reports(request.user):
            raise PermissionDenied
        given = {k: v for k, v in request.query_params.items() if v != ""}
        query = PriceMonitoringQuerySerializer(data=given)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        area = None
        if "area" in params:
            area = Area.objects.visible_to(request.user).filter(code=params["area"]).first()
            if area is None:
                raise ValidationError({"area": [_("No area with this code in your scope.")]})
        rows = reports.price_monitoring(request.user, params["month"], area=area)
        return Response(
            PriceMonitoringRowSerializer([{k: r[k] for k in _FIELDS} for r in rows], many=True).data
        )
