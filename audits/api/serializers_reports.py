"""Serializers of the price monitoring endpoint: the query (checked, a bad value is a 400
naming it) and one row per product (the OpenAPI schema's)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from audits.views_reports import month_param


class PriceMonitoringQuerySerializer(serializers.Serializer):
    month = serializers.CharField(max_length=7, help_text=_("The month, YYYY-MM"))
    area = serializers.CharField(
        required=False, max_length=32, help_text=_("An area code: that area and the areas below")
    )

    def validate_month(self, value: str):
        month = month_param(value)
        if month is None:
            raise serializers.ValidationError(_("Give the month as YYYY-MM, e.g. 2026-11."))
        return month


class PriceMonitoringRowSerializer(serializers.Serializer):
    product_code = serializers.CharField()
    observations = serializers.IntegerField(
        help_text=_("Shops whose price was seen that month (each shop once, its latest price)")
    )
    median = serializers.DecimalField(
        max_digits=10, decimal_places=2, allow_null=True, help_text=_("Per carton")
    )
    min = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True)
    max = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True)
    suggested_retail_price = serializers.DecimalField(
        max_digits=10, decimal_places=2, allow_null=True, help_text=_("Per carton")
    )
    share_above = serializers.FloatField(
        allow_null=True,
        help_text=_(
            "Share (0-1) of those shops above the suggested retail price; null when the "
            "product has none"
        ),
    )
