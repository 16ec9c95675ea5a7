"""Choices of the visits app."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class VisitType(models.TextChoices):
    """Why the account manager went (the API takes these codes)."""

    ROUTINE = "routine", _("Routine visit")
    ORDER = "order", _("Order-taking")
    SERVICE = "service", pgettext_lazy("visit type", "Service")
    COMPLAINT = "complaint", _("Complaint follow-up")
    INSPECTION = "inspection", _("Inspection")


class StockLevel(models.TextChoices):
    """Finding: the stock of key brands on the shelf and in the back."""

    SUFFICIENT = "sufficient", _("Sufficient")
    LOW = "low", _("Running low")
    OUT = "out", _("Out of stock")


class PriceDisplay(models.TextChoices):
    """Finding: are retail prices displayed as required (明码标价)?"""

    COMPLIANT = "compliant", _("Compliant")
    PARTIAL = "partial", _("Partly compliant")
    NON_COMPLIANT = "non_compliant", _("Not compliant")


class PlanStatus(models.TextChoices):
    """The life of a planned visit: planned → done (a visit was logged), skipped (with a
    reason) or missed (its day passed and a later planned visit took over)."""

    PLANNED = "planned", _("Planned")
    DONE = "done", pgettext_lazy("planned visit", "Done")
    SKIPPED = "skipped", _("Skipped")
    MISSED = "missed", _("Missed")


class FollowUpStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("follow-up", "Open")
    DONE = "done", pgettext_lazy("follow-up", "Done")
