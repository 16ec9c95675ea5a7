"""API shapes of the forms due at a shop (`GET /api/v1/audit-forms/?customer=CODE`): each
form version with its questions as asked there (a per-product question once per product,
with the same id and its `product_code`)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from audits.choices import Frequency, PriceUnit, QuestionKind
from audits.due import DueQuestion

_DECIMAL = {"max_digits": 10, "decimal_places": 2, "read_only": True, "allow_null": True}


class DueConditionSerializer(serializers.Serializer):
    question = serializers.IntegerField(
        read_only=True, help_text=_("Id of the earlier question this one depends on")
    )
    values = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text=_(
            "The question applies only when that answer is one of these (yes / no answers as "
            '"yes" / "no"; for a per-product question, the answer for the same product); '
            "otherwise it must be left out"
        ),
    )


class DueQuestionSerializer(serializers.Serializer):
    """One question as asked at the shop."""

    id = serializers.IntegerField(source="question.pk", read_only=True)
    type = serializers.ChoiceField(
        source="question.kind", choices=QuestionKind.choices, read_only=True
    )
    label = serializers.CharField(source="question.label", read_only=True)
    required = serializers.BooleanField(source="question.required", read_only=True)
    product_code = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text=_("Per-product questions: the product asked about (null otherwise)"),
    )
    choices = serializers.ListField(
        source="question.choices",
        child=serializers.CharField(),
        read_only=True,
        help_text=_("Single and multiple choice: the choices offered"),
    )
    minimum = serializers.DecimalField(
        source="question.minimum",
        help_text=_("Numbers, facings and prices: the smallest value taken (prices in the unit)"),
        **_DECIMAL,
    )
    maximum = serializers.DecimalField(
        source="question.maximum", help_text=_("The largest value taken"), **_DECIMAL
    )
    price_unit = serializers.ChoiceField(
        source="question.price_unit",
        choices=PriceUnit.choices,
        allow_blank=True,
        read_only=True,
        help_text=_('Prices: whether the price is asked per pack or per carton ("" otherwise)'),
    )
    suggested_retail_price = serializers.DecimalField(
        source="product.suggested_retail_price",
        help_text=_(
            "Prices: the product's suggested retail price per carton; an answer under half "
            'of it or over twice it needs "confirmed": true'
        ),
        **_DECIMAL,
    )
    condition = serializers.SerializerMethodField()

    @extend_schema_field(DueConditionSerializer(allow_null=True))
    def get_condition(self, asked: DueQuestion) -> dict[str, Any] | None:
        question = asked.question
        if question.condition_question_id is None:
            return None
        return {
            "question": question.condition_question_id,
            "values": [str(value) for value in question.condition_values],
        }

    def to_representation(self, instance: DueQuestion) -> dict[str, Any]:
        # `product.suggested_retail_price` of a question without a product is null.
        data = super().to_representation(instance)
        if instance.product is None:
            data["suggested_retail_price"] = None
        return data


class DueFormSerializer(serializers.Serializer):
    """A form version due at the shop, with its questions in order."""

    id = serializers.IntegerField(
        source="form.pk", read_only=True, help_text=_("The version's id: send it as `form`")
    )
    code = serializers.CharField(source="form.code", read_only=True)
    version = serializers.IntegerField(source="form.version", read_only=True)
    name = serializers.CharField(source="form.name", read_only=True)
    frequency = serializers.ChoiceField(
        source="form.frequency", choices=Frequency.choices, read_only=True
    )
    questions = DueQuestionSerializer(many=True, read_only=True)
