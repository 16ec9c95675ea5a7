"""Services: what the distributor does for its retailers besides supplying them.

- `ServicesConfig` holds every number of the service rules (one row): the service level of each
  request type, when overdue requests escalate, how often family service is due, how early
  holiday greetings are due and to whom;
- `Holiday` is the calendar of holidays greetings are sent for (edited by administrators);
- `ServiceRequest` is a customer's request or complaint, raised by an account manager (on a
  visit or not), worked through open → in progress → resolved → closed (or reopened);
- `ServiceActivity` is one care or value-added service done for a customer: family service,
  a holiday or birthday greeting, renovation or display guidance, attending a training session;
- `TrainingSession` is a retailer training session; its attendees each get a training activity.

Requests and activities belong to the customer: whoever sees the customer (the one scope rule)
sees them.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from crm.choices import AuditSource
from crm.displays import ChoiceDisplays
from crm.models import ScopePaths, SettingsRow
from crm.querysets import ScopedQuerySet
from services.choices import (
    ActivityKind,
    GreetingAudience,
    Priority,
    RequestStatus,
    RequestType,
)

CUSTOMER_SCOPE = ScopePaths(area="customer__area", owner="customer__account_manager")


def _hours(label: str, default: int) -> models.PositiveIntegerField:
    return models.PositiveIntegerField(
        label, default=default, validators=[MinValueValidator(1), MaxValueValidator(24 * 90)]
    )


class ServicesConfig(SettingsRow):
    """The service settings administrators change. One row (pk=1); `ServicesConfig.current()`.

    Defaults: a delivery problem is due in 24 hours, supply and complaints in 48, price and
    other requests in 72, licence matters in 120; an overdue request escalates to the
    supervisor at once; family service is due every 30 days; holiday greetings are due from
    3 days before the holiday, for customers marked for family service and core customers; a
    closed request may be reopened for 30 days.
    """

    sla_supply_hours = _hours(_("supply: hours to resolve"), 48)
    sla_price_hours = _hours(_("price: hours to resolve"), 72)
    sla_delivery_hours = _hours(_("delivery: hours to resolve"), 24)
    sla_licence_hours = _hours(_("licence: hours to resolve"), 120)
    sla_complaint_hours = _hours(_("complaint about staff: hours to resolve"), 48)
    sla_other_hours = _hours(_("other: hours to resolve"), 72)
    escalate_after_hours = models.PositiveIntegerField(
        _("escalate after (hours overdue)"),
        default=0,
        validators=[MaxValueValidator(24 * 30)],
        help_text=_(
            "An unresolved request escalates to the supervisor this long after its due time."
        ),
    )
    reopen_days = models.PositiveSmallIntegerField(
        _("closed requests may be reopened for (days)"),
        default=30,
        validators=[MaxValueValidator(365)],
    )
    family_interval_days = models.PositiveSmallIntegerField(
        _("family service every (days)"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(366)],
    )
    greeting_lead_days = models.PositiveSmallIntegerField(
        _("holiday greetings due from (days before)"),
        default=3,
        validators=[MaxValueValidator(30)],
    )
    greeting_audience = models.CharField(
        _("holiday greetings for"),
        max_length=10,
        choices=GreetingAudience.choices,
        default=GreetingAudience.CARE_AND_CORE,
    )

    class Meta:
        verbose_name = _("service settings")
        verbose_name_plural = _("service settings")

    def sla_hours(self, request_type: str) -> int:
        """Hours a request of this type has before it is due."""
        return getattr(self, f"sla_{RequestType(request_type).value}_hours")

    @staticmethod
    def sla_field(request_type: str) -> str:
        return f"sla_{RequestType(request_type).value}_hours"


class Holiday(models.Model):
    """A holiday customers are greeted for (春节, 中秋节 …), on its date in one year."""

    date = models.DateField(_("date"), unique=True)
    name_en = models.CharField(_("name (English)"), max_length=60)
    name_zh = models.CharField(_("name (Chinese)"), max_length=30)

    class Meta:
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}"

    @property
    def name(self) -> str:
        return self.name_zh if (get_language() or "").startswith("zh") else self.name_en

    @property
    def occasion(self) -> str:
        """The key greetings for this holiday are logged under (one per customer)."""
        return f"holiday:{self.date:%Y-%m-%d}"


class ServiceRequest(ChoiceDisplays, models.Model):
    """A customer's request or complaint and how it was dealt with."""

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="service_requests",
    )
    visit = models.ForeignKey(
        "visits.Visit",
        verbose_name=_("raised on visit"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="service_requests",
    )
    request_type = models.CharField(_("type"), max_length=12, choices=RequestType.choices)
    priority = models.CharField(
        _("priority"), max_length=8, choices=Priority.choices, default=Priority.NORMAL
    )
    description = models.TextField(_("description"))
    status = models.CharField(
        _("status"), max_length=12, choices=RequestStatus.choices, default=RequestStatus.OPEN
    )
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("raised by"),
        on_delete=models.PROTECT,
        related_name="service_requests_raised",
    )
    raised_at = models.DateTimeField(_("raised at"), default=timezone.now)
    due_at = models.DateTimeField(_("due"))
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        on_delete=models.PROTECT,
        related_name="service_requests_assigned",
    )
    resolution_note = models.TextField(_("resolution"), blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    satisfaction = models.PositiveSmallIntegerField(
        _("satisfaction (1-5)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    escalated_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("escalated to"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="service_requests_escalated",
    )
    source = models.CharField(
        _("source"), max_length=16, choices=AuditSource.choices, default=AuditSource.PAGE
    )
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    objects = ScopedQuerySet.as_manager()
    scope_paths = CUSTOMER_SCOPE

    class Meta:
        verbose_name = _("service request")
        verbose_name_plural = _("service requests")
        ordering = ["-raised_at", "-id"]
        indexes = [
            models.Index(fields=["status", "due_at"], name="services_request_due_idx"),
            models.Index(fields=["assignee", "status"], name="services_request_assignee_idx"),
            models.Index(fields=["closed_at"], name="services_request_closed_idx"),
            # The queues (closed requests left out, the most pressing first): their page walks
            # the open requests by due time (a district's queue: 21 → 5 ms for its rows).
            models.Index(
                fields=["due_at", "id"],
                condition=~models.Q(status="closed"),
                name="services_request_open_due_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(satisfaction__isnull=True)
                | models.Q(satisfaction__gte=1, satisfaction__lte=5),
                name="services_request_satisfaction_1_5",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=RequestStatus.values),
                name="services_request_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"SR-{self.pk} {self.get_request_type_display()}"

    @property
    def number(self) -> str:
        return f"SR-{self.pk}"

    def is_overdue(self, now: dt.datetime | None = None) -> bool:
        from services.workflow import is_overdue

        return is_overdue(self.status, self.due_at, now or timezone.now())


class TrainingSession(ChoiceDisplays, models.Model):
    """A retailer training session (零售户培训) and who held it; attendees are activities."""

    title = models.CharField(_("title"), max_length=120)
    topic = models.TextField(_("topic"), blank=True)
    held_on = models.DateField(_("held on"))
    location = models.CharField(_("location"), max_length=200, blank=True)
    area = models.ForeignKey(
        "crm.Area", verbose_name=_("area"), on_delete=models.PROTECT, related_name="+"
    )
    held_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("held by"),
        on_delete=models.PROTECT,
        related_name="training_sessions",
    )
    created_at = models.DateTimeField(_("logged at"), default=timezone.now, editable=False)

    objects = ScopedQuerySet.as_manager()
    scope_paths = ScopePaths(area="area")

    class Meta:
        verbose_name = _("training session")
        verbose_name_plural = _("training sessions")
        ordering = ["-held_on", "-id"]

    def __str__(self) -> str:
        return f"{self.held_on:%Y-%m-%d} {self.title}"


class ServiceActivity(ChoiceDisplays, models.Model):
    """One care or value-added service done for a customer."""

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="service_activities",
    )
    kind = models.CharField(_("service"), max_length=18, choices=ActivityKind.choices)
    performed_on = models.DateField(_("date"))
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("done by"),
        on_delete=models.PROTECT,
        related_name="service_activities",
    )
    note = models.TextField(_("note"), blank=True)
    # What the service was for, when one customer gets it once: "birthday:2026",
    # "holiday:2026-10-01", "training:12". Empty for services that repeat (family service).
    occasion = models.CharField(_("occasion"), max_length=40, blank=True)
    visit = models.ForeignKey(
        "visits.Visit",
        verbose_name=_("on visit"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="service_activities",
    )
    training_session = models.ForeignKey(
        TrainingSession,
        verbose_name=_("training session"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="attendances",
    )
    source = models.CharField(
        _("source"), max_length=16, choices=AuditSource.choices, default=AuditSource.PAGE
    )
    created_at = models.DateTimeField(_("logged at"), default=timezone.now, editable=False)

    objects = ScopedQuerySet.as_manager()
    scope_paths = CUSTOMER_SCOPE

    class Meta:
        verbose_name = _("service activity")
        verbose_name_plural = _("service activities")
        ordering = ["-performed_on", "-id"]
        indexes = [
            models.Index(
                fields=["customer", "kind", "performed_on"], name="services_activity_cust_idx"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "kind", "occasion"],
                condition=~models.Q(occasion=""),
                name="services_activity_once_per_occasion",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.performed_on:%Y-%m-%d}"
