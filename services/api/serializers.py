"""API shapes of service requests.

`ServiceRequestSerializer` renders a stored request (list, detail and the answer to a POST).
`ServiceRequestCreateSerializer` checks only the *types* of a POST body: whether a request may
be raised, and with which values, is `services.services.service_request_raise`'s business, so
the API and the page refuse the same things with the same messages.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm.api.serializers import StrictSerializer
from customers.api.serializers import CustomerCodeField
from services.choices import Priority, RequestStatus, RequestType
from services.models import ServiceRequest
from visits.api.serializers import AwareDateTimeField

# --- read ------------------------------------------------------------------------------


class ServiceRequestSerializer(serializers.ModelSerializer):
    """One request as stored. Expects the customer and the people joined (the selectors and
    the list view do it)."""

    number = serializers.CharField(read_only=True, help_text=_("How people quote it: SR-12"))
    customer_code = serializers.CharField(source="customer.customer_code", read_only=True)
    store_name = serializers.CharField(source="customer.store_name", read_only=True)
    request_type = serializers.ChoiceField(choices=RequestType.choices, read_only=True)
    priority = serializers.ChoiceField(choices=Priority.choices, read_only=True)
    status = serializers.ChoiceField(choices=RequestStatus.choices, read_only=True)
    raised_by = serializers.CharField(
        source="raised_by.username", read_only=True, help_text=_("Username of who raised it")
    )
    due_at = serializers.DateTimeField(
        read_only=True,
        help_text=_(
            "When it is due: the time it was raised (or last reopened) plus its type's "
            "service level"
        ),
    )
    assignee = serializers.CharField(
        source="assignee.username", read_only=True, help_text=_("Username of who works on it")
    )
    escalated_to = serializers.CharField(
        source="escalated_to.username",
        read_only=True,
        allow_null=True,
        help_text=_("Username of the supervisor it escalated to when overdue"),
    )
    visit = serializers.IntegerField(
        source="visit_id",
        read_only=True,
        allow_null=True,
        help_text=_("Id of the visit it was raised on, if any"),
    )
    overdue = serializers.SerializerMethodField(
        help_text=_("Unfinished (open, in progress or reopened) and past its due time")
    )

    class Meta:
        model = ServiceRequest
        fields = [
            "id",
            "number",
            "customer_code",
            "store_name",
            "request_type",
            "priority",
            "description",
            "status",
            "raised_by",
            "raised_at",
            "due_at",
            "assignee",
            "resolution_note",
            "resolved_at",
            "closed_at",
            "satisfaction",
            "escalated_at",
            "escalated_to",
            "visit",
            "overdue",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_overdue(self, request: ServiceRequest) -> bool:
        now = self.context.setdefault("now", timezone.now())
        return request.is_overdue(now)


# --- write -----------------------------------------------------------------------------


class ServiceRequestCreateSerializer(StrictSerializer):
    """A customer's request or complaint to record.

    Only the types are checked here; the rules (the customer in the caller's scope, a
    description, an assignee who may take it, a visit to this customer, a time not in the
    future) are checked when the request is stored, and a refusal names the field."""

    customer_code = CustomerCodeField(help_text=_("A customer in the caller's scope"))
    request_type = serializers.ChoiceField(
        choices=RequestType.choices,
        help_text=_("What it is about; the type sets how long it has before it is due"),
    )
    priority = serializers.ChoiceField(choices=Priority.choices)
    description = serializers.CharField(
        allow_blank=True,  # refused by the service with the page's message
        help_text=_("What the customer asks for or complains about (at most 4000 characters)"),
    )
    assignee = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text=_(
            "Username of who is to work on it: the customer's account manager, or a "
            "supervisor or licence officer who sees the customer. When left out, licence "
            "matters go to the customer's licence officer and everything else to its account "
            "manager."
        ),
    )
    visit = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text=_("Id of the visit to this customer the request was raised on"),
    )
    raised_at = AwareDateTimeField(
        required=False,
        allow_null=True,
        help_text=_(
            "When the customer raised it: ISO 8601 with the offset, not in the future. Now "
            "when left out; the due time counts from it."
        ),
    )
