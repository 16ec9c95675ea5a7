"""Choices of the services app: request types, priorities and statuses, and the kinds of care
and value-added services an account manager logs."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class RequestType(models.TextChoices):
    SUPPLY = "supply", _("Supply")
    PRICE = "price", _("Price")
    DELIVERY = "delivery", _("Delivery")
    LICENCE = "licence", _("Licence")
    COMPLAINT = "complaint", _("Complaint about staff")
    OTHER = "other", _("Other")


class Priority(models.TextChoices):
    # Contexts keep these words apart from the same English words elsewhere (stock "Low",
    # business "Normal", a shop "Closed"), which Chinese words differently.
    LOW = "low", pgettext_lazy("priority", "Low")
    NORMAL = "normal", pgettext_lazy("priority", "Normal")
    HIGH = "high", pgettext_lazy("priority", "High")
    URGENT = "urgent", pgettext_lazy("priority", "Urgent")


class RequestStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("service request", "Open")
    IN_PROGRESS = "in_progress", pgettext_lazy("service request", "In progress")
    RESOLVED = "resolved", pgettext_lazy("service request", "Resolved")
    CLOSED = "closed", pgettext_lazy("service request", "Closed")
    REOPENED = "reopened", pgettext_lazy("service request", "Reopened")


# Statuses in which the request still waits for someone: these run against the due date.
UNFINISHED = (RequestStatus.OPEN, RequestStatus.IN_PROGRESS, RequestStatus.REOPENED)


class RequestAction(models.TextChoices):
    """What a person does to a request; each action moves it to one status (see workflow)."""

    START = "start", _("Start work")
    RESOLVE = "resolve", _("Resolve")
    CLOSE = "close", _("Close")
    REOPEN = "reopen", _("Reopen")


class ActivityCategory(models.TextChoices):
    CARE = "care", _("Care service")
    VALUE_ADDED = "value_added", _("Value-added service")


class ActivityKind(models.TextChoices):
    FAMILY = "family", _("Family service")
    HOLIDAY_GREETING = "holiday_greeting", _("Holiday greeting")
    BIRTHDAY_GREETING = "birthday_greeting", _("Birthday greeting")
    RENOVATION = "renovation", _("Shop renovation guidance")
    DISPLAY = "display", _("Display guidance")
    TRAINING = "training", _("Retailer training")

    @property
    def category(self) -> ActivityCategory:
        return ActivityCategory.CARE if self in CARE_KINDS else ActivityCategory.VALUE_ADDED


CARE_KINDS = frozenset(
    {ActivityKind.FAMILY, ActivityKind.HOLIDAY_GREETING, ActivityKind.BIRTHDAY_GREETING}
)
# Logged one by one on a customer; training is logged as a session with its attendees.
SINGLE_KINDS = tuple(kind for kind in ActivityKind if kind != ActivityKind.TRAINING)


class GreetingAudience(models.TextChoices):
    """Which customers receive holiday greetings."""

    CARE = "care", _("Customers marked for family service")
    CARE_AND_CORE = "care_core", _("Family-service and core customers")
    ALL = "all", _("All active customers")


class Queue(models.TextChoices):
    MINE = "mine", _("Mine")
    AREA = "area", _("My area")
    OVERDUE = "overdue", _("Overdue")
