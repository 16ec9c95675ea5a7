"""API shapes of supply allocation.

The plan sync's serializers only *document* its body in the OpenAPI schema: each plan is
checked by `allocation.services.plan_clean` (no serializer and no query per item). The
allocations list is built from tuples (`allocation.api.views`): its serializers document the
page and its rows, and never run.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from allocation.choices import SYNC_STATUSES, PlanStatus
from allocation.services import (
    MAX_PLANS_PER_SYNC,
    MAX_QUOTA,
    MAX_SUPPLY,
    STRUCTURE_CLASSES,
)
from crm.api.serializers import StrictSerializer
from customers.api.serializers import CustomerCodeField
from customers.choices import BusinessFormat, MarketType

# The statuses a sync may give a plan, as (value, label): named once in the schema
# (SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]: AllocationPlanSyncStatusEnum).
SYNC_STATUS_CHOICES = [(status.value, status.label) for status in SYNC_STATUSES]

# --- the plan sync (documentation) ---------------------------------------------------------


class PlanSyncItemSerializer(StrictSerializer):
    """One plan of a plan sync, by `code`. A new code is version 1; a published plan sent
    with another rule becomes a new version (the old quotas stay); sent as it is stored, it is
    `unchanged`. An unknown key is refused."""

    code = serializers.RegexField(
        r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
        max_length=64,
        help_text=_("The plan's code in the ordering system; one plan, many versions"),
    )
    product_code = serializers.CharField(max_length=32, help_text=_("The product allocated"))
    starts_on = serializers.DateField(help_text=_("First day of the period"))
    ends_on = serializers.DateField(
        help_text=_("Last day of the period (not before starts_on, at most a year after)")
    )
    quotas = serializers.DictField(
        child=serializers.IntegerField(min_value=0, max_value=MAX_QUOTA),
        help_text=_(
            'Cartons per shop for the period by grade label ("1" to "99"), at least one '
            "above 0; a grade left out gets 0 (its shops get no quota)"
        ),
    )
    structure_classes = serializers.ListField(
        child=serializers.IntegerField(
            min_value=STRUCTURE_CLASSES.start, max_value=STRUCTURE_CLASSES.stop - 1
        ),
        required=False,
        help_text=_("Eligible structure classes; empty or left out: every class"),
    )
    market_types = serializers.ListField(
        child=serializers.ChoiceField(choices=MarketType.choices),
        required=False,
        help_text=_("Eligible market types; empty or left out: every type"),
    )
    business_formats = serializers.ListField(
        child=serializers.ChoiceField(choices=BusinessFormat.choices),
        required=False,
        help_text=_("Eligible business formats; empty or left out: every format"),
    )
    areas = serializers.ListField(
        child=serializers.CharField(max_length=20),
        required=False,
        help_text=_("Eligible area codes (with the areas below them); empty: every area"),
    )
    supply = serializers.IntegerField(
        min_value=1,
        max_value=MAX_SUPPLY,
        required=False,
        allow_null=True,
        help_text=_(
            "Total cartons for the plan; when the eligible shops' quotas add up to more, "
            "every quota is scaled down (whole cartons). Left out or null: no limit"
        ),
    )
    status = serializers.ChoiceField(
        choices=SYNC_STATUS_CHOICES,
        required=False,
        default=PlanStatus.DRAFT.value,
        help_text=_(
            "draft (default); published stores every eligible shop's quota and is refused "
            "while the grades of the start month are not published; closed ends a published "
            "plan (sent with its rule unchanged)"
        ),
    )
    name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class PlanSyncRequestSerializer(StrictSerializer):
    plans = PlanSyncItemSerializer(
        many=True,
        max_length=MAX_PLANS_PER_SYNC,
        help_text=_("At most 200 per request"),
    )


class PlanSyncErrorSerializer(serializers.Serializer):
    """One message about a refused plan (a plan refused for several fields has several)."""

    index = serializers.IntegerField(help_text=_("Position in the request (from 0)"))
    code = serializers.CharField(allow_null=True, help_text=_("The plan's code, as sent"))
    field = serializers.CharField(
        allow_null=True, help_text=_("The field at fault; null for the plan as a whole")
    )
    message = serializers.CharField()


class PlanSyncReportSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField(
        help_text=_("Drafts changed, new versions, plans published or closed")
    )
    unchanged = serializers.IntegerField()
    errors = PlanSyncErrorSerializer(many=True)


# --- the allocations in force (documentation) ----------------------------------------------


class AllocationSerializer(serializers.Serializer):
    """A shop's quota in a published plan in force on the day asked."""

    plan = serializers.CharField(help_text=_("The plan's code"))
    product_code = serializers.CharField()
    customer_code = CustomerCodeField()
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    grade = serializers.IntegerField(help_text=_("The shop's grade in the plan's grade month"))
    quota = serializers.IntegerField(help_text=_("Cartons for the period"))
    ordered = serializers.IntegerField(
        help_text=_("Cartons ordered in the period (cancelled and returned orders left out)")
    )
    remaining = serializers.IntegerField(help_text=_("quota − ordered; negative when over"))


class AllocationPageSerializer(serializers.Serializer):
    on = serializers.DateField(help_text=_("The day asked (today when left out)"))
    next = serializers.URLField(allow_null=True, help_text=_("The next page; null on the last one"))
    results = AllocationSerializer(many=True)
